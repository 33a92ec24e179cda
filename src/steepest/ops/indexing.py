"""Indexing ops under PyTorch's names: gather, scatter, scatter_add, index_select,
index_add, masked_fill, masked_select, take_along_dim, nonzero, one-argument ``where``.

Repeated indices accumulate. The scatter-adds run with ``np.bincount`` on flat positions
(gather's backward) or, for rows along one axis (the backward of index_select and of
embeddings), with a sparse 0/1 matrix product or a sort and ``np.add.reduceat``; never with
the slow ``np.add.at``.
Gather and scatter are each other's backward, so every gradient is differentiable again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..backend import array_module, as_array, device_of, is_device_array, to_device
from ..tensor import Tensor
from . import arithmetic as _ar
from .scan import norm_dim
from .shape import broadcast_to, getitem, reshape


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _shape(x: Any) -> tuple[int, ...]:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def _const(a: Any) -> Tensor:
    return Tensor._make(as_array(a), False, None, 0)


def _on(arr: Any, like: Any) -> Any:
    """A host index/mask array joins a device input's device (as in PyTorch); else as is."""
    r = _raw(like)
    if type(r) is not np.ndarray and is_device_array(r) and not is_device_array(arr):
        return to_device(np.asarray(arr), device_of(r))
    return arr


def _index_array(index: Any, op: str, like: Any = None) -> np.ndarray:
    idx = as_array(_raw(index))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {idx.dtype}")
    idx = idx.astype(np.int64, copy=False)
    return idx if like is None else _on(idx, like)


# -- flat scatter-add (bincount) -----------------------------------------------------------


def _flat_positions(shape: tuple[int, ...], axis: int, idx: np.ndarray) -> np.ndarray:
    """Flat positions in an array of ``shape`` of the elements idx addresses along axis
    (the other coordinates are those of idx itself, as in gather/scatter)."""
    strides = np.cumprod((*shape[1:], 1)[::-1])[::-1]
    flat = np.zeros_like(idx, dtype=np.int64)
    for d in range(idx.ndim):
        if d == axis:
            coord = idx
        else:
            coord = array_module(idx).arange(idx.shape[d]).reshape([-1 if i == d else 1
                                                     for i in range(idx.ndim)])
        flat = flat + coord * int(strides[d])
    return flat


def _bincount_add(shape: tuple[int, ...], flat: np.ndarray, values: np.ndarray) -> np.ndarray:
    size = int(np.prod(shape))
    out = np.bincount(flat.ravel(), weights=values.ravel(), minlength=size)
    return out.astype(values.dtype, copy=False).reshape(shape)


def _check_gather(op: str, xs: tuple, idx: np.ndarray, axis: int, src: tuple | None = None
                  ) -> None:
    if idx.ndim != len(xs) and not (idx.ndim == 0 and len(xs) == 0):
        raise ValueError(f"{op}: index has {idx.ndim} dims but input has {len(xs)} (shapes "
                         f"{idx.shape} and {xs})")
    for d, (i, s) in enumerate(zip(idx.shape, xs)):
        if d != axis and i > s:
            raise ValueError(f"{op}: index shape {idx.shape} exceeds input shape {xs} at dim "
                             f"{d}")
        if src is not None and i > src[d]:
            raise ValueError(f"{op}: index shape {idx.shape} exceeds src shape {src} at dim {d}")
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        n = xs[axis] if xs else 1
        if lo < -n or hi >= n:
            raise IndexError(f"{op}: index {hi if hi >= n else lo} is out of range for size "
                             f"{n} of dim {axis} (input shape {xs})")


class Gather(Function):
    __slots__ = ("axis", "index")

    def __init__(self, axis: int, index: np.ndarray) -> None:
        self.axis, self.index = axis, index

    def forward(self, x):
        sub = x[tuple(slice(0, s) if d != self.axis else slice(None)
                      for d, s in enumerate(self.index.shape))]
        return np.take_along_axis(sub, self.index, axis=self.axis)

    def backward(self, gy, y, x):
        return ScatterAddZeros(self.axis, self.index, _shape(x))(gy)


class ScatterAddZeros(Function):
    """zeros(shape).scatter_add_(axis, index, src) (gather's backward, by bincount)."""

    __slots__ = ("axis", "index", "shape")

    def __init__(self, axis: int, index: np.ndarray, shape: tuple[int, ...]) -> None:
        self.axis, self.index, self.shape = axis, index, shape

    def forward(self, src):
        sub = src[tuple(slice(0, s) for s in self.index.shape)]
        idx = np.where(self.index < 0, self.index + self.shape[self.axis], self.index)
        return _bincount_add(self.shape, _flat_positions(self.shape, self.axis, idx), sub)

    def backward(self, gy, y, src):
        g = Gather(self.axis, self.index)(gy)
        if _shape(g) != _shape(src):  # src larger than index: the rest gets no gradient
            return PadZeros(_shape(src))(g)
        return g


