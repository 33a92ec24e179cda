"""Reductions with PyTorch's signatures: sum, mean, prod, max/min (values and indices),
amax/amin, var/std, norm, logsumexp, argmax/argmin, any/all.

``dim`` may be an int, a tuple or None (every dim), ``keepdim`` keeps reduced dims as size
1; NumPy's ``axis``/``keepdims`` are accepted aliases. ``max(dim)`` returns the named tuple
``(values, indices)`` and sends the gradient to the index it picked, as PyTorch; ``amax``
(and ``max()`` over all elements) share it equally among tied elements.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..autograd import Function
from ..backend import as_array, device_of, is_device_array, to_device
from ..tensor import Tensor, _dtype
from . import _axes
from .arithmetic import abs as _abs
from .arithmetic import astype, exp, log, maximum, minimum, sqrt, where
from .shape import broadcast_to, reshape

_add_reduce = np.add.reduce


def _keep_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None,
                   keepdims: bool) -> tuple[int, ...]:
    if keepdims:
        return _keep_shape(shape, axes)
    return () if axes is None else tuple(s for i, s in enumerate(shape) if i not in axes)


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    return math.prod(shape[a] for a in (range(len(shape)) if axes is None else axes))


class Sum(Function):
    __slots__ = ("axis", "keepdims")
    saved_inputs = ()
    saves_output = False

    def __init__(self, axis: tuple[int, ...] | None, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        if self.axis is None and not self.keepdims and type(x) is np.ndarray \
                and x.dtype.kind == "f":  # straight into a 0-d array (no NumPy scalar)
            return _add_reduce(x, None, None, np.empty((), x.dtype))
        return as_array(x.sum(axis=self.axis, keepdims=self.keepdims))

    def backward(self, gy, y, x):
        if type(gy) is np.ndarray and gy.ndim == 0:
            g = np.empty(x.shape, x.dtype)  # full reduction: one fill (np.full, minus its
            g.fill(gy)                      # Python wrapper)
            return g
        if not self.keepdims and self.axis is not None:
            gy = reshape(gy, _keep_shape(x.shape, self.axis))
        return broadcast_to(gy, x.shape)


class Mean(Function):
    __slots__ = ("axis", "keepdims")
    saved_inputs = ()
    saves_output = False

    def __init__(self, axis: tuple[int, ...] | None, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        n = _count(x.shape, self.axis)
        s = as_array(x.sum(axis=self.axis, keepdims=self.keepdims))
        return s / n if n else np.full_like(s, np.nan, dtype=x.dtype)  # empty: nan (torch)

    def backward(self, gy, y, x):
        n = _count(x.shape, self.axis)
        scale = 1.0 / n if n else math.nan
        if type(gy) is np.ndarray and gy.ndim == 0:
            g = np.empty(x.shape, x.dtype)
            g.fill(gy * scale)
            return g
        if not self.keepdims and self.axis is not None:
            gy = reshape(gy, _keep_shape(x.shape, self.axis))
        return broadcast_to(gy * scale, x.shape)


class Prod(Function):
    """Product; the gradient of each element is the product of the others (exact with
    zeros: computed from exclusive cumulative products, no division)."""

    __slots__ = ("axis", "keepdims")
    saved_inputs = (0,)
    saves_output = False

    def __init__(self, axis: int | None, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return as_array(np.prod(x, axis=self.axis, keepdims=self.keepdims))

    def backward(self, gy, y, x):
        if isinstance(x, Tensor):
            raise RuntimeError("prod: second derivatives (create_graph=True) are not "
                               "supported; use exp(sum(log(x))) for positive x")
        shape = x.shape
        if x.size == 0:
            return np.zeros_like(x)
        flat = x.reshape(-1) if self.axis is None else np.moveaxis(x, self.axis, -1)
        ones = np.ones_like(flat[..., :1])
        left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)
        others = left * right[..., ::-1]
        others = (others.reshape(shape) if self.axis is None
                  else np.moveaxis(others, -1, self.axis))
        g = as_array(gy)
        if self.axis is not None and not self.keepdims:
            g = np.expand_dims(g, self.axis)
        return g * others


class _Extreme(Function):
    """amax/amin: the gradient is shared equally among tied extreme elements."""

    __slots__ = ("axis", "keepdims", "weights")
    saved_inputs = ()
    saves_output = False
    _reduce = staticmethod(np.max)

    def __init__(self, axis: tuple[int, ...] | None, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        yk = self._reduce(x, axis=self.axis, keepdims=True)
        mask = (x == yk) | (np.isnan(x) & np.isnan(yk)) if x.dtype.kind == "f" else x == yk
        w = mask.astype(x.dtype if x.dtype.kind == "f" else np.float32)
        w /= w.sum(axis=self.axis, keepdims=True)
        self.weights = w
        return yk if self.keepdims else as_array(yk.reshape(
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

    @property
    def name(self) -> str:
        return "amax"


class Min(_Extreme):
    __slots__ = ()
    _reduce = staticmethod(np.min)

    @property
    def name(self) -> str:
        return "amin"


class TakeAlong(Function):
    """``x`` picked at ``index`` along ``axis`` (values of max/min(dim)); the gradient goes
    to the picked elements only."""

    __slots__ = ("index", "axis", "keepdims")
    saved_inputs = ()
    saves_output = False

    def __init__(self, index: np.ndarray, axis: int, keepdims: bool) -> None:
        self.index, self.axis, self.keepdims = index, axis, keepdims

    def forward(self, x):
        y = np.take_along_axis(x, self.index, axis=self.axis)
        return y if self.keepdims else np.squeeze(y, axis=self.axis)

    def backward(self, gy, y, x):
        return PutAlong(self.index, self.axis, self.keepdims, x.shape)(gy)


class PutAlong(Function):
    """Scatter ``gy`` into zeros at ``index`` along ``axis`` (backward of TakeAlong)."""

    __slots__ = ("index", "axis", "keepdims", "shape")
    saved_inputs = ()
    saves_output = False

    def __init__(self, index: np.ndarray, axis: int, keepdims: bool,
                 shape: tuple[int, ...]) -> None:
        self.index, self.axis, self.keepdims, self.shape = index, axis, keepdims, shape

    def forward(self, gy):
        g = gy if self.keepdims else np.expand_dims(gy, self.axis)
        out = np.zeros_like(gy, shape=self.shape)
        np.put_along_axis(out, self.index, g, axis=self.axis)
        return out

    def backward(self, ggx, y, gy):
        return TakeAlong(self.index, self.axis, self.keepdims)(ggx)


class ValuesIndices(NamedTuple):
    """What ``max(dim)``/``min(dim)`` return (PyTorch's ``torch.return_types.max``)."""

    values: Any
    indices: Any


def _shape(x: Any) -> tuple[int, ...]:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def _args(x: Any, dim: Any, keepdim: bool, axis: Any, keepdims: bool | None, op: str
          ) -> tuple[tuple[int, ...], tuple[int, ...] | None, bool]:
    shape = _shape(x)
    if dim is None and axis is None and keepdims is None:
        return shape, None, bool(keepdim)  # the common full reduction: nothing to check
    dim = _axes.merge(dim, axis, op)
    return shape, _axes.axes(dim, len(shape), op), _axes.keep(keepdim, keepdims, op)


def _with_dtype(x: Any, dtype: Any) -> Any:
    return x if dtype is None else astype(x, _dtype(dtype))


def _const(arr: Any, x: Any) -> Any:
    """A result that is not differentiable, as a Tensor when ``x`` is one, on its device (a
    constant made here, e.g. an empty tensor's fill, is created on the host and moved)."""
    arr = as_array(arr)
    raw = x.data if isinstance(x, Tensor) else x
    if type(arr) is not type(raw) and is_device_array(raw):
        arr = to_device(arr, device_of(raw))
    return Tensor._make(arr, False, None, 0) if isinstance(x, Tensor) else arr


def sum(x: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,  # noqa: A001
        axis: Any = None, keepdims: bool | None = None) -> Any:
    """Sum over ``dim`` (all dims by default); bool and integer tensors sum to int64."""
    if (dim is None and axis is None and keepdims is None and dtype is None
            and (not isinstance(x, Tensor) or x.data.dtype.kind == "f")):
        return Sum(None, bool(keepdim))(x)  # the common full reduction: nothing to check
    shape, axes, keep = _args(x, dim, keepdim, axis, keepdims, "sum")
    x = _with_dtype(x, dtype)
    if dtype is None and isinstance(x, Tensor) and x.data.dtype.kind in "biu":
        x = astype(x, np.int64)  # PyTorch: integer sums are int64
    return Sum(axes, keep)(x)


def _float_input(x: Any, op: str) -> None:
    if isinstance(x, Tensor) and x.data.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point tensor, got dtype {x.data.dtype} "
                        f"(shape {x.data.shape}); convert it first, e.g. x.float()")


