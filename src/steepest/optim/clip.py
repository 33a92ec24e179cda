"""Gradient clipping, in place, as ``torch.nn.utils.clip_grad_norm_``/``clip_grad_value_``.

Gradient arrays may be shared between parameters; each distinct array is scaled once
(PyTorch would scale a shared gradient tensor once per parameter holding it). Read-only
gradient arrays are replaced by clipped copies instead of being written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import NonFiniteGradientError

__all__ = ["clip_grad_norm_", "clip_grad_value_", "grad_norm"]


def _params(parameters: Tensor | Iterable[Any]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    out = []
    for p in parameters:
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
            p = p[1]  # (name, parameter) pairs
        if not isinstance(p, Tensor):
            raise TypeError(f"clip: expected Tensors, got {type(p).__name__}")
        out.append(p)
    return out


def _vector_norm(a: np.ndarray, norm_type: float) -> float:
    if a.size == 0:
        return 0.0
    if norm_type == 2.0:
        flat = a.reshape(-1)
        return math.sqrt(float(np.dot(flat, flat))) if np.isfinite(flat).all() else \
            float(np.linalg.norm(flat.astype(np.float64)))
    if norm_type == math.inf:
        return float(np.abs(a).max())
    if norm_type == -math.inf:
        return float(np.abs(a).min())
    if norm_type == 0:
        return float(np.count_nonzero(a))
    if norm_type == 1.0:
        return float(np.abs(a).sum(dtype=np.float64))
    return float(np.sum(np.abs(a.astype(np.float64)) ** norm_type) ** (1.0 / norm_type))


def grad_norm(parameters: Tensor | Iterable[Any], norm_type: float = 2.0) -> float:
    """The norm of all gradients together (as if concatenated into one vector)."""
    norm_type = float(norm_type)
    norms = [_vector_norm(p.grad.data, norm_type) for p in _params(parameters)
             if p.grad is not None]
    if not norms:
        return 0.0
    return _vector_norm(np.asarray(norms, dtype=np.float64), norm_type)


def _distinct_grads(params: list[Tensor]) -> list[Tensor]:
    """Parameters whose gradient arrays are distinct (first holder of each array)."""
    seen: set[int] = set()
    out = []
    for p in params:
        if p.grad is None:
            continue
        key = id(p.grad.data)
        if key in seen:
            continue
        seen.add(key)
        out.append(p)
    return out


def _scale(p: Tensor, coef: float, params: list[Tensor]) -> None:
    g = p.grad.data
    if g.flags.writeable:
        np.multiply(g, coef, out=g)
        return
    new = Tensor._make(g * coef, False, None, 0)
    for q in params:  # every holder of the read-only array gets the clipped copy
        if q.grad is not None and q.grad.data is g:
            q.grad = new


def clip_grad_norm_(parameters: Tensor | Iterable[Any], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale the gradients in place so that their total norm is at most ``max_norm``.

    The total norm is taken over all gradients together; they are multiplied by
    min(1, max_norm / (total + 1e-6)), as PyTorch does. Returns the total norm *before*
    clipping (a float), useful for logging.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Parameters whose ``.grad`` is clipped (those without a gradient are ignored).
    max_norm : float
        The largest allowed norm.
    norm_type : float
        p of the p-norm; ``math.inf`` for the largest absolute value.
    error_if_nonfinite : bool
        Raise :class:`NonFiniteGradientError` if the total norm is NaN or inf (otherwise
        the gradients are scaled by the non-finite coefficient, as in PyTorch).
    """
    params = _params(parameters)
    max_norm = float(max_norm)
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm!r}")
    total = grad_norm(params, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise NonFiniteGradientError(
            f"clip_grad_norm_: the total norm of order {float(norm_type)} of the gradients "
            f"is {total}, so they cannot be clipped; pass error_if_nonfinite=False to scale "
            f"them anyway")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0 or math.isnan(coef):
        for p in _distinct_grads(params):
            _scale(p, coef, params)
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Any], clip_value: float) -> None:
    """Clip every gradient element to [−clip_value, clip_value], in place."""
    params = _params(parameters)
    c = float(clip_value)
    if not c >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value!r}")
    for p in _distinct_grads(params):
        g = p.grad.data
        if g.flags.writeable:
            np.clip(g, -c, c, out=g)
        else:
            new = Tensor._make(np.clip(g, -c, c), False, None, 0)
            for q in params:
                if q.grad is not None and q.grad.data is g:
                    q.grad = new
