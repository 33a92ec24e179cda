"""Scans and order-free reductions under PyTorch's names: cumsum, cumprod, cummax, cummin,
logcumsumexp, amax, amin, count_nonzero, diff.

The backward of a cumulative sum is the reversed cumulative sum of the gradient; cumprod's
is the same for x ≠ 0 and an exact product-of-the-others form where x has zeros; cummax and
cummin route the gradient to the index that holds the running extreme (the last one on
ties, as PyTorch).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..autograd import Function
from ..backend import array_module, as_array
from ..tensor import Tensor
from . import arithmetic as _ar
from . import reduction as _red
from .shape import concatenate, getitem, reshape


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _shape(x: Any) -> tuple[int, ...]:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def _const(a: Any) -> Tensor:
    return Tensor._make(as_array(a), False, None, 0)


def norm_dim(dim: Any, ndim: int, op: str) -> int:
    """One dimension index in [0, ndim) (0-d tensors accept 0 and -1, as torch)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an integer, got {dim!r}")
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dim {dim} is out of range for a {ndim}-d tensor (expected "
                         f"in [{-n}, {n - 1}])")
    return int(dim) % n


def _flip(g: Any, axis: int) -> Any:
    idx = [slice(None)] * len(_shape(g))
    idx[axis] = slice(None, None, -1)
    return getitem(g, tuple(idx))


class CumSum(Function):
    __slots__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x):
        return np.cumsum(x, axis=self.axis, dtype=x.dtype)

    def backward(self, gy, y, x):
        return _flip(CumSum(self.axis)(_flip(gy, self.axis)), self.axis)


class CumProd(Function):
    __slots__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x):
        return np.cumprod(x, axis=self.axis, dtype=x.dtype)

    def backward(self, gy, y, x):
        ax = self.axis
        if not np.any(_raw(x) == 0):
            return _flip(CumSum(ax)(_flip(gy * y, ax)), ax) / x
        # zeros: d y_j / d x_i = prod_{k <= j, k != i} x_k, computed column by column
        n = _shape(x)[ax]
        cols = []
        for i in range(n):
            pre = [slice(None)] * len(_shape(x))
            pre[ax] = slice(i, i + 1)
            before = getitem(y, _at(ax, i - 1, len(_shape(x)))) if i else None
            rest = [slice(None)] * len(_shape(x))
            rest[ax] = slice(i + 1, None)
            tail = getitem(x, tuple(rest))
            g_i = getitem(gy, tuple(pre))
            if i + 1 < n:
                prods = CumProd(ax)(tail)
                g_i = g_i + _red.sum(getitem(gy, tuple(rest)) * prods, ax, True)
            cols.append(g_i if before is None else g_i * before)
        return concatenate(cols, ax)


def _at(axis: int, i: int, ndim: int) -> tuple:
    idx: list[Any] = [slice(None)] * ndim
    idx[axis] = slice(i, i + 1)
    return tuple(idx)


class _CumExtreme(Function):
    """Running max/min: values get the gradient of the input at the running arg-extreme."""

    __slots__ = ("axis", "index")
    _ufunc: Any = np.maximum
    n_outputs = 2

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x):
        ax = self.axis
        vals = type(self)._ufunc.accumulate(x, axis=ax)
        n = x.shape[ax]
        pos = array_module(x).arange(n).reshape([n if i == ax else 1 for i in range(x.ndim)])
        hit = (x == vals) | (np.isnan(x) if x.dtype.kind == "f" else False)
        idx = np.maximum.accumulate(np.where(hit, pos, 0), axis=ax)
        self.index = idx.astype(np.int64)
        return vals, self.index

    def backward(self, gys, ys, x):
        from .indexing import scatter_add

        g = gys[0]
        if g is None:
            return None
        zeros = _const(np.zeros_like(_raw(g), shape=_shape(x))) if isinstance(g, Tensor) \
            else np.zeros_like(g, shape=_shape(x))
        return scatter_add(zeros, self.axis, self.index, g)


class CumMax(_CumExtreme):
    __slots__ = ()
    _ufunc = np.maximum


class CumMin(_CumExtreme):
    __slots__ = ()
    _ufunc = np.minimum


class ValuesIndices(NamedTuple):
    """(values, indices), like torch.return_types.*."""

    values: Any
    indices: Any


def _float_only(x: Any, op: str) -> None:
    dt = x.data.dtype if isinstance(x, Tensor) else as_array(x).dtype
    if dt.kind not in "fc":
        raise TypeError(f"{op}: differentiable only for floating-point tensors, got {dt}; "
                        f"convert with .float()")


def _cumulative(name: str, int_fn: Any, node: type, input: Any, dim: int,  # noqa: A002
                dtype: Any) -> Any:
    """cumsum/cumprod: ``dtype`` converts first; integer tensors accumulate in int64 (no
    gradient), as torch; a 0-d input is its own scan."""
    ax = norm_dim(dim, len(_shape(input)), name)
    r = _raw(input)
    if dtype is not None:
        input = (_ar.astype(input, dtype) if isinstance(input, Tensor)
                 else as_array(r).astype(dtype, copy=False))
    elif as_array(r).dtype.kind in "biu":
        return _const(int_fn(r, axis=ax, dtype=np.int64))
    if len(_shape(input)) == 0:
        return input * 1.0
    return node(ax)(input)


def cumsum(input: Any, dim: int, dtype: Any = None) -> Any:  # noqa: A002
    """Cumulative sum along ``dim`` (integer tensors accumulate in int64, as torch)."""
    return _cumulative("cumsum", np.cumsum, CumSum, input, dim, dtype)


