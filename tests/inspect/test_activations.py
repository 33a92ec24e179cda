"""activation_stats / record_activations / activation_histograms."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
from steepest import models, nn
from steepest.inspect import activation_histograms, activation_stats, record_activations


def test_relu_stats_exact():
    model = nn.Sequential(nn.Identity(), nn.ReLU())
    x = np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=np.float32)
    (s,) = activation_stats(model, x)
    assert s["name"] == "1 (ReLU)" and s["module"] == "ReLU" and s["shape"] == [2, 2]
    assert s["mean"] == pytest.approx(1.25)
    assert s["std"] == pytest.approx(np.std([0, 2, 3, 0]))
    assert s["frac_zero"] == 0.5
    assert s["frac_saturated"] is None
    assert s["frac_dead_units"] == 0.0
    (s,) = activation_stats(model, np.array([[-1.0, 2.0], [-3.0, 4.0]], dtype=np.float32))
    assert s["frac_dead_units"] == 0.5


def test_sigmoid_and_tanh_saturation():
    x = np.array([[-10.0, 0.0, 10.0, 0.1]], dtype=np.float32)
    (s,) = activation_stats(nn.Sequential(nn.Sigmoid()), x)
    assert s["frac_saturated"] == 0.5
    (s,) = activation_stats(nn.Sequential(nn.Tanh()), x, saturation=0.001)
    assert s["frac_saturated"] == 0.5


def test_layers_selection_and_eval_mode():
    st.manual_seed(0)
    model = models.mlp([6, 5, 4, 3], "tanh", "xavier", dropout=0.5)
    x = np.random.default_rng(0).standard_normal((20, 6)).astype(np.float32)
    stats = activation_stats(model, x)
    assert [s["module"] for s in stats] == ["Tanh", "Tanh"]
    model.train()
    # Eval mode by default (dropout off): the same numbers twice; training mode restored.
    again = activation_stats(model, x)
    assert model.training
    assert [s["std"] for s in stats] == [s["std"] for s in again]
    lin = activation_stats(model, x, layers=nn.Linear)
    assert [s["module"] for s in lin] == ["Linear", "Linear", "Linear"]
    named = record_activations(model, x, layers=["0"])
    assert named[0][0] == "0" and named[0][2].shape == (20, 5)
    with pytest.raises(KeyError, match="no sub-module"):
        activation_stats(model, x, layers=["9"])
    # Hooks are removed afterwards.
    assert all(not m._forward_hooks for m in model.modules())


def test_matches_manual_forward():
    st.manual_seed(1)
    model = models.mlp([8, 16, 16, 2], "relu", "he")
    x = np.random.default_rng(1).standard_normal((50, 8)).astype(np.float32)
    recs = record_activations(model, x)
    h1 = np.maximum(x @ model[0].weight.data.T + model[0].bias.data, 0)
    np.testing.assert_allclose(recs[0][2], h1, rtol=1e-5, atol=1e-6)
    s = activation_stats(model, x)[0]
    assert s["std"] == pytest.approx(float(h1.std()), rel=1e-5)


def test_histograms(tmp_path):
    pytest.importorskip("matplotlib")
    st.manual_seed(0)
    nets = [models.mlp([10, 10, 10, 2], "sigmoid", init, init_std=1.0)
            for init in ("normal", "xavier")]
    x = np.random.default_rng(0).standard_normal((100, 10)).astype(np.float32)
    fig = activation_histograms(nets, x, tmp_path / "h.png", labels=["std 1", "xavier"],
                                value_range=(0, 1), title="t")
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="labels"):
        activation_histograms(nets, x, labels=["one"])
