"""scikit-learn estimators backed by steepest: ``MLPClassifier`` and ``MLPRegressor``.

They follow scikit-learn's conventions (hyperparameters stored untouched by ``__init__``,
learned attributes with a trailing underscore, ``fit``/``partial_fit``/``predict``/
``score``) and its ``MLPClassifier``/``MLPRegressor`` defaults and semantics: Glorot
uniform initialisation, the L2 penalty ``alpha/2 · Σ‖W‖² / batch``, mini-batches of
``min(200, n)``, stopping when the training loss (or, with ``early_stopping``, the
validation score) has not improved by ``tol`` for ``n_iter_no_change`` epochs. So they
work in ``Pipeline``, ``GridSearchCV``, ``cross_val_score`` and ``clone``. On top:
every steepest optimiser as ``solver``, steepest's activations, ``dropout`` and
``batch_norm``. Computation is float32 unless ``dtype='float64'``.

Needs scikit-learn (``pip install "steepest[sklearn]"``).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

try:
    from scipy.special import expit
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import type_of_target, unique_labels
    from sklearn.utils.validation import (
        check_is_fitted,
        check_random_state,
        column_or_1d,
        validate_data,
    )
except ImportError as exc:  # pragma: no cover - the module is only useful with sklearn
    raise ImportError('steepest.sklearn needs scikit-learn: pip install "steepest[sklearn]"'
                      ) from exc

from . import functional as F
from . import nn, optim
from .autograd import no_grad
from .random import manual_seed
from .tensor import Tensor

__all__ = ["MLPClassifier", "MLPRegressor"]

_ACTIVATIONS = {
    "identity": None, "logistic": nn.Sigmoid, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU,
    "softplus": nn.Softplus,
}


def _optimizer_names() -> dict[str, type]:
    """Every steepest optimiser by lowercase name (``adam``, ``sgd``, ``rmsprop``, ...)."""
    out = {}
    for name in dir(optim):
        cls = getattr(optim, name)
        if isinstance(cls, type) and issubclass(cls, optim.Optimizer) and (
                cls is not optim.Optimizer):
            out[name.lower()] = cls
    return out


def _stochastic(est: Any) -> bool:
    """``partial_fit`` exists only for stochastic solvers (as in scikit-learn)."""
    if est.solver == "lbfgs":
        raise AttributeError(f"partial_fit is only available for stochastic solvers; "
                             f"{est.solver!r} is not one")
    return True


#: multiply-adds per GEMM batch below which BLAS runs on one thread: for matrices this
#: small, waking and syncing BLAS threads costs more than it saves (measured here: a
#: (200, 30) x (30, 100) float32 product took 54 us on one thread, 9.5 ms on two busy
#: cores); scikit-learn users parallelise over folds and grid points instead.
_SMALL_WORK = 20_000_000


@contextlib.contextmanager
def _blas_threads(work: int) -> Iterator[None]:
    if work >= _SMALL_WORK:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


class _BaseMLP(BaseEstimator):
    """Shared fitting machinery (not public)."""

    _regression = False

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001, batch_size: Any = "auto",
                 learning_rate_init: float = 0.001, max_iter: int = 200,
                 shuffle: bool = True, random_state: Any = None, tol: float = 1e-4,
                 verbose: bool = False, warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-8, n_iter_no_change: int = 10,
                 max_fun: int = 15000, dropout: float = 0.0, batch_norm: bool = False,
                 dtype: str = "float32") -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.dtype = dtype

    # -- checks ---------------------------------------------------------------------------
    def _validate_params_(self) -> list[int]:
        name = type(self).__name__
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
        if any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h <= 0
               for h in hidden):
            raise ValueError(f"{name}: hidden_layer_sizes must be positive integers, got "
                             f"{self.hidden_layer_sizes!r}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"{name}: activation must be one of {sorted(_ACTIVATIONS)}, got "
                             f"{self.activation!r}")
        solvers = {"lbfgs", *_optimizer_names()}
        if self.solver not in solvers:
            raise ValueError(f"{name}: solver must be one of {sorted(solvers)}, got "
                             f"{self.solver!r}")
        for attr, lo in (("alpha", 0.0), ("tol", 0.0)):
            v = getattr(self, attr)
            if not isinstance(v, (int, float, np.number)) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{name}: {attr} must be a number >= {lo}, got {v!r}")
        if not (isinstance(self.learning_rate_init, (int, float, np.number))
                and self.learning_rate_init > 0):
            raise ValueError(f"{name}: learning_rate_init must be > 0, got "
                             f"{self.learning_rate_init!r}")
        for attr in ("max_iter", "n_iter_no_change", "max_fun"):
            v = getattr(self, attr)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}: {attr} must be a positive integer, got {v!r}")
        bs = self.batch_size
        if bs != "auto" and (isinstance(bs, bool) or not isinstance(bs, (int, np.integer))
                             or bs < 1):
            raise ValueError(f"{name}: batch_size must be 'auto' or a positive integer, got "
                             f"{bs!r}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"{name}: validation_fraction must be in (0, 1), got "
                             f"{self.validation_fraction!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1), got {self.dropout!r}")
        for attr in ("beta_1", "beta_2"):
            if not 0.0 <= getattr(self, attr) < 1.0:
                raise ValueError(f"{name}: {attr} must be in [0, 1), got "
                                 f"{getattr(self, attr)!r}")
        if str(self.dtype) not in ("float32", "float64"):
            raise ValueError(f"{name}: dtype must be 'float32' or 'float64', got "
                             f"{self.dtype!r}")
        return [int(h) for h in hidden]

    # -- the network ----------------------------------------------------------------------
    def _build(self, sizes: list[int], rng: np.random.Generator, dtype: Any = None
               ) -> nn.Sequential:
        """Linear → [BatchNorm] → activation → [Dropout] per hidden layer, Glorot uniform
        weights (scikit-learn's: bound √(6/(fan_in+fan_out)), ×√2 for the logistic)."""
        dt = np.dtype(self.dtype if dtype is None else dtype)
        act = _ACTIVATIONS[self.activation]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            lin = nn.Linear(a, b, dtype=dt)
            factor = 2.0 if self.activation in ("logistic", "sigmoid") else 6.0
            bound = math.sqrt(factor / (a + b))
            lin.weight.data[...] = rng.uniform(-bound, bound, (b, a)).astype(dt)
            lin.bias.data[...] = rng.uniform(-bound, bound, b).astype(dt)
            layers.append(lin)
            if i < len(sizes) - 2:
                if self.batch_norm:
                    layers.append(nn.BatchNorm1d(b, dtype=dt))
                if act is not None:
                    layers.append(act())
                if self.dropout > 0:
                    layers.append(nn.Dropout(self.dropout))
        return nn.Sequential(*layers)

    def _make_optimizer(self, params: list[Any]) -> Any:
        lr = float(self.learning_rate_init)
        if self.solver == "sgd":
            return optim.SGD(params, lr=lr, momentum=float(self.momentum),
                             nesterov=bool(self.nesterovs_momentum) and self.momentum > 0)
        cls = _optimizer_names()[self.solver]
        if self.solver in ("adam", "adamw", "nadam", "adamax", "radam"):
            try:
                return cls(params, lr=lr, betas=(float(self.beta_1), float(self.beta_2)),
                           eps=float(self.epsilon))
            except TypeError:
                pass
        return cls(params, lr=lr)

    def _sync_attributes(self) -> None:
        """``coefs_``/``intercepts_`` as scikit-learn lays them out: (fan_in, fan_out)."""
        lins = [m for m in self.model_ if isinstance(m, nn.Linear)]
        self.coefs_ = [m.weight.data.T.astype(np.float64) for m in lins]
        self.intercepts_ = [m.bias.data.astype(np.float64) for m in lins]

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """The network's output in float64 from the trained weights: predictions of a row
        do not depend on which other rows share its batch (float32 GEMMs round
        differently for different batch sizes)."""
        work = len(x) * sum(c.size for c in self.coefs_) if hasattr(self, "coefs_") else 0
        with no_grad(), _blas_threads(work):
            return self._infer(Tensor(np.asarray(x, dtype=np.float64))).data

    def _val_forward(self, x: np.ndarray) -> np.ndarray:
        """The output during training (the float32 model, for validation scores)."""
        self.model_.eval()
        with no_grad():
            return self.model_(Tensor(x.astype(self.dtype, copy=False))).data

    # -- fitting --------------------------------------------------------------------------
    def _fit(self, X: Any, y: Any, incremental: bool, classes: Any = None) -> Any:
        hidden = self._validate_params_()
        first = not (incremental or self.warm_start) or not hasattr(self, "model_")
        X, y = self._validate_input(X, y, first, incremental, classes)
        if not first and X.shape[1] != self.n_features_in_:
            raise ValueError(f"{type(self).__name__}: X has {X.shape[1]} features, but the "
                             f"model was fitted with {self.n_features_in_} features")
        if self.batch_norm and len(X) < 2:
            raise ValueError(f"{type(self).__name__}: batch_norm needs more than 1 sample per "
                             f"batch, got n_samples={len(X)}")
        if incremental and self.solver == "lbfgs":
            raise AttributeError(f"partial_fit is only available for stochastic solvers; "
                                 f"{self.solver!r} is not one")
        rs = check_random_state(self.random_state)
        ctx = contextvars.copy_context()  # dropout's seeding stays inside this fit
        sizes = [X.shape[1], *hidden, y.shape[1]]
        with _blas_threads(min(len(X), 200) * sum(a * b for a, b in zip(sizes, sizes[1:]))):
            ctx.run(self._fit_in_context, X, y, hidden, first, incremental, rs)
        return self

    def _fit_in_context(self, X: np.ndarray, y: np.ndarray, hidden: list[int], first: bool,
                        incremental: bool, rs: np.random.RandomState) -> None:
        seed = int(rs.randint(0, 2**31 - 1))
        rng = np.random.default_rng(seed)
        manual_seed(seed)
        if first:
            self.n_outputs_ = y.shape[1]
            self._sizes = [X.shape[1], *hidden, self.n_outputs_]
            self.model_ = self._build(self._sizes, rng)
            self.n_layers_ = len(hidden) + 2
            self.out_activation_ = self._out_activation()
            self.loss_curve_ = []
            self.n_iter_ = 0
            self.t_ = 0
            self._no_improvement_count = 0
            self.best_loss_ = np.inf
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = -np.inf if self.early_stopping else None
            self._optimizer = None
        if not incremental:
            self._no_improvement_count = 0
        if first or not incremental or self._optimizer is None:
            self._optimizer = None if self.solver == "lbfgs" else self._make_optimizer(
                list(self.model_.parameters()))
        dt = np.dtype(self.dtype)
        X = np.ascontiguousarray(X, dtype=dt)
        y = np.ascontiguousarray(y, dtype=dt)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, y)
        else:
            self._fit_stochastic(X, y, rng, incremental)
        self._sync_attributes()
        self._infer = self._build(self._sizes, np.random.default_rng(0), np.float64)
        self._infer.load_state_dict(self.model_.state_dict())
        self._infer.eval()

    def _loss(self, out: Tensor, y: np.ndarray) -> Tensor:
        raise NotImplementedError

    def _penalised_loss(self, out: Tensor, y: np.ndarray, n: int) -> Tensor:
        loss = self._loss(out, y)
        if self.alpha > 0:
            ws = [m.weight for m in self.model_ if isinstance(m, nn.Linear)]
            loss = loss + F.l2_penalty(ws) * (float(self.alpha) / n)
        return loss

    def _fit_lbfgs(self, X: np.ndarray, y: np.ndarray) -> None:
        params = list(self.model_.parameters())
        opt = optim.LBFGS(params, lr=1.0, max_iter=int(self.max_iter),
                          max_eval=int(self.max_fun), tolerance_grad=float(self.tol) * 1e-2,
                          tolerance_change=np.finfo(X.dtype).eps, history_size=10,
                          line_search_fn="strong_wolfe")
        xt = Tensor(X)
        n_eval = [0]

        def closure() -> Tensor:
            opt.zero_grad()
            self.model_.train()
            loss = self._penalised_loss(self.model_(xt), y, len(X))
            loss.backward()
            n_eval[0] += 1
            return loss

        opt.step(closure)
        self.n_iter_ = int(opt.state.get(0, {}).get("n_iter", n_eval[0]))
        self.model_.eval()
        with no_grad():
            self.loss_ = float(self._penalised_loss(self.model_(xt), y, len(X)).data)
        self.loss_curve_ = [self.loss_]
        self.best_loss_ = self.loss_
        if self.n_iter_ >= self.max_iter:
            warnings.warn(f"{type(self).__name__}: lbfgs reached max_iter={self.max_iter} "
                          f"before converging; increase max_iter", ConvergenceWarning,
                          stacklevel=4)

    def _fit_stochastic(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator,
                        incremental: bool) -> None:
        early = self.early_stopping and not incremental
        x_val = y_val = None
        if early:
            n_val = max(1, int(round(self.validation_fraction * len(X))))
            if len(X) - n_val < 1:
                raise ValueError(f"{type(self).__name__}: too few samples (n_samples="
                                 f"{len(X)}) for a validation_fraction of "
                                 f"{self.validation_fraction}")
            idx = rng.permutation(len(X))
            strat = self._stratified_split(idx, y, n_val)
            tr, va = strat if strat is not None else (idx[n_val:], idx[:n_val])
            x_val, y_val = X[va], y[va]
            X, y = X[tr], y[tr]
        n = len(X)
        bs = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)
        epochs = 1 if incremental else int(self.max_iter)
        opt = self._optimizer
        model = self.model_
        converged = False
        for _ in range(epochs):
            model.train()
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            total = 0.0
            for start in range(0, n, bs):
                sel = order[start:start + bs]
                xb, yb = X[sel], y[sel]
                loss = self._penalised_loss(model(Tensor(xb)), yb, len(sel))
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.data) * len(sel)
            self.n_iter_ += 1
            self.t_ += n
            self.loss_ = total / n
            if not math.isfinite(self.loss_):
                raise ValueError(f"{type(self).__name__}: the training loss became "
                                 f"{self.loss_}; lower learning_rate_init or scale the inputs")
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            if incremental:
                break
            if early:
                score = self._val_score(x_val, y_val)
                self.validation_scores_.append(score)
                if score < self.best_validation_score_ + self.tol:
                    self._no_improvement_count += 1
                else:
                    self._no_improvement_count = 0
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    self._best_state = model.state_dict()
            else:
                if self.loss_ > self.best_loss_ - self.tol:
                    self._no_improvement_count += 1
                else:
                    self._no_improvement_count = 0
                if self.loss_ < self.best_loss_:
                    self.best_loss_ = self.loss_
            if self._no_improvement_count > self.n_iter_no_change:
                converged = True
                break
        if early and getattr(self, "_best_state", None) is not None:
            model.load_state_dict(self._best_state)
            self._best_state = None
        if early:
            self.best_loss_ = None
        if not incremental and not converged:
            warnings.warn(f"{type(self).__name__}: stochastic optimizer reached max_iter="
                          f"{self.max_iter} and the optimization hasn't converged yet",
                          ConvergenceWarning, stacklevel=4)

    def _stratified_split(self, idx: np.ndarray, y: np.ndarray, n_val: int) -> Any:
        return None

    def _val_score(self, x: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer perceptron classifier (scikit-learn API) trained by steepest.

    Softmax cross-entropy for several classes, one logistic output for two, independent
    logistic outputs for multilabel ``y`` (an indicator matrix), as scikit-learn's.
    """

    def _out_activation(self) -> str:
        return "softmax" if self._multiclass else "logistic"

    def _validate_input(self, X: Any, y: Any, first: bool, incremental: bool,
                        classes: Any = None) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, reset=first, multi_output=True,
                             dtype=(np.float64, np.float32))
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        target = type_of_target(y)
        if target not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"{type(self).__name__}: Unknown label type {target!r}; "
                             f"expected class labels or a multilabel indicator matrix")
        if first:
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(np.asarray(classes) if classes is not None else y)
            self.classes_ = self._label_binarizer.classes_
            self._multiclass = (target == "multiclass" or (
                target != "multilabel-indicator" and len(self.classes_) > 2))
        elif incremental or self.warm_start:
            seen = unique_labels(y)
            if not np.isin(seen, self.classes_).all():
                raise ValueError(f"{type(self).__name__}: y has classes "
                                 f"{np.setdiff1d(seen, self.classes_).tolist()} not seen in "
                                 f"the first fit (classes_={self.classes_.tolist()})")
        return X, self._label_binarizer.transform(y).astype(np.float64)

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Fit the model to data ``X`` and labels ``y``."""
        return self._fit(X, y, incremental=False)

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch over ``X``; ``classes`` (all labels) is required on the first call."""
        if not hasattr(self, "model_") and classes is None:
            raise ValueError(f"{type(self).__name__}: classes must be passed on the first "
                             f"call to partial_fit")
        return self._fit(X, y, incremental=True, classes=classes)

    def _loss(self, out: Tensor, y: np.ndarray) -> Tensor:
        if self._multiclass:
            return F.cross_entropy(out, y.argmax(axis=1))
        return F.binary_cross_entropy_with_logits(out, y.astype(out.dtype, copy=False))

    def _stratified_split(self, idx: np.ndarray, y: np.ndarray, n_val: int) -> Any:
        if not self._multiclass and y.shape[1] > 1:
            return None  # multilabel: a plain random split
        labels = y.argmax(axis=1) if self._multiclass else y[:, 0]
        lab = labels[idx]
        va: list[int] = []
        for c in np.unique(lab):
            members = idx[lab == c]
            k = int(round(n_val * len(members) / len(idx)))
            va.extend(members[:k].tolist())
        va_arr = np.asarray(va, dtype=np.int64)
        if len(va_arr) == 0 or len(va_arr) == len(idx):
            return None
        tr = np.setdiff1d(idx, va_arr, assume_unique=True)
        return tr, va_arr

    def _val_score(self, x: np.ndarray, y: np.ndarray) -> float:
        pred = self._decision(x)
        if self._multiclass:
            return float(np.mean(pred.argmax(axis=1) == y.argmax(axis=1)))
        return float(np.mean(np.all((pred > 0) == (y > 0.5), axis=1)))

    def _decision(self, X: np.ndarray) -> np.ndarray:
        return self._val_forward(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per entry of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        z = self._forward(X).astype(np.float64)
        if self._multiclass:
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        if len(self.classes_) == 1 and not self._multilabel:
            return np.ones((len(z), 1))
        eps = float(np.finfo(np.float64).eps)  # keep 0 < p < 1 (saturated logits)
        p = np.clip(expit(z), eps, 1.0 - eps)
        if p.shape[1] == 1 and len(self.classes_) <= 2 and not self._multilabel:
            return np.hstack([1.0 - p, p])
        return p

    def predict_log_proba(self, X: Any) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    @property
    def _multilabel(self) -> bool:
        return bool(self._label_binarizer.y_type_ == "multilabel-indicator")

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class (or, multilabel, every label with probability > ½)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        z = self._forward(X)
        if self._multiclass:
            return self.classes_[z.argmax(axis=1)]
        if self._multilabel:
            return (z > 0).astype(int)
        if len(self.classes_) == 1:
            return np.full(len(z), self.classes_[0])
        return self.classes_[(z[:, 0] > 0).astype(int)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer perceptron regressor (scikit-learn API) trained by steepest: identity
    outputs, half the squared error as the loss (as scikit-learn's), multi-output ``y``."""

    def _out_activation(self) -> str:
        return "identity"

    def _validate_input(self, X: Any, y: Any, first: bool, incremental: bool,
                        classes: Any = None) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, reset=first, multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32))
        if first:
            self._y_1d = y.ndim == 1
        return X, (y.reshape(-1, 1) if y.ndim == 1 else y).astype(np.float64)

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Fit the model to data ``X`` and targets ``y`` (1-D, or 2-D for several)."""
        return self._fit(X, y, incremental=False)

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch over ``X`` (continuing from the current weights)."""
        return self._fit(X, y, incremental=True)

    def _loss(self, out: Tensor, y: np.ndarray) -> Tensor:
        return F.mse_loss(out, y.astype(out.dtype, copy=False)) * 0.5

    def _val_score(self, x: np.ndarray, y: np.ndarray) -> float:
        pred = self._val_forward(x).astype(np.float64)
        ss_res = ((y - pred) ** 2).sum(axis=0)
        ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), 0.0)
        return float(r2.mean())

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets (1-D when fitted on a 1-D ``y``)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        out = self._forward(X).astype(np.float64)
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
