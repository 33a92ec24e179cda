"""Shape ops: reshape, transpose, broadcast_to, sum_to, squeeze/expand_dims, getitem,
concatenate, stack, split. Gradients of views are views of gradients, moved back."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor


def _shape_of(x: Any) -> tuple[int, ...]:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


class Reshape(Function):
    __slots__ = ("shape",)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy, y, x):
        return reshape(gy, x.shape)


class Transpose(Function):
    __slots__ = ("axes",)

    def __init__(self, axes: tuple[int, ...] | None) -> None:
        self.axes = axes

    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, gy, y, x):
        if self.axes is None:
            return transpose(gy, None)
        return transpose(gy, tuple(np.argsort(self.axes).tolist()))


class BroadcastTo(Function):
    __slots__ = ("shape",)

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x):
        return np.broadcast_to(x, self.shape)

    def backward(self, gy, y, x):
        return sum_to(gy, x.shape)


class SumTo(Function):
    """Sum an array down to ``shape`` (the reverse of broadcasting)."""

    __slots__ = ("shape",)

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

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index, self.shape = index, shape

    def forward(self, gy):
        gx = np.zeros(self.shape, dtype=gy.dtype)
        if _is_basic(self.index):
            gx[self.index] = gy
        else:
            np.add.at(gx, self.index, gy)
        return gx

    def backward(self, ggx, y, gy):
        return getitem(ggx, self.index)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer))
               for i in items)


def _normalize_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


class Concatenate(Function):
    __slots__ = ("axis", "sizes")

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return np.concatenate(xs, axis=self.axis)

    def backward(self, gy, y, *xs):
        bounds = np.cumsum(self.sizes)[:-1].tolist()
        return tuple(split(gy, bounds, self.axis))


class Split(Function):
    __slots__ = ("bounds", "axis")

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
                g = np.zeros(shape, dtype=x.dtype)
            parts.append(g)
        return concatenate(parts, self.axis)


# -- public functions ---------------------------------------------------------------------


def reshape(x: Any, shape: Any) -> Any:
    if type(x) is np.ndarray and type(shape) is tuple:
        return x.reshape(shape)  # raw arrays (backward code): NumPy checks the sizes
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(shape)
    src = _shape_of(x)
    if src == shape:
        return x
    size = math.prod(src)
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or (-1 not in shape and known != size) or (
        -1 in shape and (known == 0 or size % known)
    ):
        raise ValueError(f"reshape: cannot reshape shape {src} ({size} elements) into {shape}")
    return Reshape(shape)(x)


def transpose(x: Any, axes: Any = None) -> Any:
    if axes is not None:
        nd = len(_shape_of(x))
        axes = tuple(int(a) % nd if nd else int(a) for a in axes)
        if sorted(axes) != list(range(nd)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the {nd} axes "
                             f"of shape {_shape_of(x)}")
    return Transpose(axes)(x)


def swapaxes(x: Any, a: int, b: int) -> Any:
    nd = len(_shape_of(x))
    axes = list(range(nd))
    axes[a], axes[b] = axes[b], axes[a]
    return Transpose(tuple(axes))(x)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    if type(x) is np.ndarray:
        return np.broadcast_to(x, shape)  # raw arrays (backward code)
    shape = tuple(shape)
    src = _shape_of(x)
    if src == shape:
        return x
    try:
        np.broadcast_shapes(src, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {src} to {shape}") from None
    if len(src) > len(shape) or np.broadcast_shapes(src, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {src} to {shape}")
    return BroadcastTo(shape)(x)


def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    shape = tuple(shape)
    if _shape_of(x) == shape:
        return x
    return SumTo(shape)(x)


def squeeze(x: Any, axis: Any = None) -> Any:
    src = _shape_of(x)
    if axis is None:
        return reshape(x, tuple(s for s in src if s != 1))
    axes = {a % len(src) for a in ((axis,) if isinstance(axis, int) else axis)}
    for a in axes:
        if src[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {src} has size {src[a]}, not 1")
    return reshape(x, tuple(s for i, s in enumerate(src) if i not in axes))


def expand_dims(x: Any, axis: int) -> Any:
    src = list(_shape_of(x))
    nd = len(src) + 1
    if not -nd <= axis < nd:
        raise ValueError(f"expand_dims: axis {axis} is out of range for shape {tuple(src)}")
    src.insert(axis % nd, 1)
    return reshape(x, tuple(src))


def flatten(x: Any, start_axis: int = 0) -> Any:
    src = _shape_of(x)
    start = start_axis % len(src) if src else 0
    return reshape(x, (*src[:start], math.prod(src[start:])))


def getitem(x: Any, index: Any) -> Any:
    """``x[index]``: slices, integers, integer arrays and boolean masks."""
    index = _normalize_index(index)
    if isinstance(index, np.ndarray) and index.dtype == bool:
        index = np.nonzero(index)
    elif isinstance(index, tuple) and any(
        isinstance(i, np.ndarray) and i.dtype == bool for i in index
    ):
        index = tuple(np.nonzero(i) if isinstance(i, np.ndarray) and i.dtype == bool else i
                      for i in index)
        flat = []
        for i in index:
            flat.extend(i if isinstance(i, tuple) else (i,))
        index = tuple(flat)
    try:
        return GetItem(index)(x)
    except IndexError as exc:
        raise IndexError(f"getitem: index {index!r} is invalid for shape {_shape_of(x)}: "
                         f"{exc}") from None


def concatenate(xs: Any, axis: int = 0) -> Any:
    xs = list(xs)
    if not xs:
        raise ValueError("concatenate: needs at least one tensor")
    shapes = [_shape_of(x) for x in xs]
    nd = len(shapes[0])
    if any(len(s) != nd for s in shapes) or nd == 0:
        raise ValueError(f"concatenate: all inputs need the same number (>= 1) of dimensions, "
                         f"got shapes {shapes}")
    axis = axis % nd
    for s in shapes[1:]:
        if s[:axis] + s[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:]:
            raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}")
    return Concatenate(axis)(*xs)


def stack(xs: Any, axis: int = 0) -> Any:
    xs = list(xs)
    if not xs:
        raise ValueError("stack: needs at least one tensor")
    shapes = {_shape_of(x) for x in xs}
    if len(shapes) != 1:
        raise ValueError(f"stack: all inputs must have the same shape, got {sorted(shapes)}")
    return concatenate([expand_dims(x, axis) for x in xs], axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Split along ``axis`` into equal sections or at the given indices (as ``np.split``)."""
    shape = _shape_of(x)
    axis = axis % len(shape)
    n = shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"split: axis {axis} of shape {shape} (size {n}) cannot be split "
                             f"into {k} equal sections")
        bounds = [n // k * i for i in range(1, k)]
    else:
        bounds = [int(b) for b in indices_or_sections]
    out = Split(bounds, axis)(x)
    return list(out)
