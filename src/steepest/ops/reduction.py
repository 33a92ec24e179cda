"""Reductions: sum, mean, max, min, var, std (axis may be an int, a tuple or None)."""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .arithmetic import sqrt
from .shape import broadcast_to, reshape


def _norm_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -builtins.max(ndim, 1) <= a < builtins.max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a {ndim}-d tensor")
        out.append(int(a) % builtins.max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(out)


def _keep_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


class Sum(Function):
    __slots__ = ("axis", "keepdims")

    def __init__(self, axis: tuple[int, ...] | None, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return np.asarray(x.sum(axis=self.axis, keepdims=self.keepdims))

    def backward(self, gy, y, x):
        if type(gy) is np.ndarray and gy.ndim == 0:
            return np.full(x.shape, gy, dtype=x.dtype)  # full reduction: one fill
        if not self.keepdims and self.axis is not None:
            gy = reshape(gy, _keep_shape(x.shape, self.axis))
        return broadcast_to(gy, x.shape)


class Mean(Function):
    __slots__ = ("axis", "keepdims")

    def __init__(self, axis: tuple[int, ...] | None, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return np.asarray(x.mean(axis=self.axis, keepdims=self.keepdims))

    def backward(self, gy, y, x):
        shape = _keep_shape(x.shape, self.axis)
        n = math.prod(x.shape) // builtins.max(math.prod(shape), 1) if x.size else 0
        scale = 1.0 / builtins.max(n, 1)
        if type(gy) is np.ndarray and gy.ndim == 0:
            return np.full(x.shape, gy * scale, dtype=x.dtype)
        if not self.keepdims and self.axis is not None:
            gy = reshape(gy, shape)
        return broadcast_to(gy * scale, x.shape)


class _Extreme(Function):
    """max/min: the gradient is shared equally among tied extreme elements."""

    __slots__ = ("axis", "keepdims", "weights")
    _reduce = staticmethod(np.max)

    def __init__(self, axis: tuple[int, ...] | None, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        yk = self._reduce(x, axis=self.axis, keepdims=True)
        mask = x == yk
        w = mask.astype(x.dtype)
        w /= w.sum(axis=self.axis, keepdims=True)
        self.weights = w
        return yk if self.keepdims else np.asarray(yk.reshape(
            [s for i, s in enumerate(x.shape) if self.axis is not None and i not in self.axis]))

    def backward(self, gy, y, x):
        if not self.keepdims:
            gy = reshape(gy, _keep_shape(x.shape, self.axis))
        return gy * self.weights

    has_buffers = True

    def release(self):
        self.weights = None


class Max(_Extreme):
    __slots__ = ()
    _reduce = staticmethod(np.max)


class Min(_Extreme):
    __slots__ = ()
    _reduce = staticmethod(np.min)


def _shape(x: Any) -> tuple[int, ...]:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return Sum(_norm_axis(axis, len(_shape(x)), "sum"), keepdims)(x)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    shape = _shape(x)
    axes = _norm_axis(axis, len(shape), "mean")
    if math.prod(shape[a] for a in (axes if axes is not None else range(len(shape)))) == 0:
        raise ValueError(f"mean: reducing an empty axis of shape {shape} (axis={axis})")
    return Mean(axes, keepdims)(x)


def _extreme(cls: type, name: str, x: Any, axis: Any, keepdims: bool) -> Any:
    shape = _shape(x)
    axes = _norm_axis(axis, len(shape), name)
    if math.prod(shape[a] for a in (axes if axes is not None else range(len(shape)))) == 0:
        raise ValueError(f"{name}: reducing an empty axis of shape {shape} (axis={axis}) has "
                         f"no identity")
    return cls(axes, keepdims)(x)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return _extreme(Max, "max", x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return _extreme(Min, "min", x, axis, keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Any:
    """Variance with NumPy's ``ddof`` (0 by default; ``ddof=1`` is PyTorch's default)."""
    shape = _shape(x)
    axes = _norm_axis(axis, len(shape), "var")
    n = math.prod(shape[a] for a in (axes if axes is not None else range(len(shape))))
    if n - ddof <= 0:
        raise ValueError(f"var: {n} elements along axis={axis} of shape {shape} are too few "
                         f"for ddof={ddof}")
    d = x - mean(x, axes, keepdims=True)
    return sum(d * d, axes, keepdims) * (1.0 / (n - ddof))


def std(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Any:
    return sqrt(var(x, axis, keepdims, ddof))
