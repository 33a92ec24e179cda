"""Feature importance: how much a trained model's output depends on each input feature.

Two complementary measures:

* ``'gradient'`` (sensitivity, saliency): the mean over samples of |∂y/∂x_j|, one
  backward pass per output column. Cheap and local: it says how fast the output moves
  when feature j is nudged around the data points. Compare features on the same scale
  (standardise inputs first), since a gradient is per unit of the feature.
* ``'permutation'`` (Breiman 2001): shuffle column j, which breaks its link with the
  target while keeping its distribution, and measure how much the loss rises. Needs
  targets; model-agnostic and global, but slower (``n_repeats`` passes per feature).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import grad, no_grad
from ..tensor import Tensor
from . import _plot

__all__ = ["feature_importance", "plot_feature_importance"]


def _forward_array(model: Any, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    outs = []
    with no_grad():
        for i in range(0, len(x), batch_size):
            out = model(Tensor(x[i:i + batch_size]))
            outs.append(np.asarray(getattr(out, "data", out)))
    return np.concatenate(outs)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _resolve_score(loss: Any, y: np.ndarray) -> tuple[str, Callable[[np.ndarray], float]]:
    """A function ``out -> loss value`` (lower is better) and its name."""
    if loss is None:
        loss = "cross_entropy" if y.dtype.kind in "iu" else "mse"
    if callable(loss):
        return getattr(loss, "__name__", "loss"), lambda out: float(loss(out, y))
    if loss == "mse":
        return "mse", lambda out: float(np.mean(
            (out.astype(np.float64) - y.reshape(out.shape)) ** 2))
    if loss == "mae":
        return "mae", lambda out: float(np.mean(
            np.abs(out.astype(np.float64) - y.reshape(out.shape))))
    if loss == "cross_entropy":
        if y.dtype.kind not in "iu":
            raise ValueError("feature_importance: loss='cross_entropy' needs integer labels y")
        idx = y.reshape(-1)
        return "cross_entropy", lambda out: float(-np.mean(
            _log_softmax(out.astype(np.float64))[np.arange(len(idx)), idx]))
    if loss == "accuracy":
        labels = y.reshape(-1) if y.dtype.kind in "iu" else y.argmax(axis=1)
        return "error rate", lambda out: float(np.mean(out.argmax(axis=1) != labels))
    raise ValueError(f"feature_importance: unknown loss {loss!r}; use 'mse', 'mae', "
                     f"'cross_entropy', 'accuracy' or a callable loss(output, y) -> float")


def feature_importance(
    model: Any,
    X: Any,
    y: Any = None,
    method: str = "gradient",
    loss: Any = None,
    n_repeats: int = 5,
    seed: int = 0,
    batch_size: int = 1024,
) -> np.ndarray:
    """Importance of each input feature (column of ``X``) for ``model``'s output.

    Parameters
    ----------
    model : callable
        A Module (switched to eval mode while measuring, then restored) or any function
        ``Tensor (N, F) -> Tensor (N, K)``.
    X : array (N, F)
        Inputs (float). Standardise them for a fair comparison of gradients.
    y : array, optional
        Targets; required for ``method='permutation'``.
    method : {'gradient', 'permutation'}
        ``'gradient'``: mean over samples and output columns of |∂y_k/∂x_j|.
        ``'permutation'``: mean rise of the loss when column j is shuffled.
    loss : str or callable, optional
        For permutation: ``'mse'`` (default for float targets), ``'cross_entropy'``
        (default for integer labels), ``'mae'``, ``'accuracy'`` (rise of the error rate)
        or ``loss(output_array, y) -> float`` (lower is better).
    n_repeats : int
        Shuffles per feature (permutation); the result is their mean.
    seed : int
        Seeds the shuffles, so results are reproducible.

    Returns
    -------
    ndarray (F,)
        One non-negative (gradient) or signed (permutation: negative means shuffling
        helped, i.e. noise) score per feature; larger means more important.
    """
    x = np.asarray(getattr(X, "data", X))
    if x.ndim != 2:
        raise ValueError(f"feature_importance: X must be 2-D (samples, features), got shape "
                         f"{x.shape}")
    if len(x) == 0:
        raise ValueError("feature_importance: X has no samples")
    if x.dtype.kind != "f":
        x = x.astype(np.float32)
    if method not in ("gradient", "permutation"):
        raise ValueError(f"feature_importance: method must be 'gradient' or 'permutation', "
                         f"got {method!r}")
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()
    try:
        if method == "gradient":
            return _gradient_importance(model, x, batch_size)
        if y is None:
            raise ValueError("feature_importance: method='permutation' needs the targets y")
        yy = np.asarray(getattr(y, "data", y))
        if len(yy) != len(x):
            raise ValueError(f"feature_importance: X has {len(x)} samples but y has {len(yy)}")
        if int(n_repeats) < 1:
            raise ValueError(f"feature_importance: n_repeats must be >= 1, got {n_repeats}")
        return _permutation_importance(model, x, yy, loss, int(n_repeats), seed, batch_size)
    finally:
        if was_training is not None:
            model.train(was_training)


def _gradient_importance(model: Any, x: np.ndarray, batch_size: int) -> np.ndarray:
    total = np.zeros(x.shape[1], dtype=np.float64)
    n_out = None
    for i in range(0, len(x), batch_size):
        xb = Tensor(x[i:i + batch_size], requires_grad=True)
        out = model(xb)
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise TypeError("feature_importance: the model's output does not depend on its "
                            "input through steepest operations (no graph to differentiate)")
        o = out.data.reshape(len(xb.data), -1)
        n_out = o.shape[1]
        for k in range(n_out):
            seed_grad = np.zeros_like(o)
            seed_grad[:, k] = 1.0
            (g,) = grad(out, xb, grad_outputs=seed_grad.reshape(out.shape),
                        retain_graph=k < n_out - 1)
            total += np.abs(g.data.astype(np.float64)).sum(axis=0)
    return total / (len(x) * max(n_out or 1, 1))


def _permutation_importance(model: Any, x: np.ndarray, y: np.ndarray, loss: Any,
                            n_repeats: int, seed: int, batch_size: int) -> np.ndarray:
    _, score = _resolve_score(loss, y)
    base = score(_forward_array(model, x, batch_size))
    rng = np.random.default_rng(seed)
    out = np.zeros(x.shape[1], dtype=np.float64)
    xp = x.copy()
    for j in range(x.shape[1]):
        rises = []
        for _ in range(n_repeats):
            xp[:, j] = x[rng.permutation(len(x)), j]
            rises.append(score(_forward_array(model, xp, batch_size)) - base)
        xp[:, j] = x[:, j]
        out[j] = float(np.mean(rises))
    return out


def plot_feature_importance(
    importances: Any,
    path: str | os.PathLike | None = None,
    names: Sequence[str] | None = None,
    title: str = "Feature importance",
    xlabel: str = "importance",
    top: int | None = None,
    highlight: Sequence[int] | None = None,
) -> Any:
    """A horizontal bar chart of ``importances``, most important at the top.

    ``names`` label the features (default ``x0, x1, ...``); ``top`` keeps the largest
    ones; ``highlight`` (feature indices, e.g. the truly informative ones of a synthetic
    problem) are drawn in a second colour. Saves to ``path`` if given; returns the Figure.
    """
    imp = np.asarray(importances, dtype=np.float64).reshape(-1)
    labels = list(names) if names is not None else [f"x{j}" for j in range(len(imp))]
    if len(labels) != len(imp):
        raise ValueError(f"plot_feature_importance: {len(imp)} importances but "
                         f"{len(labels)} names")
    order = np.argsort(-imp, kind="stable")
    if top is not None:
        order = order[:top]
    marked = set(highlight or ())
    fig = _plot.figure(figsize=(6.0, 0.35 * len(order) + 1.4))
    ax = fig.add_subplot()
    colors = ["tab:orange" if j in marked else "tab:blue" for j in order]
    ax.barh(range(len(order)), imp[order], color=colors)
    ax.set_yticks(range(len(order)), [labels[j] for j in order])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_ylabel("feature")
    ax.set_title(title)
    if marked:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color="tab:orange", label="informative (ground truth)"),
                           Patch(color="tab:blue", label="noise")], loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    _plot.save(fig, path)
    return fig
