"""Activations, layers and losses as functions (``import steepest.functional as F``).

Every activation, :func:`linear`, :func:`batch_norm`, :func:`dropout` and every loss is
*one* graph node (a :class:`~steepest.autograd.Function`) with a hand-written backward:
ReLU multiplies by the mask of its output, sigmoid uses y(1 - y), tanh 1 - y²,
``linear`` computes dW = gᵀx, db = Σg and dx = gW only when x needs it, and
``cross_entropy`` saves the softmax so its backward is (softmax - target)/N.

Each backward is written with operators, methods and :mod:`steepest.ops` functions only,
so the same code runs on raw arrays (plain backward: lean) and on Tensors
(``create_graph=True``: the backward is recorded and can be differentiated again). Where
a backward reuses a buffer saved by the forward (the softmax, the normalised input of
batch norm), the create-graph branch recomputes that buffer from the input with ops, so
second derivatives flow through it.

Numerical stability: softmax, log_softmax, cross_entropy, sigmoid, softplus and
binary_cross_entropy_with_logits never exponentiate a large positive number, so inputs
of ±1000 give finite, exact results.

Dtypes: float32 stays float32. Scalars are Python floats, never NumPy float64 scalars
(which would silently promote float32 arrays under NumPy 2).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .autograd import Function
from .ops import arithmetic as _ar
from .ops import where as _where
from .random import generator
from .tensor import Tensor

__all__ = [
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "dropout", "elastic_net_penalty", "elu", "erf", "gelu", "huber_loss",
    "l1_loss", "l1_penalty", "l2_penalty", "leaky_relu", "linear", "log_softmax", "mse_loss",
    "nll_loss", "relu", "sigmoid", "smooth_l1_loss", "softmax", "softplus", "tanh",
]

_REDUCTIONS = ("mean", "sum", "none")
_SQRT1_2 = math.sqrt(0.5)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_BCE_EPS = float(np.float32(1e-12))  # PyTorch's clamp of p(1 - p) (a float32 constant)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _shape(x: Any) -> tuple[int, ...]:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def _dtype(x: Any) -> np.dtype:
    return x.data.dtype if isinstance(x, Tensor) else np.asarray(x).dtype


# =======================================================================================
# Activations
# =======================================================================================


@functools.lru_cache(maxsize=64)
def _zero_row(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only row of zeros. ``np.maximum(x, row)`` runs the SIMD loop (about 2x faster
    than ``np.maximum(x, 0)``, whose broadcast scalar takes NumPy's slow path)."""
    z = np.zeros(n, dtype=dtype)
    z.flags.writeable = False
    return z


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    """Stable logistic function: exp is only taken of -|x| (no overflow at x = -1000)."""
    e = np.exp(-np.abs(x))
    r = e + 1.0
    np.reciprocal(r, out=r)
    np.multiply(r, e, out=r, where=x < 0)  # x < 0: e / (1 + e)
    return r


class Sigmoid(Function):
    __slots__ = ()

    def forward(self, x):
        return _sigmoid_array(x)

    def backward(self, gy, y, x):
        return gy * (y * (1.0 - y))


class Tanh(Function):
    __slots__ = ()

    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy, y, x):
        return gy * (1.0 - y * y)


class ReLU(Function):
    """max(x, 0); the gradient at 0 is 0 (as PyTorch)."""

    __slots__ = ()

    def forward(self, x):
        if 0 < x.ndim and x.shape[-1] <= 65536:
            return np.maximum(x, _zero_row(x.shape[-1], x.dtype))
        return np.maximum(x, 0)

    def backward(self, gy, y, x):
        return gy * (y > 0)


class LeakyReLU(Function):
    __slots__ = ("slope",)

    def __init__(self, slope: float) -> None:
        self.slope = slope

    def forward(self, x):
        return np.where(x > 0, x, x * self.slope)

    def backward(self, gy, y, x):
        xr = _raw(x)
        t = xr.dtype.type
        return gy * np.where(xr > 0, t(1.0), t(self.slope))