class PadZeros(Function):
    """Place x at the origin of a zero array of ``shape`` (its backward slices back)."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        out = np.zeros_like(x, shape=self.shape)
        out[tuple(slice(0, s) for s in x.shape)] = x
        return out

    def backward(self, gy, y, x):
        return getitem(gy, tuple(slice(0, s) for s in _shape(x)))


class Scatter(Function):
    """x with src (or a value) written at index along axis; x's overwritten slots get no
    gradient, src gets the gradient of the slots it was written to."""

    __slots__ = ("axis", "index", "mask")

    def __init__(self, axis: int, index: np.ndarray) -> None:
        self.axis, self.index = axis, index

    def forward(self, x, src):
        out = x.copy()
        sub = src[tuple(slice(0, s) for s in self.index.shape)] if src.ndim else \
            np.broadcast_to(src, self.index.shape)
        view = tuple(slice(0, s) if d != self.axis else slice(None)
                     for d, s in enumerate(self.index.shape))
        np.put_along_axis(out[view], self.index, sub, axis=self.axis)
        mask = np.ones_like(x, dtype=bool)
        np.put_along_axis(mask[view], self.index, False, axis=self.axis)
        self.mask = mask
        return out

    def backward(self, gy, y, x, src):
        gx = _ar.where(self.mask, gy, 0.0) if self.needs_grad(0) else None
        gs = None
        if self.needs_grad(1):
            gs = Gather(self.axis, self.index)(gy)
            if len(_shape(src)) == 0:
                gs = gs.sum()
            elif _shape(gs) != _shape(src):
                gs = PadZeros(_shape(src))(gs)
        return gx, gs


def _prep_gather(op: str, input: Any, dim: int, index: Any) -> tuple[int, np.ndarray]:  # noqa: A002
    xs = _shape(input)
    ax = norm_dim(dim, len(xs), op)
    idx = _index_array(index, op, input)
    _check_gather(op, xs, idx, ax)
    return ax, idx


def gather(input: Any, dim: int, index: Any) -> Any:  # noqa: A002
    """out[i][j][k] = input[index[i][j][k]][j][k] (for dim=0), as torch.gather."""
    ax, idx = _prep_gather("gather", input, dim, index)
    if len(_shape(input)) == 0:
        return input * 1.0
    return Gather(ax, idx)(input)


def take_along_dim(input: Any, indices: Any, dim: int | None = None) -> Any:  # noqa: A002
    """Pick values along ``dim`` at ``indices`` (broadcast against input); dim=None picks
    from the flattened input."""
    idx = _index_array(indices, "take_along_dim", input)
    if dim is None:
        return gather(reshape(input, (-1,)), 0, idx.reshape(-1))
    xs = _shape(input)
    ax = norm_dim(dim, len(xs), "take_along_dim")
    if idx.ndim != len(xs):
        raise ValueError(f"take_along_dim: indices have {idx.ndim} dims but input has "
                         f"{len(xs)} (shapes {idx.shape} and {xs})")
    shp = list(np.broadcast_shapes(tuple(1 if d == ax else s for d, s in enumerate(xs)),
                                   tuple(1 if d == ax else s for d, s in enumerate(idx.shape))))
    xshape = tuple(xs[d] if d == ax else shp[d] for d in range(len(xs)))
    ishape = tuple(idx.shape[d] if d == ax else shp[d] for d in range(len(xs)))
    return gather(broadcast_to(input, xshape), ax, np.broadcast_to(idx, ishape))


def scatter(input: Any, dim: int, index: Any, src: Any = None, value: Any = None,  # noqa: A002
            reduce: str | None = None) -> Any:
    """input with ``src`` (or the scalar ``value``) written at ``index`` along ``dim``.
    ``reduce='add'`` is :func:`scatter_add`."""
    if reduce is not None:
        if reduce != "add":
            raise ValueError(f"scatter: reduce must be None or 'add', got {reduce!r}")
        return scatter_add(input, dim, index, src)
    if (src is None) == (value is None):
        raise ValueError("scatter: give exactly one of src and value")
    xs = _shape(input)
    ax = norm_dim(dim, len(xs), "scatter")
    idx = _index_array(index, "scatter", input)
    if src is None or not (isinstance(src, (Tensor, np.ndarray)) or is_device_array(src)):
        v = value if src is None else src
        src = as_array(np.asarray(v, dtype=as_array(_raw(input)).dtype), like=_raw(input))
    else:
        _check_gather("scatter", xs, idx, ax, _shape(src))
    _check_gather("scatter", xs, idx, ax)
    if idx.size == 0:
        return input * 1.0 if as_array(_raw(input)).dtype.kind == "f" else input
    return Scatter(ax, idx)(input, src)


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Any:  # noqa: A002
    """input plus ``src`` added at ``index`` along ``dim`` (repeated indices accumulate)."""
    xs = _shape(input)
    ax = norm_dim(dim, len(xs), "scatter_add")
    idx = _index_array(index, "scatter_add", input)
    _check_gather("scatter_add", xs, idx, ax, _shape(src))
    return input + ScatterAddZeros(ax, idx, xs)(src)


# -- rows along one axis (sort + reduceat) ----------------------------------------------


def index_add_rows(n: int, axis: int, idx: np.ndarray, g: np.ndarray) -> np.ndarray:
    """zeros with size n along ``axis``, plus g's slices added at rows ``idx`` (1-D).

    Large inputs use one sparse (n, k) 0/1 matrix times g (SciPy's CSR product: a counting
    sort and one C loop; 10-20x faster than ``np.add.at`` here); small ones, or no SciPy,
    a stable sort grouping repeated rows and one ``np.add.reduceat`` per group.
    """
    shape = list(g.shape)
    shape[axis] = n
    if idx.size == 0:
        return np.zeros_like(g, shape=shape)
    gm = np.moveaxis(g, axis, 0)
    g2 = gm.reshape(gm.shape[0], -1)
    out2 = None
    if type(g2) is not np.ndarray:  # on the device: the module's scatter-add
        out2 = np.zeros_like(g2, shape=(n, g2.shape[1]))
        array_module(g2).add.at(out2, idx, g2)
    elif g2.size >= 4096:
        try:
            from scipy import sparse
        except ImportError:  # pragma: no cover - SciPy is optional
            sparse = None
        if sparse is not None:
            k = len(idx)
            m = sparse.csr_matrix((np.ones(k, dtype=g.dtype), (idx, np.arange(k))),
                                  shape=(n, k))
            out2 = np.asarray(m @ g2, dtype=g.dtype)
    if out2 is None:
        order = np.argsort(idx, kind="stable")
        s = idx[order]
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        out2 = np.zeros((n, g2.shape[1]), dtype=g.dtype)
        out2[s[starts]] = np.add.reduceat(g2[order], starts, axis=0)
    return np.moveaxis(out2.reshape(n, *gm.shape[1:]), 0, axis)


class IndexSelect(Function):
    __slots__ = ("axis", "index")

    def __init__(self, axis: int, index: np.ndarray) -> None:
        self.axis, self.index = axis, index

    def forward(self, x):
        self.index = _on(self.index, x)
        return np.take(x, self.index, axis=self.axis)

    def backward(self, gy, y, x):
        return IndexAddZeros(self.axis, self.index, _shape(x)[self.axis])(gy)


class IndexAddZeros(Function):
    __slots__ = ("axis", "index", "n")

    def __init__(self, axis: int, index: np.ndarray, n: int) -> None:
        self.axis, self.index, self.n = axis, index, n

    def forward(self, g):
        self.index = _on(self.index, g)
        return index_add_rows(self.n, self.axis, self.index, g)

    def backward(self, gy, y, g):
        return IndexSelect(self.axis, self.index)(gy)


def _rows_index(op: str, index: Any, n: int, like: Any = None) -> np.ndarray:
    idx = _index_array(index, op, like)
    if idx.ndim > 1:
        raise ValueError(f"{op}: index must be 0-d or 1-D, got shape {idx.shape}")
    idx = idx.reshape(-1)
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise IndexError(f"{op}: index {bad} is out of range for size {n}")
    return np.where(idx < 0, idx + n, idx)


def index_select(input: Any, dim: int, index: Any) -> Any:  # noqa: A002
    """The slices of ``input`` at ``index`` (1-D) along ``dim``."""
    xs = _shape(input)
    ax = norm_dim(dim, len(xs), "index_select")
    if not xs:
        return input * 1.0
    return IndexSelect(ax, _rows_index("index_select", index, xs[ax], input))(input)


def index_add(input: Any, dim: int, index: Any, source: Any, alpha: float = 1) -> Any:  # noqa: A002
    """input with ``alpha * source`` slices added at rows ``index`` along ``dim``."""
    xs = _shape(input)
    ax = norm_dim(dim, len(xs), "index_add")
    idx = _rows_index("index_add", index, xs[ax] if xs else 1, input)
    ss = _shape(source)
    want = tuple(len(idx) if d == ax else s for d, s in enumerate(xs))
    if tuple(ss) != want:
        raise ValueError(f"index_add: source shape {ss} should be {want} for input {xs} and "
                         f"{len(idx)} indices along dim {ax}")
    src = source if alpha == 1 else source * alpha
    return input + IndexAddZeros(ax, idx, xs[ax])(src)


def index_fill(input: Any, dim: int, index: Any, value: float) -> Any:  # noqa: A002
    """input with the slices at ``index`` along ``dim`` set to ``value``."""
    xs = _shape(input)
    ax = norm_dim(dim, len(xs), "index_fill")
    idx = _rows_index("index_fill", index, xs[ax], input)
    mask = np.zeros_like(as_array(_raw(input)), shape=xs, dtype=bool)
    sl: list[Any] = [slice(None)] * len(xs)
    sl[ax] = idx
    mask[tuple(sl)] = True
    return masked_fill(input, mask, value)


# -- masks ----------------------------------------------------------------------------------


def _mask_array(mask: Any, op: str) -> np.ndarray:
    m = as_array(_raw(mask))
    if m.dtype != bool:
        raise TypeError(f"{op}: mask must be a bool tensor, got dtype {m.dtype}")
    return m


def masked_fill(input: Any, mask: Any, value: Any) -> Any:  # noqa: A002
    """input with ``value`` where ``mask`` (broadcast) is True."""
    m = _on(_mask_array(mask, "masked_fill"), input)
    xs = _shape(input)
    try:
        if np.broadcast_shapes(xs, m.shape) != tuple(xs):
            raise ValueError
    except ValueError:
        raise ValueError(f"masked_fill: mask shape {m.shape} does not broadcast to input shape "
                         f"{xs}") from None
    dt = as_array(_raw(input)).dtype
    if isinstance(value, Tensor):
        if value.data.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                             f"{value.data.shape}")
        return _ar.where(m, value, input)
    if dt.kind != "f":
        return _const(np.where(m, as_array(np.asarray(value, dtype=dt), like=_raw(input)),
                               _raw(input)))
    return _ar.where(m, float(value), input)


def masked_select(input: Any, mask: Any) -> Any:  # noqa: A002
    """The elements where ``mask`` (broadcast with input) is True, as a 1-D tensor."""
    m = _on(_mask_array(mask, "masked_select"), input)
    xs = _shape(input)
    try:
        shape = np.broadcast_shapes(xs, m.shape)
    except ValueError:
        raise ValueError(f"masked_select: mask shape {m.shape} and input shape {xs} cannot "
                         f"be broadcast together") from None
    return getitem(broadcast_to(input, shape), np.broadcast_to(m, shape))


def masked_scatter(input: Any, mask: Any, source: Any) -> Any:  # noqa: A002
    """input with the True slots of ``mask`` filled, in order, from ``source``'s elements."""
    m = np.broadcast_to(_on(_mask_array(mask, "masked_scatter"), input), _shape(input))
    k = int(m.sum())
    flat = reshape(source, (-1,))
    if len(_shape(flat)) and _shape(flat)[0] < k:
        raise ValueError(f"masked_scatter: source has {_shape(flat)[0]} elements, the mask "
                         f"selects {k}")
    pos = np.flatnonzero(m)
    taken = getitem(flat, slice(0, k))
    return _ar.where(m, reshape(IndexAddZeros(0, pos, m.size)(taken), _shape(input)), input)


def nonzero(input: Any, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per
    dim with ``as_tuple=True``."""
    r = as_array(_raw(input))
    if as_tuple:
        if r.ndim == 0:
            return (_const(np.flatnonzero(r.reshape(1)).astype(np.int64)),)
        return tuple(_const(i.astype(np.int64)) for i in np.nonzero(r))
    return _const(np.argwhere(r).astype(np.int64))


def argwhere(input: Any) -> Tensor:  # noqa: A002
    return nonzero(input)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:  # noqa: A002
    """``where(cond, x, y)`` picks x where cond else y (differentiable in x and y);
    ``where(cond)`` is ``nonzero(cond, as_tuple=True)`` (as torch)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither")
    return _ar.where(condition, input, other)


__all__ = [
    "argwhere", "gather", "index_add", "index_fill", "index_select", "masked_fill",
    "masked_scatter", "masked_select", "nonzero", "scatter", "scatter_add",
    "take_along_dim", "where",
]
