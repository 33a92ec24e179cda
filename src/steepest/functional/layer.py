"""Layers as functions: linear (and the fused linear+ReLU), dropout, batch norm.

``linear`` computes dW = gᵀx, db = Σg and dx = gW only when x needs it.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from .. import kernels
from ..autograd import Function
from ..backend import array_module, as_array, check_same_device, column_major
from ..ops.conv import _contig
from ..random import generator
from ..tensor import Tensor
from ._common import dtype_of, on_device_of, raw, shape_of


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


def _linear_grads(fn: Function, g: Any, x: Any, w: Any, b: Any, gb: Any = None) -> tuple:
    """Gradients of x @ w.T + b given the output gradient g (shared by the fused nodes);
    ``gb``, when given, is the bias gradient already computed."""
    gx = g @ w if fn.needs_grad(0) else None
    gw = None
    need_w = fn.needs_grad(1)
    need_b = gb is None and b is not None and fn.needs_grad(2)
    if need_w or need_b:
        if x.ndim != 2:  # (..., in): fold the leading axes into one batch axis
            x = x.reshape(-1, w.shape[1])
            g = g.reshape(-1, w.shape[0])
        lands = type(g) is np.ndarray and type(x) is np.ndarray and g.dtype == x.dtype
        if need_w:
            d = _landing(fn.inputs[1], w.shape, g.dtype) if lands else None
            if d is None and not isinstance(g, Tensor):  # in the weight's memory order, as
                # a landed gradient is: a product's last bits may depend on its layout
                d = array_module(g).empty(w.shape, g.dtype, order="F" if column_major(w) else "C")
            gw = g.T @ x if d is None else np.matmul(g.T, x, out=d)
        if need_b:
            d = _landing(fn.inputs[2], b.shape, g.dtype) if lands else None
            gb = g.sum(axis=0) if d is None else g.sum(axis=0, out=d)
    if b is None:
        return gx, gw
    return gx, gw, gb


def _landing(t: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray | None:
    """The flat optimiser buffer's gradient view of Parameter ``t`` (``optim._flat``) if
    backward may write ``t``'s gradient straight into it (with ``out=``), else None.

    Only when ``t`` has no gradient yet (neither pending in this backward nor in ``.grad``)
    and nothing outside the optimiser's bookkeeping refers to the view or to the buffer (a
    ``.grad`` kept from an earlier step, a view of it): overwriting it is then invisible,
    exactly as a fresh array would be. Hands back, at most, a view that the optimiser's
    next step finds in place (no gather copy)."""
    slot = getattr(t, "_gdest", None)
    if slot is None or t._g is not None or t.grad is not None:
        return None
    d, n = slot
    base = d.base
    # references: the slot's tuple, the group's list, ``d`` and the argument; the buffer:
    # the group's attribute, the views' bases, ``base`` and the argument. Exact counts: any
    # other count (another holder, or an interpreter that counts differently) means no.
    if (base is None or d.shape != shape or d.dtype != dtype or sys.getrefcount(d) != 4
            or sys.getrefcount(base) != n + 3):
        return None
    return d


class LinearReLU(Function):
    """relu(x Wᵀ + b) in one node: the ReLU runs in place on the product and its backward
    masks the gradient before the affine gradients (no separate activation tensor)."""

    __slots__ = ()

    def forward(self, x, w, b=None):
        return kernels.bias_relu(x @ w.T, b, True)

    def backward(self, gy, y, x, w, b=None):
        if type(gy) is np.ndarray and type(y) is np.ndarray and y.ndim == 2:
            # one pass: the masked gradient and the bias gradient (g.sum(axis=0), landed in
            # the optimiser's buffer when it may be, see _linear_grads)
            gb = None
            if b is not None and self.needs_grad(2):
                gb = _landing(self.inputs[2], b.shape, gy.dtype)
                if gb is None:
                    gb = np.empty(b.shape, gy.dtype)
            g = kernels.relu_grad(gy, y, gb=gb)
            return _linear_grads(self, g, x, w, b, gb)
        return _linear_grads(self, gy * (y > 0), x, w, b)

    @property
    def name(self) -> str:
        return "linear_relu"


def _check_linear(x: Any, weight: Any, bias: Any, name: str) -> None:
    xs, ws = shape_of(x), shape_of(weight)
    if len(ws) != 2:
        raise ValueError(f"{name}: weight must be 2-D (out_features, in_features), got shape "
                         f"{ws}")
    if not xs or xs[-1] != ws[1]:
        raise ValueError(f"{name}: input shape {xs} does not match in_features={ws[1]}")
    if bias is not None and shape_of(bias) != (ws[0],):
        raise ValueError(f"{name}: bias shape {shape_of(bias)} does not match "
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
    dt = dtype_of(x)
    if dt.kind != "f":
        raise TypeError(f"dropout: input must be floating point, got {dt}")
    shape = shape_of(x)
    if p == 1.0:
        mask = np.zeros(shape, dtype=dt)
    else:
        mask = generator().random(shape, dtype=dt)
        keep = mask >= p
        np.multiply(keep, dt.type(1.0 / (1.0 - p)), out=mask)
    return Dropout(on_device_of(mask, x))(x)


def _rows(a: np.ndarray) -> np.ndarray:
    """(N, C, H, W) as an (N·H·W, C) matrix: free when the array lies in NHWC memory, as
    the outputs of convolutions and pools do."""
    return _contig(a.transpose(0, 2, 3, 1)).reshape(-1, a.shape[1])


class BatchNorm(Function):
    """Batch normalisation over axis 1 of (N, C), (N, C, L) or (N, C, H, W) inputs, one node.

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
        if x.ndim == 4:  # images: statistics over the rows of an (N·H·W, C) matrix
            n, c, h, w = x.shape
            y = self._forward(_rows(x), (0,), (1, c), affine)
            return y.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        return self._forward(x, self.axes, self.bshape, affine)

    def _forward(self, x, axes, bshape, affine):
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
            xhat = x - self.shift.reshape(bshape)
            xhat *= self.invstd.reshape(bshape)
        self.xhat = xhat
        if not affine:
            return xhat.copy()
        y = xhat * affine[0].reshape(bshape)
        y += affine[1].reshape(bshape)
        return y

    def backward(self, gy, y, x, *affine):
        axes, bshape = self.axes, self.bshape
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
            if x.ndim == 4:  # the forward's (N·H·W, C) layout
                n, c, h, w = x.shape
                gx, *rest = self._grads(_rows(gy), xhat, invstd.reshape(1, c), affine, (0,),
                                        (1, c))
                if gx is not None:
                    gx = gx.reshape(n, h, w, c).transpose(0, 3, 1, 2)
                return (gx, *rest) if affine else gx
        grads = self._grads(gy, xhat, invstd, affine, axes, bshape)
        return grads if affine else grads[0]

    def _grads(self, gy, xhat, invstd, affine, axes, bshape):
        g = gy * affine[0].reshape(bshape) if affine else gy
        gx = None
        if self.needs_grad(0):
            if self.training:
                gxhat = (g * xhat).mean(axis=axes, keepdims=True)
                gx = (g - g.mean(axis=axes, keepdims=True) - xhat * gxhat) * invstd
            else:
                gx = g * invstd
        if not affine:
            return (gx,)
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
    """Batch normalisation of (N, C), (N, C, L) or (N, C, H, W) inputs over all axes but
    axis 1 (per channel, as BatchNorm2d).

    With ``training=True`` the batch statistics are used and, if ``running_mean`` /
    ``running_var`` arrays are given, they are updated in place with
    ``running = (1 - momentum) * running + momentum * batch_stat`` (the running variance
    uses the unbiased batch variance), exactly as PyTorch. With ``training=False`` the
    running statistics are used. ``weight`` (γ) and ``bias`` (β) are optional, both or
    neither.
    """
    shape = shape_of(x)
    if len(shape) not in (2, 3, 4):
        raise ValueError(f"batch_norm: expected a 2-D (N, C), 3-D (N, C, L) or 4-D "
                         f"(N, C, H, W) input, got shape {shape}")
    c = shape[1]
    axes = (0, *range(2, len(shape)))  # per channel: over the batch and spatial axes
    bshape = (1, c, *(1,) * (len(shape) - 2))
    if (weight is None) != (bias is None):
        raise ValueError("batch_norm: give both weight and bias, or neither")
    if type(raw(x)) is not np.ndarray:  # running statistics must live with the input
        check_same_device("batch_norm", raw(x), *[raw(a) for a in (running_mean, running_var)
                                                  if a is not None])
    for name, a in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if a is not None and shape_of(a) != (c,):
            raise ValueError(f"batch_norm: {name} has shape {shape_of(a)}, expected ({c},) for "
                             f"input shape {shape}")
    affine = () if weight is None else (weight, bias)
    eps = float(eps)
    if training:
        n = math.prod(shape) // c if c else 0
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
    dt = dtype_of(x)
    var = as_array(raw(running_var))
    invstd = np.reciprocal(np.sqrt(var.astype(dt, copy=False) + eps)).reshape(bshape)
    shift = as_array(raw(running_mean)).astype(dt).reshape(bshape)
    return BatchNorm(axes, bshape, eps, False, invstd, shift)(x, *affine)