def cumprod(input: Any, dim: int, dtype: Any = None) -> Any:  # noqa: A002
    """Cumulative product along ``dim``; exact gradients also where the input has zeros."""
    return _cumulative("cumprod", np.cumprod, CumProd, input, dim, dtype)


def _cum_extreme(cls: type, op: str, input: Any, dim: int) -> ValuesIndices:  # noqa: A002
    ax = norm_dim(dim, len(_shape(input)), op)
    r = as_array(_raw(input))
    if r.ndim == 0:
        return ValuesIndices(input * 1.0 if r.dtype.kind == "f" else _const(r.copy()),
                             _const(np.zeros_like(r, dtype=np.int64)))
    if r.dtype.kind not in "fc":
        v, i = cls(ax).forward(r)
        return ValuesIndices(_const(v), _const(i))
    v, i = cls(ax)(input)
    return ValuesIndices(v, i if isinstance(i, Tensor) else _const(i))


def cummax(input: Any, dim: int) -> ValuesIndices:  # noqa: A002
    """Running maximum along ``dim`` and the index where it was attained."""
    return _cum_extreme(CumMax, "cummax", input, dim)


def cummin(input: Any, dim: int) -> ValuesIndices:  # noqa: A002
    """Running minimum along ``dim`` and the index where it was attained."""
    return _cum_extreme(CumMin, "cummin", input, dim)


def logcumsumexp(input: Any, dim: int) -> Any:  # noqa: A002
    """log(cumsum(exp(x))) along ``dim``, computed with a running maximum (stable)."""
    ax = norm_dim(dim, len(_shape(input)), "logcumsumexp")
    _float_only(input, "logcumsumexp")
    m = _raw(input).max(axis=ax, keepdims=True) if np.size(_raw(input)) else 0.0
    m = np.where(np.isfinite(m), m, 0.0).astype(as_array(_raw(input)).dtype)
    from .arithmetic import exp, log

    return log(cumsum(exp(input - m), ax)) + m


class _AExtreme(Function):
    """amax/amin over ``axis``: tied extremes share the gradient evenly (as torch)."""

    __slots__ = ("axis", "keepdims", "weights")
    _reduce: Any = np.max

    def __init__(self, axis: tuple[int, ...] | None, keepdims: bool) -> None:
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        yk = type(self)._reduce(x, axis=self.axis, keepdims=True)
        w = (x == yk).astype(x.dtype)
        w /= w.sum(axis=self.axis, keepdims=True)
        self.weights = w
        return yk if self.keepdims else as_array(np.squeeze(yk, axis=self.axis))

    def backward(self, gy, y, x):
        if not self.keepdims:
            shape = tuple(1 if self.axis is None or i in self.axis else n
                          for i, n in enumerate(_shape(x)))
            gy = reshape(gy, shape)
        return gy * self.weights

    has_buffers = True

    def release(self):
        self.weights = None


class AMax(_AExtreme):
    __slots__ = ()
    _reduce = np.max


class AMin(_AExtreme):
    __slots__ = ()
    _reduce = np.min


def _aextreme(cls: type, op: str, input: Any, dim: Any, keepdim: bool) -> Any:  # noqa: A002
    s = _shape(input)
    if dim is None or dim == ():
        axes = None
    else:
        ds = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        axes = tuple(sorted({norm_dim(d, len(s), op) for d in ds}))
    n = int(np.prod([s[a] for a in (axes if axes is not None else range(len(s)))]))
    if n == 0:
        raise ValueError(f"{op}: reducing an empty dim of shape {s} (dim={dim}) has no "
                         f"identity")
    if len(s) == 0:
        return input * 1.0
    return cls(axes, bool(keepdim))(input)


def amax(input: Any, dim: Any = (), keepdim: bool = False) -> Any:  # noqa: A002
    """Maximum over ``dim`` (all dims by default); ties share the gradient evenly."""
    return _aextreme(AMax, "amax", input, dim, keepdim)


def amin(input: Any, dim: Any = (), keepdim: bool = False) -> Any:  # noqa: A002
    """Minimum over ``dim`` (all dims by default); ties share the gradient evenly."""
    return _aextreme(AMin, "amin", input, dim, keepdim)


def count_nonzero(input: Any, dim: Any = None) -> Tensor:  # noqa: A002
    """Number of non-zero elements (int64), over ``dim`` or everything."""
    r = as_array(_raw(input))
    axis = None if dim is None else (tuple(dim) if isinstance(dim, (list, tuple)) else dim)
    return _const(as_array(np.count_nonzero(r, axis=axis)).astype(np.int64, copy=False))


def diff(input: Any, n: int = 1, dim: int = -1, prepend: Any = None,  # noqa: A002
         append: Any = None) -> Any:
    """n-th forward difference along ``dim`` (torch.diff)."""
    x = input
    nd = len(_shape(x))
    ax = norm_dim(dim, nd, "diff")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = concatenate(parts, ax)
    for _ in range(int(n)):
        m = _shape(x)[ax]
        hi = [slice(None)] * nd
        lo = [slice(None)] * nd
        hi[ax] = slice(1, m)
        lo[ax] = slice(0, max(m - 1, 0))
        x = getitem(x, tuple(hi)) - getitem(x, tuple(lo))
    return x


__all__ = ["ValuesIndices", "amax", "amin", "count_nonzero", "cummax", "cummin", "cumprod",
           "cumsum", "diff", "logcumsumexp"]
