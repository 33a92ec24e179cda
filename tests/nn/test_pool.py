"""Pooling, adaptive pooling and interpolation against PyTorch (ties, ceil_mode, border
divisors, indices, second derivatives)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import steepest as st
import steepest.functional as F
from tests.oracle import check, compare


def _randn(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _tied(*shape, seed=0):
    """Small integers: many windows hold several equal maxima."""
    return np.round(_randn(*shape, seed=seed) * 1.2)


POOLS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
         dict(kernel_size=(2, 3), stride=(1, 2), ceil_mode=True),
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
         dict(kernel_size=(3, 1), stride=1), dict(kernel_size=(7, 8)),
         dict(kernel_size=2, stride=3, ceil_mode=True)]


@pytest.mark.parametrize("kw", POOLS)
@pytest.mark.parametrize("tied", [False, True])
def test_max_pool2d(kw, tied):
    x = (_tied if tied else _randn)(2, 3, 7, 8)
    check(lambda x: F.max_pool2d(x, **kw), lambda x: tF.max_pool2d(x, **kw), [x],
          second_order=True)
    ours = F.max_pool2d(st.Tensor(x), return_indices=True, **kw)[1]
    theirs = tF.max_pool2d(torch.tensor(x), return_indices=True, **kw)[1]
    compare(ours, theirs, "indices", 0, 0)


@pytest.mark.parametrize("kw", [dict(kernel_size=3, dilation=2), dict(
    kernel_size=(2, 3), dilation=(2, 1), stride=2, padding=1, ceil_mode=True)])
def test_max_pool2d_dilation(kw):
    x = _tied(2, 2, 9, 8)
    check(lambda x: F.max_pool2d(x, **kw), lambda x: tF.max_pool2d(x, **kw), [x])
    check(lambda x: F.max_pool2d(x, **kw), lambda x: tF.max_pool2d(x, **kw),
          [x.astype(np.float32)])


@pytest.mark.parametrize("kw", POOLS)
@pytest.mark.parametrize("include_pad", [True, False])
def test_avg_pool2d(kw, include_pad):
    x = _randn(2, 3, 7, 8)
    check(lambda x: F.avg_pool2d(x, count_include_pad=include_pad, **kw),
          lambda x: tF.avg_pool2d(x, count_include_pad=include_pad, **kw), [x],
          second_order=True)


def test_avg_pool2d_divisor_override_and_float32():
    x = _randn(2, 3, 6, 6, dtype=np.float32)
    check(lambda x: F.avg_pool2d(x, 3, 2, 1, divisor_override=4),
          lambda x: tF.avg_pool2d(x, 3, 2, 1, divisor_override=4), [x])
    check(lambda x: F.avg_pool2d(x, 2), lambda x: tF.avg_pool2d(x, 2), [x])


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1,
                                                          ceil_mode=True)])
def test_pool1d(kw):
    x = _tied(2, 3, 11)
    check(lambda x: F.max_pool1d(x, **kw), lambda x: tF.max_pool1d(x, **kw), [x],
          second_order=True)
    compare(F.max_pool1d(st.Tensor(x), return_indices=True, **kw)[1],
            tF.max_pool1d(torch.tensor(x), return_indices=True, **kw)[1], "indices", 0, 0)
    check(lambda x: F.avg_pool1d(x, **kw), lambda x: tF.avg_pool1d(x, **kw), [x],
          second_order=True)
    check(lambda x: F.avg_pool1d(x, count_include_pad=False, **kw),
          lambda x: tF.avg_pool1d(x, count_include_pad=False, **kw), [x])


@pytest.mark.parametrize("size", [1, (3, 4), (2, None), 5, (7, 8)])
def test_adaptive_pools(size):
    x = _randn(2, 3, 7, 8)
    check(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: tF.adaptive_avg_pool2d(x, size),
          [x], second_order=True)
    xt = _tied(2, 3, 7, 8)
    check(lambda x: F.adaptive_max_pool2d(x, size), lambda x: tF.adaptive_max_pool2d(x, size),
          [xt], second_order=True)
    compare(F.adaptive_max_pool2d(st.Tensor(xt), size, return_indices=True)[1],
            tF.adaptive_max_pool2d(torch.tensor(xt), size, return_indices=True)[1],
            "indices", 0, 0)


@pytest.mark.parametrize("kw", [dict(size=(5, 11)), dict(scale_factor=2),
                                dict(scale_factor=(1.5, 0.7))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_interpolate(kw, dtype):
    x = _randn(2, 3, 7, 8, dtype=dtype)
    check(lambda x: F.interpolate(x, **kw), lambda x: tF.interpolate(x, **kw), [x],
          second_order=dtype == np.float64)
    for ac in (False, True):
        check(lambda x, ac=ac: F.interpolate(x, mode="bilinear", align_corners=ac, **kw),
              lambda x, ac=ac: tF.interpolate(x, mode="bilinear", align_corners=ac, **kw), [x])


def test_interpolate_1d():
    x = _randn(2, 3, 5)
    check(lambda x: F.interpolate(x, scale_factor=3, mode="linear"),
          lambda x: tF.interpolate(x, scale_factor=3, mode="linear"), [x])
    check(lambda x: F.interpolate(x, size=8), lambda x: tF.interpolate(x, size=8), [x])


def test_pool_gradcheck_small():
    x = _randn(1, 2, 5, 4)
    assert st.gradcheck(lambda x: F.max_pool2d(x, 2, 1, ceil_mode=True), [x])
    assert st.gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [x])
    assert st.gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 3)), [x])
    assert st.gradcheck(lambda x: F.interpolate(x, size=(7, 3), mode="bilinear"), [x])


def test_pool_errors():
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 3-D \(unbatched\) or 4-D"):
        F.max_pool2d(np.zeros((2, 3), np.float32), 2)
    with pytest.raises(ValueError, match=r"max_pool2d: input of shape \(1, 1, 2, 2\) is too "
                                         r"small for kernel \(3, 3\)"):
        F.max_pool2d(np.zeros((1, 1, 2, 2), np.float32), 3)
    with pytest.raises(ValueError, match="at most half of the kernel size"):
        F.avg_pool2d(np.zeros((1, 1, 6, 6), np.float32), 2, padding=2)
    with pytest.raises(ValueError, match="interpolate: mode 'bilinear' is not supported"):
        F.interpolate(np.zeros((1, 1, 6), np.float32), size=3, mode="bilinear")
    with pytest.raises(TypeError, match="avg_pool2d: input must be floating point"):
        F.avg_pool2d(np.zeros((1, 1, 4, 4), np.int64), 2)


@pytest.mark.parametrize("kw", POOLS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool2d_plain_backward_ties(kw, dtype):
    """The plain backward (one pass over the taps, no winners array) against torch and
    against the create_graph path, on tied inputs (the first maximum takes the gradient)."""
    x = _tied(2, 3, 7, 8).astype(dtype)
    check(lambda x: F.max_pool2d(x, **kw), lambda x: tF.max_pool2d(x, **kw), [x])
    g = np.random.default_rng(1).standard_normal(tF.max_pool2d(torch.tensor(x), **kw).shape)
    grads = []
    for create in (False, True):
        t = st.Tensor(x, requires_grad=True)
        (F.max_pool2d(t, **kw) * st.Tensor(g.astype(dtype))).sum().backward(
            create_graph=create)
        grads.append(t.grad.data if isinstance(t.grad, st.Tensor) else t.grad)
    np.testing.assert_array_equal(grads[0], grads[1])
    assert grads[0].dtype == dtype
