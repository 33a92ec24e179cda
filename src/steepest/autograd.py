"""Reverse-mode automatic differentiation: the graph node, the backward walk, grad modes.

A :class:`Function` is one node of the computational graph. Its ``forward`` works on raw
arrays; its ``backward`` is written with operators and the functions of ``steepest.ops``,
which work on raw arrays *and* on Tensors. The backward walk feeds it raw arrays in the
common case (lean: no wrapper objects) and Tensors under ``create_graph=True`` (the
backward pass is then itself recorded, which gives second derivatives). One source of
truth per derivative, two speeds.

Graph bookkeeping follows DeZero with its weak points fixed: a node keeps strong
references to its inputs and weak references to its outputs (no reference cycles, so a
graph is freed by refcounting as soon as its last output dies); the walk orders nodes by
generation with a heap (no re-sorting); it is iterative (no recursion limit); grad mode
and anomaly mode live in ``contextvars`` (no global mutable config).
"""

from __future__ import annotations

import contextvars
import functools
import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np

from .backend import as_array, check_same_device, is_device_array
from .tensor import _REFUSED, Tensor

_GRAD_ENABLED = contextvars.ContextVar("steepest_grad_enabled", default=True)
_ANOMALY = contextvars.ContextVar("steepest_detect_anomaly", default=False)
_grad_enabled = _GRAD_ENABLED.get
_anomaly = _ANOMALY.get

_make = Tensor._make
_new = object.__new__
_ref = weakref.ref

# The in-place clock: a process-wide counter that every in-place change of a tensor
# advances (it is a timestamp, not configuration). A node remembers the clock when it is
# recorded; if the clock has not moved when its backward runs, none of its tensors can have
# changed (one integer compare per node), else each saved tensor's last change is compared.
_CLOCK = [0]

# Inside an op an overflow or 0/0 gives inf/nan exactly as in PyTorch, without NumPy's
# RuntimeWarning; non-finite values are reported by detect_anomaly() instead. The filter
# matches only warnings raised from steepest's own op modules, so users' NumPy code still
# warns. It is put back in front whenever it is not first (``catch_warnings`` blocks, e.g.
# pytest's around imports and tests, replace the filter list): one identity test per op,
# where ``np.errstate`` would cost a microsecond.
_OUR_FILTER: Any = None


def _silence_op_warnings() -> None:
    global _OUR_FILTER
    warnings.filterwarnings("ignore", category=RuntimeWarning,
                            module=r"steepest\.(ops|functional|autograd|tensor|kernels|compile|optim)(\.|$)")
    _OUR_FILTER = warnings.filters[0]


_silence_op_warnings()


def keep_ops_silent() -> None:
    """Put the op-warning filter back in front if a ``catch_warnings`` block displaced it."""
    if not warnings.filters or warnings.filters[0] is not _OUR_FILTER:
        _silence_op_warnings()


def tick() -> int:
    """Advance the in-place clock and return the new time (used by in-place ops)."""
    _CLOCK[0] += 1
    return _CLOCK[0]


class _GradMode:
    """Context manager and decorator that sets grad mode (base of no_grad/enable_grad)."""

    _mode = True

    def __enter__(self) -> None:
        self._tokens = getattr(self, "_tokens", [])
        self._tokens.append(_GRAD_ENABLED.set(self._mode))

    def __exit__(self, *exc: Any) -> None:
        _GRAD_ENABLED.reset(self._tokens.pop())

    def __call__(self, fn: Callable) -> Callable:
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _GRAD_ENABLED.set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _GRAD_ENABLED.reset(token)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 - named like torch.no_grad
    """Record no graph inside this block (evaluation, parameter updates). Also a decorator."""

    _mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Record the graph again inside a ``no_grad`` block. Also a decorator."""

    _mode = True


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require grad are being recorded."""
    return _GRAD_ENABLED.get()


