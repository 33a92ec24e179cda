"""Activations as functions, each one graph node with a hand-written backward.

ReLU multiplies by the mask of its output, sigmoid uses y(1 - y), tanh 1 - y². Softmax,
log_softmax, sigmoid and softplus never exponentiate a large positive number, so inputs of
±1000 give finite, exact results.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ..autograd import Function
from ..ops import _axes
from ..ops import arithmetic as _ar
from ..ops import where as _where
from ..tensor import Tensor
from ._common import raw, shape_of

_SQRT1_2 = math.sqrt(0.5)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


@functools.lru_cache(maxsize=64)
def _zero_row(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only row of zeros. ``np.maximum(x, row)`` runs the SIMD loop (about 2x faster
    than ``np.maximum(x, 0)``, whose broadcast scalar takes NumPy's slow path)."""
    z = np.zeros(n, dtype=dtype)
    z.flags.writeable = False
    return z


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    """Stable logistic function: exp is only taken of -|x| (no overflow at x = -1000)."""
    if x.ndim == 0:  # ufuncs return NumPy scalars for 0-d input; out= needs an array
        return _sigmoid_array(x.reshape(1)).reshape(())
    e = np.exp(-np.abs(x))
    r = e + 1.0
    np.reciprocal(r, out=r)
    np.multiply(r, e, out=r, where=x < 0)  # x < 0: e / (1 + e)
    return r


class Sigmoid(Function):
    __slots__ = ()
    saved_inputs = ()
    saves_output = True
    float_only = True

    def forward(self, x):
        return _sigmoid_array(x)

    def backward(self, gy, y, x):
        return gy * (y * (1.0 - y))


class Tanh(Function):
    __slots__ = ()
    saved_inputs = ()
    saves_output = True
    float_only = True

    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy, y, x):
        return gy * (1.0 - y * y)


class ReLU(Function):
    """max(x, 0); the gradient at 0 is 0 (as PyTorch)."""

    __slots__ = ()
    refuses_bool = True
    saved_inputs = ()
    saves_output = True

    def forward(self, x):
        if type(x) is np.ndarray and 0 < x.ndim and x.shape[-1] <= 65536:
            return np.maximum(x, _zero_row(x.shape[-1], x.dtype))
        return np.maximum(x, 0)

    def backward(self, gy, y, x):
        return gy * (y > 0)


class LeakyReLU(Function):
    __slots__ = ("slope",)
    saved_inputs = (0,)
    saves_output = False

    def __init__(self, slope: float) -> None:
        self.slope = slope

    def forward(self, x):
        return np.where(x > 0, x, x * self.slope)

    def backward(self, gy, y, x):
        xr = raw(x)
        t = xr.dtype.type
        return gy * np.where(xr > 0, t(1.0), t(self.slope))


class ELU(Function):
    __slots__ = ("alpha",)
    saved_inputs = (0,)
    saves_output = True
    float_only = True

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def forward(self, x):
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0)) * self.alpha)

    def backward(self, gy, y, x):
        # d/dx = 1 for x > 0, alpha * e^x = y + alpha otherwise. At x = 0 the derivative is
        # the constant alpha (PyTorch's second derivative there is 0, not alpha).
        xr = raw(x)
        t = xr.dtype.type
        return gy * _where(xr < 0, y + self.alpha,
                           np.where(xr > 0, t(1.0), t(self.alpha)))


def _erf_array(x: np.ndarray) -> np.ndarray:
    try:
        from scipy.special import erf as _scipy_erf
    except ImportError:  # pragma: no cover - scipy is optional
        return _erf_fallback(x)
    return _scipy_erf(x)


def _erf_fallback(x: np.ndarray) -> np.ndarray:
    """Exact (libm) erf elementwise without SciPy: slower, used only when SciPy is absent."""
    return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)


class Erf(Function):
    """The error function (used by the exact GELU; differentiable to any order)."""

    __slots__ = ()
    saved_inputs = (0,)
    saves_output = False
    float_only = True

    def forward(self, x):
        return _erf_array(x)

    def backward(self, gy, y, x):
        return gy * (_ar.exp(-(x * x)) * _TWO_OVER_SQRT_PI)


def erf(x: Any) -> Any:
    return Erf()(x)