class ELU(Function):
    __slots__ = ("alpha",)

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def forward(self, x):
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0)) * self.alpha)

    def backward(self, gy, y, x):
        # d/dx = 1 for x > 0, alpha * e^x = y + alpha otherwise. At x = 0 the derivative is
        # the constant alpha (PyTorch's second derivative there is 0, not alpha).
        xr = _raw(x)
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

    def forward(self, x):
        return _erf_array(x)

    def backward(self, gy, y, x):
        return gy * (_ar.exp(-(x * x)) * _TWO_OVER_SQRT_PI)


def erf(x: Any) -> Any:
    return Erf()(x)


class GELU(Function):
    """x·Φ(x) with Φ the standard normal CDF, exactly (erf) or with the tanh approximation."""

    __slots__ = ("approximate",)

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
        lin = _raw(x) * self.beta > self.threshold
        return gy * _where(lin, 1.0, sigmoid(x * self.beta))


class Softmax(Function):
    __slots__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x):
        e = x - x.max(axis=self.axis, keepdims=True)
        np.exp(e, out=e)
        e /= e.sum(axis=self.axis, keepdims=True)
        return e

    def backward(self, gy, y, x):
        gyy = gy * y
        return gyy - y * gyy.sum(axis=self.axis, keepdims=True)


class LogSoftmax(Function):
    __slots__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x):
        z = x - x.max(axis=self.axis, keepdims=True)
        z -= np.log(np.exp(z).sum(axis=self.axis, keepdims=True))
        return z

    def backward(self, gy, y, x):
        return gy - _ar.exp(y) * gy.sum(axis=self.axis, keepdims=True)


def _check_axis(x: Any, axis: int, name: str) -> int:
    nd = len(_shape(x))
    if not -max(nd, 1) <= axis < max(nd, 1):
        raise ValueError(f"{name}: axis {axis} is out of range for a {nd}-d input")
    return axis % max(nd, 1)


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
    return Softplus(float(beta), float(threshold))(x)


def softmax(x: Any, axis: int = -1) -> Any:
    """exp(x) / Σ exp(x) along ``axis``, computed from x - max(x) (no overflow)."""
    return Softmax(_check_axis(x, axis, "softmax"))(x)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """x - logsumexp(x) along ``axis``, stable for inputs of any magnitude."""
    return LogSoftmax(_check_axis(x, axis, "log_softmax"))(x)


# =======================================================================================
# Layers: linear, dropout, batch norm
# =======================================================================================


class Linear(Function):
    """y = x Wᵀ + b in one node. W has PyTorch's shape (out_features, in_features).

    ``W.T`` is a view: BLAS reads it transposed, no copy is made. Backward: dW = gᵀx,
    db = Σg, and dx = gW only if x needs a gradient (not for the network's input).
    """

    __slots__ = ()

    def forward(self, x, w, b=None):
        y = x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, gy, y, x, w, b=None):
        return _linear_grads(self, gy, x, w, b)


def _linear_grads(fn: Function, g: Any, x: Any, w: Any, b: Any) -> tuple:
    """Gradients of x @ w.T + b given the output gradient g (shared by the fused nodes)."""
    gx = g @ w if fn.needs_grad(0) else None
    gw = gb = None
    need_w = fn.needs_grad(1)
    need_b = b is not None and fn.needs_grad(2)
    if need_w or need_b:
        if x.ndim != 2:  # (..., in): fold the leading axes into one batch axis
            x = x.reshape(-1, w.shape[1])
            g = g.reshape(-1, w.shape[0])
        if need_w:
            gw = g.T @ x
        if need_b:
            gb = g.sum(axis=0)
    if b is None:
        return gx, gw
    return gx, gw, gb


class LinearReLU(Function):
    """relu(x Wᵀ + b) in one node: the ReLU runs in place on the product and its backward
    masks the gradient before the affine gradients (no separate activation tensor)."""

    __slots__ = ()

    def forward(self, x, w, b=None):
        y = x @ w.T
        if b is not None:
            y += b
        return np.maximum(y, _zero_row(y.shape[-1], y.dtype), out=y)

    def backward(self, gy, y, x, w, b=None):
        return _linear_grads(self, gy * (y > 0), x, w, b)

    @property
    def name(self) -> str:
        return "linear_relu"


