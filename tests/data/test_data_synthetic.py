"""Synthetic datasets: shapes, dtypes, seeded reproducibility, learnability."""

from __future__ import annotations

import numpy as np
import pytest

import steepest.random as srandom
from steepest.data.datasets import (
    linear_features,
    mnist_like,
    notes_regression,
    sine_regression,
    spirals,
    two_moons,
)

GENERATORS = [
    (lambda seed: spirals(50, 3, noise=0.2, seed=seed), (150, 2)),
    (lambda seed: two_moons(101, noise=0.1, seed=seed), (101, 2)),
    (lambda seed: sine_regression(40, noise=0.1, seed=seed), (40, 1)),
    (lambda seed: linear_features(60, 8, 3, seed=seed), (60, 8)),
    (lambda seed: mnist_like(30, seed=seed), (30, 784)),
]


@pytest.mark.parametrize("make, shape", GENERATORS)
def test_shapes_dtypes_and_seeding(make, shape):
    X, y = make(0)
    assert X.shape == shape and X.dtype == np.float32
    assert y.shape[0] == shape[0]
    assert y.dtype in (np.int64, np.float32)
    X2, y2 = make(0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(1)
    assert not np.array_equal(X, X3)


@pytest.mark.parametrize("make, shape", GENERATORS)
def test_seed_none_follows_manual_seed(make, shape):
    srandom.manual_seed(11)
    a = make(None)[0]
    srandom.manual_seed(11)
    np.testing.assert_array_equal(a, make(None)[0])


def test_classification_labels():
    _, y = spirals(20, 4, seed=0)
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [20] * 4
    _, y = two_moons(11, seed=0)
    assert np.bincount(y).tolist() == [5, 6]
    _, y = mnist_like(100, seed=0)
    assert np.bincount(y).tolist() == [10] * 10


def test_regression_targets_are_columns():
    _, y = sine_regression(10, seed=0)
    assert y.shape == (10, 1) and y.dtype == np.float32
    _, y = linear_features(10, 4, 2, seed=0)
    assert y.shape == (10, 1)
    X, y = sine_regression(10, seed=0, dtype=np.float64)
    assert X.dtype == y.dtype == np.float64


def test_notes_regression_table():
    x, y = notes_regression(dtype=np.float64)
    np.testing.assert_array_equal(x.ravel(), [2.4, 2.8, 3.2, 3.6, 4.0, 4.2, 5.0])
    np.testing.assert_array_equal(y.ravel(), [1.7, 1.85, 1.79, 1.95, 2.1, 2.0, 2.7])
    assert x.shape == y.shape == (7, 1)
    assert notes_regression()[0].dtype == np.float32


def test_linear_features_only_informative_features_matter():
    X, y, coef = linear_features(2000, 6, 2, noise=0.01, seed=0, return_coef=True)
    assert np.all(np.abs(coef[:2]) >= 1) and np.all(coef[2:] == 0)
    A = np.c_[X.astype(np.float64), np.ones(len(X))]
    w = np.linalg.lstsq(A, y.astype(np.float64).ravel(), rcond=None)[0]
    np.testing.assert_allclose(w[:6], coef, atol=0.01)


def test_mnist_like_is_learnable_and_shares_classes_across_seeds():
    Xtr, ytr = mnist_like(1000, seed=0)
    Xte, yte = mnist_like(300, seed=1)
    assert 0.0 <= Xtr.min() and Xtr.max() <= 1.0
    means = np.stack([Xtr[ytr == c].mean(axis=0) for c in range(10)])
    pred = np.argmin(((Xte[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert (pred == yte).mean() > 0.8


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: spirals(0), "n_per_class must be an integer >= 1"),
        (lambda: two_moons(10, noise=-1), "noise must be a finite number >= 0"),
        (lambda: linear_features(10, 3, 5), "informative=5 exceeds n_features=3"),
        (lambda: mnist_like(10, seed=-1), "seed must be a non-negative integer"),
        (lambda: sine_regression(10, dtype=np.int32), "dtype must be a floating type"),
        (lambda: sine_regression(10, low=1, high=0), "low < high"),
    ],
)
def test_argument_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
