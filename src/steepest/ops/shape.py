"""Shape ops: reshape, transpose/permute, broadcast_to, sum_to, squeeze/unsqueeze, flatten,
getitem/setitem, concatenate, stack, split/chunk. Gradients of views are views of gradients,
moved back.

Signatures are PyTorch's (``dim``, ``split(x, size)``, ``transpose(x, d0, d1)``); NumPy's
``axis`` is an accepted alias. A view shares its base's version record, so an in-place
change through either is seen by the nodes that saved the other (``is_view`` nodes read
their output: a view made stale by an in-place change of its base raises in backward).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import Function
from ..backend import array_module, device_of, is_device_array, to_device
from ..tensor import Tensor
from . import _axes


def _shape_of(x: Any) -> tuple[int, ...]:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


class Reshape(Function):
    __slots__ = ("shape",)
    is_view = True
    saved_inputs = ()

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy, y, x):
        return reshape(gy, x.shape)


class Transpose(Function):
    __slots__ = ("axes",)
    is_view = True
    saved_inputs = ()

    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy, y, x):
        if self.axes is None:
            return permute(gy, None)
        return permute(gy, tuple(np.argsort(self.axes).tolist()))


class BroadcastTo(Function):
    __slots__ = ("shape",)
    is_view = True
    saved_inputs = ()

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        return np.broadcast_to(x, self.shape)

    def backward(self, gy, y, x):
        return sum_to(gy, x.shape)


class SumTo(Function):
    """Sum an array down to ``shape`` (the reverse of broadcasting)."""

    __slots__ = ("shape",)
    saved_inputs = ()
    saves_output = False

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        shape = self.shape
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1
        )
        y = x.sum(axis=axes, keepdims=True) if axes else x
        if lead:
            y = y.reshape(shape)
        return y

    def backward(self, gy, y, x):
        return broadcast_to(gy, x.shape)


class GetItem(Function):
    __slots__ = ("index",)
    is_view = True
    saved_inputs = ()

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy, y, x):
        return GetItemGrad(self.index, x.shape)(gy)

    has_buffers = True

    def release(self):
        self.index = None


class GetItemGrad(Function):
    """Scatter a gradient back into a zero array; repeated indices accumulate."""

    __slots__ = ("index", "shape")
    saved_inputs = ()
    saves_output = False

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index, self.shape = index, shape

    def forward(self, gy):
        gx = np.zeros_like(gy, shape=self.shape)
        if _is_basic(self.index):
            gx[self.index] = gy
        elif type(gx) is np.ndarray:
            np.add.at(gx, self.index, gy)
        else:  # CuPy's own ufunc.at (NumPy's np.add.at dispatches to it only in new CuPys)
            array_module(gx).add.at(gx, self.index, gy)
        return gx

    def backward(self, ggx, y, gy):
        return getitem(ggx, self.index)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer))
               for i in items)


class Concatenate(Function):
    __slots__ = ("axis", "sizes")
    saved_inputs = ()
    saves_output = False

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return np.concatenate(xs, axis=self.axis)

    def backward(self, gy, y, *xs):
        bounds = np.cumsum(self.sizes)[:-1].tolist()
        return tuple(_split_at(gy, bounds, self.axis))


class Split(Function):
    __slots__ = ("bounds", "axis")
    saved_inputs = ()
    saves_output = False

    def __init__(self, bounds: list[int], axis: int) -> None:
        self.bounds, self.axis = bounds, axis

    n_outputs = 2  # any value != 1 marks a multi-output node

    def forward(self, x):
        return tuple(np.split(x, self.bounds, axis=self.axis))

    def backward(self, gys, ys, x):
        parts = []
        edges = [0, *self.bounds, x.shape[self.axis]]
        for g, lo, hi in zip(gys, edges[:-1], edges[1:]):
            if g is None:
                shape = list(x.shape)
                shape[self.axis] = hi - lo
                g = np.zeros_like(x.data if isinstance(x, Tensor) else x, shape=shape)
            parts.append(g)
        return concatenate(parts, self.axis)


class SetItem(Function):
    """A copy of ``a`` with ``a[index] = v`` (the graph of ``t[index] = v``)."""

    __slots__ = ("index",)
    saved_inputs = ()
    saves_output = False

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, a, v):
        r = a.copy()
        r[self.index] = v
        return r

    def backward(self, gy, y, a, v):
        ga = SetItem(self.index)(gy, 0.0) if self.needs_grad(0) else None
        gv = getitem(gy, self.index) if self.needs_grad(1) else None
        return ga, gv


# -- public functions ---------------------------------------------------------------------


def _share(x: Any, out: Any) -> Any:
    """Give a view the version record of the tensor whose memory it shows."""
    if isinstance(x, Tensor) and out is not x:
        base = out.data.base
        if base is not None and (base is x.data or base is x.data.base):
            out._vref = x._version_ref()
    return out


def reshape(x: Any, shape: Any) -> Any:
    if type(x) is np.ndarray and type(shape) is tuple:
        return x.reshape(shape)  # raw arrays (backward code): NumPy checks the sizes
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(_axes.check_int(s, "reshape", "a size") for s in shape)
    src = _shape_of(x)
    if src == shape:
        return x
    size = math.prod(src)
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or any(s < -1 for s in shape) or (
        -1 not in shape and known != size) or (-1 in shape and (known == 0 or size % known)):
        raise ValueError(f"reshape: cannot reshape shape {src} ({size} elements) into {shape}")
    return _share(x, Reshape(shape)(x))


def permute(x: Any, dims: Any) -> Any:
    """Reorder all dims (PyTorch's ``permute``; NumPy's ``transpose(axes)``)."""
    if dims is not None:
        nd = len(_shape_of(x))
        dims = tuple(dims)
        if len(dims) != nd:
            raise ValueError(f"permute: {len(dims)} dims {dims} given for a {nd}-d tensor of "
                             f"shape {_shape_of(x)}")
        dims = tuple(_axes.axis(d, nd, "permute") for d in dims)
        if len(set(dims)) != nd:
            raise ValueError(f"permute: dims {dims} repeat a dim (shape {_shape_of(x)})")
    if type(x) is np.ndarray:
        return x.transpose(dims)
    return _share(x, Transpose(dims)(x))


def transpose(x: Any, dim0: Any = None, dim1: Any = None) -> Any:
    """Swap two dims, ``transpose(x, 0, 1)`` (PyTorch). Reorder all with :func:`permute`."""
    if dim0 is None or dim1 is None or isinstance(dim0, (tuple, list)):
        raise TypeError(f"transpose: takes two dims to swap (PyTorch's transpose(x, dim0, "
                        f"dim1)), got {dim0!r}, {dim1!r}; use permute(x, dims) to reorder "
                        f"all dims (NumPy's transpose(axes))")
    return swapaxes(x, dim0, dim1)


def swapaxes(x: Any, a: Any, b: Any) -> Any:
    nd = len(_shape_of(x))
    a = _axes.axis(a, nd, "transpose")
    b = _axes.axis(b, nd, "transpose")
    if nd == 0 or a == b:
        return x
    axes = list(range(nd))
    axes[a], axes[b] = axes[b], axes[a]
    if type(x) is np.ndarray:
        return x.transpose(axes)
    return _share(x, Transpose(tuple(axes))(x))


swapdims = swapaxes


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    if type(x) is np.ndarray:
        return np.broadcast_to(x, shape)  # raw arrays (backward code)
    shape = tuple(_axes.check_int(s, "broadcast_to", "a size") for s in shape)
    src = _shape_of(x)
    if src == shape:
        return x
    try:
        ok = len(src) <= len(shape) and np.broadcast_shapes(src, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"broadcast_to: cannot broadcast shape {src} to {shape}")
    return _share(x, BroadcastTo(shape)(x))


def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``x`` down to ``shape`` (the reverse of broadcasting ``shape`` up to x's shape)."""
    shape = tuple(shape)
    src = _shape_of(x)
    if src == shape:
        return x
    if type(x) is not np.ndarray:
        try:
            ok = len(shape) <= len(src) and np.broadcast_shapes(src, shape) == src
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"sum_to: shape {src} cannot be summed to {shape} ({shape} does "
                             f"not broadcast to {src})")
    return SumTo(shape)(x)


