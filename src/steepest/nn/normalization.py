"""Layers for feature maps: BatchNorm2d (per-channel statistics) and Dropout2d (channel
dropout)."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from .layers import BatchNorm1d
from .module import Module

__all__ = ["BatchNorm2d", "Dropout2d"]


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
