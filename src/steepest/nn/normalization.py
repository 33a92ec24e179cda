"""Normalisation layers: per sample (LayerNorm, GroupNorm) and per channel of feature maps
(BatchNorm2d), and channel dropout (Dropout2d); torch's parameters, initialisation and
state-dict names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import functional as F
from .layers import BatchNorm1d
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm2d", "Dropout2d", "GroupNorm", "LayerNorm"]


class LayerNorm(Module):
    """Normalise over the last dims ``normalized_shape``, then scale by ``weight`` (ones)
    and shift by ``bias`` (zeros)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(int(n) for n in ns)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Any:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise each of ``num_groups`` channel groups of (N, C, *) inputs, then a
    per-channel affine map (weight ones, bias zeros)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, dtype: Any = np.float32) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = float(eps), bool(affine)
        if affine:
            self.weight = Parameter(np.ones(self.num_channels, dtype=dtype))
            self.bias = Parameter(np.zeros(self.num_channels, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Any:
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of (N, C, H, W) per channel: each channel's mean and variance
    are taken over the batch *and* both spatial axes (N·H·W values), as in PyTorch.

    ("Deep Learning from Scratch" normalises images per element instead, which gives every
    pixel its own statistics and breaks the translation equivariance of a convolution.)
    Running statistics, momentum (``None``: cumulative average), ``affine`` and
    ``track_running_stats`` are :class:`BatchNorm1d`'s, and so are the state_dict keys.
    """

    def _check_input(self, shape: tuple[int, ...]) -> None:
        if len(shape) != 4 or shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d: expected input of shape (N, {self.num_features}, "
                             f"H, W), got {shape}")


class Dropout2d(Module):
    """Zero whole channels of (N, C, H, W) with probability ``p`` (kept ones scaled by
    1/(1 - p)); neighbouring pixels of a feature map are correlated, so element dropout
    would barely regularise a convolution. The identity in eval mode."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: p must be in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x: Any) -> Any:
        return F.dropout2d(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
