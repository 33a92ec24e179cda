"""Embedding: a lookup table of learnable rows (torch's parameters and initialisation)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..random import generator
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by integer indices.

    ``weight`` ~ N(0, 1) (as torch) from steepest's seeded generator; the row
    ``padding_idx`` starts at zero and receives no gradient. The backward adds gradient
    rows with a sort-based segment sum (see :func:`steepest.functional.embedding`).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: Any = None, _freeze: bool = False,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: max_norm, scale_grad_by_freq and sparse are "
                                      "not supported")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is out of range for "
                                 f"{num_embeddings} embeddings")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            w = generator().standard_normal((self.num_embeddings, self.embedding_dim),
                                            dtype=np.dtype(dtype))
            if padding_idx is not None:
                w[padding_idx] = 0
        else:
            w = np.asarray(getattr(_weight, "data", _weight))
            if w.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {w.shape}, expected "
                                 f"{(self.num_embeddings, self.embedding_dim)}")
        self.weight = Parameter(w)
        if _freeze:
            self.weight.requires_grad = False

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True,
                        padding_idx: int | None = None) -> Embedding:
        w = np.asarray(getattr(embeddings, "data", embeddings))
        if w.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{w.shape}")
        return cls(w.shape[0], w.shape[1], padding_idx, _weight=w.copy(), _freeze=freeze)

    def forward(self, input: Any) -> Any:  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
