"""End to end: a 784-100-10 MLP built from these parts fits a synthetic problem."""


import numpy as np

import steepest as st
import steepest.functional as F
from steepest import nn


def test_mlp_784_100_10_overfits_to_near_zero_loss():
    st.manual_seed(0)
    rng = np.random.default_rng(0)
    n = 256
    x = rng.standard_normal((n, 784)).astype(np.float32)
    y = rng.integers(0, 10, n)  # random labels: pure memorisation
    model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
    assert model.num_parameters() == 784 * 100 + 100 + 100 * 10 + 10
    assert nn.check_symmetry(model) == []
    params = list(model.parameters())
    lr = 0.2
    losses = []
    for _epoch in range(50):
        perm = rng.permutation(n)
        for i in range(0, n, 64):
            idx = perm[i:i + 64]
            loss = F.cross_entropy(model(st.Tensor(x[idx])), y[idx])
            model.zero_grad()
            loss.backward()
            with st.no_grad():
                for p in params:
                    p.data -= lr * p.grad.data
        losses.append(float(loss))
    with st.no_grad():
        full = F.cross_entropy(model(st.Tensor(x)), y)
        acc = (model(st.Tensor(x)).data.argmax(1) == y).mean()
    assert float(full) < 0.01, losses[-5:]
    assert acc == 1.0
    assert all(p.dtype == np.float32 for p in params)


def test_regression_with_batchnorm_dropout_and_penalty():
    st.manual_seed(1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((128, 8)).astype(np.float32)
    true_w = rng.standard_normal((8, 1)).astype(np.float32)
    y = np.tanh(x @ true_w).astype(np.float32)
    model = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.Tanh(), nn.Dropout(0.1),
                          nn.Linear(32, 1))
    params = list(model.parameters())
    for _ in range(300):
        loss = F.mse_loss(model(st.Tensor(x)), y) + 1e-4 * F.l2_penalty(params)
        model.zero_grad()
        loss.backward()
        with st.no_grad():
            for p in params:
                p.data -= 0.05 * p.grad.data
    model.eval()
    with st.no_grad():
        final = float(F.mse_loss(model(st.Tensor(x)), y))
    assert final < 0.02
