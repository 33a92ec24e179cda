"""draw_graph: DOT text of the graph behind a tensor; rendering through Graphviz's dot."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

import steepest as st
from steepest import functional as F
from steepest import models
from steepest.inspect import GraphvizNotFoundError, draw_graph


def _loss():
    st.manual_seed(0)
    model = models.mlp([4, 8, 3])
    x = st.Tensor(np.ones((5, 4), dtype=np.float32), name="x")
    return model, F.cross_entropy(model(x), np.array([0, 1, 2, 0, 1])) * 2.0


def _check_dot(dot: str) -> tuple[set[str], list[tuple[str, str]]]:
    assert dot.startswith("digraph steepest {") and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")
    nodes = set(re.findall(r"^\s+(\w+) \[", dot, flags=re.M)) - {"node", "edge", "graph"}
    edges = re.findall(r"^\s+(\w+) -> (\w+)", dot, flags=re.M)
    for a, b in edges:
        assert a in nodes and b in nodes, (a, b)
    return nodes, edges


def test_dot_contains_ops_tensors_and_edges():
    model, loss = _loss()
    dot = draw_graph(loss, params=model)
    nodes, edges = _check_dot(dot)
    for op in ("linear_relu", "linear", "crossentropy", "mul"):
        assert f'label="{op}' in dot, op
    assert "0.weight\\n(8, 4) float32" in dot and "2.bias\\n(3,) float32" in dot
    assert "x\\n(5, 4) float32" in dot
    assert "(5,) int64" in dot  # the labels
    n_ops = sum(1 for n in nodes if n.startswith("f"))
    assert n_ops == 4  # linear_relu (Sequential fuses Linear → ReLU), linear, crossentropy, mul
    assert len(edges) == (3 + 3 + 2 + 1) + 4  # input edges of each op + one output each
    assert dot == draw_graph(loss, params=model)  # deterministic node names


def test_graph_of_leaf_and_after_backward():
    t = st.Tensor([1.0, 2.0], requires_grad=True)
    dot = draw_graph(t)
    nodes, edges = _check_dot(dot)
    assert nodes == {"t0"} and not edges
    _, loss = _loss()
    loss.backward()
    dot = draw_graph(loss)
    assert "graph freed by backward()" in dot
    _check_dot(dot)


def test_writes_dot_file(tmp_path):
    _, loss = _loss()
    text = draw_graph(loss, tmp_path / "g.gv")
    assert (tmp_path / "g.gv").read_text() == text


def test_missing_graphviz_gives_clear_error(tmp_path, monkeypatch):
    _, loss = _loss()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        draw_graph(loss, tmp_path / "g.svg")
    # DOT text needs nothing.
    assert draw_graph(loss).startswith("digraph")


def test_bad_arguments():
    _, loss = _loss()
    with pytest.raises(ValueError, match="needs a path"):
        draw_graph(loss, format="svg")
    with pytest.raises(ValueError, match="format must be"):
        draw_graph(loss, "g.jpg", format="jpg")
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph(np.ones(3))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_renders_with_graphviz(tmp_path, fmt):
    model, loss = _loss()
    path = tmp_path / f"g.{fmt}"
    draw_graph(loss, path, params=model)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in data[:500]
