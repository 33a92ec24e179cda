"""steepest.functional: penalties, the nn.functional alias, dtype and argument checks."""

import numpy as np
import pytest
import torch

import steepest as st
import steepest.functional as F
from steepest import nn
from tests.oracle import check


def _params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in ((3, 4), (4,), (2, 3))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_penalties_match_torch(dtype):
    ps = _params(dtype)
    check(lambda *w: F.l1_penalty(w), lambda *w: sum(t.abs().sum() for t in w), ps,
          second_order=True)
    check(lambda *w: F.l2_penalty(w), lambda *w: sum((t * t).sum() for t in w) / 2, ps,
          second_order=True)
    check(lambda *w: F.elastic_net_penalty(w, 0.3),
          lambda *w: 0.3 * sum(t.abs().sum() for t in w)
          + 0.7 * sum((t * t).sum() for t in w) / 2, ps, second_order=True)


def test_l2_penalty_gradient_is_weight_decay():
    lin = nn.Linear(5, 3)
    pen = F.l2_penalty(lin)  # a Module is accepted
    pen.backward()
    np.testing.assert_allclose(lin.weight.grad.data, lin.weight.data)
    assert pen.dtype == np.float32


def test_penalty_gradcheck_and_errors():
    w = np.random.default_rng(1).standard_normal((3, 3))
    assert st.gradcheck(lambda a: F.elastic_net_penalty([a], 0.5), [w])
    with pytest.raises(ValueError, match="no parameters"):
        F.l1_penalty([])
    with pytest.raises(ValueError, match="l1_ratio"):
        F.elastic_net_penalty([st.Tensor(w)], 1.5)
    with pytest.raises(TypeError, match="Tensors"):
        F.l2_penalty([w])


def test_nn_functional_alias():
    assert nn.functional.cross_entropy is F.cross_entropy
    assert st.functional is F


def test_functions_accept_raw_arrays():
    x = np.array([[-1.0, 2.0]], np.float32)
    assert isinstance(F.relu(x), np.ndarray)
    np.testing.assert_array_equal(F.relu(x), [[0.0, 2.0]])
    np.testing.assert_allclose(F.softmax(x).sum(), 1.0, rtol=1e-6)


def test_create_graph_through_an_mlp_matches_torch():
    """Hessian-vector products through Linear + tanh + BatchNorm + cross_entropy."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4))
    w1, b1 = rng.standard_normal((5, 4)), rng.standard_normal(5)
    w2, b2 = rng.standard_normal((3, 5)), rng.standard_normal(3)
    g, b = rng.uniform(0.5, 1.5, 5), rng.standard_normal(5)
    labels = np.array([0, 2, 1, 1, 0, 2])
    tf = torch.nn.functional

    def ours(x, w1, b1, g, b, w2, b2):
        h = F.batch_norm(F.linear(x, w1, b1), None, None, g, b, training=True)
        return F.cross_entropy(F.linear(F.gelu(h), w2, b2), labels)

    def theirs(x, w1, b1, g, b, w2, b2):
        h = tf.batch_norm(tf.linear(x, w1, b1), None, None, g, b, training=True)
        return tf.cross_entropy(tf.linear(tf.gelu(h), w2, b2), torch.tensor(labels))

    check(ours, theirs, [x, w1, b1, g, b, w2, b2], second_order=True, rtol=1e-8, atol=1e-10)
