"""Callbacks: code that runs at fixed points of ``fit`` (early stopping, checkpoints, logs,
progress). Each keeps its own state in ``state_dict`` so a resumed run continues exactly."""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

import numpy as np


class Callback:
    """Base class: override the hooks you need. ``trainer`` exposes ``model``,
    ``optimizer``, ``history``, ``epoch`` and ``stop_training``."""

    def on_train_begin(self, trainer: Any) -> None: ...

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None: ...

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, float]) -> None: ...

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None: ...

    def on_train_end(self, trainer: Any) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def _mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    return "max" if any(k in monitor for k in ("acc", "top")) else "min"


def _better(value: float, best: float, mode: str, min_delta: float = 0.0) -> bool:
    """Whether ``value`` improves on ``best`` by more than ``min_delta``."""
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _monitored(logs: dict[str, Any], monitor: str, who: str) -> float:
    if monitor not in logs:
        hint = " (pass val_data to fit)" if monitor.startswith("val_") else ""
        raise ValueError(f"{who} monitors {monitor!r}, but the epoch logs only have "
                         f"{sorted(logs)}{hint}")
    return float(logs[monitor])


class EarlyStopping(Callback):
    """Stop when the monitored quantity has not improved for ``patience`` epochs.

    Validation error that starts rising while training error still falls is the mark of
    overfitting; with ``restore_best=True`` the model returns to the weights of the best
    epoch when training ends.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best: bool = True) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.mode = _mode(monitor, mode)
        self.restore_best = restore_best
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_state: dict[str, np.ndarray] | None = None

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if _better(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = trainer.model.state_dict()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                trainer.stop_training = True
                trainer.history.stopped_epoch = epoch

    def on_train_end(self, trainer: Any) -> None:
        trainer.history.best_epoch = self.best_epoch
        if self.restore_best and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_state": self.best_state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = float(state["best"]), state["best_epoch"]
        self.wait, self.stopped_epoch = int(state["wait"]), state["stopped_epoch"]
        self.best_state = state["best_state"]


class ModelCheckpoint(Callback):
    """Save the model's weights (atomically, in steepest's safe format) after each epoch,
    or only when the monitored quantity improves. ``path`` may contain ``{epoch}``."""

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss",
                 save_best_only: bool = False, mode: str = "auto") -> None:
        self.path, self.monitor, self.save_best_only = os.fspath(path), monitor, save_best_only
        self.mode = _mode(monitor, mode)
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        from ..serialization import save

        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not _better(value, self.best, self.mode):
                return
            self.best = value
        save(trainer.model.state_dict(), self.path.format(epoch=epoch))

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])


class CSVLogger(Callback):
    """Rewrite ``path`` with the history table after every epoch (atomic, resume-safe)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        trainer.history.to_csv(self.path)


def _fmt(logs: dict[str, Any]) -> str:
    parts = []
    for k, v in logs.items():
        if k in ("epoch",):
            continue
        if isinstance(v, float):
            parts.append(f"{k}={v:.4g}" if k != "time" else f"{k}={v:.2f}s")
    return " ".join(parts)


class ProgressBar(Callback):
    """Live loss/metrics per batch (tqdm when installed and writing to a terminal) and one
    summary line per epoch."""

    def __init__(self, stream: Any = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = live
        self._bar = None
        self._t0 = 0.0

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        self._t0 = time.perf_counter()
        live = self.live if self.live is not None else (
            hasattr(self.stream, "isatty") and self.stream.isatty())
        if live:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self._bar = tqdm(total=trainer.steps_per_epoch, desc=f"epoch {epoch}/"
                             f"{trainer.epochs}", file=self.stream, leave=False,
                             dynamic_ncols=True)

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, float]) -> None:
        if self._bar is not None:
            self._bar.update(1)
            if step % 10 == 0:
                self._bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        print(f"epoch {epoch}/{trainer.epochs} {_fmt(logs)}", file=self.stream, flush=True)

