"""From a :class:`~steepest.config.TrainConfig` to a trained, saved and scored model.

This is the library side of ``steepest train / evaluate / predict``: load and split the
data, build the model, optimiser, schedule and penalties, ``fit``, score on the test set,
and write the run folder (model, config, history, curves, metrics). The CLI only parses.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import functional as F
from . import optim
from .atomic import atomic_open, atomic_write_text
from .config import ConfigError, TrainConfig, make_config, validate
from .data import StandardScaler, split_indices
from .models import cnn, mlp
from .random import manual_seed
from .serialization import load, save
from .suggest import unknown
from .train import CSVLogger, EarlyStopping, evaluate, fit, predict
from .train.loop import nonfinite_rows

MODEL_FORMAT = "steepest-model-v1"
MODEL_FILE = "model.npz"
CHECKPOINT_FILE = "checkpoint.ckpt"


@dataclass
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str  # "classification" or "regression"
    n_classes: int


def _split_synthetic(x: np.ndarray, y: np.ndarray, seed: int, task: str) -> Data:
    tr, te = split_indices(len(x), (0.8, 0.2), stratify=y if task == "classification" else None,
                           seed=seed)
    n_classes = int(y.max()) + 1 if task == "classification" else 0
    return Data(x[tr], y[tr], x[te], y[te], task, n_classes)


def load_data(name: str, data_dir: str | None = None, seed: int = 0) -> Data:
    """Named data sets (``mnist``, ``fashion-mnist``, ``mnist-small``, ``spirals``,
    ``moons``, ``sine``, ``mnist-like``) or ``.npz`` files with ``x_train, y_train,
    x_test, y_test`` arrays."""
    from .data import datasets as ds

    if name.endswith(".npz") or name.startswith("npz:"):
        path = name[4:] if name.startswith("npz:") else name
        if not os.path.exists(path):
            raise ConfigError(f"data file {path!r} does not exist")
        try:
            loaded = load(path)  # size-capped, never unpickles, regular files only
        except ValueError as exc:
            raise ConfigError(f"data file {path!r} cannot be read safely: {exc}") from None
        if not isinstance(loaded, dict) or not all(
                isinstance(k, str) and isinstance(v, np.ndarray) for k, v in loaded.items()):
            raise ConfigError(f"data file {path!r} is not an archive of named arrays")
        arrays = {k.lower(): v for k, v in loaded.items()}
        missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
        if missing:
            raise ConfigError(f"data file {path!r} lacks arrays {missing} (has "
                              f"{sorted(arrays)})")
        for k in ("x_train", "y_train", "x_test", "y_test"):
            a = arrays[k]
            if a.dtype.kind not in "biuf" or a.ndim == 0 or len(a) == 0:
                raise ConfigError(f"data file {path!r}: {k} must be a non-empty numeric array, "
                                  f"got dtype {a.dtype} and shape {a.shape}")
        for a, b in (("x_train", "y_train"), ("x_test", "y_test")):
            if len(arrays[a]) != len(arrays[b]):
                raise ConfigError(f"data file {path!r}: {a} and {b} differ in length "
                                  f"({len(arrays[a])} != {len(arrays[b])})")
        if arrays["x_train"][0].size != arrays["x_test"][0].size:
            raise ConfigError(f"data file {path!r}: x_train has {arrays['x_train'][0].size} "
                              f"features per sample but x_test has "
                              f"{arrays['x_test'][0].size}")
        ytr = arrays["y_train"]
        task = "classification" if ytr.dtype.kind in "iub" else "regression"
        xtr = arrays["x_train"].astype(np.float32).reshape(len(arrays["x_train"]), -1)
        xte = arrays["x_test"].astype(np.float32).reshape(len(arrays["x_test"]), -1)
        yte = arrays["y_test"]
        if task == "classification":
            ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
            n_classes = int(max(ytr.max(), yte.max())) + 1
        else:
            ytr = ytr.astype(np.float32).reshape(len(ytr), -1)
            yte = yte.astype(np.float32).reshape(len(yte), -1)
            n_classes = 0
        return Data(xtr, ytr, xte, yte, task, n_classes)
    if name in ("mnist", "fashion-mnist"):
        loader = ds.mnist if name == "mnist" else ds.fashion_mnist
        xtr, ytr = loader("train", root=data_dir)
        xte, yte = loader("test", root=data_dir)
        return Data(xtr, ytr, xte, yte, "classification", 10)
    if name == "mnist-small":
        xtr, ytr = ds.mnist_small("train")
        xte, yte = ds.mnist_small("test")
        return Data(xtr, ytr, xte, yte, "classification", 10)
    if name == "spirals":
        x, y = ds.spirals(300, 3, seed=seed)
        return _split_synthetic(x, y, seed, "classification")
    if name == "moons":
        x, y = ds.two_moons(1000, seed=seed)
        return _split_synthetic(x, y, seed, "classification")
    if name == "mnist-like":
        x, y = ds.mnist_like(3000, seed=seed)
        return _split_synthetic(x, y, seed, "classification")
    if name == "sine":
        x, y = ds.sine_regression(1000, seed=seed)
        return _split_synthetic(x, y, seed, "regression")
    names = ["mnist", "fashion-mnist", "mnist-small", "spirals", "moons", "sine", "mnist-like"]
    raise ConfigError(unknown("dataset", name, names, also="or a .npz file"))


def check_labels(y: np.ndarray, n_classes: int, where: str) -> None:
    if y.dtype.kind not in "iu":
        raise ConfigError(f"{where}: class labels must be integers, got dtype {y.dtype}")
    bad = (y < 0) | (y >= n_classes)
    if bad.any():
        raise ConfigError(f"{where}: label {int(y[bad][0])} is out of range [0, {n_classes})")


def build_optimizer(cfg: TrainConfig, params: list[Any]) -> optim.Optimizer:
    wd = cfg.weight_decay
    name = cfg.optimizer
    if name == "sgd":
        return optim.SGD(params, lr=cfg.lr, weight_decay=wd)
    if name == "momentum":
        return optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=wd)
    if name == "nesterov":
        return optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=True,
                         weight_decay=wd)
    if name == "adagrad":
        return optim.Adagrad(params, lr=cfg.lr, weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=cfg.lr, weight_decay=wd)
    if name == "adadelta":
        return optim.Adadelta(params, lr=cfg.lr, weight_decay=wd)
    betas = (cfg.betas[0], cfg.betas[1])
    if name == "adam":
        return optim.Adam(params, lr=cfg.lr, betas=betas, weight_decay=wd)
    if name == "adamw":
        return optim.AdamW(params, lr=cfg.lr, betas=betas, weight_decay=wd)
    return optim.NAdam(params, lr=cfg.lr, betas=betas, weight_decay=wd)


def build_scheduler(cfg: TrainConfig, opt: Any, classes: Any = None) -> Any:
    """The lr schedule of ``cfg``. ``classes`` is where the scheduler classes come from:
    :mod:`steepest.optim` (default), or ``torch.optim.lr_scheduler``, which has the same
    names and arguments (``steepest verify`` builds its PyTorch twin that way)."""
    S = optim if classes is None else classes
    s = cfg.schedule
    if s == "none":
        return None
    if s == "cosine":
        return S.CosineAnnealingLR(opt, T_max=max(cfg.epochs, 1))
    if s == "step":
        return S.StepLR(opt, step_size=cfg.step_size, gamma=cfg.gamma)
    if s == "exponential":
        return S.ExponentialLR(opt, gamma=cfg.gamma)
    if s == "plateau":
        return S.ReduceLROnPlateau(opt, factor=cfg.gamma, patience=2)
    warm = max(min(cfg.warmup_epochs, cfg.epochs - 1), 1)
    return S.SequentialLR(opt, [
        S.LinearLR(opt, start_factor=0.1, total_iters=warm),
        S.CosineAnnealingLR(opt, T_max=max(cfg.epochs - warm, 1)),
    ], milestones=[warm])


def task_loss_and_metrics(task: str) -> tuple[Any, list[str]]:
    """The plain loss and the reported metrics of a task (penalties are added elsewhere)."""
    if task == "classification":
        return F.cross_entropy, ["accuracy"]
    return F.mse_loss, ["mae"]


def build_loss(cfg: TrainConfig, model: Any, task: str) -> Any:
    base = task_loss_and_metrics(task)[0]
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")
               and p.ndim >= 2]  # dense and convolution weights, not norms or biases
    if not (cfg.l1 or cfg.l2 or cfg.elastic_net):
        return base

    def loss(out: Any, target: Any) -> Any:
        total = base(out, target)
        if cfg.l1:
            total = total + F.l1_penalty(weights) * cfg.l1
        if cfg.l2:
            total = total + F.l2_penalty(weights) * cfg.l2
        if cfg.elastic_net:
            total = total + F.elastic_net_penalty(weights, cfg.l1_ratio) * cfg.elastic_net
        return total

    return loss


def image_shape(cfg: TrainConfig, n_in: int) -> tuple[int, ...]:
    """One sample's (C, H, W) for a CNN: ``input_shape``, else a square 1-channel image."""
    if cfg.input_shape:
        shape = tuple(cfg.input_shape)
        if math.prod(shape) != n_in:
            raise ConfigError(f"input_shape {list(shape)} has {math.prod(shape)} elements but "
                              f"the data have {n_in} features per sample")
        return shape
    side = math.isqrt(n_in)
    if side * side != n_in:
        raise ConfigError(f"model 'cnn' needs input_shape = [C, H, W]: {n_in} features per "
                          f"sample are not a square image")
    return (1, side, side)


