"""Distances and similarities as functions: cosine_similarity, pairwise_distance, pdist.

Compositions of differentiable ops (products, sums, ``vector_norm`` whose gradient is 0
at a zero norm), so gradients of any order follow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import reduction as _red
from ..ops.linalg import vector_norm
from ..ops.math import clamp_min
from ..ops.shape import broadcast_to
from ._common import shape_of


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Any:
    """Σ x1 x2 / (max(‖x1‖, eps) · max(‖x2‖, eps)) along ``dim`` (inputs broadcast)."""
    try:
        shape = np.broadcast_shapes(shape_of(x1), shape_of(x2))
    except ValueError:
        raise ValueError(f"cosine_similarity: shapes {shape_of(x1)} and {shape_of(x2)} "
                         f"cannot be broadcast together") from None
    x1, x2 = broadcast_to(x1, shape), broadcast_to(x2, shape)
    n1 = clamp_min(vector_norm(x1, 2, dim, keepdim=True), float(eps))
    n2 = clamp_min(vector_norm(x2, 2, dim, keepdim=True), float(eps))
    return _red.sum((x1 / n1) * (x2 / n2), dim)


def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Any:
    """‖x1 - x2 + eps‖_p over the last dim (as torch)."""
    return vector_norm(x1 - x2 + float(eps), p, -1, keepdim)


def pdist(input: Any, p: float = 2.0) -> Any:  # noqa: A002
    """The condensed p-norm distances between the rows of a 2-D input (i < j)."""
    from ..ops.shape import getitem

    s = shape_of(input)
    if len(s) != 2:
        raise ValueError(f"pdist: input must be 2-D, got shape {s}")
    i, j = np.triu_indices(s[0], 1)
    d = getitem(input, i) - getitem(input, j)
    return vector_norm(d, p, -1)
