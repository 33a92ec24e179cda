"""Linear, BatchNorm1d, Dropout, Flatten and Identity against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import steepest as st
import steepest.functional as F
from steepest import nn
from tests.oracle import check

DTYPES = [np.float32, np.float64]


def _randn(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- Linear --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xshape", [(5, 4), (2, 3, 4), (4,)])
def test_linear_function(dtype, xshape):
    x, w, b = _randn(*xshape, dtype=dtype), _randn(3, 4, seed=1, dtype=dtype), \
        _randn(3, seed=2, dtype=dtype)
    check(F.linear, tF.linear, [x, w, b], second_order=True)
    check(F.linear, tF.linear, [x, w], second_order=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_module_matches_torch(dtype):
    st.manual_seed(0)
    m = nn.Linear(6, 3, dtype=dtype)
    tm = torch.nn.Linear(6, 3, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(m.weight.data))
        tm.bias.copy_(torch.tensor(m.bias.data))
    x = _randn(4, 6, dtype=dtype)
    check(m, tm, [x])
    xt = st.Tensor(x)
    loss = (m(xt) * m(xt)).sum()
    loss.backward()
    tl = (tm(torch.tensor(x)) ** 2).sum()
    tl.backward()
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10)
    np.testing.assert_allclose(m.weight.grad.data, tm.weight.grad.numpy(), **tol)
    np.testing.assert_allclose(m.bias.grad.data, tm.bias.grad.numpy(), **tol)
    assert m.weight.grad.dtype == dtype


def test_linear_is_one_node_and_skips_input_grad():
    m = nn.Linear(4, 3)
    x = st.Tensor(np.ones((2, 4), np.float32))
    y = m(x)
    assert type(y.creator).__name__ == "Linear"
    assert y.creator.inputs[1] is m.weight and y.creator.inputs[2] is m.bias
    y.sum().backward()  # x does not require grad: no dx is computed
    assert x.grad is None and m.weight.grad.shape == (3, 4)
    np.testing.assert_allclose(m.weight.grad.data, np.full((3, 4), 2.0))
    np.testing.assert_allclose(m.bias.grad.data, np.full(3, 2.0))


def test_linear_no_bias_and_shapes():
    m = nn.Linear(4, 3, bias=False)
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    assert m.weight.shape == (3, 4) and m.weight.dtype == np.float32
    assert repr(m).startswith("Linear(in_features=4, out_features=3, bias=False)")


def test_linear_wrong_width_message():
    m = nn.Linear(784, 10)
    with pytest.raises(ValueError, match=r"linear: input shape \(32, 700\) does not match "
                                         r"in_features=784"):
        m(st.Tensor(np.zeros((32, 700), np.float32)))


def test_linear_default_init_is_pytorch_uniform():
    st.manual_seed(3)
    m = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    for p in (m.weight.data, m.bias.data):
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.95 * bound
    np.testing.assert_allclose(m.weight.data.std(), bound / np.sqrt(3), rtol=0.02)


def test_linear_gradcheck():
    x, w, b = _randn(3, 4), _randn(2, 4, seed=1), _randn(2, seed=2)
    assert st.gradcheck(F.linear, [x, w, b])


def test_linear_mixed_dtype_refused():
    m = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="float64"):
        m(np.zeros((2, 3)))


# -- BatchNorm ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batch_norm_train_function(dtype, shape):
    x = (_randn(*shape, dtype=dtype) * 2 + 1).astype(dtype)
    g, b = _randn(3, seed=1, dtype=dtype), _randn(3, seed=2, dtype=dtype)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else {}
    check(lambda a, c, d: F.batch_norm(a, None, None, c, d, training=True),
          lambda a, c, d: tF.batch_norm(a, None, None, c, d, training=True),
          [x, g, b], second_order=True, **tol)
    check(lambda a: F.batch_norm(a, None, None, training=True),
          lambda a: tF.batch_norm(a, None, None, training=True), [x], second_order=True,
          **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batch_norm_eval_function(dtype, shape):
    x = _randn(*shape, dtype=dtype)
    g, b = _randn(3, seed=1, dtype=dtype), _randn(3, seed=2, dtype=dtype)
    rm, rv = _randn(3, seed=3, dtype=dtype), np.abs(_randn(3, seed=4, dtype=dtype)) + 0.5
    check(lambda a, c, d: F.batch_norm(a, rm, rv, c, d, training=False),
          lambda a, c, d: tF.batch_norm(a, torch.tensor(rm), torch.tensor(rv), c, d,
                                        training=False),
          [x, g, b], second_order=True)


def _torch_bn(m, dtype):
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    return torch.nn.BatchNorm1d(m.num_features, eps=m.eps, momentum=m.momentum,
                                affine=m.affine, track_running_stats=m.track_running_stats,
                                dtype=tdt)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(16, 4), (6, 4, 7)])
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batchnorm1d_running_stats_match_torch(dtype, shape, momentum):
    m = nn.BatchNorm1d(4, momentum=momentum, dtype=dtype)
    tm = _torch_bn(m, dtype)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        g = rng.uniform(0.5, 2, 4).astype(dtype)
        m.weight.data[...] = g
        tm.weight.copy_(torch.tensor(g))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for step in range(5):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(dtype)
        y = m(st.Tensor(x))
        ty = tm(torch.tensor(x))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(m.running_mean, tm.running_mean.numpy(), **tol)
    np.testing.assert_allclose(m.running_var, tm.running_var.numpy(), **tol)
    assert int(m.num_batches_tracked) == int(tm.num_batches_tracked) == 5
    assert m.running_mean.dtype == dtype
    m.eval()
    tm.eval()
    check(m, tm, [(rng.standard_normal(shape) * 3).astype(dtype)])
    m.train()
    tm.train()
    check(m, tm, [(rng.standard_normal(shape) * 3).astype(dtype)],
          **(dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else {}))


def test_batchnorm1d_param_grads_and_state_dict_match_torch():
    m = nn.BatchNorm1d(3)
    tm = torch.nn.BatchNorm1d(3)
    assert list(m.state_dict()) == list(tm.state_dict())
    x = _randn(10, 3, dtype=np.float32)
    w = _randn(10, 3, seed=5, dtype=np.float32)
    (m(st.Tensor(x)) * w).sum().backward()
    (tm(torch.tensor(x)) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(m.weight.grad.data, tm.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(m.bias.grad.data, tm.bias.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_batchnorm1d_options():
    for kw in ({"affine": False}, {"track_running_stats": False},
               {"affine": False, "track_running_stats": False}):
        m = nn.BatchNorm1d(3, **kw)
        tm = torch.nn.BatchNorm1d(3, **kw)
        x = _randn(6, 3, dtype=np.float32)
        check(m, tm, [x], rtol=1e-4, atol=1e-4)
        m.eval()
        tm.eval()
        check(m, tm, [x], rtol=1e-4, atol=1e-4)
        assert list(m.state_dict()) == list(tm.state_dict())


def test_batchnorm_gradcheck_and_errors():
    x = _randn(5, 3) * 2
    g, b = _randn(3, seed=1), _randn(3, seed=2)
    assert st.gradcheck(lambda a, c, d: F.batch_norm(a, None, None, c, d, training=True),
                        [x, g, b])
    assert st.gradcheck(lambda a: F.batch_norm(a, np.zeros(3), np.ones(3), training=False),
                        [x])
    m = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        m(st.Tensor(np.zeros((4, 5), np.float32)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        m(st.Tensor(np.zeros((1, 3), np.float32)))


def test_batchnorm_running_stats_not_touched_by_backward_or_eval():
    m = nn.BatchNorm1d(2)
    m.eval()
    m(st.Tensor(np.ones((4, 2), np.float32)))
    assert int(m.num_batches_tracked) == 0 and (m.running_mean == 0).all()


# -- Dropout ------------------------------------------------------------------------------


def test_dropout_statistics():
    st.manual_seed(0)
    x = st.Tensor(np.ones((200, 500), np.float32), requires_grad=True)
    for p in (0.1, 0.5, 0.8):
        y = F.dropout(x, p, training=True)
        zero = (y.data == 0).mean()
        assert abs(zero - p) < 0.01, (p, zero)
        kept = y.data[y.data != 0]
        np.testing.assert_allclose(kept, np.float32(1 / (1 - p)), rtol=1e-6)
        assert y.dtype == np.float32
        (gx,) = st.grad((y * 3.0).sum(), [x])
        np.testing.assert_allclose(gx.data, 3.0 * y.data, rtol=1e-6)


def test_dropout_module_modes_and_seed():
    m = nn.Dropout(0.3)
    x = st.Tensor(np.random.default_rng(0).standard_normal((50, 40)).astype(np.float32))
    st.manual_seed(42)
    a = m(x).data.copy()
    st.manual_seed(42)
    b = m(x).data.copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, m(x).data)
    m.eval()
    assert m(x) is x
    assert repr(m) == "Dropout(p=0.3)"
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, 0.0)
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(1.5)


def test_dropout_matches_torch_given_the_same_mask():
    st.manual_seed(1)
    x = _randn(6, 5)
    y = F.dropout(st.Tensor(x), 0.4).data
    mask = (y != 0).astype(np.float64) / 0.6
    check(lambda a: F.dropout(a, 0.0) * mask, lambda a: a * torch.tensor(mask), [x])


# -- Flatten / Identity -------------------------------------------------------------------


def test_flatten_and_identity():
    x = _randn(2, 3, 4, 5)
    check(nn.Flatten(), torch.nn.Flatten(), [x])
    check(nn.Flatten(0), torch.nn.Flatten(0), [x])
    check(nn.Flatten(1, 2), torch.nn.Flatten(1, 2), [x])
    check(nn.Identity(), torch.nn.Identity(), [x])