def squeeze(x: Any, dim: Any = None, *, axis: Any = None) -> Any:
    """Drop dims of size 1 (all, or those in ``dim``; others are kept, as PyTorch)."""
    dim = _axes.merge(dim, axis, "squeeze")
    src = _shape_of(x)
    if dim is None:
        return reshape(x, tuple(s for s in src if s != 1))
    axes = _axes.axes(dim, len(src), "squeeze")
    if axes is None:
        return x
    return reshape(x, tuple(s for i, s in enumerate(src) if i not in axes or s != 1))


def unsqueeze(x: Any, dim: Any) -> Any:
    """Insert a dim of size 1 at ``dim`` (in [-ndim-1, ndim])."""
    src = list(_shape_of(x))
    src.insert(_axes.axis(dim, len(src), "unsqueeze", extra=1), 1)
    return reshape(x, tuple(src))


def expand_dims(x: Any, axis: Any) -> Any:
    """NumPy's name for :func:`unsqueeze` (one axis, or a tuple of them)."""
    if isinstance(axis, (tuple, list)):
        nd = len(_shape_of(x)) + len(axis)
        new = {_axes.axis(a, nd, "expand_dims") for a in axis}
        it = iter(_shape_of(x))
        return reshape(x, tuple(1 if i in new else next(it) for i in range(nd)))
    src = list(_shape_of(x))
    src.insert(_axes.axis(axis, len(src), "expand_dims", extra=1), 1)
    return reshape(x, tuple(src))


