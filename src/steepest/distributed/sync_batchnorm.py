"""SyncBatchNorm: batch normalisation with the statistics of the global batch.

Plain BatchNorm under data parallelism normalises each rank's part of the batch with that
part's statistics. ``SyncBatchNorm`` all-reduces them (two small float64 all-reduces in
forward: the sum and count, then the centred sum of squares) and, in backward, the two
sums the closed-form gradient needs, so a model with it trains like one process with the
global batch. Gradient terms are weighted by each rank's share of the samples, matching
the gradient averaging of :class:`~steepest.distributed.GradientAllReduce`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..nn.layers import BatchNorm1d
from ..nn.module import Module
from ..tensor import Tensor
from .comm import all_reduce, is_initialized, world_size


class _SyncBatchNormFn(Function):
    __slots__ = ("axes", "bshape", "eps", "weight", "xhat", "invstd", "mean", "var", "count",
                 "total")
    has_buffers = True

    def __init__(self, axes: tuple[int, ...], bshape: tuple[int, ...], eps: float,
                 weight: float) -> None:
        self.axes, self.bshape, self.eps = axes, bshape, eps
        self.weight = weight  # 0 for a rank holding only a zero-weight duplicate sample

    def forward(self, x, *affine):
        axes, c = self.axes, x.shape[1]
        self.count = x.size // c
        vec = np.concatenate([x.sum(axis=axes, dtype=np.float64), [float(self.count)]])
        vec *= self.weight
        all_reduce(vec)
        self.total = float(vec[-1])
        mean = (vec[:c] / self.total).astype(x.dtype).reshape(self.bshape)
        xc = x - mean
        sq = np.square(xc).sum(axis=axes, dtype=np.float64) * self.weight
        all_reduce(sq)
        var = (sq / self.total).astype(x.dtype).reshape(self.bshape)
        self.mean, self.var = mean, var
        invstd = np.sqrt(var + self.eps)
        np.reciprocal(invstd, out=invstd)
        self.invstd = invstd
        xc *= invstd
        self.xhat = xc
        if not affine:
            return xc.copy()
        y = xc * affine[0].reshape(self.bshape)
        y += affine[1].reshape(self.bshape)
        return y

    def backward(self, gy, y, x, *affine):
        if isinstance(x, Tensor):
            raise NotImplementedError("SyncBatchNorm: create_graph (double backward) is not "
                                      "supported")
        axes, xhat, c = self.axes, self.xhat, self.xhat.shape[1]
        g = gy * affine[0].reshape(self.bshape) if affine else gy
        share = self.weight * self.count / self.total  # this rank's share of the average
        sums = np.concatenate([g.sum(axis=axes, dtype=np.float64),
                               (g * xhat).sum(axis=axes, dtype=np.float64)]) * share
        all_reduce(sums)  # every rank, every step: collectives must match across ranks
        s1 = (sums[:c] / self.count).astype(g.dtype).reshape(self.bshape)
        s2 = (sums[c:] / self.count).astype(g.dtype).reshape(self.bshape)
        gx = (g - s1 - xhat * s2) * self.invstd if self.needs_grad(0) else None
        if not affine:
            return gx
        gw = (gy * xhat).sum(axis=axes) if self.needs_grad(1) else None
        gb = gy.sum(axis=axes) if self.needs_grad(2) else None
        return gx, gw, gb

    def release(self):
        self.xhat = self.invstd = None


class SyncBatchNorm(BatchNorm1d):
    """``BatchNorm1d`` whose training statistics span every rank (``torch.nn.SyncBatchNorm``
    for (N, C) and (N, C, L) inputs). Outside a distributed job, or in eval mode, it is
    ``BatchNorm1d``. The running statistics are updated identically on every rank."""

    def forward(self, x: Any) -> Tensor:
        if not (self.training and is_initialized() and world_size() > 1):
            return super().forward(x)
        shape = x.data.shape if isinstance(x, Tensor) else np.shape(x)
        if len(shape) not in (2, 3) or shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected input of shape (N, {self.num_features})"
                             f" or (N, {self.num_features}, L), got {shape}")
        axes = (0,) if len(shape) == 2 else (0, 2)
        bshape = (1, shape[1]) if len(shape) == 2 else (1, shape[1], 1)
        shard = getattr(self, "_shard", None)  # set by fit(distributed=True)
        fn = _SyncBatchNormFn(axes, bshape, self.eps,
                              0.0 if shard is not None and shard.count == 0 else 1.0)
        affine = () if self.weight is None else (self.weight, self.bias)
        out = fn(x if isinstance(x, Tensor) else Tensor(x), *affine)
        if self.track_running_stats:
            self.num_batches_tracked += 1
            m = (1.0 / int(self.num_batches_tracked) if self.momentum is None
                 else self.momentum)
            n = fn.total
            if n <= 1:
                raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel "
                                 f"over all ranks when training, got {int(n)}")
            self.running_mean *= 1.0 - m
            self.running_mean += fn.mean.reshape(-1) * m
            self.running_var *= 1.0 - m
            self.running_var += fn.var.reshape(-1) * (m * n / (n - 1))
        fn.mean = fn.var = None
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module: Module) -> Module:
        """Replace every ``BatchNorm1d`` in ``module`` by a ``SyncBatchNorm`` sharing its
        Parameters and buffers (in place; returns ``module``, or the new layer when
        ``module`` itself is one), like ``torch.nn.SyncBatchNorm.convert_sync_batchnorm``.
        Needed with :class:`DistributedDataParallel`; ``fit(distributed=True)`` does it
        by itself for the length of the run."""
        if type(module) is BatchNorm1d:
            new = cls(module.num_features, module.eps, module.momentum, module.affine,
                      module.track_running_stats, dtype=_dtype(module))
            for name, p in module._parameters.items():  # the same objects: the optimiser
                new.register_parameter(name, p)  # and other references keep working
            for name, b in module._buffers.items():
                new.register_buffer(name, b)
            new.train(module.training)
            return new
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child)
            if converted is not child:
                setattr(module, name, converted)
        return module


def _dtype(bn: BatchNorm1d) -> np.dtype:
    for a in (bn.weight, bn.running_mean):
        if a is not None:
            return (a.data if isinstance(a, Tensor) else a).dtype
    return np.dtype(np.float32)
