"""train_val_test_split / train_test_split / split_indices / KFold / StratifiedKFold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from steepest.data import (
    KFold,
    StratifiedKFold,
    split_indices,
    train_test_split,
    train_val_test_split,
)


def labels(n: int = 200, k: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice(k, size=n, p=np.linspace(1, 3, k) / np.linspace(1, 3, k).sum())


def check_partition(parts, n):
    cat = np.concatenate(parts)
    assert cat.shape == (n,)
    np.testing.assert_array_equal(np.sort(cat), np.arange(n))  # no overlap, union is all


def test_train_val_test_split_sizes_partition_and_alignment():
    X = np.arange(100 * 3, dtype=np.float32).reshape(100, 3)
    y = np.arange(100)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(X, y, seed=0)
    assert (len(ytr), len(yva), len(yte)) == (80, 10, 10)
    check_partition([ytr, yva, yte], 100)
    np.testing.assert_array_equal(Xtr, X[ytr])  # rows stay aligned across arrays
    assert Xtr.dtype == np.float32


def test_split_reproducible_and_seed_dependent():
    y = labels()
    a = train_val_test_split(y, fractions=(0.6, 0.2, 0.2), seed=3)
    b = train_val_test_split(y, fractions=(0.6, 0.2, 0.2), seed=3)
    c = train_val_test_split(y, fractions=(0.6, 0.2, 0.2), seed=4)
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa[0], pb[0])
    assert not np.array_equal(
        split_indices(200, (0.6, 0.2, 0.2), seed=3)[0],
        split_indices(200, (0.6, 0.2, 0.2), seed=4)[0],
    )
    assert len(c[0][0]) == 120


@pytest.mark.parametrize("fractions", [(0.8, 0.1, 0.1), (0.7, 0.2, 0.1), (1 / 3, 1 / 3, 1 / 3)])
def test_stratified_proportions_within_one_sample(fractions):
    y = labels(203, 6)
    parts = split_indices(len(y), fractions, stratify=y, seed=1)
    check_partition(parts, len(y))
    plain = split_indices(len(y), fractions, seed=1)
    assert [len(p) for p in parts] == [len(p) for p in plain]  # same split sizes
    counts = np.bincount(y)
    for f, p in zip(fractions, parts):
        assert np.all(np.abs(np.bincount(y[p], minlength=6) - counts * f) < 1)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 120),
    k=st.integers(1, 8),
    weights=st.lists(st.integers(0, 10), min_size=2, max_size=4).filter(lambda w: sum(w) > 0),
    seed=st.integers(0, 2**16),
)
def test_stratified_split_property(n, k, weights, seed):
    fr = [w / sum(weights) for w in weights]
    y = np.random.default_rng(seed).integers(0, k, n)
    parts = split_indices(n, fr, stratify=y, seed=seed)
    check_partition(parts, n)
    counts = np.bincount(y, minlength=k)
    for f, p in zip(fr, parts):
        assert np.all(np.abs(np.bincount(y[p], minlength=k) - counts * f) < 1 + 1e-9)
    assert [len(p) for p in parts] == [len(p) for p in split_indices(n, fr, seed=seed)]


def test_train_test_split_and_no_shuffle():
    X = np.arange(10)
    (tr,), (te,) = train_test_split(X, test_size=0.3, shuffle=False)
    np.testing.assert_array_equal(tr, np.arange(7))
    np.testing.assert_array_equal(te, np.arange(7, 10))
    (tr, ytr), (te, yte) = train_test_split(X, X % 2, test_size=0.2, stratify=X % 2, seed=0)
    assert np.bincount(yte).tolist() == [1, 1]


class FakeTensor:
    def __init__(self, data):
        self.data = data


def test_split_accepts_tensor_like():
    (a,), (b,), (c,) = train_val_test_split(FakeTensor(np.arange(10.0)), seed=0)
    assert len(a) + len(b) + len(c) == 10


@pytest.mark.parametrize(
    "fractions, match",
    [
        ((0.5, 0.3, 0.1), "sum to 1"),
        ((1.2, -0.1, -0.1), ">= 0"),
        ((0.5, 0.5), "3 entries"),
    ],
)
def test_fraction_validation(fractions, match):
    with pytest.raises(ValueError, match=match):
        train_val_test_split(np.arange(10), fractions=fractions)


def test_split_argument_errors():
    with pytest.raises(ValueError, match=r"same length, got lengths \[10, 9\]"):
        train_val_test_split(np.arange(10), np.arange(9))
    with pytest.raises(ValueError, match="stratify must be a 1-D label array of length 10"):
        train_val_test_split(np.arange(10), stratify=np.arange(9))
    with pytest.raises(ValueError, match="shuffle"):
        split_indices(10, (0.5, 0.5), stratify=np.arange(10) % 2, shuffle=False)


# --------------------------------------------------------------------------- k-fold
def test_kfold_partition_and_sizes():
    folds = list(KFold(4, shuffle=True, seed=0).split(np.zeros((10, 2))))
    assert len(folds) == 4
    check_partition([va for _, va in folds], 10)
    assert [len(va) for _, va in folds] == [3, 3, 2, 2]
    for tr, va in folds:
        assert np.intersect1d(tr, va).size == 0 and len(tr) + len(va) == 10
    again = list(KFold(4, shuffle=True, seed=0).split(10))
    for (_, b), (_, d) in zip(folds, again):
        np.testing.assert_array_equal(b, d)


def test_kfold_errors():
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        KFold(1)
    with pytest.raises(ValueError, match="n_splits=5 folds from 3 samples"):
        list(KFold(5).split(np.zeros(3)))
    with pytest.raises(ValueError, match="needs the labels"):
        list(StratifiedKFold(3).split(np.zeros(9)))


@pytest.mark.parametrize("n, k", [(10, 3), (101, 5), (7, 7)])
def test_kfold_matches_sklearn(n, k):
    skms = pytest.importorskip("sklearn.model_selection")
    X = np.zeros((n, 2))
    ours = list(KFold(k).split(X))
    theirs = list(skms.KFold(k).split(X))
    for (a, b), (c, d) in zip(ours, theirs):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    sizes = [len(v) for _, v in KFold(k, shuffle=True, seed=1).split(X)]
    assert sizes == [len(v) for _, v in skms.KFold(k, shuffle=True, random_state=1).split(X)]


@pytest.mark.parametrize("n, k, n_classes", [(60, 5, 3), (103, 4, 6), (40, 3, 2)])
def test_stratified_kfold_matches_sklearn(n, k, n_classes):
    skms = pytest.importorskip("sklearn.model_selection")
    y = labels(n, n_classes, seed=n)
    X = np.zeros((n, 1))
    ours = list(StratifiedKFold(k).split(X, y))
    theirs = list(skms.StratifiedKFold(k).split(X, y))
    for (a, b), (c, d) in zip(ours, theirs):  # identical folds without shuffling
        np.testing.assert_array_equal(np.sort(a), np.sort(c))
        np.testing.assert_array_equal(np.sort(b), np.sort(d))
    shuffled = list(StratifiedKFold(k, shuffle=True, seed=0).split(X, y))
    sk_shuffled = list(skms.StratifiedKFold(k, shuffle=True, random_state=0).split(X, y))
    assert [len(v) for _, v in shuffled] == [len(v) for _, v in sk_shuffled]
    check_partition([v for _, v in shuffled], n)
    counts = np.bincount(y)
    for _, v in shuffled:
        assert np.all(np.abs(np.bincount(y[v], minlength=n_classes) - counts / k) < 1)


def test_stratified_kfold_small_class_warns():
    y = np.array([0] * 10 + [1] * 2)
    with pytest.warns(UserWarning, match="least populated class has only 2"):
        list(StratifiedKFold(3).split(np.zeros(12), y))
