"""Elementwise math against torch: forward, gradient, second order, float32 and float64."""

import numpy as np
import pytest
import torch

import steepest as st
from tests.oracle import check

DTYPES = [np.float64, np.float32]


def _x(lo, hi, shape=(3, 4), seed=0, dtype=np.float64):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(dtype)


UNARY = {  # name: (domain, smooth: second order checked)
    "sin": ((-3, 3), True), "cos": ((-3, 3), True), "tan": ((-1.2, 1.2), True),
    "asin": ((-0.9, 0.9), True), "acos": ((-0.9, 0.9), True), "atan": ((-3, 3), True),
    "sinh": ((-2, 2), True), "cosh": ((-2, 2), True), "tanh": ((-2, 2), True),
    "asinh": ((-3, 3), True), "acosh": ((1.1, 3), True), "atanh": ((-0.9, 0.9), True),
    "exp2": ((-3, 3), True), "expm1": ((-3, 3), True), "log2": ((0.1, 3), True),
    "log10": ((0.1, 3), True), "log1p": ((-0.9, 3), True), "rsqrt": ((0.2, 3), True),
    "reciprocal": ((0.2, 3), True), "square": ((-3, 3), True), "frac": ((-3, 3), False),
    "sign": ((-3, 3), False), "floor": ((-3, 3), False), "ceil": ((-3, 3), False),
    "round": ((-3, 3), False), "trunc": ((-3, 3), False),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, dtype):
    (lo, hi), smooth = UNARY[name]
    x = _x(lo, hi, dtype=dtype)
    check(getattr(st, name), getattr(torch, name), [x], second_order=smooth)
    check(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), [x])


@pytest.mark.parametrize("name", ["sin", "exp2", "sign", "floor", "square", "log1p"])
def test_integer_inputs_follow_torch_dtype(name):
    x = np.array([[0, 1, 4], [9, 2, 3]], dtype=np.int64)
    fn = getattr(st, name, None) or getattr(st.ops, name)
    check(fn, getattr(torch, name), [x], grad=False)


def test_round_decimals_and_edges():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.25, 1e30, -0.0])
    check(st.round, torch.round, [x])
    check(lambda a: st.round(a, decimals=1), lambda a: torch.round(a, decimals=1),
          [np.array([1.25, 0.35, -2.45])])


BINARY = {
    "atan2": (lambda a, b: (a, b)),
    "hypot": (lambda a, b: (a, b)),
    "logaddexp": (lambda a, b: (a * 30, b)),  # a large gap
    "fmod": (lambda a, b: (a * 3, np.where(np.abs(b) < 0.3, 0.7, b))),
    "remainder": (lambda a, b: (a * 3, np.where(np.abs(b) < 0.3, -0.7, b))),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, dtype):
    a, b = BINARY[name](_x(-2, 2, dtype=dtype), _x(-2, 2, seed=1, dtype=dtype))
    smooth = name in ("atan2", "hypot", "logaddexp")
    check(getattr(st, name), getattr(torch, name), [a, b], second_order=smooth)
    check(getattr(st, name), getattr(torch, name), [a, b[:1]])  # broadcast
    if name in ("fmod", "remainder"):
        check(lambda x: getattr(st, name)(x, 1.5), lambda x: getattr(torch, name)(x, 1.5),
              [a])


