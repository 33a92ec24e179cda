"""One flat parameter/gradient buffer per parameter group, for elementwise optimisers.

Why: an elementwise update (SGD, Adam, RMSprop, ...) does the same arithmetic on every
element, so running it once over the concatenation of a group's parameters gives the same
numbers as running it parameter by parameter, with a handful of vectorised calls instead
of a Python loop over tensors, and one finiteness check per group instead of one per
tensor.

How: on the first eligible step the group's parameters are copied into one contiguous
buffer and each ``Parameter.data`` is rebound to its view of it; the per-parameter state
arrays (``exp_avg``, ``momentum_buffer``, ...) likewise become views of flat state arrays,
so ``optimizer.state``, ``state_dict`` and checkpoints look exactly as before. Gradients are
copied into a flat gradient buffer, unless they already are its views (the captured step of
:mod:`steepest.compile` writes them there directly, and so does the eager backward of
``Linear``/``LinearReLU`` for a Parameter whose gradient nobody else can see: each
Parameter gets its view in a ``_gdest`` slot, see ``functional.layer._landing``).

Every step re-checks, by identity, that the parameters' arrays and the state arrays are
still the views made here; anything else (``load_state_dict``, a module's
``load_state_dict`` rebinding ``p.data``, a hand-edited state) rebuilds the buffers from the
current per-parameter arrays, so correctness never depends on the cache. A group is taken
per parameter (the plain path) when not every parameter has a gradient, the dtypes differ,
or the per-parameter scalar state (``step``) differs between its parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import check_same_device, column_major
from ..tensor import Tensor


class FlatGroup:
    """The flat buffers of one parameter group and the views handed out from them."""

    __slots__ = ("params", "data", "grad", "views", "gviews", "offsets", "fortran", "state",
                 "pstates", "sviews", "start", "arrays")

    def __init__(self, params: list[Tensor], pstates: list[dict[str, Any]], start: int,
                 arrays: tuple[str, ...]) -> None:
        dt = params[0].data.dtype
        sizes = [p.data.size for p in params]
        n = sum(sizes)
        self.params = params
        self.start = start
        self.arrays = arrays  # names of the state entries shaped like the parameter
        self.data = np.empty(n, dtype=dt)
        self.grad = np.empty(n, dtype=dt)
        self.views: list[np.ndarray] = []
        self.gviews: list[np.ndarray] = []
        self.offsets: list[int] = []
        self.fortran = [column_major(p.data) for p in params]  # views keep the order
        off = 0
        for p, k, f in zip(params, sizes, self.fortran):
            self.offsets.append(off)
            v = _segment(self.data, off, p.data.shape, f)
            v[...] = p.data
            p.data = v
            self.views.append(v)
            self.gviews.append(_segment(self.grad, off, v.shape, f))
            off += k
        for p, gv in zip(params, self.gviews):
            if hasattr(type(p), "_gdest"):  # Parameters: backward may land the gradient here
                p._gdest = (gv, len(params))
        self.pstates = pstates
        self.state: dict[str, Any] = {}
        self.sviews: dict[str, tuple[np.ndarray, list[np.ndarray]]] = {}
        first = pstates[0]
        for key, val in first.items():
            if key in arrays:
                flat = np.empty(n, dtype=val.dtype)
                for st, o, v, f in zip(pstates, self.offsets, self.views, self.fortran):
                    _segment(flat, o, v.shape, f)[...] = st[key]
                self.state[key] = flat
            else:
                self.state[key] = val
        self._publish()

    def _publish(self) -> None:
        """Give every parameter's state dict its views of the flat state and the scalars
        (after each update: the update may have added entries or advanced ``step``)."""
        for key, val in self.state.items():
            if key in self.arrays:
                made = self.sviews.get(key)
                if made is None or made[0] is not val:
                    views = [_segment(val, o, v.shape, f)
                             for o, v, f in zip(self.offsets, self.views, self.fortran)]
                    self.sviews[key] = (val, views)
                    for st, v in zip(self.pstates, views):
                        st[key] = v
            else:
                for st in self.pstates:
                    st[key] = val

    def intact(self, params: list[Tensor], state: dict[int, dict[str, Any]]) -> bool:
        """The parameters, their arrays and their state still are the ones made here."""
        if len(params) != len(self.params):
            return False
        i = self.start
        nkeys = len(self.state)
        for p, q, v, st in zip(params, self.params, self.views, self.pstates):
            if p is not q or p.data is not v or state.get(i) is not st or len(st) != nkeys:
                return False
            i += 1
        sviews = self.sviews
        for key, val in self.state.items():
            made = sviews.get(key)
            if made is not None and made[0] is val:
                for st, v in zip(self.pstates, made[1]):
                    if st.get(key) is not v:
                        return False
            else:
                for st in self.pstates:
                    if st.get(key) is not val and st.get(key) != val:
                        return False
        return True


def _segment(flat: np.ndarray, off: int, shape: tuple[int, ...], fortran: bool) -> np.ndarray:
    """The view of ``flat[off:off + size]`` shaped ``shape``, in C or Fortran order."""
    k = 1
    for d in shape:
        k *= d
    seg = flat[off:off + k]
    return seg.reshape(shape[::-1]).T if fortran else seg.reshape(shape)


def _eligible(params: list[Tensor], pstates: list[dict[str, Any]],
              arrays: tuple[str, ...]) -> bool:
    """Host arrays of one float dtype, every state dict with the same keys and scalars,
    arrays shaped like their parameter (device parameters keep the per-tensor path)."""
    dt = params[0].data.dtype
    if dt.kind != "f":
        return False
    first = pstates[0]
    for p, st in zip(params, pstates):
        if type(p.data) is not np.ndarray or p.data.dtype != dt or st.keys() != first.keys():
            return False
        for key, val in st.items():
            ref = first[key]
            if key in arrays:
                if not isinstance(val, np.ndarray) or val.shape != p.data.shape \
                        or val.dtype != ref.dtype:
                    return False
            elif isinstance(val, np.ndarray) or val != ref:
                return False
    return True


#: Eager steps copy each gradient into the flat buffer; that pass costs more than the
#: per-tensor calls it saves once the tensors are large (measured: 0.8x for 784-100-10,
#: 2.6-3.5x for ten 32- or 64-wide layers). So the eager path goes flat only for groups
#: whose mean tensor size is at most this many elements, or whose gradients landed in the
#: buffer (a larger group is tried flat once; if its gradients then do not land, this
#: optimiser keeps such groups per tensor); a caller whose gradients land in the flat buffer
#: itself (the captured step) asks with ``force=True``.
MAX_MEAN_SIZE = 1 << 14


def plan(opt: Any, force: bool = False, need_grads: bool = True) -> list[FlatGroup] | None:
    """The flat groups for this step, or None when some group must take the plain path.

    ``force`` skips the size rule; ``need_grads=False`` builds the buffers before any
    gradient exists (the captured step then writes the gradients into them)."""
    cache: list[FlatGroup | None] = opt.__dict__.setdefault("_flat_groups", [])
    out: list[FlatGroup] = []
    start = 0
    state = opt.state
    for gi, group in enumerate(opt.param_groups):
        params = group["params"]
        if need_grads:
            for p in params:  # no gradient yet, or one on a device: the per-tensor path
                if p.grad is None or type(p.grad.data) is not np.ndarray:
                    return None
        fg = cache[gi] if gi < len(cache) else None
        big = not force and sum(p.data.size for p in params) > MAX_MEAN_SIZE * len(params)
        if big and fg is not None and need_grads and not _landed(fg):
            # Large tensors whose gradients did not land in the buffer (layers other than
            # Linear, or a gradient someone holds): the copy would cost more than it saves.
            opt.__dict__["_flat_no_big"] = True
            return None
        if fg is None or not fg.intact(params, state):
            if big and opt.__dict__.get("_flat_no_big"):
                return None
            pstates = []
            for i in range(start, start + len(params)):
                st = state.get(i)
                if st is None:
                    st = state[i] = {}
                pstates.append(st)
            if not _eligible(params, pstates, opt._array_state):
                return None
            fg = FlatGroup(list(params), pstates, start, opt._array_state)
            while len(cache) <= gi:
                cache.append(None)
            cache[gi] = fg
        out.append(fg)
        start += len(params)
    del cache[len(opt.param_groups):]
    return out


def _landed(fg: FlatGroup) -> bool:
    """Every gradient of the group already is its view of the flat buffer (it was written
    there by backward, see ``functional.layer._landing``): a step needs no copy."""
    for p, gv in zip(fg.params, fg.gviews):
        g = p.grad
        if g is None or g.data is not gv:
            return False
    return True


def gather(opt: Any, groups: list[FlatGroup]) -> None:
    """Check each gradient's shape and dtype and copy it into its group's flat buffer
    (skipped when it already is the buffer's view)."""
    for gi, fg in enumerate(groups):
        for j, (p, gv) in enumerate(zip(fg.params, fg.gviews)):
            g = p.grad
            ga = g.data if isinstance(g, Tensor) else g
            if ga is gv:
                continue
            if type(ga) is not type(gv):  # a device gradient of a host parameter
                check_same_device(f"{opt._name}.step", gv, ga)
            if not isinstance(ga, np.ndarray) or ga.shape != gv.shape:
                raise ValueError(
                    f"{opt._name}: the gradient of {opt._describe(gi, j, p)} has shape "
                    f"{np.shape(ga)}; it must have the parameter's shape")
            if ga.dtype != gv.dtype:
                raise TypeError(
                    f"{opt._name}: the gradient of {opt._describe(gi, j, p)} has dtype "
                    f"{ga.dtype} but the parameter has dtype {gv.dtype}")
            np.copyto(gv, ga)


def update(opt: Any, groups: list[FlatGroup]) -> None:
    """Run the optimiser's own update once per group on the flat arrays."""
    for group, fg in zip(opt.param_groups, groups):
        opt._update(group, [fg.data], [fg.grad], [fg.state])
        fg._publish()
