"""TensorBoard logs through tensorboardX (no TensorFlow): a ``fit`` callback and a writer
of one run per hyperparameter-search trial.

``TensorBoard(log_dir)`` writes per step ``step/loss``, ``step/lr`` and
``step/grad_norm`` (global L2 norm of the gradients just used), per epoch every numeric
log (``epoch/loss``, ``epoch/val_accuracy``, ...), per epoch histograms of every weight
(``weights/NAME``) and gradient (``grads/NAME``), and at the end the hyperparameters with
the final metrics (TensorBoard's HParams tab). View with ``tensorboard --logdir DIR``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .callbacks import Callback

__all__ = ["TensorBoard", "write_trials"]


def _writer(log_dir: str) -> Any:
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError('TensorBoard logging needs tensorboardX: '
                          'pip install "steepest[tensorboard]"') from None
    return SummaryWriter(log_dir)


def _add_hparams(writer: Any, hparams: Mapping[str, Any], metrics: Mapping[str, float],
                 step: int) -> None:
    """HParams summaries into this run's own event file (tensorboardX's ``add_hparams``
    opens a second writer, whose file can replace the first one within the same second)."""
    from tensorboardX.summary import hparams as hparams_summary

    for summary in hparams_summary({k: _hparam_value(v) for k, v in hparams.items()},
                                   dict(metrics)):
        writer.file_writer.add_summary(summary)
    for k, v in metrics.items():
        writer.add_scalar(k, v, step)


def _hparam_value(v: Any) -> Any:
    """HParams take bool/int/float/str; anything else is shown as text."""
    if isinstance(v, (bool, int, float, str)) and not (isinstance(v, float) and
                                                        not math.isfinite(v)):
        return v
    return str(v)


def _numeric(logs: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in logs.items():
        if k == "epoch" or isinstance(v, bool):
            continue
        if isinstance(v, (int, float, np.number)) and math.isfinite(float(v)):
            out[k] = float(v)
    return out


def _input_width(model: Any) -> int | None:
    """Features per sample of a Sequential model (a CNN's first layer unflattens them), or
    None when it cannot be told without an example."""
    import math

    first = next(iter(model.children()), None) if hasattr(model, "children") else None
    if hasattr(first, "unflattened_size"):
        return math.prod(first.unflattened_size)
    return getattr(first, "in_features", None)


class TensorBoard(Callback):
    """Write TensorBoard event files under ``log_dir`` during ``fit``.

    Parameters
    ----------
    log_dir : folder of the run (created)
    hparams : hyperparameters to show in the HParams tab with the final metrics
    histograms : write weight and gradient histograms every this many epochs (0: never)
    step_every : write the per-step scalars every this many steps
    example_input : an input batch; with it (and the ``onnx`` package) the model graph is
        exported through :func:`steepest.onnx.export` and shown in the Graphs tab.
        ``"auto"``: zeros shaped for the first Linear layer, skipped without ``onnx``.
    """

    rank_zero_only = True  # data-parallel runs: rank 0 alone writes the logs

    def __init__(self, log_dir: str | os.PathLike, hparams: Mapping[str, Any] | None = None,
                 histograms: int = 1, step_every: int = 1, example_input: Any = None) -> None:
        self.example_input = example_input
        self.log_dir = os.fspath(log_dir)
        self.hparams = dict(hparams or {})
        self.histograms = int(histograms)
        self.step_every = max(int(step_every), 1)
        self._writer: Any = None
        self._step = 0
        self._last: dict[str, float] = {}

    def on_train_begin(self, trainer: Any) -> None:
        self._writer = _writer(self.log_dir)
        self._step = len(trainer.history) * trainer.steps_per_epoch  # continues on resume
        if self.example_input is not None:
            self._add_graph(trainer.model)

    def _add_graph(self, model: Any) -> None:
        import importlib.util
        import tempfile

        from ..onnx import export

        example = self.example_input
        if isinstance(example, str) and example == "auto":
            n_in = _input_width(model)
            if n_in is None or importlib.util.find_spec("onnx") is None:
                return
            dtype = next(iter(model.parameters())).data.dtype
            example = np.zeros((2, n_in), dtype=dtype)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.onnx")
            export(model, example, path)
            self._writer.add_onnx_graph(path)

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, float]) -> None:
        self._step += 1
        if self._step % self.step_every:
            return
        w = self._writer
        for k, v in _numeric(logs).items():
            w.add_scalar(f"step/{k}", v, self._step)
        w.add_scalar("step/lr", float(trainer.optimizer.param_groups[0]["lr"]), self._step)
        sq = 0.0
        for p in trainer.model.parameters():
            if p.grad is not None:
                g = p.grad.data
                sq += float(np.dot(g.ravel(), g.ravel()))
        w.add_scalar("step/grad_norm", math.sqrt(sq), self._step)

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        w = self._writer
        self._last = _numeric(logs)
        for k, v in self._last.items():
            w.add_scalar(f"epoch/{k}", v, epoch)
        if self.histograms and epoch % self.histograms == 0:
            for name, p in trainer.model.named_parameters():
                w.add_histogram(f"weights/{name}", p.data, epoch)
                if p.grad is not None:
                    w.add_histogram(f"grads/{name}", p.grad.data, epoch)
        w.flush()

    def on_train_end(self, trainer: Any) -> None:
        if self._writer is None:
            return
        if self.hparams:
            metrics = {f"hparam/{k}": v for k, v in self._last.items() if k != "time"}
            _add_hparams(self._writer, self.hparams, metrics or {"hparam/epochs": 0.0},
                         len(trainer.history))
        self._writer.close()
        self._writer = None


def _flat(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def write_trials(records: Iterable[Mapping[str, Any]], log_dir: str | os.PathLike) -> list[str]:
    """One TensorBoard run per search trial (``log_dir/trial-NNN``): its reported scores per
    epoch as scalars, and its configuration with the final score in the HParams tab, so
    TensorBoard compares the trials. Returns the run folders."""
    runs = []
    for r in records:
        if r.get("type", "trial") != "trial":
            continue
        run = os.path.join(os.fspath(log_dir), f"trial-{int(r['trial']):03d}")
        w = _writer(run)
        for row in r.get("scores") or []:
            epoch = int(row.get("epoch", 0))
            for k, v in _numeric(row).items():
                w.add_scalar(f"epoch/{k}", v, epoch)
        metrics = {"hparam/score": float(r["score"])} if r.get("score") is not None else {}
        metrics["hparam/epochs"] = float(r.get("epochs") or 0)
        hp = {**_flat(r.get("config") or {}), "status": str(r.get("status"))}
        _add_hparams(w, hp, metrics, int(r.get("epochs") or 0))
        w.close()
        runs.append(run)
    return runs
