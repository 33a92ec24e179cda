"""feature_importance ranks the informative features of a synthetic regression first."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
from steepest import models, nn, optim
from steepest.data.datasets import linear_features
from steepest.inspect import feature_importance, plot_feature_importance
from steepest.train import fit

INFORMATIVE = 3


@pytest.fixture(scope="module")
def trained():
    X, y, coef = linear_features(600, 10, INFORMATIVE, noise=0.1, seed=1, return_coef=True)
    st.manual_seed(0)
    model = models.mlp([10, 32, 1], "relu", "he")
    fit(model, "mse", optim.Adam(model.parameters(), lr=1e-2), (X, y), epochs=40,
        batch_size=50, progress=False, seed=0)
    return model, X, y, coef


@pytest.mark.parametrize("method", ["gradient", "permutation"])
def test_informative_features_rank_first(trained, method):
    model, X, y, coef = trained
    imp = feature_importance(model, X, y, method=method, n_repeats=3, seed=0)
    assert imp.shape == (10,)
    top = set(np.argsort(-imp)[:INFORMATIVE].tolist())
    assert top == set(range(INFORMATIVE))
    # The informative features dominate the noise features clearly.
    assert imp[:INFORMATIVE].min() > 3 * np.abs(imp[INFORMATIVE:]).max()


def test_gradient_importance_of_linear_model_is_abs_weight():
    lin = nn.Linear(4, 1, dtype=np.float64)
    lin.weight.data[...] = [[2.0, -3.0, 0.0, 0.5]]
    X = np.random.default_rng(0).standard_normal((50, 4))
    imp = feature_importance(lin, X)
    np.testing.assert_allclose(imp, [2.0, 3.0, 0.0, 0.5], rtol=1e-12)


def test_gradient_importance_multi_output_averages_outputs():
    lin = nn.Linear(3, 2, dtype=np.float64)
    lin.weight.data[...] = [[1.0, 0.0, -2.0], [3.0, 0.0, 0.0]]
    imp = feature_importance(lin, np.ones((5, 3)), batch_size=2)
    np.testing.assert_allclose(imp, [2.0, 0.0, 1.0])


def test_permutation_with_labels_and_accuracy():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3)).astype(np.float32)
    labels = (X[:, 1] > 0).astype(np.int64)
    lin = nn.Linear(3, 2)
    lin.weight.data[...] = [[0.0, -5.0, 0.0], [0.0, 5.0, 0.0]]
    lin.bias.data[...] = 0
    ce = feature_importance(lin, X, labels, method="permutation", seed=0)
    acc = feature_importance(lin, X, labels, method="permutation", loss="accuracy", seed=0)
    assert np.argmax(ce) == 1 and np.argmax(acc) == 1
    assert acc[0] == acc[2] == 0.0 and 0.3 < acc[1] < 0.7


def test_model_mode_restored_and_function_models(trained):
    model, X, y, _ = trained
    model.train()
    feature_importance(model, X[:20])
    assert model.training

    def f(x):
        return (x * x).sum(axis=1, keepdims=True)

    imp = feature_importance(f, np.ones((3, 2), dtype=np.float32) * [1.0, 2.0])
    np.testing.assert_allclose(imp, [2.0, 4.0])


def test_errors(trained):
    model, X, y, _ = trained
    with pytest.raises(ValueError, match="needs the targets"):
        feature_importance(model, X, method="permutation")
    with pytest.raises(ValueError, match="method must be"):
        feature_importance(model, X, method="shap")
    with pytest.raises(ValueError, match="2-D"):
        feature_importance(model, X[0])
    with pytest.raises(ValueError, match="unknown loss"):
        feature_importance(model, X, y, method="permutation", loss="hinge")


def test_plot(tmp_path, trained):
    pytest.importorskip("matplotlib")
    model, X, _, _ = trained
    imp = feature_importance(model, X)
    fig = plot_feature_importance(imp, tmp_path / "fi.png", highlight=range(INFORMATIVE),
                                  names=[f"f{i}" for i in range(10)], top=6)
    assert (tmp_path / "fi.png").read_bytes()[:4] == b"\x89PNG"
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 6 and set(labels[:3]) == {"f0", "f1", "f2"}
    with pytest.raises(ValueError, match="names"):
        plot_feature_importance(imp, names=["a"])
