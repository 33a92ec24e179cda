"""Gradient clipping against torch.nn.utils."""

import math

import numpy as np
import pytest
import torch

import steepest as st
import steepest.optim as so
from tests.optim.helpers import make_params, set_grads, st_params, torch_params


def _pair(scale=1.0, dtype=np.float64, seed=0):
    arrays = make_params(seed, dtype=dtype)
    sp, tp = st_params(arrays), torch_params(arrays)
    grads = [(g * scale).astype(dtype) for g in make_params(seed + 1, dtype=dtype)]
    set_grads(sp, tp, grads)
    return sp, tp


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm):
    sp, tp = _pair(dtype=dtype)
    total = so.clip_grad_norm_(sp, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert total == pytest.approx(ttotal.item(), rel=tol)
    for p, q in zip(sp, tp):
        assert p.grad.data.dtype == dtype
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=tol, atol=tol)
    if max_norm < total:
        assert so.grad_norm(sp, norm_type) == pytest.approx(max_norm, rel=1e-5)


def test_clip_grad_norm_single_tensor_and_missing_grads():
    a = st.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    b = st.Tensor(np.zeros(3), requires_grad=True)  # no grad: ignored
    a.grad = st.Tensor(np.array([3.0, 4.0]))
    assert so.clip_grad_norm_(a, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.data, [0.6, 0.8], rtol=1e-6)
    assert so.clip_grad_norm_([a, b], 1.0) == pytest.approx(1.0, rel=1e-5)
    assert so.clip_grad_norm_([b], 1.0) == 0.0


def test_clip_grad_norm_shared_gradient_array_scaled_once():
    a = st.Tensor(np.zeros(2), requires_grad=True)
    b = st.Tensor(np.zeros(2), requires_grad=True)
    shared = st.Tensor(np.array([3.0, 4.0]))
    a.grad = b.grad = shared
    total = so.clip_grad_norm_([a, b], 1.0)
    assert total == pytest.approx(math.sqrt(50.0))
    coef = 1.0 / (math.sqrt(50.0) + 1e-6)
    np.testing.assert_allclose(shared.data, np.array([3.0, 4.0]) * coef)


def test_clip_read_only_gradient_is_replaced_not_written():
    a = st.Tensor(np.zeros(2), requires_grad=True)
    g = np.array([3.0, 4.0])
    g.flags.writeable = False
    a.grad = st.Tensor(g)
    so.clip_grad_norm_([a], 1.0)
    np.testing.assert_array_equal(g, [3.0, 4.0])
    np.testing.assert_allclose(a.grad.data, [0.6, 0.8], rtol=1e-5)
    a.grad = st.Tensor(g)
    so.clip_grad_value_([a], 3.5)
    np.testing.assert_array_equal(a.grad.data, [3.0, 3.5])


def test_clip_grad_norm_nonfinite():
    sp, tp = _pair()
    sp[1].grad.data[0] = np.nan
    tp[1].grad[0] = float("nan")
    with pytest.raises(so.NonFiniteGradientError, match="total norm"):
        so.clip_grad_norm_(sp, 1.0, error_if_nonfinite=True)
    total = so.clip_grad_norm_(sp, 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_(tp, 1.0)
    assert math.isnan(total) and math.isnan(ttotal.item())
    for p, q in zip(sp, tp):
        np.testing.assert_array_equal(np.isnan(p.grad.data), np.isnan(q.grad.numpy()))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_value_matches_torch(dtype):
    sp, tp = _pair(dtype=dtype)
    assert so.clip_grad_value_(sp, 0.7) is None
    torch.nn.utils.clip_grad_value_(tp, 0.7)
    for p, q in zip(sp, tp):
        assert p.grad.data.dtype == dtype
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())


def test_clip_errors():
    sp, _ = _pair()
    with pytest.raises(ValueError, match="max_norm"):
        so.clip_grad_norm_(sp, -1.0)
    with pytest.raises(ValueError, match="clip_value"):
        so.clip_grad_value_(sp, float("nan"))