def _check_linear(x: Any, weight: Any, bias: Any, name: str) -> None:
    xs, ws = _shape(x), _shape(weight)
    if len(ws) != 2:
        raise ValueError(f"{name}: weight must be 2-D (out_features, in_features), got shape "
                         f"{ws}")
    if not xs or xs[-1] != ws[1]:
        raise ValueError(f"{name}: input shape {xs} does not match in_features={ws[1]}")
    if bias is not None and _shape(bias) != (ws[0],):
        raise ValueError(f"{name}: bias shape {_shape(bias)} does not match "
                         f"out_features={ws[0]}")


def linear_relu(x: Any, weight: Any, bias: Any = None) -> Any:
    """``relu(x @ weight.T + bias)`` as one fused node (what ``Sequential`` uses for a
    Linear followed by a ReLU); the values and gradients equal the two separate ops."""
    _check_linear(x, weight, bias, "linear_relu")
    return LinearReLU()(x, weight) if bias is None else LinearReLU()(x, weight, bias)


def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """Affine map ``x @ weight.T + bias`` (one fused node); weight is (out, in)."""
    _check_linear(x, weight, bias, "linear")
    return Linear()(x, weight) if bias is None else Linear()(x, weight, bias)


class Dropout(Function):
    __slots__ = ("mask",)

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask

    def forward(self, x):
        return x * self.mask

    def backward(self, gy, y, x):
        return gy * self.mask

    def release(self):
        self.mask = None


def dropout(x: Any, p: float = 0.5, training: bool = True) -> Any:
    """Inverted dropout: zero each element with probability ``p`` and scale the kept ones
    by 1/(1 - p) at training time, so that evaluation is the identity.

    (Some textbooks, e.g. "Deep Learning from Scratch", instead keep training outputs
    unscaled and multiply by (1 - p) at test time; the expected activations are the same,
    but inverted dropout leaves the trained model untouched at inference.) The mask is
    drawn from ``steepest.random.generator()``, so ``steepest.manual_seed`` makes it
    reproducible.
    """
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    dt = _dtype(x)
    if dt.kind != "f":
        raise TypeError(f"dropout: input must be floating point, got {dt}")
    shape = _shape(x)
    if p == 1.0:
        mask = np.zeros(shape, dtype=dt)
    else:
        mask = generator().random(shape, dtype=dt)
        keep = mask >= p
        np.multiply(keep, dt.type(1.0 / (1.0 - p)), out=mask)
    return Dropout(mask)(x)