def test_operators_mod_floordiv():
    a, b = _x(-5, 5), np.where(np.abs(_x(-2, 2, seed=1)) < .3, .9, _x(-2, 2, seed=1))
    check(lambda x, y: x % y, lambda x, y: x % y, [a, b])
    check(lambda x: x % 2.0, lambda x: x % 2.0, [a])
    check(lambda x, y: x // y, lambda x, y: x // y, [a, b], grad=False)
    i, j = np.array([7, -7, 8]), np.array([2, 2, -3])
    check(lambda x, y: x % y, lambda x, y: x % y, [i, j], grad=False)
    check(lambda x, y: x // y, lambda x, y: x // y, [i, j], grad=False)
    check(st.fmod, torch.fmod, [i, j], grad=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lerp(dtype):
    a, b, w = _x(-1, 1, dtype=dtype), _x(-1, 1, seed=1, dtype=dtype), _x(0, 1, seed=2,
                                                                          dtype=dtype)
    check(st.lerp, torch.lerp, [a, b, w], second_order=True)
    check(lambda x, y: st.lerp(x, y, 0.3), lambda x, y: torch.lerp(x, y, 0.3), [a, b])


@pytest.mark.parametrize("dtype", DTYPES)
def test_clamp_tensor_bounds(dtype):
    x = _x(-2, 2, dtype=dtype)
    lo, hi = _x(-1, 0, seed=1, dtype=dtype), _x(0, 1, seed=2, dtype=dtype)
    x[0, 0], lo[0, 0] = lo[0, 0], lo[0, 0]  # a tie with the bound
    x[0, 0] = lo[0, 0]
    check(st.clamp, torch.clamp, [x, lo, hi])
    check(lambda a, b: st.clamp(a, min=b), lambda a, b: torch.clamp(a, min=b), [x, lo])
    check(lambda a, b: a.clamp(max=b), lambda a, b: a.clamp(max=b), [x, hi[:1]])
    check(lambda a: st.clamp(a, -0.5, 0.5), lambda a: torch.clamp(a, -0.5, 0.5), [x])
    check(lambda a: a.clamp_min(0.1), lambda a: a.clamp_min(0.1), [x])


def test_tests_and_closeness():
    x = np.array([0.0, np.nan, np.inf, -np.inf, 1.0])
    y = np.array([1e-9, np.nan, np.inf, np.inf, 1.0 + 1e-6])
    for name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf"):
        check(getattr(st, name), getattr(torch, name), [x], grad=False)
    check(st.isclose, torch.isclose, [x, y], grad=False)
    check(lambda a, b: st.isclose(a, b, equal_nan=True),
          lambda a, b: torch.isclose(a, b, equal_nan=True), [x, y], grad=False)
    assert st.allclose(st.tensor([1.0, 2.0]), st.tensor([1.0, 2.0 + 1e-7]))
    assert not st.allclose(st.tensor([1.0]), st.tensor([1.1]))
    assert st.equal(st.tensor([1, 2]), st.tensor([1, 2]))
    assert not st.equal(st.tensor([1, 2]), st.tensor([1, 2, 3]))


def test_bitwise_and_logical():
    a = np.array([True, False, True, False])
    b = np.array([True, True, False, False])
    i, j = np.array([12, 5, -3]), np.array([10, 3, 7])
    for op in (lambda x, y: x & y, lambda x, y: x | y, lambda x, y: x ^ y):
        check(op, op, [a, b], grad=False)
        check(op, op, [i, j], grad=False)
    check(lambda x: ~x, lambda x: ~x, [a], grad=False)
    check(lambda x: ~x, lambda x: ~x, [i], grad=False)
    f = np.array([0.0, 2.0, -1.0, 0.0])
    for name in ("logical_and", "logical_or", "logical_xor"):
        check(getattr(st, name), getattr(torch, name), [f, a], grad=False)
    check(st.logical_not, torch.logical_not, [f], grad=False)
    with pytest.raises(TypeError, match="bitwise_and: needs bool or integer"):
        st.tensor([1.0]) & st.tensor([1.0])


def test_gradcheck_math():
    x = _x(0.2, 0.8)
    for fn in (st.asin, st.atanh, st.rsqrt, st.log1p, lambda a: st.atan2(a, a * 2 + 1),
               lambda a: st.logaddexp(a, -a), lambda a: st.hypot(a, a + 1)):
        assert st.gradcheck(fn, [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_logit_xlogy_nan_to_num(dtype):
    p = _x(0.05, 0.95, dtype=dtype)
    check(st.logit, torch.logit, [p], second_order=True)
    check(lambda a: st.logit(a, 0.2), lambda a: torch.logit(a, 0.2), [p])
    a, b = _x(-1, 1, dtype=dtype), _x(0.1, 2, seed=1, dtype=dtype)
    a[0, 0] = 0.0
    check(st.xlogy, torch.xlogy, [a, b], second_order=True)
    z = np.array([[0.0, 1.0], [2.0, 0.0]], dtype)
    check(st.xlogy, torch.xlogy, [z, np.array([[0.0, 0.5], [2.0, 3.0]], dtype)], grad=False)
    n = np.array([np.nan, np.inf, -np.inf, 1.5], dtype)
    check(st.nan_to_num, torch.nan_to_num, [n])
    check(lambda v: st.nan_to_num(v, 0.5, 9.0, -9.0),
          lambda v: torch.nan_to_num(v, 0.5, 9.0, -9.0), [n])
    check(st.sgn, torch.sgn, [a])
