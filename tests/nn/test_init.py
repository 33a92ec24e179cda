"""Initialisers: sample statistics match the formulas; seeding makes them reproducible."""

import math

import numpy as np
import pytest
import torch

import steepest as st
from steepest import nn
from steepest.nn import init

FAN_OUT, FAN_IN = 600, 1000  # weight (out, in): 600,000 samples


def _w(dtype=np.float32):
    return nn.Parameter(np.zeros((FAN_OUT, FAN_IN), dtype=dtype))


def _check_normal(a, std, mean=0.0):
    n = a.size
    assert abs(a.mean() - mean) < 5 * std / math.sqrt(n)
    np.testing.assert_allclose(a.std(), std, rtol=0.01)


def _check_uniform(a, bound):
    assert a.min() >= -bound and a.max() <= bound
    assert a.max() > 0.999 * bound and a.min() < -0.999 * bound
    np.testing.assert_allclose(a.std(), bound / math.sqrt(3), rtol=0.01)
    assert abs(a.mean()) < 5 * bound / math.sqrt(3 * a.size)


def test_xavier_is_glorot_not_lecun():
    st.manual_seed(0)
    _check_uniform(init.xavier_uniform_(_w()).data, math.sqrt(6 / (FAN_IN + FAN_OUT)))
    _check_normal(init.xavier_normal_(_w()).data, math.sqrt(2 / (FAN_IN + FAN_OUT)))
    _check_normal(init.xavier_normal(_w(), gain=2.0).data,
                  2 * math.sqrt(2 / (FAN_IN + FAN_OUT)))
    _check_normal(init.lecun_normal_(_w()).data, math.sqrt(1 / FAN_IN))


@pytest.mark.parametrize("mode,fan", [("fan_in", FAN_IN), ("fan_out", FAN_OUT)])
def test_kaiming(mode, fan):
    st.manual_seed(1)
    _check_normal(init.kaiming_normal_(_w(), mode=mode, nonlinearity="relu").data,
                  math.sqrt(2 / fan))
    _check_uniform(init.kaiming_uniform_(_w(), mode=mode, nonlinearity="relu").data,
                   math.sqrt(6 / fan))
    gain = math.sqrt(2 / (1 + 0.2 ** 2))
    _check_normal(init.kaiming_normal(_w(), a=0.2, mode=mode).data, gain / math.sqrt(fan))
    _check_normal(init.kaiming_normal(_w(), mode=mode, nonlinearity="tanh").data,
                  5 / 3 / math.sqrt(fan))


def test_basic_fills():
    st.manual_seed(2)
    w = _w(np.float64)
    _check_normal(init.normal_(w, mean=1.0, std=0.5).data, 0.5, mean=1.0)
    a = init.uniform(_w(), -2.0, 3.0).data
    assert a.min() >= -2 and a.max() < 3
    np.testing.assert_allclose(a.mean(), 0.5, atol=0.01)
    assert (init.zeros(_w()).data == 0).all() and (init.ones_(_w()).data == 1).all()
    assert (init.constant(_w(), 0.25).data == 0.25).all()
    t = init.trunc_normal_(_w(), std=1.0, a=-1.0, b=1.0).data
    assert t.min() >= -1 and t.max() <= 1 and t.std() > 0.5
    raw = np.zeros((3, 4), np.float32)
    assert init.normal_(raw) is raw and raw.std() > 0  # plain arrays work too


def test_dtypes_preserved():
    for dt in (np.float32, np.float64):
        w = _w(dt)
        for f in (init.xavier_uniform_, init.kaiming_normal_, init.normal_, init.uniform_):
            f(w)
            assert w.dtype == dt


def test_same_seed_same_weights():
    def build():
        st.manual_seed(123)
        return nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))

    a, b = build(), build()
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(x, y, err_msg=k)
    st.manual_seed(124)
    c = nn.Linear(20, 30)
    assert not np.array_equal(c.weight.data, a[0].weight.data)


@pytest.mark.parametrize("name,param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None),
                                        ("leaky_relu", 0.3), ("selu", None),
                                        ("conv2d", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param))


def test_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(nn.Parameter(np.zeros(5)))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(_w(), mode="fan_avg")
    with pytest.raises(ValueError, match="nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(np.zeros((2, 2), np.int64))
