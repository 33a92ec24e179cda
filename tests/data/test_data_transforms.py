"""StandardScaler / MinMaxScaler / one_hot / Compose, Flatten, ToFloat."""

from __future__ import annotations

import numpy as np
import pytest

from steepest.data import Compose, Flatten, MinMaxScaler, StandardScaler, ToFloat, one_hot


def train_val(dtype=np.float32):
    rng = np.random.default_rng(0)
    tr = (rng.standard_normal((200, 5)) * [1, 2, 3, 4, 5] + [10, -3, 0, 1, 7]).astype(dtype)
    va = (rng.standard_normal((50, 5)) * 3 + 1).astype(dtype)
    return tr, va


def test_standard_scaler_uses_train_statistics_on_val():
    tr, va = train_val(np.float64)
    sc = StandardScaler().fit(tr)
    expected = (va - tr.mean(axis=0)) / tr.std(axis=0)
    np.testing.assert_allclose(sc.transform(va), expected, rtol=1e-12)
    z = sc.transform(tr)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1, rtol=1e-12)
    assert sc.n_samples_seen_ == 200


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scalers_keep_dtype_and_round_trip(cls, dtype):
    tr, va = train_val(dtype)
    sc = cls().fit(tr)
    z = sc.transform(va)
    assert z.dtype == dtype
    back = sc.inverse_transform(z)
    assert back.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(back, va, rtol=tol, atol=tol)
    assert sc.fit_transform(tr).dtype == dtype
    assert sc(va).dtype == dtype  # callable, for Compose


def test_integer_input_becomes_float32():
    X = np.arange(12, dtype=np.uint8).reshape(4, 3)
    assert StandardScaler().fit_transform(X).dtype == np.float32


def test_zero_variance_features():
    X = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]], dtype=np.float32)
    z = StandardScaler().fit_transform(X)
    assert np.isfinite(z).all()
    np.testing.assert_array_equal(z[:, 1], 0)
    m = MinMaxScaler((-1, 1)).fit_transform(X)
    np.testing.assert_allclose(m[:, 0], [-1, 0, 1])
    np.testing.assert_array_equal(m[:, 1], -1)


def test_minmax_range_and_no_clipping():
    tr, va = train_val(np.float64)
    sc = MinMaxScaler((2, 5)).fit(tr)
    z = sc.transform(tr)
    np.testing.assert_allclose(z.min(axis=0), 2)
    np.testing.assert_allclose(z.max(axis=0), 5)
    np.testing.assert_allclose(sc.data_min_, tr.min(axis=0))
    wide = sc.transform(tr * 10)
    assert wide.max() > 5  # out-of-range data is not clipped


def test_nan_and_inf_raise():
    X = np.ones((4, 3), dtype=np.float32)
    X[2, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"StandardScaler.fit: input contains nan at index \(2, 1\)"
    ):
        StandardScaler().fit(X)
    sc = MinMaxScaler().fit(np.ones((4, 3)))
    X[2, 1] = np.inf
    with pytest.raises(ValueError, match="MinMaxScaler.transform: input contains inf"):
        sc.transform(X)


def test_unfitted_and_shape_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(np.ones((2, 2)))
    sc = StandardScaler().fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"expected samples of shape \(4,\).*\(3, 5\)"):
        sc.transform(np.ones((3, 5)))
    with pytest.raises(ValueError, match="feature_range"):
        MinMaxScaler((1, 1))


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_state_dict_round_trip(cls):
    tr, va = train_val()
    sc = cls().fit(tr) if cls is StandardScaler else cls((-1, 1)).fit(tr)
    state = sc.state_dict()
    fresh = cls()
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh.transform(va), sc.transform(va))
    if cls is MinMaxScaler:
        assert fresh.feature_range == (-1.0, 1.0)
    with pytest.raises(KeyError, match="missing"):
        cls().load_state_dict({})


def test_one_hot():
    out = one_hot(np.array([2, 0, 1]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1]])
    assert one_hot(np.array([[0, 1], [1, 0]]), 4).shape == (2, 2, 4)
    assert one_hot([1.0, 2.0], 3, dtype=np.int64).dtype == np.int64


@pytest.mark.parametrize(
    "labels, n, match",
    [
        ([0, 10], 10, r"label 10 is out of range \[0, 10\) for num_classes=10"),
        ([-1, 2], 3, r"label -1 is out of range \[0, 3\)"),
        ([0.5], 3, "labels must be integers, got 0.5"),
        ([0, 1], 0, "num_classes must be a positive integer"),
        ([], None, "empty"),
    ],
)
def test_one_hot_errors(labels, n, match):
    with pytest.raises(ValueError, match=match):
        one_hot(np.array(labels), n)


def test_compose_flatten_tofloat():
    X = np.full((2, 28, 28), 255, dtype=np.uint8)
    out = Compose([ToFloat(), Flatten()])(X)
    assert out.shape == (2, 784) and out.dtype == np.float32
    np.testing.assert_allclose(out, 1.0, rtol=1e-6)
    with pytest.raises(TypeError, match="not callable"):
        Compose([1])
    with pytest.raises(ValueError, match="floating"):
        ToFloat(dtype=np.int32)