class BatchNorm(Function):
    """Batch normalisation over axis 1 of (N, C) or (N, C, L) inputs, in one node.

    Training mode normalises with the batch statistics (biased variance) and updates the
    running statistics in place (unbiased variance, PyTorch's momentum convention:
    ``running = (1 - momentum) * running + momentum * batch``). Eval mode normalises with
    the running statistics. The backward is the closed form; under ``create_graph`` the
    normalised input is recomputed from x with ops so the backward can be differentiated.
    """

    __slots__ = ("axes", "bshape", "eps", "training", "xhat", "invstd", "shift", "mean", "var")

    def __init__(self, axes, bshape, eps, training, invstd=None, shift=None) -> None:
        self.axes, self.bshape, self.eps, self.training = axes, bshape, eps, training
        self.invstd, self.shift = invstd, shift

    def forward(self, x, *affine):
        axes = self.axes
        if self.training:
            mean = x.mean(axis=axes, keepdims=True)
            xc = x - mean
            var = np.square(xc).mean(axis=axes, keepdims=True)
            self.mean, self.var = mean, var  # batch statistics, for the running averages
            invstd = np.sqrt(var + self.eps)
            np.reciprocal(invstd, out=invstd)
            self.invstd = invstd
            xhat = xc
            xhat *= invstd
        else:
            xhat = x - self.shift
            xhat *= self.invstd
        self.xhat = xhat
        if not affine:
            return xhat.copy()
        y = xhat * affine[0].reshape(self.bshape)
        y += affine[1].reshape(self.bshape)
        return y

    def backward(self, gy, y, x, *affine):
        axes = self.axes
        if isinstance(x, Tensor):  # create_graph: rebuild xhat from x with ops
            if self.training:
                xc = x - x.mean(axis=axes, keepdims=True)
                invstd = ((xc * xc).mean(axis=axes, keepdims=True) + self.eps) ** -0.5
                xhat = xc * invstd
            else:
                invstd = self.invstd
                xhat = (x - self.shift) * invstd
        else:
            xhat, invstd = self.xhat, self.invstd
        g = gy * affine[0].reshape(self.bshape) if affine else gy
        gx = None
        if self.needs_grad(0):
            if self.training:
                gxhat = (g * xhat).mean(axis=axes, keepdims=True)
                gx = (g - g.mean(axis=axes, keepdims=True) - xhat * gxhat) * invstd
            else:
                gx = g * invstd
        if not affine:
            return gx
        gw = (gy * xhat).sum(axis=axes) if self.needs_grad(1) else None
        gb = gy.sum(axis=axes) if self.needs_grad(2) else None
        return gx, gw, gb

    def release(self):
        self.xhat = self.invstd = self.shift = None


def batch_norm(
    x: Any,
    running_mean: np.ndarray | None,
    running_var: np.ndarray | None,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    """Batch normalisation of (N, C) or (N, C, L) inputs over all axes but axis 1.

    With ``training=True`` the batch statistics are used and, if ``running_mean`` /
    ``running_var`` arrays are given, they are updated in place with
    ``running = (1 - momentum) * running + momentum * batch_stat`` (the running variance
    uses the unbiased batch variance), exactly as PyTorch. With ``training=False`` the
    running statistics are used. ``weight`` (γ) and ``bias`` (β) are optional, both or
    neither.
    """
    shape = _shape(x)
    if len(shape) not in (2, 3):
        raise ValueError(f"batch_norm: expected a 2-D (N, C) or 3-D (N, C, L) input, got "
                         f"shape {shape}")
    c = shape[1]
    axes = (0,) if len(shape) == 2 else (0, 2)
    bshape = (1, c) if len(shape) == 2 else (1, c, 1)
    if (weight is None) != (bias is None):
        raise ValueError("batch_norm: give both weight and bias, or neither")
    for name, a in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if a is not None and _shape(a) != (c,):
            raise ValueError(f"batch_norm: {name} has shape {_shape(a)}, expected ({c},) for "
                             f"input shape {shape}")
    affine = () if weight is None else (weight, bias)
    eps = float(eps)
    if training:
        n = shape[0] * (shape[2] if len(shape) == 3 else 1)
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input shape {shape}")
        fn = BatchNorm(axes, bshape, eps, True)
        out = fn(x, *affine)
        if running_mean is not None:
            m = float(momentum)
            running_mean *= 1.0 - m
            running_mean += fn.mean.reshape(c) * m
            running_var *= 1.0 - m
            running_var += fn.var.reshape(c) * (m * n / (n - 1))  # unbiased batch variance
        fn.mean = fn.var = None
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation mode (training=False) needs running_mean "
                         "and running_var")
    dt = _dtype(x)
    invstd = np.reciprocal(np.sqrt(np.asarray(running_var, dtype=dt) + eps)).reshape(bshape)
    shift = np.array(running_mean, dtype=dt).reshape(bshape)
    return BatchNorm(axes, bshape, eps, False, invstd, shift)(x, *affine)


# =======================================================================================
# Losses
# =======================================================================================


def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got "
                         f"{reduction!r}")


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":  # sum / n: np.mean's Python wrapper costs more than the work
        return np.asarray(loss.sum() / max(loss.size, 1))
    if reduction == "sum":
        return np.asarray(loss.sum())
    return loss


