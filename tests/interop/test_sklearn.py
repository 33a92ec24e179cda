"""steepest.sklearn against scikit-learn's own estimator checks and meta-estimators."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, make_regression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from steepest.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


@parametrize_with_checks([MLPClassifier(random_state=0), MLPRegressor(random_state=0),
                          MLPClassifier(solver="lbfgs", random_state=0),
                          MLPRegressor(solver="sgd", random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_defaults_match_scikit_learn():
    from sklearn.neural_network import MLPClassifier as SkC
    from sklearn.neural_network import MLPRegressor as SkR

    for ours, theirs in ((MLPClassifier(), SkC()), (MLPRegressor(), SkR())):
        mine, ref = ours.get_params(), theirs.get_params()
        shared = set(mine) & set(ref)
        assert {"hidden_layer_sizes", "solver", "alpha", "batch_size", "max_iter",
                "learning_rate_init", "early_stopping", "tol", "n_iter_no_change"} <= shared
        assert {k: mine[k] for k in shared} == {k: ref[k] for k in shared}


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


def test_pipeline_gridsearch_cross_val_clone():
    X, y = _digits()
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32,),
                                                         max_iter=100, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.85
    grid = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1],
                               "mlpclassifier__solver": ["adam", "rmsprop"]}, cv=2)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"mlpclassifier__alpha", "mlpclassifier__solver"}
    assert grid.score(X, y) > 0.9
    c = clone(pipe)
    assert c.get_params()["mlpclassifier__hidden_layer_sizes"] == (32,)
    assert not hasattr(c[-1], "coefs_")


def test_learned_attributes_and_reproducibility():
    X, y = _digits()
    a = MLPClassifier(hidden_layer_sizes=(20, 10), max_iter=15, random_state=3).fit(X, y)
    b = MLPClassifier(hidden_layer_sizes=(20, 10), max_iter=15, random_state=3).fit(X, y)
    assert [c.shape for c in a.coefs_] == [(64, 20), (20, 10), (10, 10)]
    assert [i.shape for i in a.intercepts_] == [(20,), (10,), (10,)]
    assert a.n_iter_ == len(a.loss_curve_) <= 15 and a.n_layers_ == 4
    assert a.out_activation_ == "softmax" and list(a.classes_) == list(range(10))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_[-1] < a.loss_curve_[0]


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs", "rmsprop", "adamw", "nadam"])
def test_every_solver_learns_breast_cancer(solver):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    kw = {"learning_rate_init": 0.01} if solver == "sgd" else {}
    m = MLPClassifier(hidden_layer_sizes=(16,), solver=solver, max_iter=40, random_state=0,
                      **kw).fit(X, y)
    assert m.score(X, y) > 0.93
    assert m.coefs_[-1].shape == (16, 1) and m.out_activation_ == "logistic"
    assert m.predict_proba(X).shape == (len(X), 2)


def test_early_stopping_and_steepest_extras():
    X, y = _digits()
    m = MLPClassifier(hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=3,
                      dropout=0.2, batch_norm=True, activation="gelu", random_state=0,
                      max_iter=200).fit(X, y)
    assert m.n_iter_ < 200 and len(m.validation_scores_) == m.n_iter_
    assert m.best_validation_score_ == max(m.validation_scores_) and m.best_loss_ is None
    assert m.score(X, y) > 0.8


def test_partial_fit_and_warm_start():
    X, y = _digits()
    m = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        m.partial_fit(X, y)
    for _ in range(3):
        m.partial_fit(X[:300], y[:300], classes=np.arange(10))
    assert m.n_iter_ == 3 and len(m.loss_curve_) == 3
    with pytest.raises(ValueError, match="not seen"):
        m.partial_fit(X[:10], y[:10] + 20)
    w = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, warm_start=True, random_state=0)
    w.fit(X, y)
    first = w.coefs_[0].copy()
    w.fit(X, y)
    assert w.n_iter_ == 10 and not np.array_equal(first, w.coefs_[0])


def test_multilabel_and_multioutput_regression():
    X, y = _digits()
    Y = np.stack([y % 2, (y > 4).astype(int), (y == 0).astype(int)], axis=1)
    m = MLPClassifier(hidden_layer_sizes=(32,), max_iter=60, random_state=0).fit(X, Y)
    assert m.predict(X).shape == Y.shape and m.score(X, Y) > 0.8
    assert m.predict_proba(X).shape == Y.shape
    Xr, yr = make_regression(200, 5, n_targets=2, noise=0.1, random_state=0)
    yr = yr / yr.std()
    r = MLPRegressor(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(Xr, yr)
    assert r.predict(Xr).shape == (200, 2) and r.score(Xr, yr) > 0.95
    r1 = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(Xr, yr[:, 0])
    assert r1.predict(Xr).shape == (200,)


def test_predictions_do_not_depend_on_the_batch():
    X, y = _digits()
    m = MLPRegressor(hidden_layer_sizes=(32,), max_iter=5, random_state=0).fit(X, y)
    full = m.predict(X)
    np.testing.assert_array_equal(np.concatenate([m.predict(X[:7]), m.predict(X[7:])]), full)
    c = MLPClassifier(solver="lbfgs", hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    assert not hasattr(c, "partial_fit")  # as scikit-learn: lbfgs is not stochastic


def test_bad_hyperparameters_are_named():
    X, y = _digits()
    for kw, word in [({"solver": "nope"}, "solver"), ({"activation": "cube"}, "activation"),
                     ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
                     ({"dropout": 1.5}, "dropout"), ({"batch_size": 0}, "batch_size")]:
        with pytest.raises(ValueError, match=word):
            MLPClassifier(**kw).fit(X, y)