class detect_anomaly:  # noqa: N801
    """Raise at the first non-finite value produced by a forward or backward computation.

    The error names the operation and the shapes of its inputs, so a NaN is traced to the
    op that made it instead of surfacing as a NaN loss many steps later. It checks every
    output, so it is slow: use it for debugging.
    """

    def __enter__(self) -> detect_anomaly:
        self._token = _ANOMALY.set(True)
        return self

    def __exit__(self, *exc: Any) -> None:
        _ANOMALY.reset(self._token)


class AnomalyError(RuntimeError):
    """A non-finite value was produced while ``detect_anomaly`` was active."""


def _check_finite(fn: Function, arrays: Sequence[Any], inputs: Sequence[Any], phase: str) -> None:
    for a in arrays:
        a = a.data if isinstance(a, Tensor) else a
        if (hasattr(a, "dtype") and a.dtype.kind in "fc"
                and not bool(np.isfinite(a).all())):
            bad = "nan" if np.isnan(a).any() else "inf"
            shapes = [tuple(np.shape(getattr(x, "data", x))) for x in inputs]
            raise AnomalyError(
                f"{fn.name} {phase} produced {bad} (output shape {a.shape}; input shapes "
                f"{shapes}); detected by steepest.detect_anomaly()"
            )


class Function:
    """One differentiable operation: ``forward`` on arrays, ``backward`` on grads.

    Subclasses implement ``forward(*arrays)`` returning an array (or a tuple of arrays for
    several outputs) and ``backward(gy, y, *xs)`` returning one gradient per input (a
    single value for one input; ``None`` where an input gets no gradient). ``gy`` and ``y``
    are the output gradient and the output (lists for several outputs), ``xs`` the inputs:
    raw arrays in a plain backward, Tensors under ``create_graph=True``. Broadcasting is
    undone by the walk (gradients are summed back to each input's shape).

    Calling a Function on raw arrays only (no Tensor among the inputs) just runs
    ``forward``; this is how backward code reuses ops on arrays.

    In-place safety: ``saved_inputs`` (indices of the inputs whose *values* backward reads;
    None means all) and ``saves_output`` say what an in-place change must not touch before
    backward runs. The defaults are the safe choice for a new op; an op that reads less
    declares it, so that an in-place change PyTorch allows is allowed here too.
    """

    __slots__ = ("inputs", "outputs", "generation", "_epoch", "__weakref__")
    n_outputs = 1
    #: subclasses that keep arrays besides their inputs set this and implement ``release``
    has_buffers = False
    #: cast non-float array inputs (ints, bools) to the float dtype of the Tensor inputs
    cast_inputs = True
    #: the op computes in floating point: integer/bool inputs become float32 (PyTorch's
    #: default dtype) when no float tensor sets the dtype (exp, log, div, sigmoid, ...)
    float_only = False
    #: the op is not defined for bool tensors (PyTorch refuses ``-`` and ``abs`` of bools)
    refuses_bool = False
    #: inputs whose values backward reads (None: all of them); see the class docstring
    saved_inputs: tuple[int, ...] | None = None
    #: whether backward reads the output's values
    saves_output = True
    #: the output may share the input's memory (reshape, transpose, basic indexing): it
    #: shares the input's version record, and changing it in place in grad mode is refused
    is_view = False

    @property
    def name(self) -> str:
        return type(self).__name__.lower()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}Backward>"

    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError

    def backward(self, gy: Any, y: Any, *xs: Any) -> Any:
        raise NotImplementedError(f"{self.name}: backward is not implemented")

    def release(self) -> None:
        """Drop saved buffers once backward has used them (see ``has_buffers``)."""

    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` needs a gradient (lets backward skip unneeded work)."""
        return self.inputs[i]._requires_grad

    def __call__(self, *inputs: Any) -> Any:
        filters = warnings.filters
        if not filters or filters[0] is not _OUR_FILTER:
            _silence_op_warnings()
        # Fast paths: one float Tensor, or two float Tensors of the same dtype and array type
        # (the common cases), with one output. Everything else (integer and bool tensors,
        # raw arrays and numbers among the inputs, several outputs) takes the checked path.
        n = len(inputs)
        if n == 1:
            x = inputs[0]
            if not isinstance(x, Tensor) or x.data.dtype.kind != "f":
                return self._call_checked(inputs)
            req = x._requires_grad
            try:
                ys = self.forward(x.data)
            except ValueError as exc:
                raise _shape_error(self, inputs, exc) from None
        elif n == 2:
            a, b = inputs
            if not isinstance(a, Tensor) or not isinstance(b, Tensor):
                return self._call_checked(inputs)
            da = a.data
            db = b.data
            if da.dtype is not db.dtype or da.dtype.kind != "f" or type(da) is not type(db):
                return self._call_checked(inputs)
            req = a._requires_grad or b._requires_grad
            try:
                ys = self.forward(da, db)
            except ValueError as exc:
                raise _shape_error(self, inputs, exc) from None
        elif n == 3:  # Linear with a bias: three Tensors of one dtype and array type
            a, b, c = inputs
            if not isinstance(a, Tensor) or not isinstance(b, Tensor) or not isinstance(c, Tensor):
                return self._call_checked(inputs)
            da = a.data
            db = b.data
            dc = c.data
            if (da.dtype is not db.dtype or db.dtype is not dc.dtype
                    or type(da) is not type(db) or type(db) is not type(dc)):
                return self._call_checked(inputs)
            req = a._requires_grad or b._requires_grad or c._requires_grad
            try:
                ys = self.forward(da, db, dc)
            except ValueError as exc:
                raise _shape_error(self, inputs, exc) from None
        else:
            return self._call_checked(inputs)
        if type(ys) is not np.ndarray:
            return self._finish(inputs, ys, req)  # several outputs, or a NumPy scalar
        # Tensor._make inlined (the one hot constructor: one call less per op)
        out = _new(Tensor)
        out.data = ys
        out.grad = None
        out.name = None
        out._g = None
        out._gown = False
        out._retain = False
        out._vref = None
        if req and _grad_enabled():
            gen = inputs[0].generation
            if n != 1:
                for x in inputs:
                    if x.generation > gen:
                        gen = x.generation
            self.inputs = inputs
            self._epoch = _CLOCK[0]
            self.generation = gen
            out._requires_grad = True
            out.creator = self
            out.generation = gen + 1
            self.outputs = (_ref(out),)
        else:
            out._requires_grad = False
            out.creator = None
            out.generation = 0
        if _anomaly():
            _check_finite(self, (ys,), inputs, "forward")
        return out

    def _call_checked(self, inputs: tuple[Any, ...]) -> Any:
        """The general call: promotion and dtype checks first (``_prepare``)."""
        for x in inputs:
            if isinstance(x, Tensor):
                break
        else:
            return self.forward(*inputs)  # raw arrays only: just compute
        xs = _prepare(self, inputs)
        req = False
        for x in xs:
            if x._requires_grad:
                req = True
                break
        try:
            ys = self.forward(*[x.data for x in xs])
        except ValueError as exc:
            raise _shape_error(self, xs, exc) from None
        return self._finish(xs, ys, req)

    def _finish(self, xs: Sequence[Tensor], ys: Any, req: bool) -> Any:
        """Wrap the forward's result(s) into Tensors and record the node if needed."""
        if self.n_outputs == 1 and type(ys) is not np.ndarray:
            ys = as_array(ys)  # 0-d results come back as NumPy scalars
        anomaly = _anomaly()
        if req and _grad_enabled():
            self.inputs = xs
            self._epoch = _CLOCK[0]
            gen = 0
            for x in xs:
                if x.generation > gen:
                    gen = x.generation
            self.generation = gen
            if self.n_outputs == 1:
                out = _make(ys, True, self, gen + 1)
                self.outputs = (_ref(out),)
                if anomaly:
                    _check_finite(self, (ys,), xs, "forward")
                return out
            outs = tuple(_make(y, True, self, gen + 1) for y in ys)
            self.outputs = tuple(_ref(o) for o in outs)
        else:
            if self.n_outputs == 1:
                if anomaly:
                    _check_finite(self, (ys,), xs, "forward")
                return _make(ys, False, None, 0)
            outs = tuple(_make(y, False, None, 0) for y in ys)
        if anomaly:
            _check_finite(self, ys, xs, "forward")
        return outs


def _shape_error(fn: Function, xs: Sequence[Any], exc: ValueError) -> ValueError:
    shapes = ", ".join(str(x.data.shape) for x in xs)
    return ValueError(f"{fn.name}: invalid input shapes {shapes}: {exc}")


def refuse_dtype(arr: np.ndarray, where: str) -> None:
    """Raise for dtypes steepest does not compute with (object, string, complex, ...)."""
    kind = _REFUSED.get(arr.dtype.kind)
    if kind is not None:
        raise TypeError(f"{where}: {kind} arrays are not supported (dtype {arr.dtype}, shape "
                        f"{arr.shape}); use a real numeric dtype such as float32")


def _prepare(fn: Function, inputs: Sequence[Any]) -> tuple[Tensor, ...]:
    """Turn inputs into Tensors of one float dtype; refuse silent float32/float64 mixing."""
    ref = None
    like = None
    for x in inputs:
        if isinstance(x, Tensor) and type(x.data) is not np.ndarray:
            like = x.data  # a device tensor: scalars join it there, host arrays are refused
            check_same_device(fn.name, *[t.data if isinstance(t, Tensor) else t for t in inputs
                                         if isinstance(t, Tensor) or hasattr(t, "shape")])
            break
    for x in inputs:
        if isinstance(x, Tensor) and x.data.dtype.kind == "f":
            if ref is None:
                ref = x.data.dtype
            elif x.data.dtype != ref:
                dts = ", ".join(str(getattr(t, "dtype", type(t).__name__)) for t in inputs)
                raise TypeError(
                    f"{fn.name}: inputs mix dtypes ({dts}); convert explicitly, e.g. "
                    f"x.astype('float32'), instead of relying on silent promotion"
                )
    if ref is None and fn.float_only:
        ref = np.dtype(np.float32)  # integer/bool inputs of a float op: PyTorch's default
    if fn.refuses_bool and any(isinstance(x, Tensor) and x.data.dtype == np.bool_
                               for x in inputs):
        raise TypeError(f"{fn.name}: not supported on bool tensors (as in PyTorch); for masks "
                        f"use ~mask or logical ops, else convert first (x.float())")
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            if ref is not None and fn.cast_inputs and x.data.dtype.kind in "biu":
                x = _make(x.data.astype(ref), False, None, 0)
            out.append(x)
            continue
        if like is not None and isinstance(x, np.ndarray) and x.ndim:
            check_same_device(fn.name, like, x)
        if is_device_array(x):
            if like is None:  # a raw device array among host tensors
                check_same_device(fn.name, *[t.data for t in inputs if isinstance(t, Tensor)],
                                  x)
            arr = x
        else:
            arr = np.asarray(x)
        refuse_dtype(arr, fn.name)
        kind = arr.dtype.kind
        if ref is not None:
            if kind == "f" and arr.dtype != ref:
                if arr.ndim == 0 or not isinstance(x, np.ndarray):
                    arr = arr.astype(ref)  # Python/NumPy scalars and lists adopt the dtype
                else:
                    raise TypeError(
                        f"{fn.name}: a {arr.dtype} array {arr.shape} mixed with {ref} tensors; "
                        f"convert it explicitly with .astype({str(ref)!r})"
                    )
            elif kind in "biu" and fn.cast_inputs:
                arr = arr.astype(ref)
        elif kind in "fc" and not isinstance(x, np.ndarray) and arr.dtype == np.float64:
            arr = arr.astype(np.float32)  # Python floats default to float32, like Tensor()
        if like is not None:
            arr = as_array(arr, like)
        out.append(_make(arr, False, None, 0))
    return tuple(out)


# ---------------------------------------------------------------------------------------
# The backward walk
# ---------------------------------------------------------------------------------------


def _sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    from .ops.shape import sum_to

    return sum_to(g, shape)


def _accumulate(t: Tensor, g: Any, create: bool) -> None:
    """Add ``g`` into ``t._g``: adopt the first array, add later ones (in place when ours)."""
    cur = t._g
    if not create and type(g) is not np.ndarray:
        g = as_array(g)
    if cur is None:
        t._g = g
        t._gown = False
    elif create:
        t._g = cur + g
    elif t._gown:
        np.add(cur, g, out=cur)
    else:
        t._g = as_array(cur + g)
        t._gown = True


# Read-only ones, one per (dtype, shape): the implicit gradient of a scalar output in a plain
# backward (np.ones_like per call costs a microsecond). Read-only, so no backward can change
# it in place, and a leaf that adopts it copies it first (see the end of run_backward).
_ONES: dict[tuple[Any, Any, tuple[int, ...]], Any] = {}


def _root_grad(t: Tensor, g: Any, create: bool, where: str, shared: bool = False) -> Any:
    if g is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for a scalar output, but the "
                f"output has shape {t.data.shape}; pass grad=... of that shape (e.g. ones)"
            )
        if not shared:
            return _make(np.ones_like(t.data), False, None, 0) if create else np.ones_like(t.data)
        key = (type(t.data), t.data.dtype, t.data.shape)  # one per device kind too
        g = _ONES.get(key)
        if g is None:
            g = _ONES[key] = np.ones_like(t.data)
            g.flags.writeable = False
        return g
    else:
        g = g.data if isinstance(g, Tensor) and not create else g
        garr = g.data if isinstance(g, Tensor) else as_array(g, t.data)
        check_same_device(where, t.data, garr)
        if garr.shape != t.data.shape:
            raise ValueError(
                f"{where}: grad has shape {garr.shape} but the output has shape {t.data.shape}"
            )
        if garr.dtype != t.data.dtype:
            raise TypeError(
                f"{where}: grad has dtype {garr.dtype} but the output has dtype {t.data.dtype}"
            )
        if not isinstance(g, Tensor):
            g = garr.copy()
    if create and not isinstance(g, Tensor):
        g = _make(g, False, None, 0)
    return g


def _check_versions(f: Function, where: str) -> tuple[Tensor, ...]:
    """Raise if a tensor that ``f`` reads in backward changed in place after ``f`` ran.

    Returns ``f``'s inputs, where an input rebased after ``f`` ran (``x.mul_(2)`` after
    ``y = x + 1``) is replaced by the tensor it was when ``f`` used it.
    """
    epoch = f._epoch
    inputs = list(f.inputs)
    for i, x in enumerate(inputs):
        ref = x._vref
        if ref is not None and len(ref) > 4 and ref[1] > epoch:
            for stamp, owner, old in ref[4]:
                if owner == id(x) and stamp > epoch:
                    inputs[i] = old
                    break
    f.inputs = inputs = tuple(inputs)
    idx = f.saved_inputs
    saved = [(f"input {i}", inputs[i]) for i in (range(len(inputs)) if idx is None else idx)]
    if f.saves_output:
        saved += [(f"output {i}", r()) for i, r in enumerate(f.outputs)]
    for what, t in saved:
        ref = None if t is None else t._vref
        if ref is not None and ref[1] > epoch:
            raise RuntimeError(
                f"{where}: one of the tensors needed for gradient computation has been "
                f"modified by an in-place operation: {what} of {f.name} (shape "
                f"{t.data.shape}) was changed by {ref[3]} after {f.name} used it (version "
                f"{ref[0]}). Use the out-of-place form (e.g. x = x + 1 instead of x += 1) or "
                f"clone() the tensor before changing it"
            )
    return inputs


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    capture: Sequence[Tensor] | None = None,
    where: str = "backward",
) -> list[Any] | None:
    """Propagate gradients from ``roots`` through the graph.

    With ``capture=None`` gradients of leaves are accumulated into their ``.grad``; else the
    gradients of the ``capture`` tensors are returned and no ``.grad`` is touched.
    Each node runs once, after all gradients of its outputs have arrived: nodes are popped
    from a max-heap on generation (a node's generation exceeds those of all its producers).
    """
    create = create_graph
    if not warnings.filters or warnings.filters[0] is not _OUR_FILTER:
        _silence_op_warnings()
    heap: list[tuple[int, int, Function]] = []
    queued: set[int] = set()
    leaves: dict[int, Tensor] = {}  # the leaves that got a gradient, by id, in order
    captured: dict[int, Any] = {}
    cap_ids = {id(t) for t in capture} if capture is not None else None
    done: list[Function] = []

    def schedule(t: Tensor) -> None:
        """After ``t`` received a gradient: queue its creator once, or record the leaf."""
        f = t.creator
        if f is None:
            leaves[id(t)] = t
        elif id(f) not in queued:
            queued.add(id(f))
            heappush(heap, (-f.generation, len(queued), f))

    for t, g in zip(roots, root_grads):
        if not t._requires_grad:
            raise RuntimeError(
                f"{where}: the output (shape {t.data.shape}) does not require grad and has no "
                f"graph; was it computed under no_grad() or from tensors without "
                f"requires_grad=True?"
            )
        _accumulate(t, _root_grad(t, g, create, where, not create and capture is None),
                    create)
        schedule(t)

    anomaly = _anomaly()
    # A plain backward computes on raw arrays and records nothing whatever the mode; under
    # create_graph the backward ops must be recorded even inside no_grad().
    token = _GRAD_ENABLED.set(True) if create else None
    # lean: a plain backward into .grad (no capture, no recording): raw arrays throughout
    lean = not create and cap_ids is None
    clock = _CLOCK
    # chain fast path: the next node, when it alone can run (no heap round trip)
    nxt = heap.pop()[2] if len(heap) == 1 else None
    try:
        while True:
            if nxt is not None:
                f = nxt
                nxt = None
            elif heap:
                f = heappop(heap)[2]
            else:
                break
            inputs = f.inputs
            if inputs is None:
                raise RuntimeError(
                    f"{where}: trying to backward through the graph a second time (node "
                    f"{f.name}), but its buffers were freed by the first backward; pass "
                    f"retain_graph=True to the first call if you need to backward twice"
                )
            if f._epoch != clock[0]:
                inputs = _check_versions(f, where)
            if f.n_outputs == 1:
                o = f.outputs[0]()
                gy = o._g
                o._g = None
                if lean:
                    if o._retain:
                        o.grad = _make(gy.copy(), False, None, 0)
                    y = o.data
                else:
                    if cap_ids is not None and id(o) in cap_ids:
                        captured[id(o)] = gy
                    if o._retain:
                        o.grad = gy if create else _make(gy.copy(), False, None, 0)
                    y = o if create else o.data
            else:
                gy, y = [], []
                for ref in f.outputs:
                    o = ref()
                    g = None if o is None else o._g
                    if o is not None:
                        o._g = None
                        if cap_ids is not None and id(o) in cap_ids:
                            captured[id(o)] = g
                    gy.append(g)
                    y.append(None if o is None else (o if create else o.data))
            if len(inputs) == 1:
                x = inputs[0]
                gx = f.backward(gy, y, x if create else x.data)
                done.append(f)
                if isinstance(gx, tuple):
                    gx = gx[0]
                if anomaly and gx is not None:
                    _check_finite(f, (gx,), inputs, "backward")
                if gx is None or not x._requires_grad:
                    continue
                if gx.shape != x.data.shape:
                    gx = _sum_to(gx, x.data.shape)
                if x._g is None and type(gx) is np.ndarray:
                    x._g = gx  # the first gradient of x: adopted (what _accumulate does)
                    x._gown = False
                else:
                    _accumulate(x, gx, create)
                c = x.creator
                # With nothing else queued, no other node can still add to the gradients of
                # c's outputs (it would have to come after c in the graph: a cycle), so c
                # runs next without a heap push and pop.
                if c is None:
                    leaves[id(x)] = x
                elif not heap and id(c) not in queued:
                    nxt = c
                else:
                    schedule(x)
                continue
            if create:
                gxs = f.backward(gy, y, *inputs)
            elif len(inputs) == 2:
                gxs = f.backward(gy, y, inputs[0].data, inputs[1].data)
            else:
                gxs = f.backward(gy, y, *[x.data for x in inputs])
            done.append(f)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            if anomaly:
                _check_finite(f, [g for g in gxs if g is not None], inputs, "backward")
            first = None  # the one input that got a gradient, while there is only one
            many = False
            for x, gx in zip(inputs, gxs):
                if gx is None or not x._requires_grad:
                    continue
                if gx.shape != x.data.shape:
                    gx = _sum_to(gx, x.data.shape)
                if x._g is None and type(gx) is np.ndarray:
                    x._g = gx
                    x._gown = False
                else:
                    _accumulate(x, gx, create)
                if first is None:
                    first = x
                    continue
                if not many:
                    many = True
                    schedule(first)
                schedule(x)
            if first is not None and not many:
                c = first.creator
                if c is not None and not heap and id(c) not in queued:
                    nxt = c
                else:
                    schedule(first)
    finally:
        if token is not None:
            _GRAD_ENABLED.reset(token)
        if not retain_graph:
            # Freed only now: a node's inputs keep tensors with pending gradients alive.
            for f in done:
                f.inputs = None
                if f.has_buffers:
                    f.release()

    if cap_ids is not None:
        for t in leaves.values():
            if id(t) in cap_ids:
                captured[id(t)] = t._g
            t._g = None
        return [captured.get(id(t)) for t in capture]

    adopted: set[int] = set()
    for t in leaves.values():
        g = t._g
        own = t._gown
        t._g = None
        if create:
            t.grad = g if t.grad is None else t.grad + g
            continue
        if t.grad is None:
            if not own and (g.base is not None or id(g) in adopted or not g.flags.writeable):
                slot = getattr(t, "_gdest", None)  # landed in the optimiser's flat buffer
                if slot is None or g is not slot[0] or id(g) in adopted:
                    g = g.copy()
            adopted.add(id(g))
            t.grad = _make(g, False, None, 0)
        else:
            t.grad = _make(t.grad.data + g, False, None, 0)
    return None


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Like ``torch.autograd.grad``. With ``create_graph=True`` the returned gradients carry a
    graph, so they can be differentiated again (Hessian-vector products, gradient penalties).
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        gos: list[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(f"grad: {len(outs)} outputs but {len(gos)} grad_outputs")
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise ValueError(f"grad: input {i} is not a Tensor that requires grad")
    retain = create_graph if retain_graph is None else retain_graph
    gs = run_backward(outs, gos, retain, create_graph, capture=ins, where="grad")
    result = []
    for i, g in enumerate(gs):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {ins[i].data.shape}) was not used to compute the "
                    f"outputs; pass allow_unused=True to get None for it"
                )
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(_make(g.copy() if g.base is not None else g,
                                False, None, 0))
    return tuple(result)


def iter_graph(t: Tensor) -> Iterable[Function]:
    """Every node that contributed to ``t``, each once (iterative, for inspection tools)."""
    seen: set[int] = set()
    stack = [t.creator] if t.creator is not None else []
    while stack:
        f = stack.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        yield f
        for x in f.inputs or ():
            if x.creator is not None and id(x.creator) not in seen:
                stack.append(x.creator)