def _check_same_shape(x: Any, t: Any, name: str) -> None:
    xs, ts = _shape(x), _shape(t)
    if xs != ts:
        raise ValueError(f"{name}: input shape {xs} and target shape {ts} differ; they must "
                         f"be equal (reshape the target, e.g. target.reshape({xs}))")


class _PointwiseLoss(Function):
    """Elementwise loss l(x, t) followed by the reduction, in one node.

    Subclasses give ``_loss(x, t)`` (arrays) and ``_grads(g, x, t)``: the gradients
    w.r.t. x and t for the upstream gradient ``g`` of each element (operators/ops only).
    """

    __slots__ = ("reduction",)

    def __init__(self, reduction: str) -> None:
        self.reduction = reduction

    def forward(self, x, t):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _reduce(self._loss(x, t), self.reduction)

    def backward(self, gy, y, x, t):
        g = gy * (1.0 / max(x.size, 1)) if self.reduction == "mean" else gy
        return self._grads(g, x, t)


class MSE(_PointwiseLoss):
    __slots__ = ()

    def _loss(self, x, t):
        d = x - t
        return np.square(d, out=d)

    def _grads(self, g, x, t):
        gd = g * (x - t) * 2.0
        return gd, (-gd if self.needs_grad(1) else None)


class L1(_PointwiseLoss):
    __slots__ = ()

    def _loss(self, x, t):
        d = x - t
        return np.abs(d, out=d)

    def _grads(self, g, x, t):
        gd = g * np.sign(_raw(x) - _raw(t))
        return gd, (-gd if self.needs_grad(1) else None)


class Huber(_PointwiseLoss):
    __slots__ = ("delta",)

    def __init__(self, reduction: str, delta: float) -> None:
        super().__init__(reduction)
        self.delta = delta

    def _loss(self, x, t):
        d = np.abs(x - t)
        k = self.delta
        return np.where(d < k, d * d * 0.5, (d - k * 0.5) * k)

    def _grads(self, g, x, t):
        gd = g * _ar.clip(x - t, -self.delta, self.delta)
        return gd, (-gd if self.needs_grad(1) else None)


class SmoothL1(_PointwiseLoss):
    __slots__ = ("beta",)

    def __init__(self, reduction: str, beta: float) -> None:
        super().__init__(reduction)
        self.beta = beta

    def _loss(self, x, t):
        d = np.abs(x - t)
        b = self.beta
        return np.where(d < b, d * d * (0.5 / b), d - b * 0.5)

    def _grads(self, g, x, t):
        gd = g * _ar.clip((x - t) * (1.0 / self.beta), -1.0, 1.0)
        return gd, (-gd if self.needs_grad(1) else None)


class BCE(_PointwiseLoss):
    """Binary cross-entropy on probabilities; logs are clamped at -100 (as PyTorch)."""

    __slots__ = ()

    def _loss(self, x, t):
        lp = np.maximum(np.log(x), -100.0)
        lq = np.maximum(np.log1p(-x), -100.0)
        return -(t * lp + (1.0 - t) * lq)

    def _grads(self, g, x, t):
        gx = gt = None
        if self.needs_grad(0):
            gx = g * ((x - t) / _ar.maximum(x * (1.0 - x), _BCE_EPS))
        if self.needs_grad(1):
            with np.errstate(divide="ignore"):
                gt = g * (_ar.maximum(_ar.log(1.0 - x), -100.0)
                          - _ar.maximum(_ar.log(x), -100.0))
        return gx, gt


class BCEWithLogits(_PointwiseLoss):
    """Binary cross-entropy on logits: max(x, 0) - x t + log(1 + e^-|x|), stable."""

    __slots__ = ()

    def _loss(self, x, t):
        loss = np.log1p(np.exp(-np.abs(x)))
        loss += np.maximum(x, 0)
        loss -= x * t
        return loss

    def _grads(self, g, x, t):
        gx = g * (sigmoid(x) - t) if self.needs_grad(0) else None
        gt = g * -x if self.needs_grad(1) else None
        return gx, gt


