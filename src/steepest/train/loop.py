"""The training loop: ``fit``, ``evaluate`` and ``predict``.

One step is the textbook one: forward a mini-batch, compute the loss, backward, (clip),
update. Around it: epochs over a shuffled loader, validation, schedules, callbacks, exact
checkpoints, and a clean stop on Ctrl-C (the current step finishes, a checkpoint is
written, ``fit`` returns with ``history.interrupted`` set).
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import backend
from .. import random as _random
from ..autograd import no_grad
from ..optim import ReduceLROnPlateau, clip_grad_norm_
from ..tensor import Tensor
from ..threads import blas_threads
from . import metrics as _metrics
from .callbacks import Callback, ProgressBar
from .checkpoint import restore_checkpoint, save_checkpoint
from .history import History


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite."""


def _as_loader(data: Any, batch_size: int, shuffle: bool, seed: int | None,
               drop_last: bool, who: str) -> Any:
    from ..data import DataLoader, Dataset, TensorDataset

    if isinstance(data, DataLoader):
        return data
    if isinstance(data, Dataset):
        ds = data
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = (np.asarray(_host(a.data if isinstance(a, Tensor) else a)) for a in data)
        bad = nonfinite_rows(x)
        if bad:
            raise ValueError(f"{who}: inputs contain NaN or inf (rows {bad}...)")
        ds = TensorDataset(x, y)
    else:
        raise TypeError(f"{who}: data must be a DataLoader, a Dataset or an (X, y) pair, got "
                        f"{type(data).__name__}")
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      seed=seed)


def nonfinite_rows(x: np.ndarray, limit: int = 5, chunk_rows: int = 4096) -> list[int]:
    """Up to ``limit`` indices of rows holding NaN or inf, checked in chunks so that a large
    data set costs no full-size boolean temporary."""
    if x.dtype.kind not in "fc" or len(x) == 0:
        return []
    flat = x.reshape(len(x), -1)
    for start in range(0, len(flat), chunk_rows):
        block = flat[start:start + chunk_rows]
        ok = np.isfinite(block).all(axis=1)
        if not ok.all():
            return (np.flatnonzero(~ok)[:limit] + start).tolist()
    return []


def _host(a: Any) -> Any:
    return backend.to_device(a, "cpu") if backend.is_device_array(a) else a


def _model_device(model: Any) -> Any:
    """The device of the model's first parameter, None for the CPU (or no parameters)."""
    for p in model.parameters():
        return None if type(p.data) is np.ndarray else p.device
    return None


def _to_fit_device(model: Any, optimizer: Any, device: Any) -> Any:
    """Move model and optimiser state to ``device`` (once); the device batches go to."""
    if device is None:
        return _model_device(model)
    dev = backend.device(device)
    model.to(dev)
    if optimizer.state:
        optimizer.load_state_dict(optimizer.state_dict())  # state follows its parameters
    return None if dev.type == "cpu" else dev


def _resolve_loss(loss: Any) -> Callable[..., Tensor]:
    if callable(loss):
        return loss
    from .. import functional as F

    names = {"cross_entropy": F.cross_entropy, "mse": F.mse_loss, "l1": F.l1_loss,
             "huber": F.huber_loss, "bce": F.binary_cross_entropy,
             "bce_with_logits": F.binary_cross_entropy_with_logits, "nll": F.nll_loss}
    if loss in names:
        return names[loss]
    raise ValueError(f"unknown loss {loss!r}; choose from {sorted(names)} or pass a callable")


class Trainer:
    """The state of one ``fit`` call, as seen by callbacks."""

    def __init__(self, model: Any, optimizer: Any, epochs: int, steps_per_epoch: int,
                 history: History) -> None:
        self.model, self.optimizer = model, optimizer
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.history = history
        self.epoch = 0
        self.stop_training = False


