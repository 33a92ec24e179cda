"""The default objective: build an MLP from a config, train it with ``fit``, score it on
validation data (a held-out split, or k-fold cross-validation), never on the test set.

``train_mlp(config, reporter)`` understands the names in :data:`DEFAULTS`; anything else
in a search is refused before any trial runs. The validation split is drawn with
``data_seed`` (the same for every trial: trials are compared on the same data); each
trial's weights and shuffling come from its own training seed. With ``cv_folds = k`` the
train+validation pool is split into k (stratified) folds, the k models are trained side by
side one epoch at a time (through ``fit``'s exact checkpoints), and each epoch reports the
mean over folds with its standard deviation (``val_accuracy_std``), so early termination
also works with cross-validation.

``final_test`` retrains a configuration on train+validation and scores it once on the test
set: the only place the test set is touched.
"""

from __future__ import annotations

import functools
import hashlib
import math
import numbers
import os
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from .space import SpaceError, suggest
from .trial import blas_threads

__all__ = ["MLPObjective", "train_mlp", "DEFAULTS", "DATASETS", "OPTIMIZERS"]

DATASETS = ("mnist", "mnist-small", "fashion-mnist", "mnist-like", "spirals", "two-moons",
            "sine")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "nadam", "rmsprop", "adagrad")
SCHEDULES = ("constant", "cosine", "step")

#: Every config name ``train_mlp`` understands, with its default.
DEFAULTS: dict[str, Any] = {
    # data
    "dataset": "mnist-small",   # one of DATASETS
    "n_train": None,            # use this many samples of the train+val pool (a subset)
    "val_fraction": 0.2,        # held-out validation share of the pool
    "data_seed": 0,             # seed of the subset, the split and the folds
    "cv_folds": 0,              # k >= 2: k-fold cross-validation instead of one split
    # model
    "hidden": [100, 100],       # hidden layer widths
    "width": None,              # if set: every hidden layer this wide
    "depth": None,              # if set: this many hidden layers
    "activation": "relu",
    "init": "he",
    "dropout": 0.0,
    "batch_norm": False,
    # optimisation
    "optimizer": "sgd",         # one of OPTIMIZERS
    "lr": 0.01,
    "momentum": None,           # None: 0.9 for momentum/nesterov, else 0
    "weight_decay": 0.0,        # L2 on the weight matrices (biases/BN too if decay_bias)
    "decay_bias": False,
    "epochs": 5,
    "batch_size": 100,
    "grad_clip": None,          # clip the global gradient norm
    "lr_schedule": "constant",  # constant, cosine (to 0 over the epochs), step (x0.1 each third)
}


def _err(msg: str) -> SpaceError:
    return SpaceError(f"train_mlp: {msg}")


def _int(cfg: dict[str, Any], key: str, minimum: int, allow_none: bool = False) -> None:
    v = cfg[key]
    if v is None and allow_none:
        return
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
        raise _err(f"{key} must be an integer >= {minimum}{' or none' if allow_none else ''}, "
                   f"got {cfg[key]!r}")
    cfg[key] = int(v)


def _float(cfg: dict[str, Any], key: str, low: float, high: float = math.inf,
           low_open: bool = False, high_open: bool = False, allow_none: bool = False) -> None:
    v = cfg[key]
    if v is None and allow_none:
        return
    ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))
    if ok:
        f = float(v)
        ok = (f > low if low_open else f >= low) and (f < high if high_open else f <= high)
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise _err(f"{key} must be a number in {lo}{low}, {high}{hi}, got {v!r}")
    cfg[key] = float(v)


def _name(cfg: dict[str, Any], key: str, choices: Any) -> None:
    v = cfg[key]
    if not isinstance(v, str) or v not in choices:
        hint = suggest(v, list(choices)) if isinstance(v, str) else ""
        raise _err(f"unknown {key} {v!r}{hint} (choose from {', '.join(choices)})")


