"""Gradients that land in the flat optimiser buffer (Linear's backward writes dW/db there
with ``out=``): same numbers as fresh arrays, and never visible to anyone holding a gradient."""

from __future__ import annotations

import numpy as np

import steepest as st
import steepest.functional as F
import steepest.optim as so
from steepest.models import mlp


def _setup(momentum: float = 0.0):
    st.manual_seed(0)
    model = mlp([20, 64, 5], activation="relu", init="he")
    opt = so.SGD(model.parameters(), lr=0.1, momentum=momentum)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 20)).astype(np.float32)
    y = rng.integers(0, 5, 8)
    return model, opt, x, y


def _grads(model, x, y):
    model.zero_grad()
    F.cross_entropy(model(st.Tensor(x)), y).backward()
    return [p.grad.data for p in model.parameters()]


def test_gradients_land_in_the_flat_buffer_and_match_fresh_ones():
    model, opt, x, y = _setup(momentum=0.9)
    ref, ropt, _, _ = _setup(momentum=0.9)
    ropt.flat = False  # per-tensor updates, fresh gradient arrays
    for step in range(4):
        for m, o in ((model, opt), (ref, ropt)):
            o.zero_grad()
            F.cross_entropy(m(st.Tensor(x)), y).backward()
        if step:
            views = opt._flat_groups[0].gviews
            assert all(p.grad.data is v for p, v in zip(model.parameters(), views))
        for p, q in zip(model.parameters(), ref.parameters()):
            np.testing.assert_array_equal(p.grad.data, q.grad.data)
        opt.step()
        ropt.step()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_a_kept_gradient_is_never_overwritten():
    model, opt, x, y = _setup()
    for _ in range(2):
        _grads(model, x, y)
        opt.step()
    kept = [p.grad for p in model.parameters()]  # the landed views, held by the user
    before = [g.data.copy() for g in kept]
    sub = model.parameters().__next__().grad.data[0]  # a view of a view, too
    sub_before = sub.copy()
    with st.no_grad():
        for p in model.parameters():
            p.data += 1.0  # other weights: other gradients
    new = _grads(model, x, y)
    for g, b in zip(kept, before):
        np.testing.assert_array_equal(g.data, b)
    np.testing.assert_array_equal(sub, sub_before)
    assert not any(np.array_equal(n, b) for n, b in zip(new, before))
    del kept, new
    model.zero_grad()
    sub_before = sub.copy()  # now only a slice of an old gradient is held
    _grads(model, x, y)
    np.testing.assert_array_equal(sub, sub_before)


def test_no_landing_when_accumulating_or_differentiating():
    model, opt, x, y = _setup()
    for _ in range(2):
        _grads(model, x, y)
        opt.step()
    w = next(model.parameters())
    g1 = _grads(model, x, y)[0].copy()
    F.cross_entropy(model(st.Tensor(x)), y).backward()  # no zero_grad: accumulate
    np.testing.assert_allclose(w.grad.data, 2 * g1, rtol=1e-6)
    model.zero_grad()
    loss = F.cross_entropy(model(st.Tensor(x)), y)
    (gw,) = st.autograd.grad(loss, [w])
    np.testing.assert_allclose(gw.data, g1, rtol=1e-6)
    assert w.grad is None
    gw2 = _grads(model, x, y)[0]
    np.testing.assert_array_equal(gw.data, g1)  # the returned gradient is not the buffer
    np.testing.assert_allclose(gw2, g1, rtol=1e-6)
