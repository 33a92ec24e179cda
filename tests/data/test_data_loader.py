"""Dataset / TensorDataset / Subset / DataLoader."""

from __future__ import annotations

import numpy as np
import pytest

import steepest.random as srandom
from steepest.data import DataLoader, Dataset, Subset, TensorDataset


class FakeTensor:
    """Stands in for a steepest Tensor: an object with a ``.data`` ndarray."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data


def make_data(n: int = 103, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64)
    return X, y


def epoch_ids(loader: DataLoader) -> np.ndarray:
    return np.concatenate([yb for _, yb in loader])


# ------------------------------------------------------------------------- datasets
def test_tensor_dataset_int_and_batch_indexing():
    X, y = make_data()
    ds = TensorDataset(X, y)
    assert len(ds) == 103
    x3, y3 = ds[3]
    np.testing.assert_array_equal(x3, X[3])
    assert y3 == 3
    idx = np.array([5, 0, 7])
    xb, yb = ds[idx]
    np.testing.assert_array_equal(xb, X[idx])
    np.testing.assert_array_equal(yb, idx)
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    xb, yb = ds[[1, 2]]
    assert xb.shape == (2, 4)
    mask = y % 2 == 0
    np.testing.assert_array_equal(ds[mask][1], y[mask])
    xb, _ = ds[np.array([], dtype=np.int64)]
    assert xb.shape == (0, 4)


def test_tensor_dataset_length_mismatch_names_lengths():
    with pytest.raises(ValueError, match=r"same length.*\[10, 9\]"):
        TensorDataset(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float32(3.0))


def test_tensor_dataset_accepts_tensor_like_objects():
    X, y = make_data(10)
    ds = TensorDataset(FakeTensor(X), y)
    assert ds.arrays[0] is X  # no copy
    np.testing.assert_array_equal(ds[np.array([1, 2])][0], X[1:3])


def test_tensor_dataset_index_errors():
    ds = TensorDataset(*make_data(10))
    with pytest.raises(IndexError, match="index 10 is out of range.*length 10"):
        ds[10]
    with pytest.raises(IndexError, match="index 12 is out of range"):
        ds[np.array([1, 12])]
    with pytest.raises(IndexError, match="integers"):
        ds[np.array([0.5])]
    with pytest.raises(IndexError, match="mask"):
        ds[np.ones(3, dtype=bool)]


def test_subset():
    X, y = make_data(20)
    sub = Subset(TensorDataset(X, y), np.array([4, 9, 2]))
    assert len(sub) == 3
    np.testing.assert_array_equal(sub[np.array([0, 2])][1], [4, 2])
    assert sub[1][1] == 9
    with pytest.raises(IndexError, match="out of range"):
        Subset(TensorDataset(X, y), [0, 20])


# --------------------------------------------------------------------------- loader
@pytest.mark.parametrize("drop_last, expected", [(False, [32, 32, 32, 7]), (True, [32, 32, 32])])
def test_batch_counts_and_sizes(drop_last, expected):
    ds = TensorDataset(*make_data(103))
    loader = DataLoader(ds, batch_size=32, drop_last=drop_last)
    assert len(loader) == len(expected)
    sizes = [xb.shape[0] for xb, _ in loader]
    assert sizes == expected


def test_unshuffled_order_and_tuple_dataset():
    X, y = make_data(10)
    loader = DataLoader((X, y), batch_size=4)
    batches = list(loader)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), X)
    assert all(isinstance(b, tuple) and len(b) == 2 for b in batches)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "32", None])
def test_batch_size_validation(bad):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {bad!r}"):
        DataLoader(TensorDataset(*make_data(10)), batch_size=bad)


def test_dataset_validation():
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(42)


def test_shuffle_reproducible_by_seed_and_different_per_epoch():
    ds = TensorDataset(*make_data())
    a = DataLoader(ds, batch_size=10, shuffle=True, seed=7)
    b = DataLoader(ds, batch_size=10, shuffle=True, seed=7)
    c = DataLoader(ds, batch_size=10, shuffle=True, seed=8)
    a0, a1 = epoch_ids(a), epoch_ids(a)
    np.testing.assert_array_equal(a0, epoch_ids(b))
    np.testing.assert_array_equal(a1, epoch_ids(b))
    assert not np.array_equal(a0, a1)
    assert not np.array_equal(a0, epoch_ids(c))
    assert a.epoch == 2
    # the documented recipe for epoch e
    rng = np.random.default_rng(np.random.SeedSequence([7, 1]))
    np.testing.assert_array_equal(a1, rng.permutation(len(ds)))


def test_no_sample_lost_or_duplicated():
    ds = TensorDataset(*make_data(103))
    loader = DataLoader(ds, batch_size=16, shuffle=True, seed=0)
    for _ in range(3):
        np.testing.assert_array_equal(np.sort(epoch_ids(loader)), np.arange(103))
    dl = DataLoader(ds, batch_size=16, shuffle=True, seed=0, drop_last=True)
    ids = epoch_ids(dl)
    assert ids.shape == (96,) and np.unique(ids).shape == (96,)


def test_features_follow_labels():
    X, y = make_data(50)
    for xb, yb in DataLoader((X, y), batch_size=7, shuffle=True, seed=3):
        np.testing.assert_array_equal(xb, X[yb])


def test_seed_none_uses_steepest_generator():
    ds = TensorDataset(*make_data(30))
    srandom.manual_seed(123)
    first = epoch_ids(DataLoader(ds, batch_size=8, shuffle=True))
    srandom.manual_seed(123)
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    assert loader.seed is not None
    np.testing.assert_array_equal(first, epoch_ids(loader))


def test_resume_from_state_dict_gives_same_next_epoch():
    ds = TensorDataset(*make_data(50))
    a = DataLoader(ds, batch_size=8, shuffle=True, seed=5)
    for _ in range(2):
        epoch_ids(a)
    state = a.state_dict()
    assert state["epoch"] == 2 and state["position"] == 0
    b = DataLoader(ds, batch_size=8, shuffle=True, seed=999)
    b.load_state_dict(state)
    np.testing.assert_array_equal(epoch_ids(a), epoch_ids(b))
    np.testing.assert_array_equal(epoch_ids(a), epoch_ids(b))


def test_resume_mid_epoch():
    ds = TensorDataset(*make_data(50))
    a = DataLoader(ds, batch_size=8, shuffle=True, seed=5)
    epoch_ids(a)
    seen, state = [], None
    for k, (_, yb) in enumerate(a):
        seen.append(yb)
        if k == 2:
            state = a.state_dict()  # checkpoint after the 3rd batch of epoch 1
    assert state is not None and state["epoch"] == 2 and state["position"] == 3
    b = DataLoader(ds, batch_size=8, shuffle=True, seed=5)
    b.load_state_dict(state)
    rest = [yb for _, yb in b]
    np.testing.assert_array_equal(np.concatenate(rest), np.concatenate(seen[3:]))
    assert b.epoch == 2
    np.testing.assert_array_equal(epoch_ids(a), epoch_ids(b))  # and the epochs after


def test_abandoned_iteration_is_not_resumed():
    ds = TensorDataset(*make_data(50))
    a = DataLoader(ds, batch_size=8, shuffle=True, seed=1)
    for _ in a:
        break
    assert a.state_dict()["position"] == 0
    assert a.state_dict()["epoch"] == 1


def test_set_epoch_and_state_mismatch():
    ds = TensorDataset(*make_data(40))
    a = DataLoader(ds, batch_size=8, shuffle=True, seed=2)
    a.set_epoch(4)
    np.testing.assert_array_equal(epoch_ids(a), a.permutation(4))
    assert a.epoch == 5
    with pytest.raises(ValueError, match="batch_size=8"):
        DataLoader(ds, batch_size=4, shuffle=True, seed=2).load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="epoch must be a non-negative integer"):
        a.set_epoch(-1)


def test_batches_are_fresh_arrays():
    X, y = make_data(20)
    X0 = X.copy()
    for shuffle in (False, True):
        for xb, _ in DataLoader((X, y), batch_size=5, shuffle=shuffle, seed=0):
            xb += 1000
    np.testing.assert_array_equal(X, X0)


def test_custom_dataset_gets_index_arrays():
    class Squares(Dataset):
        def __init__(self):
            self.calls = []

        def __len__(self):
            return 10

        def __getitem__(self, idx):
            self.calls.append(np.asarray(idx).shape)
            i = np.asarray(idx)
            return i, i**2

    ds = Squares()
    out = list(DataLoader(ds, batch_size=4, shuffle=True, seed=0))
    assert ds.calls == [(4,), (4,), (2,)]  # one call per batch, not per sample
    for i, sq in out:
        np.testing.assert_array_equal(sq, i**2)
