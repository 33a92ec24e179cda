"""Losses as functions, each one graph node; ``cross_entropy`` saves the softmax so its
backward is (softmax - target)/N, and the logits forms never exponentiate large numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..backend import array_module, as_array, is_device_array
from ..ops import arithmetic as _ar
from ..tensor import Tensor
from ._common import REDUCTIONS, raw, shape_of
from .activation import Softmax, log_softmax, sigmoid, softmax

_BCE_EPS = float(np.float32(1e-12))  # PyTorch's clamp of p(1 - p) (a float32 constant)


def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got "
                         f"{reduction!r}")


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":  # sum / n: np.mean's Python wrapper costs more than the work
        if loss.size == 0:
            return np.full_like(loss, np.nan, shape=())  # empty batch: nan, as PyTorch
        return as_array(loss.sum() / loss.size)
    if reduction == "sum":
        return as_array(loss.sum())
    return loss


def _check_same_shape(x: Any, t: Any, name: str) -> None:
    xs, ts = shape_of(x), shape_of(t)
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
        if x.ndim == 0:  # ufuncs with out= need arrays, not the scalars 0-d inputs give
            return self.forward(x.reshape(1), np.reshape(t, (1,))).reshape(())
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
        gd = g * np.sign(raw(x) - raw(t))
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
    xr = raw(input)
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
            picked = z[t, array_module(z).arange(n)]
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
            labels = raw(t)
            if create:
                q = np.zeros_like(x.data, shape=(n, c))
                q[array_module(q).arange(n), labels] = 1.0 - eps
                if eps:
                    q += eps / c
                return (softmax(x, axis=1) - q) * g, None
            gx = self.p if self.p is not None else Softmax(1).forward(x)
            self.p = None  # the gradient takes over the saved softmax's buffer
            gx[array_module(gx).arange(n), labels] -= 1.0 - eps
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
    xs = shape_of(input)
    if len(xs) != 2:
        raise ValueError(f"cross_entropy: input must be logits of shape (N, C), got shape "
                         f"{xs}")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {eps}")
    tr = raw(target)
    if not isinstance(tr, np.ndarray) and not is_device_array(tr):
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
        return _reduce(-x[array_module(x).arange(x.shape[0]), t], self.reduction)

    def backward(self, gy, y, x, t):
        n, c = x.shape
        if self.reduction == "mean":
            g = gy * (-1.0 / max(n, 1))
        elif self.reduction == "sum":
            g = -gy
        else:
            g = -gy.reshape(-1, 1)
        onehot = np.zeros_like(raw(x), shape=(n, c))
        onehot[array_module(onehot).arange(n), raw(t)] = 1.0
        return g * onehot, None


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Any:  # noqa: A002
    """-input[i, target[i]] for log-probabilities ``input`` (N, C) and labels (N,).

    ``nll_loss(log_softmax(x, axis=1), t)`` equals ``cross_entropy(x, t)`` (which is one
    node instead of two).
    """
    _check_reduction(reduction, "nll_loss")
    xs = shape_of(input)
    if len(xs) != 2:
        raise ValueError(f"nll_loss: input must be log-probabilities of shape (N, C), got "
                         f"shape {xs}")
    tr = as_array(raw(target))
    if tr.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer labels, got dtype {tr.dtype}")
    _check_labels("nll_loss", tr, xs[0], xs[1])
    return NLL(reduction)(input, tr)
