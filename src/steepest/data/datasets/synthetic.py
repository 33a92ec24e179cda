"""Small synthetic datasets for demos, experiments and fast tests.

All generators are vectorised, return float32 features by default (``dtype=``) and int64
class labels, and draw from ``np.random.default_rng(seed)``; ``seed=None`` uses
``steepest.random.generator()``, so ``steepest.manual_seed`` makes them reproducible.
Regression targets have shape ``(N, 1)``, matching a model's ``(N, 1)`` output (an
``(N,)`` target would broadcast against it to ``(N, N)`` in a squared error).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from steepest.random import generator_for

__all__ = [
    "spirals",
    "two_moons",
    "sine_regression",
    "notes_regression",
    "linear_features",
    "mnist_like",
]


def _count(n: Any, what: str, where: str, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{where}: {what} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _noise(value: Any, where: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{where}: noise must be a finite number >= 0, got {value!r}")
    return v


def _float_dtype(dtype: Any, where: str) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise ValueError(f"{where}: dtype must be a floating type, got {dt}")
    return dt


def spirals(
    n_per_class: int = 100,
    n_classes: int = 3,
    noise: float = 0.2,
    seed: int | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved 2-D spirals (the CS231n toy problem): not linearly separable.

    Returns ``X`` of shape ``(n_per_class * n_classes, 2)`` and int64 labels ``y``,
    grouped by class. Arm ``k`` has radius 0..1 and angle ``4k .. 4(k+1)`` radians plus
    Gaussian noise of std ``noise`` (in radians).
    """
    where = "spirals"
    n = _count(n_per_class, "n_per_class", where)
    k = _count(n_classes, "n_classes", where)
    sd = _noise(noise, where)
    dt = _float_dtype(dtype, where)
    rng = generator_for(seed, where)
    r = np.tile(np.linspace(0.0, 1.0, n), k)
    t = (np.linspace(0.0, 4.0, n)[None, :] + 4.0 * np.arange(k)[:, None]).ravel()
    t = t + sd * rng.standard_normal(n * k)
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1).astype(dt)
    y = np.repeat(np.arange(k, dtype=np.int64), n)
    return X, y


def two_moons(
    n: int = 200,
    noise: float = 0.1,
    seed: int | None = None,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as ``sklearn.datasets.make_moons``), shuffled.

    ``n // 2`` samples on the upper moon (label 0), the rest on the lower one (label 1),
    plus isotropic Gaussian noise of std ``noise``.
    """
    where = "two_moons"
    n = _count(n, "n", where, minimum=2)
    sd = _noise(noise, where)
    dt = _float_dtype(dtype, where)
    rng = generator_for(seed, where)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, math.pi, n_out)
    t_in = np.linspace(0.0, math.pi, n_in)
    X = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    X = X + sd * rng.standard_normal(X.shape)
    perm = rng.permutation(n)
    return X[perm].astype(dt), y[perm]


def sine_regression(
    n: int = 100,
    noise: float = 0.1,
    seed: int | None = None,
    low: float = -math.pi,
    high: float = math.pi,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """``y = sin(x) + noise`` with ``x`` uniform in ``[low, high)``; shapes ``(n, 1)``.

    The classic curve for showing under- and over-fitting of polynomial or MLP fits.
    """
    where = "sine_regression"
    n = _count(n, "n", where)
    sd = _noise(noise, where)
    dt = _float_dtype(dtype, where)
    if not low < high:
        raise ValueError(f"{where}: need low < high, got low={low}, high={high}")
    rng = generator_for(seed, where)
    x = rng.uniform(float(low), float(high), size=(n, 1))
    y = np.sin(x) + sd * rng.standard_normal((n, 1))
    return x.astype(dt), y.astype(dt)


_NOTES_X = (2.4, 2.8, 3.2, 3.6, 4.0, 4.2, 5.0)
_NOTES_Y = (1.7, 1.85, 1.79, 1.95, 2.1, 2.0, 2.7)


def notes_regression(dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The 7-point table of the study notes, as ``(7, 1)`` arrays ``x`` and ``y``.

    x = 2.4, 2.8, 3.2, 3.6, 4.0, 4.2, 5.0; y = 1.7, 1.85, 1.79, 1.95, 2.1, 2.0, 2.7. Small
    enough to check a gradient-descent fit against the closed-form least-squares line
    (use ``dtype=np.float64`` for tight comparisons).
    """
    dt = _float_dtype(dtype, "notes_regression")
    x = np.array(_NOTES_X, dtype=dt).reshape(-1, 1)
    y = np.array(_NOTES_Y, dtype=dt).reshape(-1, 1)
    return x, y