class _Interrupt:
    """Turns the first Ctrl-C into a flag checked between steps; a second one aborts."""

    def __init__(self, enabled: bool = True) -> None:
        self.requested = False
        self.enabled = enabled
        self._old: Any = None

    def __enter__(self) -> _Interrupt:
        if self.enabled and threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\ninterrupted: finishing this step and saving a checkpoint "
              "(press Ctrl-C again to abort)", flush=True)

    def __exit__(self, *exc: Any) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def fit(
    model: Any,
    loss: Any,
    optimizer: Any,
    train_data: Any,
    val_data: Any = None,
    *,
    epochs: int = 10,
    batch_size: int = 32,
    metrics: Sequence[Any] = (),
    callbacks: Iterable[Callback] = (),
    scheduler: Any = None,
    grad_clip: float | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    drop_last: bool = False,
    checkpoint: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    progress: bool | Callback = True,
    plateau_monitor: str | None = None,
    handle_interrupt: bool = True,
    threads: int | str | None = "auto",
    distributed: bool = False,
    compile: bool | str = "auto",  # noqa: A002 - the name users know from torch.compile
    device: Any = None,
) -> History:
    """Train ``model`` by mini-batch gradient descent and return its :class:`History`.

    Parameters
    ----------
    model : nn.Module
    loss : callable or str
        ``loss(output, target) -> scalar Tensor`` (a loss module, a function of
        ``steepest.functional``, or a name such as ``'cross_entropy'``).
    optimizer : optim.Optimizer
    train_data, val_data : DataLoader, Dataset or (X, y) arrays
    epochs, batch_size : int
    metrics : names (``'accuracy'``, ``'top5'``, ``'mse'``, ``'mae'``) or callables
        ``f(output, target) -> float``; computed on training batches and on ``val_data``.
    callbacks : EarlyStopping, ModelCheckpoint, CSVLogger, ...
    scheduler : an lr scheduler, stepped once per epoch (``ReduceLROnPlateau`` gets the
        monitored value: ``val_loss`` when there is validation data, else ``loss``).
    grad_clip : float, optional
        Clip the global gradient norm to this value before each update.
    checkpoint : path, optional
        Write a full checkpoint here after every epoch and on Ctrl-C.
    resume : path, optional
        Continue from a checkpoint; the result is bit-identical to an uninterrupted run.
    progress : bool or ProgressBar
        Show a live progress bar (on a terminal) and one line per epoch.
    handle_interrupt : bool
        Turn Ctrl-C into a clean stop with a checkpoint (the default). ``False`` leaves
        ``KeyboardInterrupt`` to the caller (e.g. a hyperparameter search).
    threads : int, 0, None or "auto"
        BLAS threads during training (see :mod:`steepest.threads`): ``"auto"`` (the
        default) uses the cores other processes leave free; 0 or None keep the library's.
    distributed : bool
        Data-parallel over the ranks of ``mpiexec -n N`` (``steepest.distributed``):
        ``batch_size`` is per rank, the result equals one process with ``N * batch_size``;
        only rank 0 writes files; Ctrl-C or an error on any rank stops every rank.
    compile : "auto", True or False
        Run each step through :func:`steepest.compile_step` (captured once per batch
        shape, then replayed without building a graph); results are bit-identical to the
        eager loop. ``"auto"`` (the default, as Keras' ``fit`` runs compiled functions)
        captures what it can and silently runs the rest eagerly (other layers or losses,
        hooks, a device, ``distributed``); ``True`` warns once for what runs eagerly;
        ``False`` always runs the eager loop.
    device : str or steepest.device, optional
        Train there (``"cuda"``): the model and the optimiser's state are moved once, each
        batch is copied once; metrics and the history are computed on the host. Default:
        where the model's parameters are.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or (
            batch_size <= 0):
        raise ValueError(f"fit: batch_size must be a positive integer, got {batch_size!r}")
    loss_fn = _resolve_loss(loss)
    named_metrics = [_metrics.resolve(m) for m in metrics]
    loader = _as_loader(train_data, batch_size, shuffle, seed, drop_last, "fit (train_data)")
    val_loader = None if val_data is None else _as_loader(
        val_data, max(batch_size, 1024), False, 0, False, "fit (val_data)")
    callbacks = list(callbacks)
    if isinstance(progress, Callback):
        callbacks.append(progress)
    elif progress:
        callbacks.append(ProgressBar())
    params = [p for p in model.parameters() if p.requires_grad]
    dev = _to_fit_device(model, optimizer, device)
    captured = None
    if compile not in (True, False, "auto"):
        raise ValueError(f"fit: compile must be True, False or 'auto', got {compile!r}")
    auto = compile == "auto"
    if auto:
        compile = not distributed and dev is None
    if compile and distributed:
        raise ValueError("fit: compile=True and distributed=True cannot be combined (the "
                         "captured step does not all-reduce gradients); drop one of them")
    if compile and dev is not None:
        raise ValueError(f"fit: compile=True runs on the CPU only; train on {dev} without it")
    if compile:
        from ..compile import compile_step

        captured = compile_step(model, loss_fn, optimizer, grad_clip=grad_clip, warn=not auto)

    from ..nn import check_symmetry

    check_symmetry(model)
    dist = None
    if distributed:  # one replica per MPI rank, see steepest.distributed
        from ..distributed import FitSync

        dist = FitSync(model, loader, val_loader)
        loader, val_loader = dist.loader, dist.val_loader

    history = History()
    start_epoch, skip, partial = 0, 0, None
    if resume is not None:
        start_epoch, skip, partial = restore_checkpoint(
            resume, model=model, optimizer=optimizer, scheduler=scheduler, loader=loader,
            history=history, callbacks=[c for c in callbacks if not isinstance(c, ProgressBar)],
            epochs=epochs, distributed=dist)
    if dist is not None:
        callbacks = dist.local_callbacks(callbacks)

    trainer = Trainer(model, optimizer, epochs, len(loader), history)
    for cb in callbacks:
        cb.on_train_begin(trainer)

    def snapshot(epoch: int, step: int, sums: dict[str, float] | None) -> dict[str, Any]:
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": None if scheduler is None else scheduler.state_dict(),
            "rng": _random.get_rng_state(),
            "loader": loader.state_dict(),
            "history": history.state_dict(),
            "callbacks": [cb.state_dict() for cb in callbacks
                          if not isinstance(cb, ProgressBar)],
            "epoch": epoch, "step": step, "partial": sums,
        }
        if dist is not None:
            state["distributed"] = dist.state_dict()
        return state

    with _Interrupt(handle_interrupt and dist is None) as interrupt, blas_threads(threads, "fit"):
        for epoch in range(start_epoch, epochs):
            trainer.epoch = epoch + 1
            model.train()
            for cb in callbacks:
                cb.on_epoch_begin(trainer, epoch + 1)
            t0 = time.perf_counter()
            sums = dict(partial) if partial else {"n": 0.0, "loss": 0.0, "time": 0.0}
            partial = None
            lr = optimizer.param_groups[0]["lr"]
            if not skip:
                loader.set_epoch(epoch)  # else the restored loader resumes mid-epoch
            for step, (xb, yb) in enumerate(loader, start=skip):
                if captured is not None:
                    lval = captured.forward(xb, yb)
                    out = Tensor(captured.output)
                else:
                    if dev is not None:
                        xb, yb = backend.to_device(xb, dev), backend.to_device(yb, dev)
                    out = model(Tensor(xb))
                    lval = loss_fn(out, yb)
                value = float(lval.data)
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"fit: the loss became {value} at epoch {epoch + 1}, step {step + 1}; "
                        f"try a smaller learning rate, gradient clipping (grad_clip=...) or "
                        f"check the inputs for extreme values")
                if captured is not None:
                    captured.update()  # backward, clipping and the update, captured
                else:
                    optimizer.zero_grad()
                    lval.backward()
                    if dist is not None:
                        dist.sync()
                    if grad_clip is not None:
                        clip_grad_norm_(params, grad_clip)
                    optimizer.step()
                n = len(xb)
                sums["n"] += n
                sums["loss"] += value * n
                batch_logs = {"loss": value}
                for name, fn in named_metrics:
                    m = fn(_host(out.data), _host(yb))
                    sums[name] = sums.get(name, 0.0) + m * n
                    batch_logs[name] = m
                for cb in callbacks:
                    cb.on_batch_end(trainer, step, batch_logs)
                if interrupt.requested:
                    sums["time"] += time.perf_counter() - t0
                    path = checkpoint or "steepest-interrupted.ckpt"
                    save_checkpoint(path, snapshot(epoch, step + 1, sums))
                    history.interrupted = True
                    history.checkpoint = os.fspath(path)
                    print(f"checkpoint saved to {os.fspath(path)}; continue with resume="
                          f"{os.fspath(path)!r} (CLI: --resume)", flush=True)
                    return history
            skip = 0
            if dist is not None:
                sums = dist.reduce_sums(sums)
            logs: dict[str, Any] = {"epoch": epoch + 1}
            count = max(sums["n"], 1.0)
            logs["loss"] = sums["loss"] / count
            for name, _ in named_metrics:
                logs[name] = sums.get(name, 0.0) / count
            if val_loader is not None:
                val = evaluate(model, loss_fn, val_loader, metrics)
                if dist is not None:
                    val = dist.mean_over_ranks(val)
                for k, v in val.items():
                    logs[f"val_{k}"] = v
            logs["lr"] = float(lr)
            logs["time"] = sums["time"] + time.perf_counter() - t0
            if scheduler is not None:
                if isinstance(scheduler, ReduceLROnPlateau):  # stepped with the metric
                    key = plateau_monitor or ("val_loss" if "val_loss" in logs else "loss")
                    scheduler.step(logs[key])
                else:
                    scheduler.step()
            history.append(logs)
            for cb in callbacks:
                cb.on_epoch_end(trainer, epoch + 1, logs)
            if checkpoint is not None:
                state = snapshot(epoch + 1, 0, None)
                if dist is None or dist.is_root:
                    save_checkpoint(checkpoint, state)
            if trainer.stop_training:
                break
    for cb in callbacks:
        cb.on_train_end(trainer)
    if dist is not None:
        dist.finish()
    return history


def evaluate(model: Any, loss: Any, data: Any, metrics: Sequence[Any] = (),
             batch_size: int = 1024) -> dict[str, float]:
    """Mean loss and metrics of ``model`` on ``data`` (eval mode, no graph)."""
    loss_fn = None if loss is None else _resolve_loss(loss)
    named = [_metrics.resolve(m) for m in metrics]
    loader = _as_loader(data, batch_size, False, 0, False, "evaluate")
    was_training = getattr(model, "training", False)
    dev = _model_device(model)
    model.eval()
    total: dict[str, float] = {}
    n_total = 0
    try:
        with no_grad():
            for xb, yb in loader:
                if dev is not None:
                    xb, yb = backend.to_device(xb, dev), backend.to_device(yb, dev)
                out = model(Tensor(xb))
                n = len(xb)
                n_total += n
                if loss_fn is not None:
                    total["loss"] = total.get("loss", 0.0) + float(loss_fn(out, yb).data) * n
                for name, fn in named:
                    total[name] = total.get(name, 0.0) + fn(_host(out.data), _host(yb)) * n
    finally:
        model.train(was_training)
    return {k: v / max(n_total, 1) for k, v in total.items()}


def predict(model: Any, x: Any, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for inputs ``x`` (eval mode, no graph, in batches)."""
    x = np.asarray(_host(x.data if isinstance(x, Tensor) else x))
    if len(x) == 0:
        raise ValueError("predict: no inputs")
    was_training = getattr(model, "training", False)
    dev = _model_device(model)
    model.eval()
    outs = []
    try:
        with no_grad():
            for i in range(0, len(x), batch_size):
                xb = x[i:i + batch_size]
                if dev is not None:
                    xb = backend.to_device(xb, dev)
                outs.append(_host(model(Tensor(xb)).data))
    finally:
        model.train(was_training)
    return np.concatenate(outs)
