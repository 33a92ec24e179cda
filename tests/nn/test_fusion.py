"""Fused Linear → ReLU: the same values and gradients as the two ops, and as torch."""

import numpy as np
import pytest
import torch

import steepest as st
import steepest.functional as F
from steepest import nn
from tests.oracle import check


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_relu_matches_torch(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5)).astype(dtype)
    w = rng.standard_normal((4, 5)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    x[0, :] = 0.0
    b[0] = 0.0  # exact zeros at the kink: gradient 0 there, as torch
    check(F.linear_relu, lambda x, w, b: torch.relu(torch.nn.functional.linear(x, w, b)),
          [x, w, b], second_order=dtype == np.float64)
    assert st.gradcheck(lambda x, w, b: F.linear_relu(x, w, b).sum(),
                        [x.astype(np.float64) + 0.1, w, b])


def test_sequential_fuses_and_hooks_disable_fusion():
    st.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    x = st.tensor(np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32))
    y = model(x)
    assert y.creator.inputs[0].creator.name == "linear_relu"
    y.sum().backward()
    fused = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    seen = []
    handle = model[1].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    y2 = model(x)
    assert seen == [(4, 8)] and y2.creator.inputs[0].creator.name == "relu"
    np.testing.assert_array_equal(y2.numpy(), y.numpy())
    y2.sum().backward()
    for a, p in zip(fused, model.parameters()):
        np.testing.assert_allclose(a, p.grad.numpy(), rtol=1e-6, atol=1e-7)
    handle.remove()


def test_linear_relu_shape_errors():
    with pytest.raises(ValueError, match=r"linear_relu: input shape \(2, 3\) does not match "
                                         r"in_features=4"):
        F.linear_relu(st.tensor(np.zeros((2, 3))), st.tensor(np.zeros((5, 4))))