def linear_features(
    n: int = 500,
    n_features: int = 10,
    informative: int = 3,
    noise: float = 0.1,
    seed: int | None = None,
    return_coef: bool = False,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, ...]:
    """A linear regression where only the first ``informative`` features matter.

    ``X`` is standard normal ``(n, n_features)``; ``y = X[:, :informative] @ w + b +
    noise`` with ``|w|`` in ``[1, 3]`` and random signs, shape ``(n, 1)``; the other features
    are pure distractors. A feature-importance method should rank the first
    ``informative`` features on top. ``return_coef=True`` also returns the full
    coefficient vector (zeros for the distractors).
    """
    where = "linear_features"
    n = _count(n, "n", where)
    d = _count(n_features, "n_features", where)
    k = _count(informative, "informative", where, minimum=0)
    if k > d:
        raise ValueError(f"{where}: informative={k} exceeds n_features={d}")
    sd = _noise(noise, where)
    dt = _float_dtype(dtype, where)
    rng = generator_for(seed, where)
    X = rng.standard_normal((n, d))
    coef = np.zeros(d)
    coef[:k] = rng.uniform(1.0, 3.0, size=k) * rng.choice([-1.0, 1.0], size=k)
    bias = 0.5
    y = (X @ coef + bias + sd * rng.standard_normal(n)).reshape(-1, 1)
    if return_coef:
        return X.astype(dt), y.astype(dt), coef.astype(dt)
    return X.astype(dt), y.astype(dt)


def _prototypes(n_classes: int, prototype_seed: int) -> np.ndarray:
    """``(n_classes, 784)`` blob images in [0, 1]: a fixed, seed-determined 'digit' per class."""
    rng = np.random.default_rng(prototype_seed)
    n_blobs = 6
    grid = np.stack(np.meshgrid(np.arange(28.0), np.arange(28.0), indexing="ij"), -1)
    grid = grid.reshape(1, 1, 784, 2)
    centres = rng.uniform(6.0, 22.0, size=(n_classes, n_blobs, 1, 2))
    widths = rng.uniform(1.5, 3.5, size=(n_classes, n_blobs, 1))
    d2 = ((grid - centres) ** 2).sum(-1)  # (C, B, 784)
    img = np.exp(-d2 / (2.0 * widths**2)).sum(axis=1)
    img /= img.max(axis=1, keepdims=True)
    return img


def mnist_like(
    n: int = 1000,
    seed: int | None = None,
    n_classes: int = 10,
    noise: float = 0.35,
    prototype_seed: int = 0,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: ``X (n, 784)`` in [0, 1] and balanced int64 labels.

    Each class has a fixed prototype image (blobs on a 28x28 grid, fixed by
    ``prototype_seed``, not by ``seed``, so a training set and a test set drawn with
    different seeds share their classes); a sample is its prototype times a random contrast,
    shifted by up to 2 pixels, plus Gaussian pixel noise of std ``noise``, clipped to
    [0, 1]. Learnable by a linear or MLP classifier but not trivially: for benchmarks and
    fast tests without the real data.
    """
    where = "mnist_like"
    n = _count(n, "n", where)
    c = _count(n_classes, "n_classes", where, minimum=2)
    sd = _noise(noise, where)
    dt = _float_dtype(dtype, where)
    rng = generator_for(seed, where)
    protos = _prototypes(c, prototype_seed).astype(np.float32).reshape(c, 28, 28)
    y = np.arange(n, dtype=np.int64) % c
    y = y[rng.permutation(n)]
    # All 25 translations (-2..2 pixels each way) of every prototype, then one gather
    # (class, translation) per sample: no per-sample loop.
    r = np.clip(np.arange(28)[None, :] - np.arange(-2, 3)[:, None], 0, 27)  # (5, 28)
    table = protos[:, r[:, None, :, None], r[None, :, None, :]].reshape(c, 25, 784)
    X = table[y, rng.integers(0, 25, size=n)]  # (n, 784) float32, a fresh array
    X *= rng.uniform(0.7, 1.0, size=(n, 1)).astype(np.float32)  # contrast
    noise_arr = rng.standard_normal((n, 784), dtype=np.float32)
    noise_arr *= sd  # a Python float keeps float32 float32
    X += noise_arr
    np.clip(X, 0.0, 1.0, out=X)
    return X.astype(dt, copy=False), y
