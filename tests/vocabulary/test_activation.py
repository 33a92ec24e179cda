"""Activations (functions, modules, Tensor methods) against torch, edge values included."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import steepest as st
import steepest.functional as F
from steepest import nn
from tests.oracle import check

DTYPES = [np.float64, np.float32]
# the kinks of the piecewise activations, 0, and large magnitudes
EDGES = np.array([-1000.0, -6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 30.0, 1000.0])

ACTS = {  # name: (kwargs, smooth)
    "silu": ({}, True), "selu": ({}, True), "celu": ({"alpha": 0.5}, True),
    "relu6": ({}, False), "hardtanh": ({"min_val": -0.5, "max_val": 2.0}, False),
    "hardswish": ({}, False), "hardsigmoid": ({}, False), "mish": ({}, True),
    "softsign": ({}, True), "logsigmoid": ({}, True), "tanhshrink": ({}, True),
    "hardshrink": ({"lambd": 0.5}, False), "softshrink": ({"lambd": 0.5}, False),
    "threshold": ({"threshold": 0.5, "value": -2.0}, False),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTS))
def test_activation(name, dtype):
    kw, smooth = ACTS[name]
    x = np.random.default_rng(0).uniform(-4, 4, (3, 5)).astype(dtype)
    # torch's float64 hardsigmoid backward multiplies by the float32 constant 1/6 (and
    # celu's by a float32 1/alpha: alpha = 0.5 is exact); ours are exact
    tol = {"rtol": 1e-7} if name == "hardsigmoid" and dtype == np.float64 else {}
    check(lambda a: getattr(F, name)(a, **kw), lambda a: getattr(tF, name)(a, **kw), [x],
          second_order=smooth, **tol)
    edges = EDGES.astype(dtype)
    if name in ("mish", "silu", "tanhshrink", "selu", "celu") and dtype == np.float32:
        edges = edges[1:-1]  # torch's float32 second-order overflows at ±1000
    check(lambda a: getattr(F, name)(a, **kw), lambda a: getattr(tF, name)(a, **kw), [edges],
          second_order=smooth and dtype == np.float64 and name not in ("mish",), **tol)


MODULES = [
    (nn.SiLU, torch.nn.SiLU, {}), (nn.SELU, torch.nn.SELU, {}),
    (nn.CELU, torch.nn.CELU, {"alpha": 1.5}), (nn.ReLU6, torch.nn.ReLU6, {}),
    (nn.Hardtanh, torch.nn.Hardtanh, {"min_val": -2.0}),
    (nn.Hardswish, torch.nn.Hardswish, {}), (nn.Hardsigmoid, torch.nn.Hardsigmoid, {}),
    (nn.Mish, torch.nn.Mish, {}), (nn.Softsign, torch.nn.Softsign, {}),
    (nn.LogSigmoid, torch.nn.LogSigmoid, {}), (nn.Tanhshrink, torch.nn.Tanhshrink, {}),
    (nn.Softmin, torch.nn.Softmin, {"dim": 1}), (nn.GLU, torch.nn.GLU, {"dim": -1}),
    (nn.Hardshrink, torch.nn.Hardshrink, {}), (nn.Softshrink, torch.nn.Softshrink, {}),
    (nn.Threshold, torch.nn.Threshold, {"threshold": 0.1, "value": 20.0}),
]


@pytest.mark.parametrize("ours,theirs,kw", MODULES, ids=[m[0].__name__ for m in MODULES])
def test_modules(ours, theirs, kw):
    x = np.random.default_rng(1).uniform(-4, 4, (3, 4)).astype(np.float32)
    check(ours(**kw), theirs(**kw), [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmin_glu_normalize(dtype):
    x = np.random.default_rng(2).standard_normal((3, 4, 2)).astype(dtype)
    check(lambda a: F.softmin(a, 1), lambda a: tF.softmin(a, 1), [x], second_order=True)
    check(lambda a: F.glu(a, 1), lambda a: tF.glu(a, 1), [x], second_order=True)
    check(lambda a: F.normalize(a), lambda a: tF.normalize(a), [x], second_order=True)
    check(lambda a: F.normalize(a, p=1, dim=-1), lambda a: tF.normalize(a, p=1, dim=-1), [x])
    z = np.zeros((2, 3), dtype=dtype)
    check(F.normalize, tF.normalize, [z])  # zero vector: eps keeps it finite
    with pytest.raises(ValueError, match="glu: dim"):
        F.glu(st.tensor(x), 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu(dtype):
    x = np.random.default_rng(3).standard_normal((4, 3, 2)).astype(dtype)
    x[0, 0, 0] = 0.0
    for w in (np.array([0.25], dtype), np.array([0.1, -0.2, 0.3], dtype)):
        check(F.prelu, tF.prelu, [x, w], second_order=True)
    m, tm = nn.PReLU(3), torch.nn.PReLU(3)
    check(m, tm, [x.astype(np.float32)])
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]
    x[0, 0, 0] = 0.3  # away from the kink for the numerical check
    assert st.gradcheck(F.prelu, [x.astype(np.float64), np.array([0.1, -0.2, 0.3])])


def test_tensor_methods():
    x = np.random.default_rng(4).standard_normal((3, 4))
    for name in ("relu", "sigmoid", "tanh"):
        check(lambda a, n=name: getattr(a, n)(), lambda a, n=name: getattr(a, n)(), [x],
              second_order=True)
    check(lambda a: a.softmax(1), lambda a: a.softmax(1), [x], second_order=True)
    check(lambda a: a.log_softmax(0), lambda a: a.log_softmax(0), [x], second_order=True)
    check(st.sigmoid, torch.sigmoid, [x])
