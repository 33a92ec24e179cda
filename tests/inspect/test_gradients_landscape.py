"""GradientNormRecorder, layer_grad_norms, numerical_gradient and loss-landscape slices."""

from __future__ import annotations

import math

import numpy as np
import pytest

import steepest as st
from steepest import functional as F
from steepest import models, optim
from steepest.inspect import (
    GradientNormRecorder,
    direction_between,
    evaluate_loss,
    layer_grad_norms,
    loss_along,
    loss_surface,
    numerical_gradient,
    random_direction,
)
from steepest.train import fit


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return x, y


def test_layer_grad_norms_match_manual():
    st.manual_seed(0)
    model = models.mlp([5, 7, 2])
    x, y = _data()
    F.cross_entropy(model(st.Tensor(x)), y).backward()
    per_layer = layer_grad_norms(model)
    assert list(per_layer) == ["0", "2"]
    w, b = model[0].weight.grad.data, model[0].bias.grad.data
    expect = math.sqrt(float((w.astype(np.float64) ** 2).sum() + (b.astype(np.float64) ** 2)
                             .sum()))
    assert per_layer["0"] == pytest.approx(expect, rel=1e-6)
    per_param = layer_grad_norms(model, per="parameter")
    assert per_param["0.weight"] == pytest.approx(float(np.linalg.norm(w)), rel=1e-6)
    with pytest.raises(ValueError):
        layer_grad_norms(model, per="unit")


def test_recorder_as_fit_callback():
    st.manual_seed(0)
    model = models.mlp([5, 7, 7, 2])
    x, y = _data(64)
    rec = GradientNormRecorder(model)
    fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2,
        batch_size=16, callbacks=[rec], progress=False, seed=0)
    assert rec.names == ["0", "2", "4"]
    assert rec.steps == list(range(8))  # 2 epochs × 4 batches
    arr = rec.array()
    assert arr.shape == (8, 3) and np.isfinite(arr).all() and (arr > 0).all()
    assert set(rec.mean()) == {"0", "2", "4"}
    every = GradientNormRecorder(model, every=3)
    fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2,
        batch_size=16, callbacks=[every], progress=False, seed=0)
    assert every.steps == [0, 3, 6]
    state = every.state_dict()
    copy = GradientNormRecorder(model)
    copy.load_state_dict(state)
    assert copy.norms == every.norms and copy.steps == every.steps


def test_recorder_plot(tmp_path):
    pytest.importorskip("matplotlib")
    st.manual_seed(0)
    model = models.mlp([5, 7, 2])
    x, y = _data()
    rec = GradientNormRecorder(model)
    for _ in range(3):
        model.zero_grad()
        F.cross_entropy(model(st.Tensor(x)), y).backward()
        rec.record()
    rec.plot(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"


def test_numerical_gradient_matches_backprop():
    st.manual_seed(0)
    model = models.mlp([5, 4, 2], "tanh", "xavier", dtype=np.float64)
    x, y = _data(16)
    xt = st.Tensor(x.astype(np.float64))
    params = list(model.parameters())

    def loss():
        return F.cross_entropy(model(xt), y)

    loss().backward()
    num = numerical_gradient(loss, params)
    for p, g in zip(params, num):
        np.testing.assert_allclose(g, p.grad.data, rtol=1e-6, atol=1e-9)
    # A subset of elements: the others stay NaN; the weights are restored exactly.
    before = [p.data.copy() for p in params]
    part = numerical_gradient(loss, params, elements=[[(0, 0)], [], [], []])
    assert part[0][0, 0] == pytest.approx(params[0].grad.data[0, 0], rel=1e-6)
    assert np.isnan(part[0][1, 1]) and np.isnan(part[1]).all()
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b)


def test_random_direction_filter_normalised():
    st.manual_seed(0)
    model = models.mlp([5, 7, 2])
    d = random_direction(model, seed=3)
    params = list(model.parameters())
    assert [a.shape for a in d] == [p.data.shape for p in params]
    w = params[0].data
    np.testing.assert_allclose(np.linalg.norm(d[0], axis=1), np.linalg.norm(w, axis=1),
                               rtol=1e-5)
    assert not d[1].any()  # biases are left out
    np.testing.assert_array_equal(d[0], random_direction(model, seed=3)[0])
    layer = random_direction(model, seed=3, normalization="layer", ignore_1d=False)
    assert np.linalg.norm(layer[1]) == pytest.approx(np.linalg.norm(params[1].data), rel=1e-5)


def test_slices_restore_weights_and_hit_base_loss():
    st.manual_seed(0)
    model = models.mlp([5, 7, 2])
    x, y = _data()
    init = model.state_dict()
    fit(model, "cross_entropy", optim.Adam(model.parameters(), lr=1e-2), (x, y), epochs=5,
        batch_size=16, progress=False, seed=0)
    before = [p.data.copy() for p in model.parameters()]
    base = evaluate_loss(model, "cross_entropy", x, y)
    d = random_direction(model, seed=0)
    line = loss_along(model, "cross_entropy", x, y, d, [-1.0, 0.0, 1.0])
    assert line[1] == pytest.approx(base, rel=1e-6)
    z = loss_surface(model, "cross_entropy", x, y, d, random_direction(model, seed=1),
                     [-0.5, 0.0, 0.5], [0.0, 0.5])
    assert z.shape == (2, 3) and z[0, 1] == pytest.approx(base, rel=1e-6)
    to_init = direction_between(model, init)
    at_init = loss_along(model, "cross_entropy", x, y, to_init, [1.0])[0]
    model2 = models.mlp([5, 7, 2])
    model2.load_state_dict(init)
    assert at_init == pytest.approx(evaluate_loss(model2, "cross_entropy", x, y), rel=1e-5)
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)
    with pytest.raises(ValueError, match="direction has"):
        loss_along(model, "cross_entropy", x, y, d[:1], [0.0])