def mean(x: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         axis: Any = None, keepdims: bool | None = None) -> Any:
    """Mean over ``dim``; over an empty dim it is nan (as PyTorch)."""
    shape, axes, keep = _args(x, dim, keepdim, axis, keepdims, "mean")
    x = _with_dtype(x, dtype)
    _float_input(x, "mean")
    return Mean(axes, keep)(x)


def prod(x: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None,
         axis: Any = None, keepdims: bool | None = None) -> Any:
    """Product over one dim (or all elements, to a 0-d tensor)."""
    dim = _axes.merge(dim, axis, "prod")
    keep = _axes.keep(keepdim, keepdims, "prod")
    shape = _shape(x)
    d = None if dim is None else _axes.axis(dim, len(shape), "prod")
    if not shape:
        d = None
    x = _with_dtype(x, dtype)
    if dtype is None and isinstance(x, Tensor) and x.data.dtype.kind in "biu":
        x = astype(x, np.int64)
    if d is None and keep:
        return reshape(Prod(None, False)(x), (1,) * len(shape))
    return Prod(d, keep)(x)


def _check_nonempty(op: str, shape: tuple[int, ...], axes: tuple[int, ...] | None,
                    dim: Any) -> None:
    if _count(shape, axes) == 0:
        raise IndexError(f"{op}: reducing an empty dim of shape {shape} (dim={dim}) has no "
                         f"identity; specify a non-empty dim")


