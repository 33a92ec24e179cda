"""Shape modules beyond Flatten: Unflatten."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..ops.layout import unflatten
from .module import Module

__all__ = ["Unflatten"]


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (the inverse of Flatten)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = int(dim), tuple(int(s) for s in unflattened_size)

    def forward(self, x: Any) -> Any:
        return unflatten(x, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
