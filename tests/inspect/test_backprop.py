"""backprop_trace: the backward walk node by node, checked against backward()."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
from steepest import functional as F
from steepest import nn
from steepest.inspect import backprop_trace


def _diamond():
    x = st.Tensor(np.array(2.0), requires_grad=True, dtype=np.float64, name="x")
    a = x ** 2
    b = x * 3.0
    y = a * b
    return x, y


def test_diamond_accumulates_the_two_paths():
    x, y = _diamond()
    t = backprop_trace(y)
    assert [s.op for s in t.steps][0] == "mul"
    accs = [(s.index, n, a) for s in t.steps for n, a in zip(s.inputs, s.accumulated)
            if a is not None]
    assert len(accs) == 1
    _, name, (before, after) = accs[0]
    assert name == "x" and {float(before), float(after) - float(before)} == {24.0, 12.0}
    assert float(after) == 36.0 == float(t.grads["x"])
    assert x.grad is None  # the trace does not touch .grad ...
    y.backward()  # ... nor free the graph
    assert float(x.grad.data) == 36.0
    table = t.table()
    assert "24 + 12 = 36" in table and len(table.splitlines()) == 2 + 4


def test_mlp_trace_matches_backward_and_chain_rule():
    st.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2, dtype=np.float64), nn.Sigmoid(),
                          nn.Linear(2, 1, dtype=np.float64))
    x = np.array([[0.5, -1.0], [1.5, 0.2]])
    loss = F.mse_loss(model(st.Tensor(x)), np.array([[1.0], [0.0]]))
    t = backprop_trace(loss, names=model)
    loss.backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(t.grads[name], p.grad.data, rtol=1e-13, atol=1e-15)
        assert t.kinds[name] == "parameter"
    for s in t.steps:
        for loc, out in zip(s.local, s.outgoing):
            if loc is not None:
                pred = s.incoming.reshape(-1) @ np.asarray(loc).reshape(s.incoming.size, -1)
                np.testing.assert_allclose(pred, out.reshape(-1), rtol=1e-12, atol=1e-15)
    gens = [next(op["generation"] for op in t.ops if op["output"] == s.output)
            for s in t.steps]
    assert gens == sorted(gens, reverse=True)


def test_frames_gif_and_dot(tmp_path):
    _, y = _diamond()
    t = backprop_trace(y)
    files = t.gif(tmp_path / "d.gif", dpi=40, frames_prefix="d")
    assert files[0] == "d.gif" and len(files) == 1 + t.frame_count() == 5
    assert (tmp_path / "d.gif").read_bytes()[:4] == b"GIF8"
    assert (tmp_path / "d_03.png").read_bytes()[:4] == b"\x89PNG"
    svg = t.frames(tmp_path / "svg", fmt="svg", dpi=40)
    assert len(svg) == 4 and (tmp_path / "svg" / svg[0]).read_text().lstrip().startswith("<?xml")
    dot = t.to_dot(3)
    assert dot.startswith("digraph backprop") and "∂L/∂x = 36" in dot
    assert t.to_dict()["backward"][0]["incoming"] == 1.0


def test_refusals_are_clear():
    x, y = _diamond()
    with pytest.raises(ValueError, match="must be a scalar"):
        backprop_trace(x * st.Tensor(np.ones(3)))
    y.backward()
    with pytest.raises(ValueError, match="freed by backward"):
        backprop_trace(y)
    with st.no_grad():
        z = x * 2.0
    with pytest.raises(ValueError, match="has no graph"):
        backprop_trace(z)
    with pytest.raises(TypeError, match="expected a Tensor"):
        backprop_trace(3.0)


def test_graphviz_engine_without_dot_says_how_to_install(tmp_path, monkeypatch):
    import shutil

    from steepest.inspect import GraphvizNotFoundError

    monkeypatch.setattr(shutil, "which", lambda name: None)
    _, y = _diamond()
    with pytest.raises(GraphvizNotFoundError, match="Install Graphviz"):
        backprop_trace(y).frames(tmp_path, engine="graphviz")
