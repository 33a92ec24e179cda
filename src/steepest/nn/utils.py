"""``torch.nn.utils`` names: gradient clipping (from :mod:`steepest.optim.clip`) and
flattening parameters into one vector and back."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..optim.clip import clip_grad_norm_, clip_grad_value_, grad_norm
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "grad_norm", "parameters_to_vector",
           "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters' values, flattened and concatenated (a copy, no graph)."""
    ps = list(parameters)
    if not ps:
        return Tensor(np.zeros(0, dtype=np.float32))
    return Tensor(np.concatenate([p.data.reshape(-1) for p in ps]))


def vector_to_parameters(vec: Any, parameters: Iterable[Tensor]) -> None:
    """Write the consecutive slices of ``vec`` into the parameters, in place."""
    v = np.asarray(vec.data if isinstance(vec, Tensor) else vec)
    ps = list(parameters)
    total = sum(p.data.size for p in ps)
    if v.ndim != 1 or v.size != total:
        raise ValueError(f"vector_to_parameters: vec has shape {v.shape}, the parameters hold "
                         f"{total} values")
    i = 0
    for p in ps:
        n = p.data.size
        p.data[...] = v[i:i + n].reshape(p.data.shape)
        i += n