def _pointwise(cls: type, name: str, x: Any, t: Any, reduction: str, *args: Any) -> Any:
    _check_reduction(reduction, name)
    _check_same_shape(x, t, name)
    return cls(reduction, *args)(x, t)


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002
    """Mean squared error (x - t)², reduced by ``reduction`` ('mean', 'sum' or 'none')."""
    return _pointwise(MSE, "mse_loss", input, target, reduction)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002
    """Mean absolute error |x - t| (the gradient at x = t is 0)."""
    return _pointwise(L1, "l1_loss", input, target, reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Any:
    """Huber loss: ½d² for |d| < delta, delta (|d| - ½ delta) beyond (d = x - t)."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return _pointwise(Huber, "huber_loss", input, target, reduction, float(delta))


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean",  # noqa: A002
                   beta: float = 1.0) -> Any:
    """Smooth L1: ½d²/beta for |d| < beta, |d| - ½ beta beyond; equals huber/beta.

    ``beta=0`` is the plain L1 loss.
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    return _pointwise(SmoothL1, "smooth_l1_loss", input, target, reduction, float(beta))


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1].

    Each log is clamped at -100 (as PyTorch) so p = 0 or 1 gives a finite loss. Prefer
    :func:`binary_cross_entropy_with_logits`, which is stable for any logit.
    """
    xr = _raw(input)
    if np.size(xr) and (np.min(xr) < 0 or np.max(xr) > 1):
        raise ValueError(f"binary_cross_entropy: all elements of input must be probabilities "
                         f"in [0, 1], got values in [{np.min(xr)}, {np.max(xr)}]")
    return _pointwise(BCE, "binary_cross_entropy", input, target, reduction)


def binary_cross_entropy_with_logits(input: Any, target: Any,  # noqa: A002
                                     reduction: str = "mean") -> Any:
    """Binary cross-entropy of sigmoid(x) and t, computed from the logits x without overflow
    (one node; gradient sigmoid(x) - t)."""
    return _pointwise(BCEWithLogits, "binary_cross_entropy_with_logits", input, target,
                      reduction)


def _check_labels(name: str, labels: np.ndarray, n: int, c: int) -> None:
    if labels.shape != (n,):
        raise ValueError(f"{name}: integer target must have shape ({n},) for input of "
                         f"{n} samples, got shape {labels.shape}")
    if n:
        # one reduction checks both bounds: viewed as unsigned, negative labels are huge
        if labels.dtype.kind == "i":
            unsigned = labels.view(f"u{labels.dtype.itemsize}")
        else:
            unsigned = labels
        if int(unsigned.max()) < c:
            return
        lo, hi = int(labels.min()), int(labels.max())
        if lo < 0 or hi >= c:
            bad = lo if lo < 0 else hi
            raise ValueError(f"{name}: label {bad} is out of range for {c} classes (labels "
                             f"must be in [0, {c}))")


class CrossEntropy(Function):
    """Softmax + cross-entropy from logits (N, C), in one node that saves the softmax.

    Targets are integer labels (N,) or probabilities (N, C). The backward is
    (softmax - q) · g with q the (smoothed) target distribution and g = gy/N for the
    mean; for probability targets that need not sum to 1 it is softmax·Σq - q.
    """

    __slots__ = ("reduction", "smoothing", "labels", "p")
    cast_inputs = False  # integer labels stay integers

    def __init__(self, reduction: str, smoothing: float, labels: bool) -> None:
        self.reduction, self.smoothing, self.labels = reduction, smoothing, labels

    def forward(self, x, t):
        eps = self.smoothing
        if self.labels:
            # Work on a (C, N) copy: NumPy reduces short rows slowly, and the reductions
            # over classes then run along the long axis (~1.5x faster for C = 10).
            n, c = x.shape
            z = x.T.copy()
            z -= z.max(axis=0)
            picked = z[t, np.arange(n)]
            zsum = z.sum(axis=0) if eps else None
            np.exp(z, out=z)
            s = z.sum(axis=0)
            z /= s
            self.p = z.T  # softmax, an (N, C) view
            loss = np.log(s)  # log-sum-exp of the shifted logits
            if eps:
                loss -= picked * (1.0 - eps) + zsum * (eps / c)
            else:
                loss -= picked
            return _reduce(loss, self.reduction)
        z = x - x.max(axis=1, keepdims=True)
        p = np.exp(z)
        s = p.sum(axis=1, keepdims=True)
        p /= s
        self.p = p
        lse = np.log(s).reshape(-1)
        q = t if not eps else t * (1.0 - eps) + eps / x.shape[1]
        loss = lse * q.sum(axis=1) - (q * z).sum(axis=1)
        return _reduce(loss, self.reduction)

    def backward(self, gy, y, x, t):
        n, c = x.shape
        eps = self.smoothing
        if self.reduction == "mean":
            g = gy * (1.0 / max(n, 1))
        elif self.reduction == "sum":
            g = gy
        else:
            g = gy.reshape(-1, 1)
        create = isinstance(x, Tensor)
        gx = gt = None
        if self.labels:
            if not self.needs_grad(0):
                return None, None
            labels = _raw(t)
            if create:
                q = np.zeros((n, c), dtype=x.dtype)
                q[np.arange(n), labels] = 1.0 - eps
                if eps:
                    q += eps / c
                return (softmax(x, axis=1) - q) * g, None
            gx = self.p if self.p is not None else Softmax(1).forward(x)
            self.p = None  # the gradient takes over the saved softmax's buffer
            gx[np.arange(n), labels] -= 1.0 - eps
            if eps:
                gx -= eps / c
            gx *= g
            return gx, None
        q = t if not eps else t * (1.0 - eps) + eps / c
        if self.needs_grad(0):
            p = softmax(x, axis=1) if create or self.p is None else self.p
            gx = (p * q.sum(axis=1, keepdims=True) - q) * g
        if self.needs_grad(1):
            gt = log_softmax(x, axis=1) * (g * -(1.0 - eps))
        return gx, gt

    def release(self):
        self.p = None


def cross_entropy(input: Any, target: Any, reduction: str = "mean",  # noqa: A002
                  label_smoothing: float = 0.0) -> Any:
    """Cross-entropy of ``softmax(input)`` and ``target``, from logits (one fused node).

    Parameters
    ----------
    input
        Logits of shape (N, C); any magnitude (±1000 is fine: computed via log-sum-exp).
    target
        Integer class labels of shape (N,) in [0, C), or class probabilities / one-hot
        rows of shape (N, C).
    reduction
        'mean' (over the N samples), 'sum' or 'none' (per-sample losses).
    label_smoothing
        ε in [0, 1]: the target becomes (1 - ε)·target + ε/C (as PyTorch).
    """
    _check_reduction(reduction, "cross_entropy")
    xs = _shape(input)
    if len(xs) != 2:
        raise ValueError(f"cross_entropy: input must be logits of shape (N, C), got shape "
                         f"{xs}")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {eps}")
    tr = _raw(target)
    if not isinstance(tr, np.ndarray):
        tr = np.asarray(tr)
        target = tr
    if tr.dtype.kind in "iu":
        _check_labels("cross_entropy", tr, xs[0], xs[1])
        return CrossEntropy(reduction, eps, True)(input, target)
    if tr.dtype.kind != "f":
        raise TypeError(f"cross_entropy: target must hold integer labels or float "
                        f"probabilities, got dtype {tr.dtype}")
    if tr.shape != xs:
        raise ValueError(f"cross_entropy: input shape {xs} and target shape {tr.shape} do "
                         f"not match: give integer labels of shape ({xs[0]},) or "
                         f"probabilities of shape {xs}")
    return CrossEntropy(reduction, eps, False)(input, target)


class NLL(Function):
    """Negative log-likelihood of log-probabilities (N, C) at integer labels (N,)."""

    __slots__ = ("reduction",)
    cast_inputs = False

    def __init__(self, reduction: str) -> None:
        self.reduction = reduction

    def forward(self, x, t):
        return _reduce(-x[np.arange(x.shape[0]), t], self.reduction)

    def backward(self, gy, y, x, t):
        n, c = x.shape
        if self.reduction == "mean":
            g = gy * (-1.0 / max(n, 1))
        elif self.reduction == "sum":
            g = -gy
        else:
            g = -gy.reshape(-1, 1)
        onehot = np.zeros((n, c), dtype=_dtype(x))
        onehot[np.arange(n), _raw(t)] = 1.0
        return g * onehot, None


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002
    """-input[i, target[i]] for log-probabilities ``input`` (N, C) and labels (N,).

    ``nll_loss(log_softmax(x, axis=1), t)`` equals ``cross_entropy(x, t)`` (which is one
    node instead of two).
    """
    _check_reduction(reduction, "nll_loss")
    xs = _shape(input)
    if len(xs) != 2:
        raise ValueError(f"nll_loss: input must be log-probabilities of shape (N, C), got "
                         f"shape {xs}")
    tr = np.asarray(_raw(target))
    if tr.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer labels, got dtype {tr.dtype}")
    _check_labels("nll_loss", tr, xs[0], xs[1])
    return NLL(reduction)(input, tr)


# =======================================================================================
# Penalties
# =======================================================================================


class _SumAbs(Function):
    __slots__ = ()

    def forward(self, w):
        return np.asarray(np.abs(w).sum())

    def backward(self, gy, y, w):
        return gy * np.sign(_raw(w))


class _HalfSumSquares(Function):
    __slots__ = ()

    def forward(self, w):
        f = w.reshape(-1)
        return np.asarray(np.dot(f, f) * 0.5, dtype=w.dtype)

    def backward(self, gy, y, w):
        return gy * w


def _param_list(params: Any, name: str) -> list[Tensor]:
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, Tensor):
        params = [params]
    out = list(params)
    if not out:
        raise ValueError(f"{name}: no parameters given")
    for p in out:
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: expected Tensors (or a Module), got "
                            f"{type(p).__name__}")
    return out


def _total(fn: type, params: list[Tensor]) -> Tensor:
    total = None
    for p in params:
        term = fn()(p)
        total = term if total is None else total + term
    return total


def l1_penalty(params: Iterable[Tensor] | Any) -> Tensor:
    """Σ |w| over all entries of ``params`` (Tensors, or a Module's parameters).

    Add ``lam * l1_penalty(model.parameters())`` to a loss for L1 regularisation (sparse
    weights); its gradient is ``lam * sign(w)``.
    """
    return _total(_SumAbs, _param_list(params, "l1_penalty"))


def l2_penalty(params: Iterable[Tensor] | Any) -> Tensor:
    """½ Σ w² over all entries of ``params`` (Tensors, or a Module's parameters).

    The factor ½ makes the gradient exactly ``w``: adding ``lam * l2_penalty(params)`` to
    the loss is the same as SGD's ``weight_decay=lam`` (PyTorch adds ``lam * w`` to each
    gradient). Note that this equivalence fails for adaptive optimisers such as Adam,
    which is why AdamW applies decoupled weight decay instead.
    """
    return _total(_HalfSumSquares, _param_list(params, "l2_penalty"))


def elastic_net_penalty(params: Iterable[Tensor] | Any, l1_ratio: float = 0.5) -> Tensor:
    """``l1_ratio * l1_penalty + (1 - l1_ratio) * l2_penalty`` (with l2 = ½ Σ w²).

    The same mix as scikit-learn's ElasticNet: l1_ratio=1 is the lasso, 0 is ridge.
    """
    l1_ratio = float(l1_ratio)
    if not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"elastic_net_penalty: l1_ratio must be in [0, 1], got {l1_ratio}")
    ps = _param_list(params, "elastic_net_penalty")
    return l1_penalty(ps) * l1_ratio + l2_penalty(ps) * (1.0 - l1_ratio)