class GELU(Function):
    """x·Φ(x) with Φ the standard normal CDF, exactly (erf) or with the tanh approximation."""

    __slots__ = ("approximate",)
    saved_inputs = (0,)
    saves_output = False
    float_only = True

    def __init__(self, approximate: str) -> None:
        self.approximate = approximate

    def forward(self, x):
        if self.approximate == "tanh":
            u = (x + x * x * x * 0.044715) * _SQRT_2_PI
            return x * (np.tanh(u) + 1.0) * 0.5
        return x * (_erf_array(x * _SQRT1_2) + 1.0) * 0.5

    def backward(self, gy, y, x):
        if self.approximate == "tanh":
            x2 = x * x
            t = tanh((x + x2 * x * 0.044715) * _SQRT_2_PI)
            du = (x2 * (3.0 * 0.044715) + 1.0) * _SQRT_2_PI
            return gy * ((t + 1.0) * 0.5 + x * (1.0 - t * t) * du * 0.5)
        cdf = (erf(x * _SQRT1_2) + 1.0) * 0.5
        pdf = _ar.exp(x * x * -0.5) * _INV_SQRT_2PI
        return gy * (cdf + x * pdf)


class Softplus(Function):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` (as PyTorch)."""

    __slots__ = ("beta", "threshold")
    saved_inputs = (0,)
    saves_output = False
    float_only = True

    def __init__(self, beta: float, threshold: float) -> None:
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        bx = x * self.beta
        y = np.log1p(np.exp(-np.abs(bx)))
        y += np.maximum(bx, 0)
        if self.beta != 1.0:
            y *= 1.0 / self.beta
        return np.where(bx > self.threshold, x, y)

    def backward(self, gy, y, x):
        lin = raw(x) * self.beta > self.threshold
        return gy * _where(lin, 1.0, sigmoid(x * self.beta))


class Softmax(Function):
    __slots__ = ("axis",)
    saved_inputs = ()
    saves_output = True

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x):
        if x.ndim == 0:
            return self.forward(x.reshape(1)).reshape(())
        e = x - x.max(axis=self.axis, keepdims=True)
        np.exp(e, out=e)
        e /= e.sum(axis=self.axis, keepdims=True)
        return e

    def backward(self, gy, y, x):
        gyy = gy * y
        return gyy - y * gyy.sum(axis=self.axis, keepdims=True)


class LogSoftmax(Function):
    __slots__ = ("axis",)
    saved_inputs = ()
    saves_output = True

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x):
        if x.ndim == 0:
            return self.forward(x.reshape(1)).reshape(())
        z = x - x.max(axis=self.axis, keepdims=True)
        z -= np.log(np.exp(z).sum(axis=self.axis, keepdims=True))
        return z

    def backward(self, gy, y, x):
        return gy - _ar.exp(y) * gy.sum(axis=self.axis, keepdims=True)


def _check_axis(x: Any, dim: Any, axis: Any, name: str) -> int | None:
    """The softmax dim (``dim``, or its alias ``axis``; -1 when neither is given), checked;
    None for a 0-d input (whose softmax is 1)."""
    dim = _axes.merge(dim, axis, name)
    if isinstance(x, Tensor) and x.data.dtype.kind != "f":
        raise TypeError(f"{name}: needs a floating-point input, got dtype {x.data.dtype}; "
                        f"convert it first (x.float())")
    nd = len(shape_of(x))
    d = _axes.axis(-1 if dim is None else dim, nd, name)
    return None if nd == 0 else d


def sigmoid(x: Any) -> Any:
    """Logistic function 1 / (1 + e^-x), computed without overflow."""
    return Sigmoid()(x)


def tanh(x: Any) -> Any:
    return Tanh()(x)


def relu(x: Any) -> Any:
    """max(x, 0). Its gradient at 0 is taken as 0 (as PyTorch)."""
    return ReLU()(x)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    """x for x > 0, ``negative_slope * x`` otherwise."""
    return LeakyReLU(float(negative_slope))(x)


def elu(x: Any, alpha: float = 1.0) -> Any:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    return ELU(float(alpha))(x)


def gelu(x: Any, approximate: str = "none") -> Any:
    """Gaussian error linear unit x·Φ(x).

    ``approximate='none'`` uses the exact erf form, ``'tanh'`` the approximation
    0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))) (as PyTorch's ``approximate`` argument).
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU(approximate)(x)


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """log(1 + e^(beta x)) / beta; returns x where beta x > threshold (as PyTorch)."""
    if beta <= 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    if isinstance(x, Tensor) and x.data.dtype.kind != "f":
        raise TypeError(f"softplus: needs a floating-point input, got dtype {x.data.dtype} "
                        f"(as in PyTorch); convert it first (x.float())")
    return Softplus(float(beta), float(threshold))(x)


def softmax(x: Any, dim: Any = None, *, axis: Any = None) -> Any:
    """exp(x) / Σ exp(x) along ``dim`` (default -1; ``axis`` is an alias), computed from
    x - max(x) (no overflow)."""
    return Softmax(_check_axis(x, dim, axis, "softmax"))(x)


def log_softmax(x: Any, dim: Any = None, *, axis: Any = None) -> Any:
    """x - logsumexp(x) along ``dim`` (default -1), stable for inputs of any magnitude."""
    return LogSoftmax(_check_axis(x, dim, axis, "log_softmax"))(x)


# -- vocabulary: more activations under torch's names ----------------------------------------
# Piecewise ones follow torch's conventions at the kinks (hardtanh passes the gradient only
# strictly inside (min_val, max_val); hardswish uses x/3 + 1/2 on (-3, 3)); smooth ones
# write their backward with ops, so their second derivatives equal torch's.

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class SiLU(Function):
    __slots__ = ()

    def forward(self, x):
        return x * _sigmoid_array(x)

    def backward(self, gy, y, x):
        s = sigmoid(x)
        return gy * (s * (x * (1.0 - s) + 1.0))


class _ScaledELU(Function):
    """scale · (x if x > 0 else alpha (e^(x/beta) - 1)): SELU (beta = 1) and CELU
    (scale = 1, beta = alpha). At x = 0 the negative branch's slope is used (as torch)."""

    __slots__ = ("alpha", "scale", "beta")

    def __init__(self, alpha: float, scale: float, beta: float) -> None:
        self.alpha, self.scale, self.beta = alpha, scale, beta

    def forward(self, x):
        neg = np.expm1(np.minimum(x, 0) * (1.0 / self.beta)) * (self.alpha * self.scale)
        return np.where(x > 0, x * self.scale, neg)

    def backward(self, gy, y, x):
        # at x = 0 the slope is the constant alpha·scale/beta (torch's second derivative
        # there is 0)
        xr = raw(x)
        k = self.alpha * self.scale / self.beta
        neg = _ar.exp(_ar.minimum(x, 0.0) * (1.0 / self.beta)) * k
        t = xr.dtype.type
        return gy * _where(xr < 0, neg, np.where(xr > 0, t(self.scale), t(k)))


class Hardtanh(Function):
    __slots__ = ("lo", "hi")

    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return np.clip(x, self.lo, self.hi).astype(x.dtype, copy=False)

    def backward(self, gy, y, x):
        xr = raw(x)
        return gy * ((xr > self.lo) & (xr < self.hi))


class Hardsigmoid(Function):
    __slots__ = ()

    def forward(self, x):
        return np.clip(x * (1.0 / 6.0) + 0.5, 0.0, 1.0).astype(x.dtype, copy=False)

    def backward(self, gy, y, x):
        xr = raw(x)
        return gy * (((xr > -3.0) & (xr < 3.0)) * (1.0 / 6.0)).astype(xr.dtype)


class Hardswish(Function):
    __slots__ = ()

    def forward(self, x):
        return x * np.clip(x + 3.0, 0.0, 6.0).astype(x.dtype, copy=False) * (1.0 / 6.0)

    def backward(self, gy, y, x):
        xr = raw(x)
        mid = (xr > -3.0) & (xr < 3.0)
        return gy * _where(xr <= -3.0, 0.0, _where(mid, x * (1.0 / 3.0) + 0.5, 1.0))


class Mish(Function):
    __slots__ = ()

    def forward(self, x):
        sp = np.log1p(np.exp(-np.abs(x)))
        sp += np.maximum(x, 0)
        return x * np.tanh(sp)

    def backward(self, gy, y, x):
        t = tanh(softplus(x))
        return gy * (t + x * sigmoid(x) * (1.0 - t * t))


class Softsign(Function):
    __slots__ = ()

    def forward(self, x):
        return x / (np.abs(x) + 1.0)

    def backward(self, gy, y, x):
        d = _ar.abs(x) + 1.0
        return gy / (d * d)


class LogSigmoid(Function):
    """log σ(x) = -softplus(-x), computed without overflow."""

    __slots__ = ()

    def forward(self, x):
        y = np.log1p(np.exp(-np.abs(x)))
        y += np.maximum(-x, 0)
        return -y

    def backward(self, gy, y, x):
        return gy * sigmoid(-x)


class Tanhshrink(Function):
    __slots__ = ()

    def forward(self, x):
        return x - np.tanh(x)

    def backward(self, gy, y, x):
        t = tanh(x)
        return gy * (t * t)


class _Shrink(Function):
    """hardshrink (x where |x| > λ) and softshrink (x ∓ λ where |x| > λ)."""

    __slots__ = ("lambd", "soft")

    def __init__(self, lambd: float, soft: bool) -> None:
        self.lambd, self.soft = lambd, soft

    def forward(self, x):
        keep = np.abs(x) > self.lambd
        if self.soft:
            return np.where(keep, x - np.sign(x) * self.lambd, 0.0).astype(x.dtype)
        return np.where(keep, x, 0.0).astype(x.dtype)

    def backward(self, gy, y, x):
        xr = raw(x)
        return gy * ((xr > self.lambd) | (xr < -self.lambd))


class Threshold(Function):
    __slots__ = ("threshold", "value")

    def __init__(self, threshold: float, value: float) -> None:
        self.threshold, self.value = threshold, value

    def forward(self, x):
        return np.where(x > self.threshold, x, self.value).astype(x.dtype)

    def backward(self, gy, y, x):
        return gy * (raw(x) > self.threshold)


class PReLUFn(Function):
    """x for x > 0, w x otherwise, w broadcast (already shaped) against x."""

    __slots__ = ()

    def forward(self, x, w):
        return np.where(x > 0, x, w * x)

    def backward(self, gy, y, x, w):
        xr = raw(x)
        pos = xr > 0
        gx = None
        if self.needs_grad(0):  # at x = 0 the slope w is a constant (as torch's 2nd order)
            slope = _where(xr < 0, w, raw(w)) if isinstance(w, Tensor) else w
            gx = gy * _where(pos, 1.0, slope)
        gw = _where(xr < 0, gy * x, 0.0) if self.needs_grad(1) else None
        return gx, gw

    @property
    def name(self) -> str:
        return "prelu"


def silu(x: Any, inplace: bool = False) -> Any:
    """x · σ(x) (also called swish)."""
    return SiLU()(x)


def selu(x: Any, inplace: bool = False) -> Any:
    """scale · elu(x, alpha) with the self-normalising constants of Klambauer et al."""
    return _ScaledELU(_SELU_ALPHA, _SELU_SCALE, 1.0)(x)


def celu(x: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return _ScaledELU(float(alpha), 1.0, float(alpha))(x)


def hardtanh(x: Any, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Any:
    """clamp(x, min_val, max_val)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) is greater than max_val ({max_val})")
    return Hardtanh(float(min_val), float(max_val))(x)


def relu6(x: Any, inplace: bool = False) -> Any:
    """min(max(x, 0), 6)."""
    return Hardtanh(0.0, 6.0)(x)


def hardsigmoid(x: Any, inplace: bool = False) -> Any:
    """clamp(x/6 + 1/2, 0, 1)."""
    return Hardsigmoid()(x)


def hardswish(x: Any, inplace: bool = False) -> Any:
    """x · hardsigmoid(x)."""
    return Hardswish()(x)


def mish(x: Any, inplace: bool = False) -> Any:
    """x · tanh(softplus(x))."""
    return Mish()(x)


def softsign(x: Any) -> Any:
    """x / (1 + |x|)."""
    return Softsign()(x)


def logsigmoid(x: Any) -> Any:
    """log σ(x), stable for any x."""
    return LogSigmoid()(x)


def tanhshrink(x: Any) -> Any:
    """x - tanh(x)."""
    return Tanhshrink()(x)


def hardshrink(x: Any, lambd: float = 0.5) -> Any:
    return _Shrink(float(lambd), False)(x)


def softshrink(x: Any, lambd: float = 0.5) -> Any:
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
    return _Shrink(float(lambd), True)(x)


def threshold(x: Any, threshold: float, value: float, inplace: bool = False) -> Any:
    """x where x > threshold, else value."""
    return Threshold(float(threshold), float(value))(x)


def relu_(x: Any) -> Any:
    return relu(x)


def softmin(x: Any, dim: int = -1) -> Any:
    """softmax(-x) along ``dim``."""
    return softmax(-x, dim)


def glu(x: Any, dim: int = -1) -> Any:
    """a · σ(b) with (a, b) the two halves of ``x`` along ``dim``."""
    from ..ops.layout import split

    s = shape_of(x)
    d = _check_axis(x, dim, None, "glu")
    if not s or s[d] % 2:
        raise ValueError(f"glu: dim {dim} of shape {s} must have an even size")
    a, b = split(x, s[d] // 2, d)
    return a * sigmoid(b)


def prelu(x: Any, weight: Any) -> Any:
    """x for x > 0, weight · x otherwise; ``weight`` has 1 element or one per channel
    (dim 1 of x), as torch."""
    from ..ops import reshape

    xs, ws = shape_of(x), shape_of(weight)
    n = int(np.prod(ws)) if ws else 1
    if len(ws) > 1:
        raise ValueError(f"prelu: weight must be 0-d or 1-D, got shape {ws}")
    if n != 1:
        if len(xs) < 2 or xs[1] != n:
            raise ValueError(f"prelu: weight has {n} elements but input shape {xs} has "
                             f"{xs[1] if len(xs) > 1 else 'no'} channels (dim 1)")
        weight = reshape(weight, (1, n) + (1,) * (len(xs) - 2))
    elif ws:
        weight = reshape(weight, ())
    return PReLUFn()(x, weight)
