"""Losses as functions, each one graph node; ``cross_entropy`` saves the softmax so its
backward is (softmax - target)/N, and the logits forms never exponentiate large numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from ..autograd import Function
from ..backend import array_module, as_array, is_device_array
from ..ops import arithmetic as _ar
from ..tensor import Tensor
from ._common import REDUCTIONS, dtype_of, raw, shape_of
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


def binary_cross_entropy(input: Any, target: Any, weight: Any = None,  # noqa: A002
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Any:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1], times ``weight``
    (broadcast) if given; torch's signature.

    Each log is clamped at -100 (as PyTorch) so p = 0 or 1 gives a finite loss. Prefer
    :func:`binary_cross_entropy_with_logits`, which is stable for any logit.
    """
    reduction = _legacy("binary_cross_entropy", weight, size_average, reduce, reduction)
    if weight is not None:
        _check_same_shape(input, target, "binary_cross_entropy")
        return _reduce_t(binary_cross_entropy(input, target, reduction="none") * weight,
                         reduction, "binary_cross_entropy")
    xr = raw(input)
    if np.size(xr) and (np.min(xr) < 0 or np.max(xr) > 1):
        raise ValueError(f"binary_cross_entropy: all elements of input must be probabilities "
                         f"in [0, 1], got values in [{np.min(xr)}, {np.max(xr)}]")
    return _pointwise(BCE, "binary_cross_entropy", input, target, reduction)


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None,  # noqa: A002
                                     size_average: bool | None = None,
                                     reduce: bool | None = None, reduction: str = "mean",
                                     pos_weight: Any = None) -> Any:
    """Binary cross-entropy of sigmoid(x) and t, computed from the logits x without overflow
    (one node; gradient sigmoid(x) - t). ``weight`` scales each element, ``pos_weight``
    (broadcast along the last dim) the positive term, as torch."""
    reduction = _legacy("binary_cross_entropy_with_logits", weight, size_average, reduce,
                        reduction)
    if weight is not None or pos_weight is not None:
        return _bce_logits_weighted(input, target, weight, pos_weight, reduction)
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
            n, c = x.shape
            if not eps and type(x) is np.ndarray and kernels.compiled_for(x.dtype):
                z = np.empty_like(x, order="C")  # only allocated where the loops may run
                picked, s = np.empty(n, x.dtype), np.empty(n, x.dtype)
                if kernels.softmax_xent(x, t, z, picked, s):  # compiled, one pass each
                    self.p = z
                    loss = np.log(s, out=s)
                    loss -= picked
                    return _reduce(loss, self.reduction)
            # Work on a (C, N) copy: NumPy reduces short rows slowly, and the reductions
            # over classes then run along the long axis (~1.5x faster for C = 10).
            z = x.T.copy()
            z -= z.max(axis=0)
            picked = z[t, array_module(z).arange(n)]
            zsum = z.sum(axis=0) if eps else None
            np.exp(z, out=z)
            s = z.sum(axis=0)
            z /= s
            # the softmax as a C-contiguous (N, C) array, the compiled path's layout: the
            # gradient's layout decides the bits of the products and sums it feeds
            self.p = array_module(z).ascontiguousarray(z.T)
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


