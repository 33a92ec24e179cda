"""Elementwise math under PyTorch's names: trigonometric and hyperbolic functions, exp/log
variants, rounding, fmod/remainder, lerp, hypot, logaddexp, atan2, clamp with tensor bounds,
tests (isnan, isclose, ...) and bitwise/logical ops.

Forward and backward sit side by side; each backward is written with operators and ops, so
it runs on arrays (plain backward) and on Tensors (``create_graph=True``: second order).
Integer and bool inputs of float functions become float32, as in PyTorch. Rounding ops
(floor, ceil, round, trunc, sign) have a zero gradient, as in PyTorch; the tests and
bitwise ops give no gradient at all.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import Function
from ..backend import as_array, is_device_array
from ..tensor import Tensor
from . import arithmetic as _ar

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _const(a: Any) -> Tensor:
    return Tensor._make(as_array(a), False, None, 0)


def _float(x: Any) -> Any:
    """Integer/bool tensors become float32 (PyTorch's promotion for float functions)."""
    if isinstance(x, Tensor):
        return x if x.data.dtype.kind in "fc" else _const(x.data.astype(np.float32))
    if isinstance(x, np.ndarray) or is_device_array(x):
        return x if x.dtype.kind in "fc" else x.astype(np.float32)
    arr = as_array(x)
    if arr.dtype.kind in "fc" and isinstance(x, np.generic):
        return _const(arr)
    return _const(arr.astype(np.float32))


class _Unary(Function):
    """One NumPy ufunc forward (as ``ops.log``: NumPy warns at domain edges such as
    log2(0) = -inf, where torch is silent; np.errstate would cost ~2 us per call)."""

    __slots__ = ()
    _f: Any = None

    def forward(self, x):
        return type(self)._f(x)


def _u(f: Any) -> Any:
    return staticmethod(f)


class Sin(_Unary):
    __slots__ = ()
    _f = _u(np.sin)

    def backward(self, gy, y, x):
        return gy * cos(x)


class Cos(_Unary):
    __slots__ = ()
    _f = _u(np.cos)

    def backward(self, gy, y, x):
        return -(gy * sin(x))


class Tan(_Unary):
    __slots__ = ()
    _f = _u(np.tan)

    def backward(self, gy, y, x):
        return gy * (y * y + 1.0)


class Asin(_Unary):
    __slots__ = ()
    _f = _u(np.arcsin)

    def backward(self, gy, y, x):
        return gy * rsqrt(1.0 - x * x)


class Acos(_Unary):
    __slots__ = ()
    _f = _u(np.arccos)

    def backward(self, gy, y, x):
        return -(gy * rsqrt(1.0 - x * x))


class Atan(_Unary):
    __slots__ = ()
    _f = _u(np.arctan)

    def backward(self, gy, y, x):
        return gy / (x * x + 1.0)


class Sinh(_Unary):
    __slots__ = ()
    _f = _u(np.sinh)

    def backward(self, gy, y, x):
        return gy * cosh(x)


class Cosh(_Unary):
    __slots__ = ()
    _f = _u(np.cosh)

    def backward(self, gy, y, x):
        return gy * sinh(x)


class Tanh(_Unary):
    __slots__ = ()
    _f = _u(np.tanh)

    def backward(self, gy, y, x):
        return gy * (1.0 - y * y)


class Asinh(_Unary):
    __slots__ = ()
    _f = _u(np.arcsinh)

    def backward(self, gy, y, x):
        return gy * rsqrt(x * x + 1.0)


class Acosh(_Unary):
    __slots__ = ()
    _f = _u(np.arccosh)

    def backward(self, gy, y, x):
        return gy * rsqrt(x * x - 1.0)


class Atanh(_Unary):
    __slots__ = ()
    _f = _u(np.arctanh)

    def backward(self, gy, y, x):
        return gy / (1.0 - x * x)


class Exp2(_Unary):
    __slots__ = ()
    _f = _u(np.exp2)

    def backward(self, gy, y, x):
        return gy * y * _LN2


class Expm1(_Unary):
    __slots__ = ()
    _f = _u(np.expm1)

    def backward(self, gy, y, x):
        return gy * (y + 1.0)


class Log2(_Unary):
    __slots__ = ()
    _f = _u(np.log2)

    def backward(self, gy, y, x):
        return gy / (x * _LN2)


class Log10(_Unary):
    __slots__ = ()
    _f = _u(np.log10)

    def backward(self, gy, y, x):
        return gy / (x * _LN10)


class Log1p(_Unary):
    __slots__ = ()
    _f = _u(np.log1p)

    def backward(self, gy, y, x):
        return gy / (x + 1.0)


def _rsqrt_array(x: np.ndarray) -> np.ndarray:
    r = np.sqrt(x)
    return np.reciprocal(r, out=r)


class Rsqrt(_Unary):
    __slots__ = ()
    _f = _u(_rsqrt_array)

    def backward(self, gy, y, x):
        return gy * (y * y * y) * -0.5


class Reciprocal(_Unary):
    __slots__ = ()
    _f = _u(np.reciprocal)

    def backward(self, gy, y, x):
        return -(gy * (y * y))


class Square(_Unary):
    __slots__ = ()
    _f = _u(np.square)

    def backward(self, gy, y, x):
        return gy * (x * 2.0)


class Frac(_Unary):
    """x - trunc(x); its derivative is 1."""

    __slots__ = ()

    @staticmethod
    def _f(x):
        return x - np.trunc(x)

    def backward(self, gy, y, x):
        return gy


class _Flat(_Unary):
    """Piecewise-constant functions: the gradient is zero (PyTorch's convention)."""

    __slots__ = ()

    def backward(self, gy, y, x):
        return gy * 0.0


class Floor(_Flat):
    __slots__ = ()
    _f = _u(np.floor)


class Ceil(_Flat):
    __slots__ = ()
    _f = _u(np.ceil)


class Trunc(_Flat):
    __slots__ = ()
    _f = _u(np.trunc)


class Sign(_Flat):
    __slots__ = ()
    _f = _u(np.sign)


class Round(_Flat):
    """Round half to even (as torch.round and np.round); ``decimals`` as torch."""

    __slots__ = ("decimals",)

    def __init__(self, decimals: int) -> None:
        self.decimals = decimals

    def forward(self, x):
        return np.round(x, self.decimals)


# -- binary ops ----------------------------------------------------------------------------


class Atan2(Function):
    __slots__ = ()

    def forward(self, a, b):
        return np.arctan2(a, b)

    def backward(self, gy, y, a, b):
        r = gy / (a * a + b * b)
        return (r * b if self.needs_grad(0) else None,
                -(r * a) if self.needs_grad(1) else None)


class Fmod(Function):
    """C's fmod: the result has the sign of the dividend (torch.fmod)."""

    __slots__ = ()

    def forward(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(a, b)

    def backward(self, gy, y, a, b):
        gb = None
        if self.needs_grad(1):
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = -(gy * np.trunc(_raw(a) / _raw(b)))
        return gy, gb


class Remainder(Function):
    """Python's modulo: the result has the sign of the divisor (torch.remainder, ``%``)."""

    __slots__ = ()

    def forward(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.mod(a, b)

    def backward(self, gy, y, a, b):
        gb = None
        if self.needs_grad(1):
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = -(gy * np.floor(_raw(a) / _raw(b)))
        return gy, gb


class Hypot(Function):
    __slots__ = ()

    def forward(self, a, b):
        return np.hypot(a, b)

    def backward(self, gy, y, a, b):
        r = gy / y
        return (r * a if self.needs_grad(0) else None,
                r * b if self.needs_grad(1) else None)


class LogAddExp(Function):
    __slots__ = ()

    def forward(self, a, b):
        return np.logaddexp(a, b)

    def backward(self, gy, y, a, b):
        return (gy * _ar.exp(a - y) if self.needs_grad(0) else None,
                gy * _ar.exp(b - y) if self.needs_grad(1) else None)


class Lerp(Function):
    """start + weight (end - start)."""

    __slots__ = ()

    def forward(self, a, b, w):
        return a + w * (b - a)

    def backward(self, gy, y, a, b, w):
        return (gy * (1.0 - w) if self.needs_grad(0) else None,
                gy * w if self.needs_grad(1) else None,
                gy * (b - a) if self.needs_grad(2) else None)


class ClampT(Function):
    """clamp with tensor bounds; x gets the gradient where lo <= x <= hi, a bound where it
    is the one that binds (PyTorch's rule; ``hi`` wins where lo > hi)."""

    __slots__ = ("has_lo", "has_hi")

    def __init__(self, has_lo: bool, has_hi: bool) -> None:
        self.has_lo, self.has_hi = has_lo, has_hi

    def forward(self, x, *bounds):
        y = x
        i = 0
        if self.has_lo:
            y = np.maximum(y, bounds[0])
            i = 1
        if self.has_hi:
            y = np.minimum(y, bounds[i])
        return y

    def backward(self, gy, y, x, *bounds):
        xr = _raw(x)
        keep = np.ones_like(xr, shape=np.broadcast_shapes(
            xr.shape, *[np.shape(_raw(b)) for b in bounds]), dtype=bool)
        grads = []
        i = 0
        lo_mask = None
        if self.has_lo:
            lo = _raw(bounds[0])
            lo_mask = xr < lo
            keep &= ~lo_mask
            i = 1
        hi_mask = None
        if self.has_hi:
            hi = _raw(bounds[i])
            hi_mask = xr > hi
            keep &= ~hi_mask
            if lo_mask is not None:
                lo_mask = lo_mask & ~hi_mask
        grads.append(_ar.where(keep, gy, 0.0))
        if self.has_lo:
            grads.append(_ar.where(lo_mask, gy, 0.0) if self.needs_grad(1) else None)
        if self.has_hi:
            grads.append(_ar.where(hi_mask, gy, 0.0) if self.needs_grad(i + 1) else None)
        return tuple(grads)


# -- public functions -----------------------------------------------------------------------


def _unary(cls: type) -> Any:
    def fn(input: Any) -> Any:  # noqa: A002
        return cls()(_float(input))

    return fn


sin = _unary(Sin)
cos = _unary(Cos)
tan = _unary(Tan)
asin = _unary(Asin)
acos = _unary(Acos)
atan = _unary(Atan)
sinh = _unary(Sinh)
cosh = _unary(Cosh)
tanh = _unary(Tanh)
asinh = _unary(Asinh)
acosh = _unary(Acosh)
atanh = _unary(Atanh)
exp2 = _unary(Exp2)
expm1 = _unary(Expm1)
log2 = _unary(Log2)
log10 = _unary(Log10)
log1p = _unary(Log1p)
rsqrt = _unary(Rsqrt)
reciprocal = _unary(Reciprocal)
frac = _unary(Frac)
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
for _name, _fn in list(globals().items()):
    if callable(_fn) and getattr(_fn, "__name__", "") == "fn":
        _fn.__name__ = _fn.__qualname__ = _name
        _fn.__doc__ = f"Elementwise {_name} (torch.{_name}); differentiable."


def square(input: Any) -> Any:  # noqa: A002
    """x * x (integer tensors stay integer, as in torch)."""
    if isinstance(input, Tensor) and input.data.dtype.kind in "biu":
        return _const(np.square(input.data))
    return Square()(_float(input))


def _rounding(cls: type, input: Any, *args: Any) -> Any:  # noqa: A002
    if isinstance(input, Tensor) and input.data.dtype.kind in "biu":
        return _const(input.data.copy())  # integers are already whole (torch keeps dtype)
    return cls(*args)(_float(input))


def floor(input: Any) -> Any:  # noqa: A002
    """Round down; zero gradient (as torch)."""
    return _rounding(Floor, input)


def ceil(input: Any) -> Any:  # noqa: A002
    """Round up; zero gradient."""
    return _rounding(Ceil, input)


def trunc(input: Any) -> Any:  # noqa: A002
    """Round toward zero; zero gradient."""
    return _rounding(Trunc, input)


fix = trunc


def round(input: Any, decimals: int = 0) -> Any:  # noqa: A001,A002
    """Round half to even (as torch.round); zero gradient."""
    return _rounding(Round, input, int(decimals))


def sign(input: Any) -> Any:  # noqa: A002
    """-1, 0 or 1 elementwise; a differentiable node with zero gradient (as torch.sign)."""
    if isinstance(input, Tensor) and input.data.dtype.kind in "biu":
        return _const(np.sign(input.data))
    return Sign()(_float(input))


def _binary_float(a: Any, b: Any) -> tuple[Any, Any]:
    """Promote integer operands of float binary ops to float32 (unless the other is float)."""
    ra, rb = as_array(_raw(a)), as_array(_raw(b))
    if ra.dtype.kind not in "fc" and rb.dtype.kind not in "fc":
        return _float(a), _float(b)
    return a, b


def atan2(input: Any, other: Any) -> Any:  # noqa: A002
    """The angle of (other, input) in (-π, π] (torch.atan2(y, x))."""
    return Atan2()(*_binary_float(input, other))


arctan2 = atan2


def _int_binary(ufunc: np.ufunc, a: Any, b: Any) -> Any | None:
    """Integer operands: exact integer result, no graph (None when a float is involved)."""
    ra, rb = as_array(_raw(a)), as_array(_raw(b))
    if ra.dtype.kind in "biu" and rb.dtype.kind in "biu":
        if np.any(rb == 0):
            raise ZeroDivisionError(f"{ufunc.__name__}: integer division by zero")
        return _const(ufunc(ra, rb))
    return None


def fmod(input: Any, other: Any) -> Any:  # noqa: A002
    """Remainder with the sign of ``input`` (C's fmod, torch.fmod)."""
    r = _int_binary(np.fmod, input, other)
    return r if r is not None else Fmod()(input, other)


def remainder(input: Any, other: Any) -> Any:  # noqa: A002
    """Remainder with the sign of ``other`` (Python's %, torch.remainder)."""
    r = _int_binary(np.mod, input, other)
    return r if r is not None else Remainder()(input, other)


def floor_divide(input: Any, other: Any) -> Any:  # noqa: A002
    """floor(input / other) (``//``); no gradient (as torch)."""
    r = _int_binary(np.floor_divide, input, other)
    if r is not None:
        return r
    with np.errstate(divide="ignore", invalid="ignore"):
        return _const(np.floor_divide(_raw(input), _raw(other)))


def hypot(input: Any, other: Any) -> Any:  # noqa: A002
    """sqrt(a² + b²) without overflow."""
    return Hypot()(*_binary_float(input, other))


def logaddexp(input: Any, other: Any) -> Any:  # noqa: A002
    """log(e^a + e^b), stable for any magnitude."""
    return LogAddExp()(*_binary_float(input, other))


def lerp(input: Any, end: Any, weight: Any) -> Any:  # noqa: A002
    """input + weight (end - input); ``weight`` a number or a tensor."""
    return Lerp()(input, end, weight)


def clamp(input: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    """Clamp into [min, max]; bounds may be numbers or tensors (broadcast)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if not isinstance(min, (Tensor, np.ndarray)) and not isinstance(max, (Tensor, np.ndarray)):
        return _ar.clip(input, min, max)
    bounds = [b for b in (min, max) if b is not None]
    shapes = [np.shape(_raw(input))] + [np.shape(_raw(b)) for b in bounds]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"clamp: shapes {shapes} of input, min and max cannot be broadcast "
                         f"together") from None
    return ClampT(min is not None, max is not None)(input, *bounds)


clip = clamp


def clamp_min(input: Any, min: Any) -> Any:  # noqa: A002
    return clamp(input, min, None)


def clamp_max(input: Any, max: Any) -> Any:  # noqa: A002
    return clamp(input, None, max)


# -- tests (no gradient) ---------------------------------------------------------------------


def isnan(input: Any) -> Tensor:  # noqa: A002
    return _const(np.isnan(_raw(input)))


def isinf(input: Any) -> Tensor:  # noqa: A002
    return _const(np.isinf(_raw(input)))


def isposinf(input: Any) -> Tensor:  # noqa: A002
    return _const(np.isposinf(_raw(input)))


def isneginf(input: Any) -> Tensor:  # noqa: A002
    return _const(np.isneginf(_raw(input)))


def isfinite(input: Any) -> Tensor:  # noqa: A002
    return _const(np.isfinite(_raw(input)))


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """|a - b| <= atol + rtol |b| elementwise (torch's defaults)."""
    return _const(np.isclose(_raw(input), _raw(other), rtol=rtol, atol=atol,
                             equal_nan=equal_nan))


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    """Whether every element is close (a Python bool, as torch.allclose)."""
    return bool(np.allclose(_raw(input), _raw(other), rtol=rtol, atol=atol,
                            equal_nan=equal_nan))


def equal(input: Any, other: Any) -> bool:  # noqa: A002
    """Same shape and same values (torch.equal)."""
    a, b = as_array(_raw(input)), as_array(_raw(other))
    return a.shape == b.shape and bool(np.array_equal(a, b))


# -- bitwise and logical ops (bool and integer tensors) --------------------------------------


def _bitwise(ufunc: np.ufunc, name: str, *xs: Any) -> Tensor:
    arrs = [as_array(_raw(x)) for x in xs]
    for a in arrs:
        if a.dtype.kind not in "biu":
            raise TypeError(f"{name}: needs bool or integer tensors, got dtype {a.dtype} "
                            f"(use the logical_* functions for float tensors)")
    return _const(ufunc(*arrs))


def bitwise_and(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _bitwise(np.bitwise_and, "bitwise_and", input, other)


def bitwise_or(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _bitwise(np.bitwise_or, "bitwise_or", input, other)


def bitwise_xor(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _bitwise(np.bitwise_xor, "bitwise_xor", input, other)


def bitwise_not(input: Any) -> Tensor:  # noqa: A002
    return _bitwise(np.invert, "bitwise_not", input)


def logical_and(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _const(np.logical_and(_raw(input), _raw(other)))


def logical_or(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _const(np.logical_or(_raw(input), _raw(other)))


def logical_xor(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _const(np.logical_xor(_raw(input), _raw(other)))


def logical_not(input: Any) -> Tensor:  # noqa: A002
    return _const(np.logical_not(_raw(input)))


__all__ = [
    "acos", "acosh", "allclose", "arccos", "arccosh", "arcsin", "arcsinh", "arctan",
    "arctan2", "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and",
    "bitwise_not", "bitwise_or", "bitwise_xor", "ceil", "clamp", "clamp_max", "clamp_min",
    "clip", "cos", "cosh", "equal", "exp2", "expm1", "fix", "floor", "floor_divide", "fmod",
    "frac", "hypot", "isclose", "isfinite", "isinf", "isnan", "isneginf", "isposinf", "lerp",
    "log10", "log1p", "log2", "logaddexp", "logical_and", "logical_not", "logical_or",
    "logical_xor", "reciprocal", "remainder", "round", "rsqrt", "sign", "sin", "sinh",
    "square", "tan", "tanh", "trunc",
]


# -- more pointwise functions with torch's gradient conventions -------------------------------


class NanToNum(Function):
    """Replace NaN, +inf, -inf; the gradient passes only where x was finite (as torch)."""

    __slots__ = ("nan", "posinf", "neginf")

    def __init__(self, nan: float, posinf: float | None, neginf: float | None) -> None:
        self.nan, self.posinf, self.neginf = nan, posinf, neginf

    def forward(self, x):
        return np.nan_to_num(x, nan=self.nan, posinf=self.posinf, neginf=self.neginf)

    def backward(self, gy, y, x):
        return _ar.where(np.isfinite(_raw(x)), gy, 0.0)


class Logit(Function):
    """log(x / (1 - x)), with x clamped to [eps, 1 - eps] when eps is given (the gradient is
    then 0 outside that interval, as torch)."""

    __slots__ = ("eps",)

    def __init__(self, eps: float | None) -> None:
        self.eps = eps

    def forward(self, x):
        if self.eps is not None:
            x = np.clip(x, self.eps, 1.0 - self.eps).astype(x.dtype, copy=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x / (1.0 - x))

    def backward(self, gy, y, x):
        g = gy / (x * (1.0 - x))
        if self.eps is None:
            return g
        xr = _raw(x)
        return _ar.where((xr >= self.eps) & (xr <= 1.0 - self.eps), g, 0.0)


class Xlogy(Function):
    """x · log(y), 0 where x = 0 (even for y = 0), as torch.xlogy."""

    __slots__ = ()

    def forward(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = a * np.log(b)
        return np.where(a == 0, np.zeros_like(a, shape=()), out).astype(out.dtype, copy=False)

    def backward(self, gy, y, a, b):
        zero = (_raw(a) == 0) & (_raw(b) == 0)  # torch: d/dx is log y, except 0 at (0, 0)
        ga = gb = None
        if self.needs_grad(0):
            safe = _ar.where(zero, 1.0, b)
            ga = _ar.where(zero, 0.0, gy * _ar.log(safe))
        if self.needs_grad(1):
            gb = gy * a / b
        return ga, gb


def nan_to_num(input: Any, nan: float = 0.0, posinf: float | None = None,  # noqa: A002
               neginf: float | None = None) -> Any:
    """NaN → ``nan``, ±inf → ``posinf``/``neginf`` (the dtype's extremes by default)."""
    if as_array(_raw(input)).dtype.kind != "f":
        return _const(as_array(_raw(input)).copy())
    return NanToNum(float(nan), posinf, neginf)(input)


def logit(input: Any, eps: float | None = None) -> Any:  # noqa: A002
    """The inverse of the sigmoid, log(p / (1 - p))."""
    return Logit(None if eps is None else float(eps))(_float(input))


def xlogy(input: Any, other: Any) -> Any:  # noqa: A002
    """input · log(other), defined as 0 where input is 0."""
    return Xlogy()(*_binary_float(input, other))


sgn = sign

__all__ += ["logit", "nan_to_num", "sgn", "xlogy"]


class CopySign(Function):
    """|a| with the sign of b; the gradient flows to a only (as torch)."""

    __slots__ = ()

    def forward(self, a, b):
        return np.copysign(a, b)

    def backward(self, gy, y, a, b):
        ar = _raw(a)
        safe = _ar.where(ar == 0, 1.0, a)
        ga = _ar.where(ar == 0, 0.0, gy * y / safe)
        return ga, (gy * 0.0 if self.needs_grad(1) else None)


class Sinc(Function):
    """sin(πx)/(πx), 1 at 0 (its derivative there is 0)."""

    __slots__ = ()

    def forward(self, x):
        return np.sinc(x)

    def backward(self, gy, y, x):
        xr = _raw(x)
        zero = xr == 0
        px = _ar.where(zero, 1.0, x) * math.pi
        d = (cos(px) * px - sin(px)) / (px * px) * math.pi
        return gy * _ar.where(zero, 0.0, d)


def copysign(input: Any, other: Any) -> Any:  # noqa: A002
    return CopySign()(*_binary_float(input, other))


def sinc(input: Any) -> Any:  # noqa: A002
    """The normalised sinc, sin(πx)/(πx)."""
    return Sinc()(_float(input))


def signbit(input: Any) -> Tensor:  # noqa: A002
    return _const(np.signbit(_raw(input)))


def heaviside(input: Any, values: Any) -> Tensor:  # noqa: A002
    """0 for x < 0, ``values`` at 0, 1 for x > 0 (no gradient, as torch)."""
    x = _raw(input)
    v = _raw(values)
    if is_device_array(x) and np.ndim(v) == 0:  # a 0-d value may meet a device input
        v = as_array(v, like=x)
    return _const(np.heaviside(x, v))


def deg2rad(input: Any) -> Any:  # noqa: A002
    return _float(input) * (math.pi / 180.0)


def rad2deg(input: Any) -> Any:  # noqa: A002
    return _float(input) * (180.0 / math.pi)


def erfc(input: Any) -> Any:  # noqa: A002
    """1 - erf(x)."""
    from ..functional.activation import erf

    return 1.0 - erf(_float(input))


def nansum(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A002
    """Sum treating NaN as 0 (NaN positions get no gradient)."""
    from . import reduction as _red

    return _red.sum(_ar.where(np.isnan(_raw(input)), 0.0, input), dim, keepdim)


def nanmean(input: Any, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A002
    """Mean over the non-NaN elements."""
    ok = ~np.isnan(_raw(input))
    n = np.sum(ok, axis=None if dim is None else dim, keepdims=keepdim)
    return nansum(input, dim, keepdim) / n.astype(as_array(_raw(input)).dtype)


__all__ += ["copysign", "deg2rad", "erfc", "heaviside", "nanmean", "nansum", "rad2deg",
            "signbit", "sinc"]