def amax(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Any:
    """Maximum over ``dim`` (int, tuple or None); ties share the gradient equally."""
    shape, axes, keep = _args(x, dim, keepdim, axis, keepdims, "amax")
    _check_nonempty("amax", shape, axes, dim)
    return Max(axes, keep)(x)


def amin(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Any:
    shape, axes, keep = _args(x, dim, keepdim, axis, keepdims, "amin")
    _check_nonempty("amin", shape, axes, dim)
    return Min(axes, keep)(x)


def _extreme_dim(x: Any, op: str, dim: Any, keepdim: bool, axis: Any, keepdims: Any,
                 whole: Any, arg: Any, elementwise: Any) -> Any:
    dim = _axes.merge(dim, axis, op)
    keep = _axes.keep(keepdim, keepdims, op)
    if isinstance(dim, Tensor) or (isinstance(dim, np.ndarray) and dim.ndim):
        return elementwise(x, dim)  # max(a, b): the elementwise maximum
    if dim is None:
        if keep:
            raise TypeError(f"{op}: keepdim needs a dim; use amax/amin(x, keepdim=True)")
        return whole(x)
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be one int (got {dim!r}); for several dims use "
                        f"{'amax' if op == 'max' else 'amin'}(x, dim)")
    shape = _shape(x)
    d = _axes.axis(dim, len(shape), op)
    if not shape:
        return ValuesIndices(whole(x), _const(np.zeros((), np.int64), x))
    if shape[d] == 0:
        raise IndexError(f"{op}: dim {dim} of shape {shape} is empty; there is no "
                         f"{op}imum to take")
    raw = x.data if isinstance(x, Tensor) else as_array(x)
    idx = np.expand_dims(arg(raw, axis=d), d)
    values = TakeAlong(idx, d, keep)(x)
    indices = idx if keep else np.squeeze(idx, axis=d)
    return ValuesIndices(values, _const(indices.astype(np.int64), x))


def max(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Any:
    """PyTorch's max: ``max(x)`` the 0-d maximum, ``max(x, dim)`` the named tuple
    ``(values, indices)``, ``max(x, other)`` the elementwise maximum."""
    return _extreme_dim(x, "max", dim, keepdim, axis, keepdims, amax, _nanargmax, maximum)


def min(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Any:
    return _extreme_dim(x, "min", dim, keepdim, axis, keepdims, amin, _nanargmin, minimum)


def _nanargmax(a: np.ndarray, axis: int) -> np.ndarray:
    return np.argmax(a, axis=axis)  # NumPy's argmax already picks the first nan, as torch


def _nanargmin(a: np.ndarray, axis: int) -> np.ndarray:
    return np.argmin(a, axis=axis)


def _arg(x: Any, op: str, fn: Any, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> Any:
    dim = _axes.merge(dim, axis, op)
    keep = _axes.keep(keepdim, keepdims, op)
    shape = _shape(x)
    raw = x.data if isinstance(x, Tensor) else as_array(x)
    if raw.dtype == np.bool_:
        raise TypeError(f"{op}: bool tensors are not supported (as in PyTorch); convert "
                        f"first (x.long())")
    if dim is None:
        if raw.size == 0:
            raise IndexError(f"{op}: the tensor of shape {shape} is empty")
        out = as_array(fn(raw.reshape(-1)))
        if keep:
            out = out.reshape((1,) * len(shape))
    else:
        d = _axes.axis(dim, len(shape), op)
        if not shape:
            out = np.zeros((), np.int64)
        else:
            if shape[d] == 0:
                raise IndexError(f"{op}: dim {dim} of shape {shape} is empty")
            out = as_array(fn(raw, axis=d))
            if keep:
                out = np.expand_dims(out, d)
    return _const(out.astype(np.int64), x)


def argmax(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
           keepdims: bool | None = None) -> Any:
    """Index of the maximum (over the flattened tensor when ``dim`` is None); int64."""
    return _arg(x, "argmax", np.argmax, dim, keepdim, axis, keepdims)


def argmin(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
           keepdims: bool | None = None) -> Any:
    return _arg(x, "argmin", np.argmin, dim, keepdim, axis, keepdims)


def _logical(x: Any, op: str, fn: Any, dim: Any, keepdim: bool, axis: Any,
             keepdims: Any) -> Any:
    shape, axes, keep = _args(x, dim, keepdim, axis, keepdims, op)
    raw = x.data if isinstance(x, Tensor) else as_array(x)
    return _const(fn(raw, axis=axes, keepdims=keep), x)


def any(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Any:
    """Whether any element (along ``dim``) is non-zero: a bool tensor (not differentiable)."""
    return _logical(x, "any", np.any, dim, keepdim, axis, keepdims)


def all(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Any:
    return _logical(x, "all", np.all, dim, keepdim, axis, keepdims)


def _correction(unbiased: Any, correction: Any, ddof: Any, op: str) -> float:
    given = [v for v in (unbiased, correction, ddof) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{op}: pass only one of unbiased=, correction= and ddof=")
    if unbiased is not None:
        return 1.0 if unbiased else 0.0
    c = correction if correction is not None else ddof if ddof is not None else 1
    if isinstance(c, bool) or not isinstance(c, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: correction must be a number, got {c!r}")
    return float(c)


def var(x: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None, ddof: Any = None, axis: Any = None,
        keepdims: bool | None = None) -> Any:
    """Variance with PyTorch's default Bessel correction (``correction=1``, i.e. divide by
    n - 1); ``unbiased=False``, ``correction=0`` or NumPy's ``ddof=0`` divide by n."""
    return _var(x, dim, unbiased, keepdim, correction, ddof, axis, keepdims, "var")


def _var(x: Any, dim: Any, unbiased: Any, keepdim: bool, correction: Any, ddof: Any,
         axis: Any, keepdims: Any, op: str) -> Any:
    shape, axes, keep = _args(x, dim, keepdim, axis, keepdims, op)
    _float_input(x, op)
    c = _correction(unbiased, correction, ddof, op)
    n = _count(shape, axes)
    d = x - mean(x, axes, keepdim=True)
    denom = n - c
    scale = 1.0 / denom if denom > 0 else math.inf if n else math.nan
    return sum(d * d, axes, keep) * scale


def std(x: Any, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None, ddof: Any = None, axis: Any = None,
        keepdims: bool | None = None) -> Any:
    """Standard deviation (the square root of :func:`var`, same correction)."""
    return sqrt(_var(x, dim, unbiased, keepdim, correction, ddof, axis, keepdims, "std"))


class Norm2(Function):
    """The Euclidean norm; its gradient x / ||x|| is 0 at x = 0 (as PyTorch)."""

    __slots__ = ("axis", "keepdims")
    saved_inputs = (0,)
    saves_output = True

    def __init__(self, axis: tuple[int, ...] | None, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        return as_array(np.sqrt((x * x).sum(axis=self.axis, keepdims=self.keepdims)))

    def backward(self, gy, y, x):
        if not self.keepdims and self.axis is not None:
            gy = reshape(gy, _keep_shape(x.shape, self.axis))
            y = reshape(y, _keep_shape(x.shape, self.axis))
        yr = y.data if isinstance(y, Tensor) else y
        safe = where(yr == 0, 1.0, y)
        return where(yr == 0, 0.0, gy * x / safe)


def norm(x: Any, p: Any = 2, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Any:
    """The p-norm over ``dim`` (all elements by default): p = 2 ('fro'), 1, inf, -inf, 0 or
    any other positive number."""
    shape, axes, keep = _args(x, dim, keepdim, axis, keepdims, "norm")
    _float_input(x, "norm")
    if p in ("fro", 2, 2.0):
        return Norm2(axes, keep)(x)
    if isinstance(p, bool) or not isinstance(p, (int, float)):
        raise ValueError(f"norm: p must be a number or 'fro', got {p!r}")
    if p == math.inf:
        return amax(_abs(x), axes, keep) if _count(shape, axes) else sum(_abs(x), axes, keep)
    if p == -math.inf:
        return amin(_abs(x), axes, keep)
    if p == 0:
        raw = x.data if isinstance(x, Tensor) else as_array(x)
        return _const((raw != 0).sum(axis=axes, keepdims=keep).astype(raw.dtype), x)
    if p == 1:
        return sum(_abs(x), axes, keep)
    if p < 0:
        raise ValueError(f"norm: p must be positive (or inf, -inf, 0), got {p}")
    return sum(_abs(x) ** float(p), axes, keep) ** (1.0 / p)


def logsumexp(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
              keepdims: bool | None = None) -> Any:
    """log Σ exp(x) over ``dim``, stable for inputs of any magnitude (its gradient is the
    softmax); -inf where every element is -inf, as PyTorch."""
    shape, axes, keep = _args(x, dim, keepdim, axis, keepdims, "logsumexp")
    if isinstance(x, Tensor) and x.data.dtype.kind != "f":
        x = astype(x, np.float32)
    raw = x.data if isinstance(x, Tensor) else as_array(x)
    if raw.size == 0:
        return _const(np.full(_reduced_shape(shape, axes, keep), -np.inf, raw.dtype), x)
    m = np.max(raw, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(raw.dtype)
    out = log(sum(exp(x - _const(m, x)), axes, keepdim=True)) + _const(m, x)
    return out if keep else reshape(out, _reduced_shape(shape, axes, False))


__all__ = ["ValuesIndices", "all", "amax", "amin", "any", "argmax", "argmin", "logsumexp",
           "max", "mean", "min", "norm", "prod", "std", "sum", "var"]

