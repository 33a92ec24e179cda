"""Activations (functions and modules) against PyTorch: forward, gradients, second
derivatives, float32 and float64, edge values (0 for ReLU, ±1000 everywhere)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import steepest as st
import steepest.functional as F
from steepest import nn
from tests.oracle import check

# name -> (steepest function, torch function, steepest module, torch module)
ACTIVATIONS = {
    "relu": (F.relu, torch.relu, nn.ReLU(), torch.nn.ReLU()),
    "sigmoid": (F.sigmoid, torch.sigmoid, nn.Sigmoid(), torch.nn.Sigmoid()),
    "tanh": (F.tanh, torch.tanh, nn.Tanh(), torch.nn.Tanh()),
    "leaky_relu": (F.leaky_relu, tF.leaky_relu, nn.LeakyReLU(), torch.nn.LeakyReLU()),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: tF.leaky_relu(x, 0.2),
                       nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    "elu": (F.elu, tF.elu, nn.ELU(), torch.nn.ELU()),
    "elu_0.5": (lambda x: F.elu(x, 0.5), lambda x: tF.elu(x, 0.5), nn.ELU(0.5),
                torch.nn.ELU(0.5)),
    "gelu": (F.gelu, tF.gelu, nn.GELU(), torch.nn.GELU()),
    "gelu_tanh": (lambda x: F.gelu(x, "tanh"), lambda x: tF.gelu(x, approximate="tanh"),
                  nn.GELU("tanh"), torch.nn.GELU(approximate="tanh")),
    "softplus": (F.softplus, tF.softplus, nn.Softplus(), torch.nn.Softplus()),
    "softplus_b2_t5": (lambda x: F.softplus(x, 2.0, 5.0), lambda x: tF.softplus(x, 2.0, 5.0),
                       nn.Softplus(2.0, 5.0), torch.nn.Softplus(2.0, 5.0)),
    "softmax": (F.softmax, lambda x: torch.softmax(x, -1), nn.Softmax(),
                torch.nn.Softmax(-1)),
    "softmax_axis0": (lambda x: F.softmax(x, 0), lambda x: torch.softmax(x, 0),
                      nn.Softmax(0), torch.nn.Softmax(0)),
    "log_softmax": (F.log_softmax, lambda x: torch.log_softmax(x, -1), nn.LogSoftmax(),
                    torch.nn.LogSoftmax(-1)),
    "log_softmax_axis0": (lambda x: F.log_softmax(x, 0), lambda x: torch.log_softmax(x, 0),
                          nn.LogSoftmax(0), torch.nn.LogSoftmax(0)),
}


def _inputs(dtype, extreme=False):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 7)) * 3
    x[0, :5] = [0.0, -0.0, 1e-3, -1e-3, 0.0]  # exact zeros: ReLU's kink
    if extreme:
        x[1] = [1000.0, -1000.0, 999.0, 0.5, -999.0, 1000.0, 3.0]
        x[2, :] = -1000.0
        x[3, :] = 1000.0
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_function_matches_torch(name, dtype):
    f, tf, _, _ = ACTIVATIONS[name]
    check(f, tf, [_inputs(dtype)], second_order=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_extreme_inputs_are_stable(name, dtype):
    f, tf, _, _ = ACTIVATIONS[name]
    x = _inputs(dtype, extreme=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow
        y = f(st.Tensor(x))
    assert np.isfinite(y.data).all()
    check(f, tf, [x], second_order=True)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_module_matches_torch(name):
    _, _, m, tm = ACTIVATIONS[name]
    check(m, tm, [_inputs(np.float32)])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_gradcheck(name):
    f = ACTIVATIONS[name][0]
    x = np.random.default_rng(2).uniform(0.1, 2.0, (3, 4)) * np.array([1, -1, 1, -1])
    assert st.gradcheck(f, [x])


def test_dtype_preserved_and_single_node():
    x = st.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    for name, (f, *_rest) in ACTIVATIONS.items():
        y = f(x)
        assert y.dtype == np.float32, name
        assert all(inp is x for inp in y.creator.inputs), f"{name} is not one node"


def test_relu_gradient_at_zero_is_zero():
    x = st.Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 1.0])


def test_softmax_rows_sum_to_one_at_extremes():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], np.float32)
    p = F.softmax(st.Tensor(x)).data
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-6)
    lp = F.log_softmax(st.Tensor(x)).data
    np.testing.assert_allclose(lp[0], [0.0, -2000.0, -1000.0])


def test_bad_arguments():
    x = st.Tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="softmax: dim 2 is out of range for a 2-d tensor"):
        F.softmax(x, axis=2)
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, "fast")
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


def test_erf_fallback_matches_math_erf():
    from steepest.functional.activation import _erf_fallback

    x = np.linspace(-4, 4, 41)
    np.testing.assert_allclose(_erf_fallback(x), torch.erf(torch.tensor(x)).numpy(),
                               rtol=1e-14, atol=1e-15)
    assert _erf_fallback(x.astype(np.float32)).dtype == np.float32


def test_repr_of_activation_modules():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.ReLU()) == "ReLU()"
