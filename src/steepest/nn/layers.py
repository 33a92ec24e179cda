"""Layers: Linear, Dropout, BatchNorm1d, Flatten, Identity."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import functional as F
from ..functional.layer import Linear as _LinearFn
from ..ops import reshape
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "Dropout", "Flatten", "Identity", "Linear", "Unflatten"]


class Linear(Module):
    """Affine layer y = x Wᵀ + b, one fused graph node (see :func:`steepest.functional.linear`).

    Parameters
    ----------
    in_features, out_features : int
        Input and output widths. ``weight`` has PyTorch's shape (out_features,
        in_features); ``bias`` has shape (out_features,).
    bias : bool
        Learn an additive bias.
    dtype : dtype
        float32 by default; float64 for checks against other libraries.

    Initialisation (the same as PyTorch's, so the two libraries start from the same
    distribution): weight ~ U(-1/√in, 1/√in), which is ``kaiming_uniform_(a=√5)``, and
    bias ~ U(-1/√in, 1/√in). For deep ReLU networks, He initialisation
    (``init.kaiming_normal_(layer.weight, nonlinearity='relu')``) keeps activations from
    shrinking layer by layer; call :meth:`reset_parameters` after changing the recipe in a
    subclass.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"Linear: {name} must be a non-negative integer, got {v!r}")
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"Linear: dtype must be floating point, got {dt}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5.0))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Any) -> Tensor:
        shape = x.data.shape if isinstance(x, Tensor) else np.shape(x)
        if not shape or shape[-1] != self.in_features:
            raise ValueError(f"linear: input shape {shape} does not match "
                             f"in_features={self.in_features}")
        b = self.bias
        if b is None:
            return _LinearFn()(x, self.weight)
        return _LinearFn()(x, self.weight, b)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Dropout(Module):
    """Inverted dropout with drop probability ``p``.

    In training mode each element is zeroed with probability p and the kept ones are
    scaled by 1/(1 - p); in eval mode the layer is the identity. Some textbooks (e.g.
    "Deep Learning from Scratch") scale by (1 - p) at *test* time instead; both keep the
    expected activation equal, but inverted dropout needs no change at inference. The mask
    comes from ``steepest.random.generator()`` (reproducible with ``manual_seed``).
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x: Any) -> Any:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class BatchNorm1d(Module):
    """Batch normalisation of (N, C) or (N, C, L) inputs per feature/channel C.

    Training mode normalises with the batch mean and (biased) variance and updates
    ``running_mean``/``running_var`` as ``(1 - momentum) * running + momentum * batch``
    (the unbiased variance is used for ``running_var``); ``momentum=None`` gives the
    cumulative average over all batches seen. Eval mode normalises with the running
    statistics. γ (``weight``) starts at 1 and β (``bias``) at 0. All of this is exactly
    PyTorch's ``BatchNorm1d``, so state dicts carry over (``num_batches_tracked`` included).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        dt = np.dtype(dtype)
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dt))
            self.bias = Parameter(np.zeros(self.num_features, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dt))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def _check_input(self, shape: tuple[int, ...]) -> None:
        if len(shape) not in (2, 3) or shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d: expected input of shape (N, {self.num_features}) "
                             f"or (N, {self.num_features}, L), got {shape}")

    def forward(self, x: Any) -> Tensor:
        self._check_input(x.data.shape if isinstance(x, Tensor) else np.shape(x))
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:
                factor = 1.0 / int(self.num_batches_tracked)
        batch_stats = self.training or not self.track_running_stats
        update = self.training and self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if update or not batch_stats else None,
            self.running_var if update or not batch_stats else None,
            self.weight, self.bias, training=batch_stats, momentum=factor, eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class Flatten(Module):
    """Merge axes ``start_axis`` .. ``end_axis`` into one (default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1, *, start_axis: int | None = None,
                 end_axis: int | None = None) -> None:
        super().__init__()  # torch's start_dim/end_dim; start_axis/end_axis are aliases
        self.start_axis = int(start_dim if start_axis is None else start_axis)
        self.end_axis = int(end_dim if end_axis is None else end_axis)

    def forward(self, x: Any) -> Any:
        shape = x.data.shape if isinstance(x, Tensor) else np.shape(x)
        nd = len(shape)
        if nd == 0:
            return reshape(x, (1,))
        s, e = self.start_axis % nd, self.end_axis % nd
        if s > e:
            raise ValueError(f"Flatten: start_axis {self.start_axis} comes after end_axis "
                             f"{self.end_axis} for an input of shape {shape}")
        return reshape(x, (*shape[:s], math.prod(shape[s:e + 1]), *shape[e + 1:]))

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (e.g. flat 784-pixel rows into
    (1, 28, 28) images at the head of a CNN), as ``torch.nn.Unflatten``."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        self.dim = int(dim)
        self.unflattened_size = tuple(int(s) for s in unflattened_size)

    def forward(self, x: Any) -> Any:
        shape = x.data.shape if isinstance(x, Tensor) else np.shape(x)
        d = self.dim % max(len(shape), 1)
        if not shape or shape[d] != math.prod(self.unflattened_size):
            raise ValueError(f"Unflatten: axis {self.dim} of input shape {shape} does not have "
                             f"{math.prod(self.unflattened_size)} = "
                             f"{' x '.join(map(str, self.unflattened_size))} elements")
        return reshape(x, (*shape[:d], *self.unflattened_size, *shape[d + 1:]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Identity(Module):
    """Returns its input (a placeholder, e.g. to switch a layer off)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x
