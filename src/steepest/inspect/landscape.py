"""Loss-landscape slices: the loss of a network along lines and planes in weight space.

A network has too many weights to see its loss surface, but a slice through the trained
weights θ* along one or two directions is informative: L(θ* + αd) for a 1-D slice,
L(θ* + αd₁ + βd₂) for a 2-D one. Random directions are *filter-normalised* (Li et al.,
"Visualizing the Loss Landscape of Neural Nets", 2018): each row of a weight matrix of d
(one unit's incoming weights) is rescaled to the norm of the same row of θ*, so that
α = 1 means a perturbation as large as the weights themselves in every unit, and slices
of differently scaled networks are comparable. Biases and other 1-D parameters are left
at 0 in random directions, as in that paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor

__all__ = [
    "direction_between", "evaluate_loss", "loss_along", "loss_surface", "random_direction",
]


def _params(model: Any) -> list[Any]:
    return [p for p in model.parameters() if p.requires_grad]


def random_direction(model: Any, seed: int = 0, normalization: str = "filter",
                     ignore_1d: bool = True) -> list[np.ndarray]:
    """A random direction in ``model``'s parameter space, one array per parameter.

    ``normalization``: ``'filter'`` (each row of each ≥2-D parameter gets the norm of the
    same row of the weights), ``'layer'`` (each parameter gets the weights' norm) or
    ``'none'`` (plain Gaussian). ``ignore_1d`` zeroes biases and batch-norm parameters.
    """
    if normalization not in ("filter", "layer", "none"):
        raise ValueError(f"random_direction: normalization must be 'filter', 'layer' or "
                         f"'none', got {normalization!r}")
    rng = np.random.default_rng(seed)
    out = []
    for p in _params(model):
        w = p.data
        d = rng.standard_normal(w.shape)
        if w.ndim <= 1 and ignore_1d:
            d = np.zeros(w.shape)
        elif normalization == "filter" and w.ndim >= 2:
            w2 = w.reshape(w.shape[0], -1).astype(np.float64)
            d2 = d.reshape(w.shape[0], -1)
            wn = np.linalg.norm(w2, axis=1, keepdims=True)
            dn = np.linalg.norm(d2, axis=1, keepdims=True)
            d = (d2 * (wn / np.maximum(dn, 1e-12))).reshape(w.shape)
        elif normalization in ("layer", "filter"):
            d = d * (np.linalg.norm(w) / max(float(np.linalg.norm(d)), 1e-12))
        out.append(d.astype(w.dtype))
    return out


def direction_between(model: Any, state: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The direction from ``model``'s current weights to the weights in ``state`` (a
    state dict, e.g. saved at initialisation): α = 1 along it reaches ``state``."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    missing = [n for n, _ in named if n not in state]
    if missing:
        raise KeyError(f"direction_between: the state has no entries {missing}")
    return [np.asarray(state[n], dtype=p.data.dtype) - p.data for n, p in named]


def _loss_fn(loss: Any) -> Any:
    if callable(loss):
        return loss
    from .. import functional as F

    names = {"cross_entropy": F.cross_entropy, "mse": F.mse_loss, "l1": F.l1_loss}
    if loss not in names:
        raise ValueError(f"unknown loss {loss!r}; use {sorted(names)} or a callable")
    return names[loss]


def evaluate_loss(model: Any, loss: Any, X: Any, y: Any, batch_size: int = 2048) -> float:
    """Mean loss of ``model`` on ``(X, y)`` in eval mode, without building a graph."""
    fn = _loss_fn(loss)
    x = np.asarray(getattr(X, "data", X))
    t = np.asarray(getattr(y, "data", y))
    was = getattr(model, "training", None)
    model.eval()
    total = 0.0
    try:
        with no_grad():
            for i in range(0, len(x), batch_size):
                out = model(Tensor(x[i:i + batch_size]))
                total += float(fn(out, t[i:i + batch_size]).data) * len(x[i:i + batch_size])
    finally:
        if was is not None:
            model.train(was)
    return total / max(len(x), 1)


def _apply(params: list[Any], base: list[np.ndarray], dirs: Sequence[list[np.ndarray]],
           coefs: Sequence[float]) -> None:
    for j, p in enumerate(params):
        new = base[j].astype(np.float64)
        for d, c in zip(dirs, coefs):
            if c:
                new = new + c * d[j]
        p.data[...] = new


def loss_along(model: Any, loss: Any, X: Any, y: Any, direction: list[np.ndarray],
               alphas: Sequence[float], batch_size: int = 2048) -> np.ndarray:
    """1-D slice: ``L(θ + α·direction)`` for each α (the weights are restored after)."""
    params = _params(model)
    if len(direction) != len(params):
        raise ValueError(f"loss_along: the direction has {len(direction)} arrays, the model "
                         f"{len(params)} parameters")
    base = [p.data.copy() for p in params]
    out = []
    try:
        for a in alphas:
            _apply(params, base, [direction], [float(a)])
            out.append(evaluate_loss(model, loss, X, y, batch_size))
    finally:
        for p, b in zip(params, base):
            p.data[...] = b
    return np.asarray(out)


def loss_surface(model: Any, loss: Any, X: Any, y: Any, d1: list[np.ndarray],
                 d2: list[np.ndarray], alphas: Sequence[float], betas: Sequence[float],
                 batch_size: int = 2048) -> np.ndarray:
    """2-D slice: ``Z[i, j] = L(θ + betas[i]·d2 + alphas[j]·d1)`` (rows follow ``betas``,
    ready for ``contour(alphas, betas, Z)``); the weights are restored after."""
    params = _params(model)
    base = [p.data.copy() for p in params]
    z = np.empty((len(betas), len(alphas)))
    try:
        for i, b in enumerate(betas):
            for j, a in enumerate(alphas):
                _apply(params, base, [d1, d2], [float(a), float(b)])
                z[i, j] = evaluate_loss(model, loss, X, y, batch_size)
    finally:
        for p, b0 in zip(params, base):
            p.data[...] = b0
    return z