@functools.lru_cache(maxsize=4)
def _load(dataset: str, n_train: int | None, data_seed: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """``(X_pool, y_pool, X_test, y_test, task)``; cached per worker process."""
    from ..data import datasets as ds

    if dataset in ("mnist", "mnist-small", "fashion-mnist"):
        fn = {"mnist": ds.mnist, "mnist-small": ds.mnist_small,
              "fashion-mnist": ds.fashion_mnist}[dataset]
        X, y = fn("train")
        Xt, yt = fn("test")
        task = "classification"
    else:
        n = n_train or {"mnist-like": 2000, "sine": 200}.get(dataset, 400)
        if dataset == "mnist-like":
            X, y = ds.mnist_like(n, seed=data_seed)
            Xt, yt = ds.mnist_like(1000, seed=data_seed + 1)
            task = "classification"
        elif dataset == "spirals":
            X, y = ds.spirals(max(n // 3, 1), seed=data_seed)
            Xt, yt = ds.spirals(100, seed=data_seed + 1)
            task = "classification"
        elif dataset == "two-moons":
            X, y = ds.two_moons(n, noise=0.2, seed=data_seed)
            Xt, yt = ds.two_moons(400, noise=0.2, seed=data_seed + 1)
            task = "classification"
        else:  # sine
            X, y = ds.sine_regression(n, seed=data_seed)
            Xt, yt = ds.sine_regression(400, seed=data_seed + 1)
            task = "regression"
    return X, y, Xt, yt, task


def _load_key(cfg: Mapping[str, Any]) -> tuple[str, int | None, int]:
    """The cache key: the MNIST files do not depend on the subset size or the seed."""
    if cfg["dataset"] in ("mnist", "mnist-small", "fashion-mnist"):
        return cfg["dataset"], None, 0
    return cfg["dataset"], cfg["n_train"], cfg["data_seed"]


def _subset(X: np.ndarray, y: np.ndarray, n: int | None, seed: int
            ) -> tuple[np.ndarray, np.ndarray]:
    if n is None or n >= len(X):
        return X, y
    idx = np.sort(np.random.default_rng(np.random.SeedSequence([seed, 7])).permutation(
        len(X))[:n])
    return X[idx], y[idx]


def _fingerprint(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            continue
        a = np.ascontiguousarray(a)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:12]


class MLPObjective:
    """Train an MLP described by a config dict (see :data:`DEFAULTS` for the names).

    Parameters
    ----------
    data : (X, y) arrays, optional
        Your own train+validation pool instead of a named ``dataset``.
    test_data : (X, y) arrays, optional
        Your own test set (used only by :meth:`final_test`).
    task : {"classification", "regression"}, optional
        Inferred from ``y`` (integer labels: classification) when not given.
    """

    params = tuple(DEFAULTS)
    default_epochs = DEFAULTS["epochs"]

    def __init__(self, data: Any = None, test_data: Any = None, task: str | None = None
                 ) -> None:
        self.data = None if data is None else tuple(np.asarray(a) for a in data)
        self.test_data = None if test_data is None else tuple(np.asarray(a) for a in test_data)
        if task is not None and task not in ("classification", "regression"):
            raise SpaceError(f"train_mlp: task must be 'classification' or 'regression', got "
                             f"{task!r}")
        if self.data is not None and task is None:
            task = "classification" if self.data[1].dtype.kind in "iub" else "regression"
        self.task = task
        self.name = "train_mlp" if self.data is None else (
            f"train_mlp(data={_fingerprint(*self.data)})")

    def __repr__(self) -> str:
        return self.name

    # -- configuration ------------------------------------------------------------------
    def resolve(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The full config (defaults filled in), checked; raises SpaceError on bad values."""
        unknown = [k for k in config if k not in DEFAULTS]
        if unknown:
            raise _err(f"unknown parameter {unknown[0]!r}{suggest(unknown[0], self.params)} "
                       f"(train_mlp understands: {', '.join(self.params)})")
        cfg = {**DEFAULTS, **config}
        if isinstance(cfg["hidden"], tuple):
            cfg["hidden"] = list(cfg["hidden"])
        if self.data is None:
            _name(cfg, "dataset", DATASETS)
        _int(cfg, "n_train", 10, allow_none=True)
        _float(cfg, "val_fraction", 0.0, 1.0, low_open=True, high_open=True)
        _int(cfg, "data_seed", 0)
        _int(cfg, "cv_folds", 0)
        if cfg["cv_folds"] == 1:
            raise _err("cv_folds must be 0 (one validation split) or >= 2, got 1")
        h = cfg["hidden"]
        if isinstance(h, numbers.Integral) and not isinstance(h, bool):
            h = [int(h)]
        if not isinstance(h, list) or any(
                isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 1 for w in h):
            raise _err(f"hidden must be a list of positive layer widths, got {cfg['hidden']!r}")
        _int(cfg, "width", 1, allow_none=True)
        _int(cfg, "depth", 0, allow_none=True)
        if cfg["width"] is not None or cfg["depth"] is not None:
            depth = len(h) if cfg["depth"] is None else cfg["depth"]
            width = cfg["width"] if cfg["width"] is not None else (h[0] if h else 100)
            h = [width] * depth
        cfg["hidden"] = [int(w) for w in h]
        from ..models import ACTIVATIONS, INITS

        _name(cfg, "activation", list(ACTIVATIONS))
        _name(cfg, "init", INITS)
        _float(cfg, "dropout", 0.0, 1.0, high_open=True)
        if not isinstance(cfg["batch_norm"], bool):
            raise _err(f"batch_norm must be true or false, got {cfg['batch_norm']!r}")
        if not isinstance(cfg["decay_bias"], bool):
            raise _err(f"decay_bias must be true or false, got {cfg['decay_bias']!r}")
        _name(cfg, "optimizer", OPTIMIZERS)
        _float(cfg, "lr", 0.0, low_open=True)
        _float(cfg, "momentum", 0.0, 1.0, high_open=True, allow_none=True)
        _float(cfg, "weight_decay", 0.0)
        _int(cfg, "epochs", 1)
        _int(cfg, "batch_size", 1)
        _float(cfg, "grad_clip", 0.0, low_open=True, allow_none=True)
        _name(cfg, "lr_schedule", SCHEDULES)
        return cfg

    def validate(self, config: Mapping[str, Any]) -> None:
        """Check a config before any trial runs (the search calls this in the driver)."""
        self.resolve(config)

    def default_metric(self, config: Mapping[str, Any]) -> tuple[str, str]:
        """``("val_accuracy", "max")`` for classification, ``("val_loss", "min")`` else."""
        task = self.task
        if task is None:
            task = "regression" if config.get("dataset") == "sine" else "classification"
        return ("val_accuracy", "max") if task == "classification" else ("val_loss", "min")

    # -- data and model -----------------------------------------------------------------
    def _pool(self, cfg: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, str]:
        if self.data is not None:
            X, y = self.data
            task = self.task or "classification"
        else:
            X, y, _, _, task = _load(*_load_key(cfg))
        X, y = _subset(X, y, cfg["n_train"], cfg["data_seed"])
        return X, y, task

    def _test(self, cfg: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        if self.data is not None:
            if self.test_data is None:
                raise SpaceError("train_mlp: final_test needs test_data=(X_test, y_test)")
            return self.test_data
        _, _, Xt, yt, _ = _load(*_load_key(cfg))
        return Xt, yt

    @staticmethod
    def _split(X: np.ndarray, y: np.ndarray, cfg: dict[str, Any], task: str) -> tuple:
        from ..data import train_test_split

        return train_test_split(X, y, test_size=cfg["val_fraction"],
                                stratify=y if task == "classification" else None,
                                seed=cfg["data_seed"])

    @staticmethod
    def _build(cfg: dict[str, Any], X: np.ndarray, y: np.ndarray, task: str
               ) -> tuple[Any, Any, Any]:
        from .. import optim
        from ..models import mlp

        n_in = int(np.prod(X.shape[1:]))
        if task == "classification":
            n_out = int(y.max()) + 1 if y.ndim == 1 else int(y.shape[1])
        else:
            n_out = 1 if y.ndim == 1 else int(y.shape[1])
        model = mlp([n_in, *cfg["hidden"], n_out], activation=cfg["activation"],
                    init=cfg["init"], dropout=cfg["dropout"], batch_norm=cfg["batch_norm"],
                    dtype=X.dtype if X.dtype.kind == "f" else np.float32)
        decay, no_decay = [], []
        for p in model.parameters():
            (decay if (p.ndim >= 2 or cfg["decay_bias"]) else no_decay).append(p)
        groups = [{"params": decay, "weight_decay": cfg["weight_decay"]}]
        if no_decay:
            groups.append({"params": no_decay, "weight_decay": 0.0})
        name, lr, mom = cfg["optimizer"], cfg["lr"], cfg["momentum"]
        if name in ("sgd", "momentum", "nesterov"):
            m = mom if mom is not None else (0.0 if name == "sgd" else 0.9)
            if name == "nesterov" and m == 0:
                raise _err("nesterov needs momentum > 0")
            opt = optim.SGD(groups, lr=lr, momentum=m, nesterov=name == "nesterov")
        elif name == "rmsprop":
            opt = optim.RMSprop(groups, lr=lr, momentum=mom or 0.0)
        else:
            cls = {"adam": optim.Adam, "adamw": optim.AdamW, "nadam": optim.NAdam,
                   "adagrad": optim.Adagrad}[name]
            opt = cls(groups, lr=lr)
        sched = None
        if cfg["lr_schedule"] == "cosine":
            sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg["epochs"])
        elif cfg["lr_schedule"] == "step":
            sched = optim.lr_scheduler.StepLR(opt, step_size=max(1, cfg["epochs"] // 3),
                                              gamma=0.1)
        return model, opt, sched

    @staticmethod
    def _loss_metrics(task: str) -> tuple[str, list[str]]:
        return ("cross_entropy", ["accuracy"]) if task == "classification" else ("mse", ["mae"])

    # -- the objective ------------------------------------------------------------------
    def __call__(self, config: Mapping[str, Any], reporter: Any) -> Any:
        """Train on the training split, report every epoch's scores, return the last one."""
        from ..train import Callback, fit

        cfg = self.resolve(config)
        X, y, task = self._pool(cfg)
        if cfg["cv_folds"] >= 2:
            return self._cross_validate(cfg, X, y, task, reporter)
        (Xtr, ytr), (Xva, yva) = self._split(X, y, cfg, task)
        model, opt, sched = self._build(cfg, Xtr, ytr, task)
        loss, metrics = self._loss_metrics(task)

        class Report(Callback):
            def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
                reporter.report(epoch, **{k: v for k, v in logs.items()
                                          if k not in ("epoch", "lr", "time")})

        fit(model, loss, opt, (Xtr, ytr), (Xva, yva), epochs=cfg["epochs"],
            batch_size=cfg["batch_size"], metrics=metrics, callbacks=[Report()],
            scheduler=sched, grad_clip=cfg["grad_clip"], seed=reporter.seed,
            progress=False, handle_interrupt=False)
        return None  # the score is the last reported value of the search metric

    def _cross_validate(self, cfg: dict[str, Any], X: np.ndarray, y: np.ndarray, task: str,
                        reporter: Any) -> dict[str, Any]:
        from ..data import KFold, StratifiedKFold
        from ..random import manual_seed
        from ..train import fit

        k = cfg["cv_folds"]
        splitter = (StratifiedKFold if task == "classification" else KFold)(
            k, shuffle=True, seed=cfg["data_seed"])
        folds = list(splitter.split(X, y if task == "classification" else None))
        loss, metrics = self._loss_metrics(task)
        metric = getattr(reporter, "metric", "val_loss")
        runs: list[dict[str, Any]] = []
        last: dict[str, float] = {}
        with tempfile.TemporaryDirectory(prefix="steepest-cv-") as tmp:
            for epoch in range(1, cfg["epochs"] + 1):
                rows = []
                for f, (tr, va) in enumerate(folds):
                    if epoch == 1:
                        seed = int(np.random.SeedSequence([reporter.seed, f]).generate_state(1)[0])
                        manual_seed(seed)
                        model, opt, sched = self._build(cfg, X[tr], y[tr], task)
                        runs.append({"model": model, "opt": opt, "sched": sched, "seed": seed,
                                     "ckpt": os.path.join(tmp, f"fold{f}.ckpt")})
                    r = runs[f]
                    hist = fit(r["model"], loss, r["opt"], (X[tr], y[tr]), (X[va], y[va]),
                               epochs=epoch, batch_size=cfg["batch_size"], metrics=metrics,
                               scheduler=r["sched"], grad_clip=cfg["grad_clip"],
                               seed=r["seed"], checkpoint=r["ckpt"],
                               resume=r["ckpt"] if epoch > 1 else None, progress=False,
                               handle_interrupt=False)
                    rows.append(hist.rows[-1])
                keys = [key for key in rows[0] if key not in ("epoch", "lr", "time")]
                stats: dict[str, float] = {}
                for key in keys:
                    vals = np.array([row[key] for row in rows], dtype=np.float64)
                    stats[key] = float(vals.mean())
                    stats[f"{key}_std"] = float(vals.std())
                last = stats
                reporter.report(epoch, **stats)
        return {"score": last.get(metric), "score_std": last.get(f"{metric}_std"),
                "folds": k}

    def final_test(self, config: Mapping[str, Any], seed: int = 0, threads: int | None = 1
                   ) -> dict[str, Any]:
        """Retrain ``config`` on train+validation, then score it once on the test set.

        ``threads`` limits BLAS as in the trials (1: small MLPs run fastest on one thread,
        and a busy machine does not stall the multi-threaded BLAS).
        """
        with blas_threads(threads):
            return self._final_test(config, seed)

    def _final_test(self, config: Mapping[str, Any], seed: int) -> dict[str, Any]:
        from ..random import manual_seed
        from ..train import evaluate, fit

        cfg = self.resolve(config)
        X, y, task = self._pool(cfg)
        Xt, yt = self._test(cfg)
        manual_seed(int(seed))
        model, opt, sched = self._build(cfg, X, y, task)
        loss, metrics = self._loss_metrics(task)
        hist = fit(model, loss, opt, (X, y), None, epochs=cfg["epochs"],
                   batch_size=cfg["batch_size"], metrics=metrics, scheduler=sched,
                   grad_clip=cfg["grad_clip"], seed=int(seed), progress=False,
                   handle_interrupt=False)
        scores = evaluate(model, loss, (Xt, yt), metrics)
        out: dict[str, Any] = {f"test_{k}": float(v) for k, v in scores.items()}
        out.update({"train_loss": hist.rows[-1]["loss"] if hist.rows else None,
                    "n_train": int(len(X)), "n_test": int(len(Xt)), "seed": int(seed),
                    "config": cfg, "history": hist.rows})
        return out


#: The default objective (``objective = "train_mlp"`` in a search file).
train_mlp = MLPObjective()