def flatten(x: Any, start_dim: Any = 0, end_dim: Any = -1, *, start_axis: Any = None,
            end_axis: Any = None) -> Any:
    """Merge dims ``start_dim`` .. ``end_dim`` into one; a 0-d tensor becomes shape (1,)."""
    start_dim = start_dim if start_axis is None else start_axis
    end_dim = end_dim if end_axis is None else end_axis
    src = _shape_of(x)
    s = _axes.axis(start_dim, len(src), "flatten")
    e = _axes.axis(end_dim, len(src), "flatten")
    if not src:
        return reshape(x, (1,))
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for "
                         f"shape {src}")
    return reshape(x, (*src[:s], math.prod(src[s:e + 1]), *src[e + 1:]))


def normalize_index(index: Any, shape: tuple[int, ...], op: str) -> Any:
    """An index for NumPy: Tensors unwrapped, lists as arrays, boolean masks checked
    against the dims they select (NumPy would silently pick wrong rows or raise its own)."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, list):
        index = np.asarray(index) if index else np.zeros(0, dtype=np.int64)
    items = index if isinstance(index, tuple) else (index,)
    norm = []
    for i in items:
        if isinstance(i, Tensor):
            i = i.data
        elif isinstance(i, list):
            i = np.asarray(i) if i else np.zeros(0, dtype=np.int64)
        if _is_arr(i) and i.dtype.kind not in "biu":
            raise IndexError(f"{op}: index arrays must be integer or boolean, got dtype "
                             f"{i.dtype}")
        if isinstance(i, (float, np.floating, str)):
            raise IndexError(f"{op}: index {i!r} of type {type(i).__name__} is not valid; use "
                             f"integers, slices, None, ... or integer/boolean arrays")
        norm.append(i)
    consumed = sum(i.ndim if _is_arr(i) and i.dtype == bool else
                   0 if (i is None or i is Ellipsis or isinstance(i, (bool, np.bool_)))
                   else 1 for i in norm)
    pos = 0
    for i in norm:
        if i is Ellipsis:
            pos += len(shape) - consumed
        elif _is_arr(i) and i.dtype == bool:
            dims = shape[pos:pos + i.ndim]
            if i.shape != dims:
                raise IndexError(f"{op}: boolean mask of shape {i.shape} does not match the "
                                 f"indexed dims {dims} (dims {pos}..{pos + i.ndim - 1}) of a "
                                 f"tensor of shape {shape}")
            pos += i.ndim
        elif i is not None and not isinstance(i, (bool, np.bool_)):
            pos += 1
    out = tuple(norm)
    return out if isinstance(index, tuple) else out[0]


def _index_on(index: Any, x: Any) -> Any:
    """Index arrays join a device tensor's device (host index arrays are allowed with device
    tensors, as in PyTorch; the gather and the scatter of its gradient then run there)."""
    raw = x.data if isinstance(x, Tensor) else x
    if type(raw) is np.ndarray or not is_device_array(raw):
        return index
    dev = device_of(raw)
    if isinstance(index, tuple):
        return tuple(to_device(i, dev) if isinstance(i, np.ndarray) else i for i in index)
    return to_device(index, dev) if isinstance(index, np.ndarray) else index


def _is_arr(i: Any) -> bool:
    return isinstance(i, np.ndarray) or is_device_array(i)


def _masks_to_indices(index: Any) -> Any:
    if _is_arr(index) and index.dtype == bool:
        return np.nonzero(index) if index.ndim else index
    if isinstance(index, tuple) and any(
        _is_arr(i) and i.dtype == bool and i.ndim for i in index
    ):
        flat = []
        for i in index:
            if _is_arr(i) and i.dtype == bool and i.ndim:
                flat.extend(np.nonzero(i))
            else:
                flat.append(i)
        return tuple(flat)
    return index


def getitem(x: Any, index: Any) -> Any:
    """``x[index]``: slices, integers, integer arrays and boolean masks."""
    shape = _shape_of(x)
    index = _index_on(_masks_to_indices(normalize_index(index, shape, "getitem")), x)
    try:
        return _share(x, GetItem(index)(x))
    except IndexError as exc:
        raise IndexError(f"getitem: index {index!r} is invalid for shape {shape}: "
                         f"{exc}") from None


def setitem(x: Any, index: Any, value: Any) -> Any:
    """Out of place: a copy of ``x`` with ``[index] = value`` (differentiable in both)."""
    index = _index_on(_masks_to_indices(normalize_index(index, _shape_of(x), "setitem")),
                      x)
    try:
        return SetItem(index)(x, value)
    except IndexError as exc:
        raise IndexError(f"setitem: index {index!r} is invalid for shape {_shape_of(x)}: "
                         f"{exc}") from None


def concatenate(tensors: Any, dim: Any = 0, *, axis: Any = None) -> Any:
    """Join tensors along an existing dim (NumPy's name of :func:`cat`)."""
    return _cat(tensors, dim if axis is None else axis, "concatenate")


def cat(tensors: Any, dim: Any = 0, *, axis: Any = None) -> Any:
    """Join tensors along an existing dim (PyTorch's ``cat``)."""
    return _cat(tensors, dim if axis is None else axis, "cat")


def _cat(tensors: Any, dim: Any, op: str) -> Any:
    xs = list(tensors)
    if not xs:
        raise ValueError(f"{op}: needs at least one tensor")
    shapes = [_shape_of(x) for x in xs]
    nd = len(shapes[0])
    if nd == 0 or any(len(s) == 0 for s in shapes):
        raise ValueError(f"{op}: 0-d tensors cannot be concatenated (shapes {shapes}); use "
                         f"stack")
    if any(len(s) != nd for s in shapes):
        raise ValueError(f"{op}: all inputs need the same number of dimensions, got shapes "
                         f"{shapes}")
    axis = _axes.axis(dim, nd, op)
    for s in shapes[1:]:
        if s[:axis] + s[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:]:
            raise ValueError(f"{op}: shapes {shapes} differ outside dim {axis}")
    return Concatenate(axis)(*xs)


def stack(tensors: Any, dim: Any = 0, *, axis: Any = None) -> Any:
    """Join same-shaped tensors along a new dim."""
    dim = dim if axis is None else axis
    xs = list(tensors)
    if not xs:
        raise ValueError("stack: needs at least one tensor")
    shapes = {_shape_of(x) for x in xs}
    if len(shapes) != 1:
        raise ValueError(f"stack: all inputs must have the same shape, got {sorted(shapes)}")
    nd = len(next(iter(shapes)))
    d = _axes.axis(dim, nd, "stack", extra=1)
    return _cat([unsqueeze(x, d) for x in xs], d, "stack")


def _split_at(x: Any, bounds: list[int], axis: int) -> list[Any]:
    """Split at the given indices along ``axis`` (NumPy's ``np.split`` with indices)."""
    return list(Split(bounds, axis)(x))


def split(x: Any, split_size_or_sections: Any, dim: Any = 0, *, axis: Any = None
          ) -> tuple[Any, ...]:
    """PyTorch's split: an int is the size of each piece (the last may be smaller), a list
    gives the sizes, which must add up to the dim's size."""
    dim = dim if axis is None else axis
    shape = _shape_of(x)
    if not shape:
        raise ValueError("split: needs a tensor of at least 1 dimension, got a 0-d tensor")
    d = _axes.axis(dim, len(shape), "split")
    n = shape[d]
    arg = split_size_or_sections
    if isinstance(arg, (int, np.integer)) and not isinstance(arg, (bool, np.bool_)):
        size = int(arg)
        if size <= 0 and not (size == 0 and n == 0):
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size else [0]
    else:
        try:
            sizes = [_axes.check_int(a, "split", "a section size") for a in arg]
        except TypeError:
            raise TypeError(f"split: split_size_or_sections must be an int or a list of ints, "
                            f"got {arg!r}") from None
        if any(a < 0 for a in sizes) or sum(sizes) != n:
            raise ValueError(f"split: section sizes {sizes} must be non-negative and add up "
                             f"to {n} (dim {d} of shape {shape})")
    bounds = np.cumsum(sizes)[:-1].tolist()
    return tuple(_split_at(x, bounds, d))


def chunk(x: Any, chunks: Any, dim: Any = 0) -> tuple[Any, ...]:
    """Split into ``chunks`` pieces of size ceil(n / chunks) (fewer if n is small)."""
    chunks = _axes.check_int(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    shape = _shape_of(x)
    if not shape:
        raise ValueError("chunk: needs a tensor of at least 1 dimension, got a 0-d tensor")
    n = shape[_axes.axis(dim, len(shape), "chunk")]
    return split(x, max(-(-n // chunks), 1), dim)