def build_model(cfg: TrainConfig, n_in: int, n_out: int) -> Any:
    if cfg.model == "cnn":
        try:
            return cnn(image_shape(cfg, n_in), n_out, cfg.layers or None,
                       dtype=np.dtype(cfg.dtype))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return mlp([n_in, *cfg.hidden, n_out], activation=cfg.activation, init=cfg.init,
               dropout=cfg.dropout, batch_norm=cfg.batch_norm, dtype=np.dtype(cfg.dtype))


def plot_history(history: Any, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = history["epoch"]
    metric = "accuracy" if "accuracy" in history else None
    fig, axes = plt.subplots(1, 2 if metric else 1, figsize=(11 if metric else 6, 4))
    axes = np.atleast_1d(axes)
    axes[0].plot(epochs, history["loss"], "o-", label="train")
    if "val_loss" in history:
        axes[0].plot(epochs, history["val_loss"], "s-", label="validation")
    axes[0].set(xlabel="epoch", ylabel="loss", title="Loss", yscale="log")
    axes[0].legend()
    if metric:
        axes[1].plot(epochs, history[metric], "o-", label="train")
        if f"val_{metric}" in history:
            axes[1].plot(epochs, history[f"val_{metric}"], "s-", label="validation")
        axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
        axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_open(path) as f:
        fig.savefig(f, dpi=110, format="png")
    plt.close(fig)


PARTIAL_CONFIG = "config.partial.json"


def recorded_config(out: str | os.PathLike) -> dict[str, Any] | None:
    """The settings an interrupted run in ``out`` was started with (None if not recorded);
    the file is validated like any config and named in errors."""
    p = Path(out) / PARTIAL_CONFIG
    if not p.exists():
        return None
    try:
        if not p.is_file() or p.stat().st_size > 1 << 20:
            raise ValueError("not a regular file of at most 1 MiB")
        values = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(values, dict):
            raise ValueError("not a JSON object")
        make_config(values)
    except (ValueError, RecursionError, OSError) as exc:
        raise ConfigError(f"{str(p)!r} (the recorded settings of the run) is unreadable: "
                          f"{str(exc)[:200]}") from None
    return values


def _refuse_existing(out: Path, resume: bool, overwrite: bool) -> None:
    model_path, ckpt_path = out / MODEL_FILE, out / CHECKPOINT_FILE
    if resume and overwrite:
        raise ConfigError("--resume and --overwrite exclude each other")
    if not resume and not overwrite:
        for existing in (model_path, ckpt_path):
            if existing.exists():
                raise ConfigError(f"{str(existing)!r} already exists; choose another --out, "
                                  f"pass --resume to continue an interrupted run, or "
                                  f"--overwrite to replace it")
    if resume and not ckpt_path.exists():
        raise ConfigError(f"--resume: no checkpoint at {str(ckpt_path)!r}")


def _clean_temps(out: Path) -> None:
    from .atomic import remove_stale_temps

    for name in (MODEL_FILE, CHECKPOINT_FILE, "config.json", "metrics.json", "history.csv",
                 "curves.png", PARTIAL_CONFIG):
        remove_stale_temps(out / name)


@dataclass
class Prepared:
    """The data of a run as training sees it: split, scaled on the training part only, in
    the run's dtype (``val`` is None without a validation fraction)."""

    data: Data
    x_train: np.ndarray
    y_train: np.ndarray
    val: tuple[np.ndarray, np.ndarray] | None
    x_test: np.ndarray
    y_test: np.ndarray
    scaler: Any


def prepare_data(cfg: TrainConfig) -> Prepared:
    """Load, check, split, standardise and cast the data of ``cfg`` (one definition, used by
    ``train_from_config`` and ``steepest verify``)."""
    data = load_data(cfg.dataset, cfg.data_dir, cfg.seed)
    x_tr, y_tr = data.x_train, data.y_train
    if len(x_tr) != len(y_tr):
        raise ConfigError(f"features and labels differ in length ({len(x_tr)} != {len(y_tr)})")
    bad = nonfinite_rows(x_tr)
    if bad:
        raise ConfigError(f"training inputs contain NaN or inf (rows {bad})")
    if data.task == "classification":
        check_labels(y_tr, data.n_classes, "training data")
        check_labels(data.y_test, data.n_classes, "test data")
    val = None
    if cfg.val_fraction > 0:
        tr_idx, va_idx = split_indices(
            len(x_tr), (1 - cfg.val_fraction, cfg.val_fraction),
            stratify=y_tr if data.task == "classification" else None, seed=cfg.seed)
        x_va, y_va = x_tr[va_idx], y_tr[va_idx]
        x_tr, y_tr = x_tr[tr_idx], y_tr[tr_idx]
    scaler = None
    x_te = data.x_test
    if cfg.standardize:
        scaler = StandardScaler().fit(x_tr)  # statistics of the training part only
        x_tr, x_te = scaler.transform(x_tr), scaler.transform(x_te)
        if cfg.val_fraction > 0:
            x_va = scaler.transform(x_va)
    if cfg.val_fraction > 0:
        val = (x_va, y_va)
    dtype = np.dtype(cfg.dtype)
    x_tr, x_te = x_tr.astype(dtype, copy=False), x_te.astype(dtype, copy=False)
    y_te = data.y_test
    if data.task == "regression":  # targets in the run's dtype too (no float32/64 mixing)
        y_tr, y_te = y_tr.astype(dtype, copy=False), y_te.astype(dtype, copy=False)
    if val is not None:
        y_va = val[1].astype(dtype, copy=False) if data.task == "regression" else val[1]
        val = (val[0].astype(dtype, copy=False), y_va)
    return Prepared(data, x_tr, y_tr, val, x_te, y_te, scaler)


def train_from_config(cfg: TrainConfig, *, resume: bool = False, overwrite: bool = False,
                      progress: Any = True, log: Any = print,
                      threads: int | str | None = "auto",
                      distributed: bool = False,
                      compile: bool | str = "auto",  # noqa: A002
                      callbacks: Any = (), device: Any = None) -> dict[str, Any]:
    """Run a whole training job; returns the metrics written to ``metrics.json``.

    Every setting and the data are checked before the run folder is created or touched;
    the folder is then locked for the whole run (:func:`steepest.runlock.run_lock`), so a
    refused or concurrent command changes nothing on disk. On resume the settings must be
    those recorded when the run started (except :data:`~steepest.config.RESUME_MAY_CHANGE`).
    ``distributed``: data-parallel over MPI ranks; only rank 0 locks and writes the folder.
    ``compile`` is ``fit``'s: "auto" captures the step where it can, True insists
    (warning for what runs eagerly), False never captures.
    ``callbacks`` are added to the run's own (e.g. a TensorBoard logger).
    ``device`` (``"cuda"``) trains there; the saved files are the same on every device.
    """
    from .config import resume_conflicts
    from .runlock import run_lock

    out = Path(cfg.out)
    model_path, ckpt_path = out / MODEL_FILE, out / CHECKPOINT_FILE
    validate(cfg)
    _refuse_existing(out, resume, overwrite)  # early, before loading data
    if resume:
        recorded = recorded_config(out)
        if recorded is not None:
            diff = resume_conflicts(recorded, cfg.to_dict())
            if diff:
                raise ConfigError(f"--resume: the settings differ from those the run in "
                                  f"{str(out)!r} started with ({'; '.join(diff)})")

    manual_seed(cfg.seed)
    prep = prepare_data(cfg)
    data, x_tr, y_tr, val = prep.data, prep.x_train, prep.y_train, prep.val
    x_te, y_te, scaler = prep.x_test, prep.y_test, prep.scaler

    n_out = data.n_classes if data.task == "classification" else y_tr.shape[1]
    model = build_model(cfg, x_tr.shape[1], n_out)
    opt = build_optimizer(cfg, list(model.parameters()))
    sched = build_scheduler(cfg, opt)
    loss = build_loss(cfg, model, data.task)
    base_loss, metrics = task_loss_and_metrics(data.task)
    if cfg.early_stopping is not None and val is None:
        raise ConfigError("early_stopping needs a validation set (val_fraction > 0)")

    is_root = True
    if distributed:  # rank 0 alone locks and writes the run folder
        from .distributed import rank

        is_root = rank() == 0
    created = None if out.exists() or not is_root else out  # the topmost folder we create
    while created is not None and not created.parent.exists():
        created = created.parent
    if is_root:
        out.mkdir(parents=True, exist_ok=True)
    with run_lock(out, command="steepest train") if is_root else contextlib.nullcontext():
        try:
            if is_root:
                _refuse_existing(out, resume, overwrite)  # again, now that nobody else writes
                _clean_temps(out)
                if not resume:
                    atomic_write_text(out / PARTIAL_CONFIG, cfg.to_json())
            extra = list(callbacks)
            callbacks = [CSVLogger(out / "history.csv"), *extra]
            if cfg.early_stopping is not None:
                callbacks.insert(0, EarlyStopping("val_loss", patience=cfg.early_stopping))
            if cfg.model == "cnn":
                log(model.summary((x_tr.shape[1],)))
            log(f"model: {model.num_parameters():,} parameters, {len(x_tr):,} training "
                f"samples{'' if val is None else f', {len(val[0]):,} validation'}, "
                f"{len(x_te):,} test")
            history = fit(model, loss, opt, (x_tr, y_tr), val, epochs=cfg.epochs,
                          batch_size=cfg.batch_size, metrics=metrics, callbacks=callbacks,
                          scheduler=sched, grad_clip=cfg.grad_clip, seed=cfg.seed,
                          checkpoint=ckpt_path, resume=ckpt_path if resume else None,
                          progress=progress, threads=threads, distributed=distributed,
                          compile=compile, device=device)
            if history.interrupted:
                return {"interrupted": True, "checkpoint": str(ckpt_path)}
            test = evaluate(model, base_loss, (x_te, y_te), metrics)
            result = {
                "test_loss": test["loss"],
                **{f"test_{k}": v for k, v in test.items() if k != "loss"},
                "epochs_run": len(history),
                "seconds_per_epoch": float(np.mean(history["time"])) if len(history) else 0.0,
                "total_seconds": float(np.sum(history["time"])) if len(history) else 0.0,
                "best_epoch": history.best_epoch,
                "stopped_epoch": history.stopped_epoch,
            }
            if not is_root:
                return result
            _write_model(model_path, model, cfg, scaler, data.task, n_out)
            atomic_write_text(out / "config.json", cfg.to_json() + "\n")
            atomic_write_text(out / "metrics.json", json.dumps(result, indent=2) + "\n")
            history.to_csv(out / "history.csv")
            if len(history):
                try:
                    plot_history(history, out / "curves.png",
                                 f"{cfg.dataset}: {model_summary(cfg)}")
                except ImportError:
                    log("matplotlib is not installed: skipping curves.png "
                        "(pip install steepest[viz])")
            ckpt_path.unlink(missing_ok=True)
            (out / PARTIAL_CONFIG).unlink(missing_ok=True)
            _clean_temps(out)
            return result
        except BaseException:
            if created is not None and not ckpt_path.exists() and not model_path.exists():
                import shutil

                # a failed start leaves no folder behind (removed under the lock, so no
                # other run can have started writing into it)
                shutil.rmtree(created, ignore_errors=True)
            raise


def model_summary(cfg: TrainConfig) -> str:
    if cfg.model == "cnn":
        n = len(cfg.layers)
        return (f"CNN ({f'{n} layers' if n else 'default'}), {cfg.optimizer} lr={cfg.lr:g}")
    return (f"MLP {'-'.join(str(h) for h in cfg.hidden)} {cfg.activation}, {cfg.optimizer} "
            f"lr={cfg.lr:g}")


def model_n_in(model: Any) -> int:
    """Features per sample a built model takes: a CNN's first layer unflattens them."""
    first = model[0]
    if hasattr(first, "unflattened_size"):
        return math.prod(first.unflattened_size)
    return first.in_features


def _write_model(path: Path, model: Any, cfg: TrainConfig, scaler: Any, task: str,
                 n_out: int) -> None:
    n_in = model_n_in(model)
    save({"format": MODEL_FORMAT, "config": cfg.to_json(), "task": task, "n_out": n_out,
          "n_in": n_in,
          "scaler": None if scaler is None else scaler.state_dict(),
          "state": model.state_dict()}, path)


def _mlp_config(model: Any) -> tuple[dict[str, Any], list[Any]]:
    """The TrainConfig values of an ``mlp(...)``-built model, read from its layers."""
    from . import nn
    from .models import ACTIVATIONS

    layers = list(model) if isinstance(model, nn.Sequential) else []
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    names = {cls: name for name, cls in ACTIVATIONS.items()}
    acts = {names[type(m)] for m in layers if type(m) in names}
    drops = [m.p for m in layers if isinstance(m, nn.Dropout)]
    if not linears or len(acts) > 1:
        raise ConfigError("save_model: the model is not an MLP built by steepest.models.mlp "
                          "(a Sequential of Linear, [BatchNorm1d], activation, [Dropout]); "
                          "save other models with steepest.save(model.state_dict(), path)")
    return {"hidden": [m.out_features for m in linears[:-1]] or [1],
            "activation": acts.pop() if acts else "relu",
            "batch_norm": any(isinstance(m, nn.BatchNorm1d) for m in layers),
            "dropout": drops[0] if drops else 0.0, "init": "default",
            "dtype": str(linears[0].weight.data.dtype)}, linears


def save_model(model: Any, path: str | os.PathLike, *, task: str = "classification",
               dataset: str | None = None, scaler: Any = None) -> None:
    """Save an MLP (built by :func:`steepest.models.mlp`) so that ``steepest evaluate`` and
    ``steepest predict`` can read it: the weights plus the architecture and task.

    ``dataset`` names the data set ``steepest evaluate`` scores on by default; ``scaler``
    is a fitted :class:`~steepest.data.StandardScaler` applied to inputs first.
    """
    if task not in ("classification", "regression"):
        raise ConfigError(unknown("task", task, ("classification", "regression")))
    values, linears = _mlp_config(model)
    if len(values["hidden"]) != len(linears) - 1:
        raise ConfigError("save_model: an MLP needs at least one hidden layer")
    cfg = make_config({**values, "dataset": dataset or "mnist"})
    rebuilt = build_model(cfg, linears[0].in_features, linears[-1].out_features)
    ours, theirs = rebuilt.state_dict(), model.state_dict()
    if [(k, v.shape) for k, v in ours.items()] != [(k, v.shape) for k, v in theirs.items()]:
        raise ConfigError("save_model: the model's layers are not those mlp() builds; save "
                          "it with steepest.save(model.state_dict(), path) instead")
    _write_model(Path(path), model, cfg, scaler, task, linears[-1].out_features)


_UNKNOWN_DATA = "unknown (a bare state_dict)"


def _model_from_state(state: dict[str, Any], p: Path, arch: dict[str, Any]) -> Any:
    """Rebuild an MLP from a bare ``state_dict`` file and the architecture flags."""
    weights = []
    for k, v in state.items():
        head, _, tail = str(k).partition(".")
        if tail == "weight" and head.isdigit() and isinstance(v, np.ndarray) and v.ndim == 2:
            weights.append((int(head), v.shape))
    weights.sort()
    if len(weights) < 2:
        raise ConfigError(f"{str(p)!r} holds no MLP weights (Linear layers '0.weight', ...); "
                          f"save models with steepest.save_model(model, path)")
    hidden = [shape[0] for _, shape in weights[:-1]]
    if arch.get("hidden") and list(arch["hidden"]) != hidden:
        raise ConfigError(f"{str(p)!r} holds hidden widths {hidden}, not --hidden "
                          f"{','.join(map(str, arch['hidden']))}")
    bn = any(str(k).endswith("running_mean") for k in state)
    for dropout in (0.0, 0.5):
        cfg = make_config({"hidden": hidden, "activation": arch.get("activation") or "relu",
                           "batch_norm": bn, "dropout": dropout, "init": "default",
                           "dtype": str(state[f"{weights[0][0]}.weight"].dtype)
                           if state[f"{weights[0][0]}.weight"].dtype.kind == "f" else "float32",
                           "dataset": arch.get("dataset")
                           or ("mnist" if weights[0][1][1] == 784 else _UNKNOWN_DATA)})
        model = build_model(cfg, weights[0][1][1], weights[-1][1][0])
        if list(model.state_dict()) == list(state):
            return model, cfg
    raise ConfigError(f"{str(p)!r} is a state_dict but not of an mlp(); save models with "
                      f"steepest.save_model(model, path)")


def load_model(path: str | os.PathLike, arch: dict[str, Any] | None = None
               ) -> tuple[Any, TrainConfig, Any, str]:
    """Rebuild a saved model: (model in eval mode, config, scaler or None, task).

    ``path`` is a run folder or a file written by :func:`save_model` (or by ``steepest
    train``); a bare ``steepest.save(model.state_dict(), path)`` of an ``mlp()`` is read
    too, with ``arch`` giving what the weights cannot tell (``activation``, ``task``).
    Everything read is validated; errors name the file.
    """
    from .nn.module import LoadStateDictError

    p = Path(path)
    if p.is_dir():
        p = p / MODEL_FILE
    if not p.exists():
        raise ConfigError(f"no saved model at {str(p)!r}")
    obj = load(p)
    arch = dict(arch or {})

    def bad(why: str) -> ConfigError:
        return ConfigError(f"{str(p)!r}: {why}")

    if isinstance(obj, dict) and "format" not in obj and obj and all(
            isinstance(v, np.ndarray) for v in obj.values()):
        model, cfg = _model_from_state(obj, p, arch)
        task, state, scaler_state = arch.get("task") or "classification", obj, None
    else:
        if not isinstance(obj, dict) or obj.get("format") != MODEL_FORMAT:
            raise bad("is not a steepest model file; save models with "
                      "steepest.save_model(model, path), or pass a state_dict file of an "
                      "mlp() with the architecture flags (--activation, --task)")
        for key, kind in (("config", str), ("task", str), ("n_out", int), ("state", dict)):
            if not isinstance(obj.get(key), kind) or isinstance(obj.get(key), bool):
                raise bad(f"key {key!r} is missing or not a {kind.__name__}")
        if obj["task"] not in ("classification", "regression"):
            raise bad(f"key 'task' is {obj['task'][:40]!r}")
        try:
            cfg = make_config(json.loads(obj["config"]))
        except (ValueError, RecursionError) as exc:
            raise bad(f"key 'config': {str(exc)[:200]}") from None
        state, task, scaler_state = obj["state"], obj["task"], obj.get("scaler")
        first = next((k for k in state if str(k).endswith("weight")), None)
        if first is None or not isinstance(state[first], np.ndarray) or state[first].ndim < 2:
            raise bad("key 'state' holds no first-layer weight")
        if not 0 < obj["n_out"] <= 1 << 20:
            raise bad(f"key 'n_out' is {obj['n_out']}")
        n_in = obj.get("n_in", state[first].shape[1] if cfg.model == "mlp" else None)
        if not isinstance(n_in, int) or isinstance(n_in, bool) or not 0 < n_in <= 1 << 26:
            raise bad(f"key 'n_in' is missing or not a positive int ({str(n_in)[:40]})")
        model = build_model(cfg, n_in, obj["n_out"])
    try:
        model.load_state_dict(state)
    except (LoadStateDictError, TypeError, ValueError) as exc:
        raise bad(f"key 'state': {exc}") from None
    model.eval()
    scaler = None
    if scaler_state is not None:
        scaler = StandardScaler()
        try:
            scaler.load_state_dict(scaler_state)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise bad(f"key 'scaler': {exc}") from None
        if np.shape(scaler._shift) != (model_n_in(model),):
            raise bad(f"key 'scaler' has {np.size(scaler._shift)} features but the model "
                      f"expects {model_n_in(model)}")
    return model, cfg, scaler, task


def _model_inputs(x: np.ndarray, scaler: Any, cfg: TrainConfig) -> np.ndarray:
    """Inputs as the saved model saw them in training: scaled, in its dtype."""
    if scaler is not None:
        x = scaler.transform(x)
    return x.astype(np.dtype(cfg.dtype), copy=False)


IMAGE_DATASETS = ("mnist", "fashion-mnist", "mnist-small")


def evaluate_saved(path: str | os.PathLike, dataset: str | None = None,
                   data_dir: str | None = None, arch: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """Loss, metrics and (for classifiers) the confusion matrix of a saved model on the
    test split of ``dataset`` (default: the one it was trained on)."""
    model, cfg, scaler, task = load_model(path, arch)
    if not dataset and cfg.dataset == _UNKNOWN_DATA:
        raise ConfigError(f"{os.fspath(path)!r} is a bare state_dict: pass --dataset to say "
                          f"what to score it on")
    data = load_data(dataset or cfg.dataset, data_dir or cfg.data_dir, cfg.seed)
    if data.task != task:
        raise ConfigError(f"the model is a {task} model but {dataset or cfg.dataset!r} is a "
                          f"{data.task} data set")
    n_in = model_n_in(model)
    if data.x_test.shape[1] != n_in:
        raise ConfigError(f"{dataset or cfg.dataset!r} has {data.x_test.shape[1]} features per "
                          f"sample but the model expects {n_in}")
    x = _model_inputs(data.x_test, scaler, cfg)
    base, metrics = task_loss_and_metrics(task)
    if task == "classification":
        check_labels(data.y_test, model[-1].out_features, "test data")
    res: dict[str, Any] = dict(evaluate(model, base, (x, data.y_test), metrics))
    if task == "classification":
        from .train.metrics import confusion_matrix

        res["confusion_matrix"] = confusion_matrix(
            predict(model, x), data.y_test, model[-1].out_features).tolist()
    return res


def check_inputs(inputs: Any, n_in: int, image: bool, pixel_scale: str = "auto",
                 where: str = "inputs") -> np.ndarray:
    """Prediction inputs as an (N, n_in) float32 array, or one clear error.

    Image models (trained on MNIST-like data) expect pixels in [0, 1]; 0..255 pixels are
    accepted as integers (uint8) or with ``pixel_scale="255"``. ``pixel_scale`` is
    ``"auto"``, ``"1"`` (use as given) or ``"255"`` (divide by 255).
    """
    if pixel_scale not in ("auto", "1", "255"):
        raise ConfigError(unknown("pixel scale", pixel_scale, ("auto", "1", "255")))
    a = np.asarray(inputs)
    shapes = f"(N, {n_in})" + (" or (N, 28, 28)" if image and n_in == 784 else "")
    if a.dtype.kind not in "biuf":
        raise ConfigError(f"{where} must be numbers, got dtype {a.dtype}; expected an array of "
                          f"shape {shapes}")
    if a.ndim == 0:
        raise ConfigError(f"{where} is a single number (a 0-d array); expected shape {shapes}")
    if a.size == 0:
        raise ConfigError(f"{where} is empty (shape {a.shape}); expected shape {shapes}")
    if a.ndim == 1:
        if n_in == 1:
            a = a.reshape(-1, 1)
        elif a.size == n_in:
            a = a.reshape(1, -1)  # one sample
        else:
            raise ConfigError(f"{where} has shape {a.shape}: {a.size} values are not a whole "
                              f"number of samples of {n_in} features; expected shape {shapes}")
    x = a.reshape(len(a), -1)
    if x.shape[1] != n_in:
        raise ConfigError(f"{where} of shape {a.shape} have {x.shape[1]} features per sample "
                          f"but the model expects {n_in}; expected shape {shapes}")
    integer = a.dtype.kind in "biu"
    x = x.astype(np.float32)
    bad = nonfinite_rows(x)
    if bad:
        raise ConfigError(f"{where} contain NaN or inf (rows {bad})")
    if image:
        scale = pixel_scale if pixel_scale != "auto" else ("255" if integer else "1")
        if scale == "255":
            if x.min() < 0 or x.max() > 255:
                raise ConfigError(f"{where}: pixels given as 0..255 lie in [{x.min():g}, "
                                  f"{x.max():g}]")
            x /= 255
        elif x.min() < -1e-6 or x.max() > 1 + 1e-6:
            hint = (" they look like 0..255 pixels: pass --pixel-scale 255 (or uint8 data)"
                    if x.max() <= 255 and x.min() >= 0 else "")
            raise ConfigError(f"{where}: the model expects pixels in [0, 1] but the values lie "
                              f"in [{x.min():g}, {x.max():g}];{hint or ' rescale them'}")
    return x


def predict_saved(path: str | os.PathLike, inputs: Any, arch: dict[str, Any] | None = None,
                  pixel_scale: str = "auto") -> np.ndarray:
    """Class indices (classifiers) or outputs (regression) of a saved model."""
    model, cfg, scaler, task = load_model(path, arch)
    x = check_inputs(inputs, model_n_in(model), cfg.dataset in IMAGE_DATASETS,
                     pixel_scale)
    out = predict(model, _model_inputs(x, scaler, cfg))
    return out.argmax(axis=1) if task == "classification" else out
