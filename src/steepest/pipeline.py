"""From a :class:`~steepest.config.TrainConfig` to a trained, saved and scored model.

This is the library side of ``steepest train / evaluate / predict``: load and split the
data, build the model, optimiser, schedule and penalties, ``fit``, score on the test set,
and write the run folder (model, config, history, curves, metrics). The CLI only parses.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import functional as F
from . import optim
from .atomic import atomic_open, atomic_write_text
from .config import ConfigError, TrainConfig, make_config
from .data import StandardScaler, split_indices
from .models import mlp
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
        if not os.path.isfile(path):
            raise ConfigError(f"data file {path!r} does not exist")
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k.lower(): z[k] for k in z.files}
        except ValueError as exc:
            raise ConfigError(f"data file {path!r} cannot be read safely: {exc}") from None
        missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
        if missing:
            raise ConfigError(f"data file {path!r} lacks arrays {missing} (has "
                              f"{sorted(arrays)})")
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


def build_scheduler(cfg: TrainConfig, opt: optim.Optimizer) -> Any:
    s = cfg.schedule
    if s == "none":
        return None
    if s == "cosine":
        return optim.CosineAnnealingLR(opt, T_max=max(cfg.epochs, 1))
    if s == "step":
        return optim.StepLR(opt, step_size=cfg.step_size, gamma=cfg.gamma)
    if s == "exponential":
        return optim.ExponentialLR(opt, gamma=cfg.gamma)
    if s == "plateau":
        return optim.ReduceLROnPlateau(opt, factor=cfg.gamma, patience=2)
    warm = max(min(cfg.warmup_epochs, cfg.epochs - 1), 1)
    return optim.SequentialLR(opt, [
        optim.LinearLR(opt, start_factor=0.1, total_iters=warm),
        optim.CosineAnnealingLR(opt, T_max=max(cfg.epochs - warm, 1)),
    ], milestones=[warm])


def task_loss_and_metrics(task: str) -> tuple[Any, list[str]]:
    """The plain loss and the reported metrics of a task (penalties are added elsewhere)."""
    if task == "classification":
        return F.cross_entropy, ["accuracy"]
    return F.mse_loss, ["mae"]


def build_loss(cfg: TrainConfig, model: Any, task: str) -> Any:
    base = task_loss_and_metrics(task)[0]
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")
               and p.ndim == 2]
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


def build_model(cfg: TrainConfig, n_in: int, n_out: int) -> Any:
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


def train_from_config(cfg: TrainConfig, *, resume: bool = False, overwrite: bool = False,
                      progress: Any = True, log: Any = print, device: Any = None
                      ) -> dict[str, Any]:
    """Run a whole training job; returns the metrics written to ``metrics.json``.
    ``device`` (``"cuda"``) trains there; the saved files are the same on every device."""
    out = Path(cfg.out)
    model_path, ckpt_path = out / MODEL_FILE, out / CHECKPOINT_FILE
    if not resume and not overwrite:
        for existing in (model_path, ckpt_path):
            if existing.exists():
                raise ConfigError(f"{str(existing)!r} already exists; choose another --out, "
                                  f"pass --resume to continue an interrupted run, or "
                                  f"--overwrite to replace it")
    if resume and not ckpt_path.exists():
        raise ConfigError(f"--resume: no checkpoint at {str(ckpt_path)!r}")

    manual_seed(cfg.seed)
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
    if val is not None:
        val = (val[0].astype(dtype, copy=False), val[1])

    n_out = data.n_classes if data.task == "classification" else y_tr.shape[1]
    model = build_model(cfg, x_tr.shape[1], n_out)
    opt = build_optimizer(cfg, list(model.parameters()))
    sched = build_scheduler(cfg, opt)
    loss = build_loss(cfg, model, data.task)
    base_loss, metrics = task_loss_and_metrics(data.task)
    out.mkdir(parents=True, exist_ok=True)
    callbacks: list[Any] = [CSVLogger(out / "history.csv")]
    if cfg.early_stopping is not None:
        if val is None:
            raise ConfigError("early_stopping needs a validation set (val_fraction > 0)")
        callbacks.insert(0, EarlyStopping("val_loss", patience=cfg.early_stopping))
    log(f"model: {model.num_parameters():,} parameters, {len(x_tr):,} training samples"
        f"{'' if val is None else f', {len(val[0]):,} validation'}, {len(x_te):,} test")
    history = fit(model, loss, opt, (x_tr, y_tr), val, epochs=cfg.epochs,
                  batch_size=cfg.batch_size, metrics=metrics, callbacks=callbacks,
                  scheduler=sched, grad_clip=cfg.grad_clip, seed=cfg.seed,
                  checkpoint=ckpt_path, resume=ckpt_path if resume else None,
                  progress=progress, device=device)
    if history.interrupted:
        return {"interrupted": True, "checkpoint": str(ckpt_path)}
    test = evaluate(model, base_loss, (x_te, data.y_test), metrics)
    result = {
        "test_loss": test["loss"],
        **{f"test_{k}": v for k, v in test.items() if k != "loss"},
        "epochs_run": len(history),
        "seconds_per_epoch": float(np.mean(history["time"])) if len(history) else 0.0,
        "total_seconds": float(np.sum(history["time"])) if len(history) else 0.0,
        "best_epoch": history.best_epoch,
        "stopped_epoch": history.stopped_epoch,
    }
    save_model(model_path, model, cfg, scaler, data.task, n_out)
    atomic_write_text(out / "config.json", cfg.to_json() + "\n")
    atomic_write_text(out / "metrics.json", json.dumps(result, indent=2) + "\n")
    history.to_csv(out / "history.csv")
    if len(history):
        try:
            plot_history(history, out / "curves.png", f"{cfg.dataset}: {model_summary(cfg)}")
        except ImportError:
            log("matplotlib is not installed: skipping curves.png (pip install steepest[viz])")
    ckpt_path.unlink(missing_ok=True)
    return result


def model_summary(cfg: TrainConfig) -> str:
    return (f"MLP {'-'.join(str(h) for h in cfg.hidden)} {cfg.activation}, {cfg.optimizer} "
            f"lr={cfg.lr:g}")


def save_model(path: Path, model: Any, cfg: TrainConfig, scaler: Any, task: str,
               n_out: int) -> None:
    save({"format": MODEL_FORMAT, "config": cfg.to_json(), "task": task, "n_out": n_out,
          "scaler": None if scaler is None else scaler.state_dict(),
          "state": model.state_dict()}, path)


def load_model(path: str | os.PathLike) -> tuple[Any, TrainConfig, Any, str]:
    """Rebuild a saved model: (model in eval mode, config, scaler or None, task)."""
    p = Path(path)
    if p.is_dir():
        p = p / MODEL_FILE
    if not p.exists():
        raise ConfigError(f"no saved model at {str(p)!r}")
    obj = load(p)
    if not isinstance(obj, dict) or obj.get("format") != MODEL_FORMAT:
        raise ConfigError(f"{str(p)!r} is not a steepest model file")
    cfg = make_config(json.loads(obj["config"]))
    state = obj["state"]
    first = state[next(k for k in state if k.endswith("weight"))]
    model = build_model(cfg, first.shape[1], int(obj["n_out"]))
    model.load_state_dict(state)
    model.eval()
    scaler = None
    if obj.get("scaler") is not None:
        scaler = StandardScaler()
        scaler.load_state_dict(obj["scaler"])
    return model, cfg, scaler, obj["task"]


def _model_inputs(x: np.ndarray, scaler: Any, cfg: TrainConfig) -> np.ndarray:
    """Inputs as the saved model saw them in training: scaled, in its dtype."""
    if scaler is not None:
        x = scaler.transform(x)
    return x.astype(np.dtype(cfg.dtype), copy=False)


def evaluate_saved(path: str | os.PathLike, dataset: str | None = None,
                   data_dir: str | None = None) -> dict[str, float]:
    model, cfg, scaler, task = load_model(path)
    data = load_data(dataset or cfg.dataset, data_dir or cfg.data_dir, cfg.seed)
    x = _model_inputs(data.x_test, scaler, cfg)
    base, metrics = task_loss_and_metrics(task)
    if task == "classification":
        check_labels(data.y_test, model[-1].out_features, "test data")
    res = evaluate(model, base, (x, data.y_test), metrics)
    if task == "classification":
        from .train.metrics import confusion_matrix

        res["confusion_matrix"] = confusion_matrix(
            predict(model, x), data.y_test, model[-1].out_features).tolist()
    return res


def predict_saved(path: str | os.PathLike, inputs: np.ndarray) -> np.ndarray:
    model, cfg, scaler, task = load_model(path)
    x = np.asarray(inputs, dtype=np.float32).reshape(len(inputs), -1)
    n_in = model[0].in_features
    if x.shape[1] != n_in:
        raise ConfigError(f"inputs have {x.shape[1]} features per sample but the model "
                          f"expects {n_in}")
    bad = nonfinite_rows(x)
    if bad:
        raise ConfigError(f"inputs contain NaN or inf (rows {bad})")
    out = predict(model, _model_inputs(x, scaler, cfg))
    return out.argmax(axis=1) if task == "classification" else out