def cross_entropy(input: Any, target: Any, weight: Any = None,  # noqa: A002
                  size_average: bool | None = None, ignore_index: int = -100,
                  reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Any:
    """Cross-entropy of ``softmax(input)`` and ``target``, from logits (torch's signature).

    Parameters
    ----------
    input
        Logits of shape (N, C), (N, C, d1, ...) or (C,); any magnitude (±1000 is fine:
        computed via log-sum-exp). Plain (N, C) input is one fused node.
    target
        Integer class labels of shape (N,) / (N, d1, ...) in [0, C), or class
        probabilities of the input's shape.
    weight
        Optional per-class weights (C,); the mean is then Σ w[t] l / Σ w[t] (as torch).
    ignore_index
        Labels equal to it contribute nothing (and are left out of the mean).
    reduction
        'mean' (over the N samples), 'sum' or 'none' (per-sample losses).
    label_smoothing
        ε in [0, 1]: the target becomes (1 - ε)·target + ε/C (as PyTorch).
    """
    reduction = _legacy("cross_entropy", weight, size_average, reduce, reduction)
    _check_reduction(reduction, "cross_entropy")
    xs = shape_of(input)
    if weight is not None or len(xs) != 2 or (0 <= ignore_index < xs[1]
                                              and _has_ignored(target, ignore_index, xs)):
        return _nll_general("cross_entropy", input, target, weight, ignore_index, reduction,
                            float(label_smoothing), True)
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {eps}")
    tr = raw(target)
    if not isinstance(tr, np.ndarray) and not is_device_array(tr):
        tr = as_array(tr)
        target = tr
    if tr.dtype.kind in "iu":
        try:
            _check_labels("cross_entropy", tr, xs[0], xs[1])
        except ValueError:  # out-of-range labels may be ignore_index (-100 by default)
            if not _has_ignored(target, ignore_index, xs):
                raise
            return _nll_general("cross_entropy", input, target, weight, ignore_index,
                                reduction, eps, True)
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


def nll_loss(input: Any, target: Any, weight: Any = None,  # noqa: A002
             size_average: bool | None = None, ignore_index: int = -100,
             reduce: bool | None = None, reduction: str = "mean") -> Any:
    """-input[i, target[i]] for log-probabilities ``input`` (N, C) (or (N, C, d1, ...))
    and labels (N,) (or (N, d1, ...)); ``weight`` and ``ignore_index`` as torch.

    ``nll_loss(log_softmax(x, axis=1), t)`` equals ``cross_entropy(x, t)`` (which is one
    node instead of two).
    """
    reduction = _legacy("nll_loss", weight, size_average, reduce, reduction)
    _check_reduction(reduction, "nll_loss")
    xs = shape_of(input)
    if weight is not None or len(xs) != 2 or (0 <= ignore_index < xs[1]
                                              and _has_ignored(target, ignore_index, xs)):
        return _nll_general("nll_loss", input, target, weight, ignore_index, reduction, 0.0,
                            False)
    tr = as_array(raw(target))
    if tr.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer labels, got dtype {tr.dtype}")
    try:
        _check_labels("nll_loss", tr, xs[0], xs[1])
    except ValueError:  # out-of-range labels may be ignore_index (-100 by default)
        if not _has_ignored(target, ignore_index, xs):
            raise
        return _nll_general("nll_loss", input, target, weight, ignore_index, reduction, 0.0,
                            False)
    return NLL(reduction)(input, tr)


# -- vocabulary: torch's loss arguments (weight, ignore_index, pos_weight, (N, C, d...)) and
# more losses. These are compositions of differentiable ops (log_softmax, gather, where,
# clamp, ...), so their gradients of any order equal torch's; the plain fused nodes above
# stay the fast path for the common case.


def _legacy(name: str, weight: Any, size_average: Any, reduce: Any, reduction: str) -> str:
    """torch's deprecated size_average/reduce flags, mapped to ``reduction`` as torch does."""
    if isinstance(weight, str):
        raise TypeError(f"{name}: the third positional argument is weight (torch's order); "
                        f"pass reduction={weight!r} as a keyword")
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _reduce_t(loss: Any, reduction: str, name: str) -> Any:
    """Reduce a loss tensor with ops (the composed losses' counterpart of ``_reduce``)."""
    from ..ops import reduction as _red

    _check_reduction(reduction, name)
    if reduction == "mean":
        if not np.size(raw(loss)):
            return _red.sum(loss) * float("nan")
        return _red.mean(loss)
    if reduction == "sum":
        return _red.sum(loss)
    return loss


def _has_ignored(target: Any, ignore_index: int, xs: tuple[int, ...]) -> bool:
    """Whether integer labels contain ``ignore_index``."""
    tr = as_array(raw(target))
    return tr.dtype.kind in "iu" and bool((tr == ignore_index).any())


def _nll_general(name: str, input: Any, target: Any, weight: Any,  # noqa: A002
                 ignore_index: int, reduction: str, eps: float, from_logits: bool) -> Any:
    """cross_entropy / nll_loss for any (N, C, d...) shape, class weights and ignore_index."""
    from ..ops import reduction as _red
    from ..ops import reshape
    from ..ops.indexing import gather
    from ..ops.layout import movedim

    _check_reduction(reduction, name)
    xs = shape_of(input)
    if len(xs) == 0:
        raise ValueError(f"{name}: input must have a class dim, got a 0-d tensor")
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {eps}")
    unbatched = len(xs) == 1
    x = reshape(input, (1, xs[0])) if unbatched else input
    c = shape_of(x)[1]
    rows_shape = () if unbatched else (xs[0], *xs[2:])
    x2 = reshape(movedim(x, 1, -1), (-1, c)) if len(shape_of(x)) > 2 else x
    logp = log_softmax(x2, 1) if from_logits else x2
    dt = dtype_of(input)
    w = None
    if weight is not None:
        w = as_array(raw(weight)).astype(dt, copy=False)
        if w.shape != (c,):
            raise ValueError(f"{name}: weight must have shape ({c},) for {c} classes, got "
                             f"{w.shape}")
    tr = as_array(raw(target))
    if tr.dtype.kind in "iu":
        if tr.shape != rows_shape:
            raise ValueError(f"{name}: integer target must have shape {rows_shape} for input "
                             f"of shape {xs}, got {tr.shape}")
        t = tr.reshape(-1).astype(np.int64, copy=False)
        valid = t != ignore_index
        ts = np.where(valid, t, 0)
        _check_labels(name, ts, ts.shape[0], c)
        wi = (w[ts] if w is not None else np.ones_like(ts, dtype=dt)) * valid
        wi = wi.astype(dt, copy=False)
        picked = -reshape(gather(logp, 1, ts.reshape(-1, 1)), (-1,))
        loss = picked * (wi * (1.0 - eps) if eps else wi)
        if eps:
            lw = logp * w.reshape(1, c) if w is not None else logp
            loss = loss - _red.sum(lw, 1) * (valid * (eps / c)).astype(dt)
        if reduction == "none":
            return reshape(loss, rows_shape)
        total = _red.sum(loss)
        return total if reduction == "sum" else total / float(wi.sum())
    if not from_logits:
        raise TypeError(f"{name}: target must hold integer labels, got dtype {tr.dtype}")
    if tr.dtype.kind != "f":
        raise TypeError(f"{name}: target must hold integer labels or float probabilities, "
                        f"got dtype {tr.dtype}")
    if tuple(tr.shape) != tuple(xs):
        raise ValueError(f"{name}: probability target shape {tr.shape} must equal the input "
                         f"shape {xs}")
    q = reshape(target, (1, c)) if unbatched else target
    q2 = reshape(movedim(q, 1, -1), (-1, c)) if len(xs) > 2 else q
    if eps:
        q2 = q2 * (1.0 - eps) + eps / c
    lq = logp * q2
    if w is not None:
        lq = lq * w.reshape(1, c)
    loss = -_red.sum(lq, 1)
    if reduction == "none":
        return reshape(loss, rows_shape)
    total = _red.sum(loss)
    return total if reduction == "sum" else total / float(max(np.prod(rows_shape), 1))


def _bce_logits_weighted(x: Any, t: Any, weight: Any, pos_weight: Any, reduction: str) -> Any:
    from .activation import logsigmoid

    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    _check_same_shape(x, t, "binary_cross_entropy_with_logits")
    ls = logsigmoid(x)
    if pos_weight is not None:
        loss = (1.0 - t) * x - ((pos_weight - 1.0) * t + 1.0) * ls
    else:
        loss = (1.0 - t) * x - ls
    if weight is not None:
        loss = loss * weight
    return _reduce_t(loss, reduction, "binary_cross_entropy_with_logits")


def kl_div(input: Any, target: Any, size_average: bool | None = None,  # noqa: A002
           reduce: bool | None = None, reduction: str = "mean",
           log_target: bool = False) -> Any:
    """Pointwise KL divergence t (log t - input) for log-probabilities ``input``
    (0 where t = 0); ``reduction='batchmean'`` divides the sum by the batch size (the
    mathematically right mean; torch's 'mean' averages over all elements)."""
    from ..ops import arithmetic as ar

    reduction = _legacy("kl_div", None, size_average, reduce, reduction)
    _check_same_shape(input, target, "kl_div")
    if log_target:
        loss = ar.exp(target) * (target - input)
    else:
        pos = as_array(raw(target)) > 0
        loss = target * (ar.log(ar.where(pos, target, 1.0)) - input)
        loss = ar.where(pos, loss, 0.0) if not pos.all() else loss
    if reduction == "batchmean":
        from ..ops import reduction as _red

        n = shape_of(input)[0] if shape_of(input) else 1
        return _red.sum(loss) / float(max(n, 1))
    return _reduce_t(loss, reduction, "kl_div")


def _pm1(target: Any) -> np.ndarray:
    return as_array(raw(target))


def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Any:
    """max(0, -y (x1 - x2) + margin) with y = ±1."""
    from ..ops.math import clamp_min

    reduction = _legacy("margin_ranking_loss", None, size_average, reduce, reduction)
    loss = clamp_min(-target * (input1 - input2) + float(margin), 0.0)
    return _reduce_t(loss, reduction, "margin_ranking_loss")


def hinge_embedding_loss(input: Any, target: Any, margin: float = 1.0,  # noqa: A002
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Any:
    """x where y = 1, max(0, margin - x) where y = -1."""
    from ..ops import arithmetic as ar
    from ..ops.math import clamp_min

    reduction = _legacy("hinge_embedding_loss", None, size_average, reduce, reduction)
    y = _pm1(target)
    loss = ar.where(y != 1, clamp_min(float(margin) - input, 0.0), 0.0) + \
        ar.where(y != -1, input, 0.0)
    return _reduce_t(loss, reduction, "hinge_embedding_loss")


def cosine_embedding_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0,
                          size_average: bool | None = None, reduce: bool | None = None,
                          reduction: str = "mean") -> Any:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (cos over
    the last dim, with torch's 1e-12 in the squared norms)."""
    from ..ops import arithmetic as ar
    from ..ops import reduction as _red
    from ..ops.math import clamp_min

    reduction = _legacy("cosine_embedding_loss", None, size_average, reduce, reduction)
    d = len(shape_of(input1)) - 1
    prod = _red.sum(input1 * input2, d)
    m1 = _red.sum(input1 * input1, d) + 1e-12
    m2 = _red.sum(input2 * input2, d) + 1e-12
    cos = prod / ar.sqrt(m1 * m2)
    y = _pm1(target)
    loss = ar.where(y == 1, 1.0 - cos, 0.0) + \
        ar.where(y == -1, clamp_min(cos - float(margin), 0.0), 0.0)
    return _reduce_t(loss, reduction, "cosine_embedding_loss")


def poisson_nll_loss(input: Any, target: Any, log_input: bool = True,  # noqa: A002
                     full: bool = False, size_average: bool | None = None,
                     eps: float = 1e-8, reduce: bool | None = None,
                     reduction: str = "mean") -> Any:
    """exp(x) - t x (``log_input``) or x - t log(x + eps); ``full`` adds Stirling's term
    t log t - t + ½ log(2π t) where t > 1."""
    import math

    from ..ops import arithmetic as ar

    reduction = _legacy("poisson_nll_loss", None, size_average, reduce, reduction)
    if log_input:
        loss = ar.exp(input) - target * input
    else:
        loss = input - target * ar.log(input + float(eps))
    if full:
        t = as_array(raw(target))
        big = t > 1
        ts = np.where(big, t, 2.0).astype(t.dtype)
        st = ts * np.log(ts) - ts + 0.5 * np.log(2.0 * math.pi * ts)
        loss = loss + np.where(big, st, 0.0).astype(t.dtype)
    return _reduce_t(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input: Any, target: Any, var: Any, full: bool = False,  # noqa: A002
                      eps: float = 1e-6, reduction: str = "mean") -> Any:
    """½ (log var + (x - t)² / var) (+ ½ log 2π with ``full``); var is clamped at eps
    without blocking its gradient (as torch), and may be one dim short of the input."""
    import math

    from ..ops import arithmetic as ar
    from ..ops import reshape
    from ..tensor import Tensor

    xs = shape_of(input)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has a negative entry")
        var = np.full_like(as_array(raw(input)), float(var), shape=xs)
    vr = as_array(raw(var))
    if np.any(vr < 0):
        raise ValueError("gaussian_nll_loss: var has a negative entry")
    vs = vr.shape
    if vs != xs:
        if tuple(xs[:-1]) == vs:
            var = reshape(var, (*vs, 1))
        elif not (len(vs) == len(xs) and sum(b for a, b in zip(xs, vs) if a != b) == 1):
            raise ValueError(f"gaussian_nll_loss: var of shape {vs} does not fit input of "
                             f"shape {xs}")
    vr = as_array(raw(var))
    bump = np.maximum(vr, eps) - vr  # the clamp, as a constant shift: the gradient passes
    v = var + Tensor._make(bump.astype(vr.dtype), False, None, 0) if bump.any() else var
    d = input - target
    loss = (ar.log(v) + d * d / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2.0 * math.pi)
    return _reduce_t(loss, reduction, "gaussian_nll_loss")


def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0,
                        p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                        size_average: bool | None = None, reduce: bool | None = None,
                        reduction: str = "mean") -> Any:
    """max(0, margin + d(a, p) - d(a, n)) with d the pairwise p-distance; ``swap`` uses
    min(d(a, n), d(p, n)) (as torch)."""
    from ..ops import arithmetic as ar
    from ..ops.math import clamp_min
    from .distance import pairwise_distance

    reduction = _legacy("triplet_margin_loss", None, size_average, reduce, reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ar.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    loss = clamp_min(d_pos - d_neg + float(margin), 0.0)
    return _reduce_t(loss, reduction, "triplet_margin_loss")


def soft_margin_loss(input: Any, target: Any, size_average: bool | None = None,  # noqa: A002
                     reduce: bool | None = None, reduction: str = "mean") -> Any:
    """log(1 + exp(-y x)) with y = ±1."""
    from .activation import logsigmoid

    reduction = _legacy("soft_margin_loss", None, size_average, reduce, reduction)
    return _reduce_t(-logsigmoid(target * input), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input: Any, target: Any, weight: Any = None,  # noqa: A002
                                size_average: bool | None = None,
                                reduce: bool | None = None, reduction: str = "mean") -> Any:
    """Mean over classes of the binary cross-entropy of sigmoid(x) and the 0/1 target."""
    from ..ops import reduction as _red
    from .activation import logsigmoid

    reduction = _legacy("multilabel_soft_margin_loss", weight, size_average, reduce,
                        reduction)
    loss = -(target * logsigmoid(input) + (1.0 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    c = shape_of(input)[-1]
    return _reduce_t(_red.sum(loss, -1) * (1.0 / c), reduction, "multilabel_soft_margin_loss")


def multi_margin_loss(input: Any, target: Any, p: int = 1, margin: float = 1.0,  # noqa: A002
                      weight: Any = None, size_average: bool | None = None,
                      reduce: bool | None = None, reduction: str = "mean") -> Any:
    """Σ_{j ≠ y} max(0, margin - x_y + x_j)^p / C for logits (N, C) and labels (N,)."""
    from ..ops import arithmetic as ar
    from ..ops import reduction as _red
    from ..ops.indexing import gather
    from ..ops.math import clamp_min

    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p}")
    reduction = _legacy("multi_margin_loss", None, size_average, reduce, reduction)
    xs = shape_of(input)
    t = as_array(raw(target)).astype(np.int64)
    n, c = (1, xs[0]) if len(xs) == 1 else xs
    x2 = input if len(xs) == 2 else input.reshape(1, c)
    _check_labels("multi_margin_loss", t.reshape(-1), n, c)
    xy = gather(x2, 1, t.reshape(-1, 1))
    m = clamp_min(x2 - xy + float(margin), 0.0)
    if p == 2:
        m = m * m
    if weight is not None:
        m = m * as_array(raw(weight))[t.reshape(-1)].reshape(-1, 1)
    notself = np.ones_like(t, shape=(n, c), dtype=bool)
    notself[array_module(t).arange(n), t.reshape(-1)] = False
    loss = _red.sum(ar.where(notself, m, 0.0), 1) * (1.0 / c)
    if len(xs) == 1:
        loss = loss.reshape(())
    return _reduce_t(loss, reduction, "multi_margin_loss")
