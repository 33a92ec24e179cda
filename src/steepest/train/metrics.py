"""Metrics computed from model outputs (NumPy arrays) and targets, without a graph.

Targets may be integer class labels (N,) or one-hot/probability rows (N, C); classification
metrics take the arg-max of the outputs. Each metric is a plain function
``metric(output, target) -> float`` so users can pass their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..suggest import unknown

Metric = Callable[[np.ndarray, np.ndarray], float]


def _labels(target: np.ndarray) -> np.ndarray:
    target = np.asarray(target)
    return target.argmax(axis=1) if target.ndim == 2 else target


def accuracy(output: np.ndarray, target: np.ndarray) -> float:
    """Fraction of rows whose arg-max output equals the label (or the target's arg-max).

    A single-column output is read as a binary logit/probability (threshold 0.5 for
    probabilities in [0, 1], else 0).
    """
    output = np.asarray(output)
    if output.ndim == 2 and output.shape[1] > 1:
        pred = output.argmax(axis=1)
    else:
        flat = output.reshape(len(output))
        thresh = 0.5 if flat.min(initial=0) >= 0 and flat.max(initial=0) <= 1 else 0.0
        pred = (flat > thresh).astype(np.int64)
        target = np.asarray(target).reshape(len(output))
        return float(np.mean(pred == target))
    return float(np.mean(pred == _labels(target)))


def top_k_accuracy(output: np.ndarray, target: np.ndarray, k: int = 5) -> float:
    """Fraction of rows whose label is among the ``k`` largest outputs."""
    output = np.asarray(output)
    k = min(k, output.shape[1])
    top = np.argpartition(-output, k - 1, axis=1)[:, :k]
    return float(np.mean((top == _labels(target)[:, None]).any(axis=1)))


def mse(output: np.ndarray, target: np.ndarray) -> float:
    d = np.asarray(output, dtype=np.float64) - np.asarray(target, dtype=np.float64).reshape(
        np.shape(output))
    return float(np.mean(d * d))


def mae(output: np.ndarray, target: np.ndarray) -> float:
    d = np.asarray(output, dtype=np.float64) - np.asarray(target, dtype=np.float64).reshape(
        np.shape(output))
    return float(np.mean(np.abs(d)))


def confusion_matrix(output: np.ndarray, target: np.ndarray,
                     num_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples with true class i predicted as j.

    ``output`` may be scores (N, C) or predicted labels (N,).
    """
    output = np.asarray(output)
    pred = output.argmax(axis=1) if output.ndim == 2 else output.astype(np.int64)
    true = _labels(target).astype(np.int64)
    n = num_classes or int(max(pred.max(initial=0), true.max(initial=0)) + 1)
    return np.bincount(true * n + pred, minlength=n * n).reshape(n, n)


METRICS: dict[str, Metric] = {
    "accuracy": accuracy,
    "acc": accuracy,
    "top5": lambda o, t: top_k_accuracy(o, t, 5),
    "top3": lambda o, t: top_k_accuracy(o, t, 3),
    "mse": mse,
    "mae": mae,
}


def resolve(metric: Any) -> tuple[str, Metric]:
    """A (name, function) pair from a metric name or a callable."""
    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric
    if metric in METRICS:
        return ("accuracy" if metric == "acc" else metric), METRICS[metric]
    if isinstance(metric, str) and metric.startswith("top") and metric[3:].isdigit():
        k = int(metric[3:])
        return metric, lambda o, t: top_k_accuracy(o, t, k)
    raise ValueError(unknown("metric", metric, METRICS, also="topK for any K, or a callable"))
