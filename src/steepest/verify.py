"""Proof by comparison: run a training config in steepest and in PyTorch side by side.

``steepest verify`` (and :func:`verify`) takes the same settings as ``steepest train``,
builds the same network in PyTorch with the *same initial weights*, feeds both the same
mini-batches in the same order, gives both the same dropout masks (the masks steepest
draws are handed to the torch model), and steps the same optimiser, schedule, penalties and
clipping. After every step it compares the loss, every parameter's gradient and every
parameter after the update (and batch-norm running statistics), and reports the largest
absolute and relative differences. A relative difference is ``max|a - b| / max(|a|, |b|)``
over one tensor, so entries near zero do not blow it up.

Tolerances (relative): 1e-10 in float64 (the default: the check is about the mathematics);
in float32, 1e-5 for the loss and gradients and 1e-4 for the parameters, because adaptive
optimisers divide by the gradient's own size, so an update of a weight whose gradient is
tiny turns float32 rounding (different summation orders in the two libraries' matrix
products) into a visible difference: we measured 4e-5 after 20 Adam steps of the default
MLP. A Linear bias followed by batch norm has a gradient that is zero in exact arithmetic
(batch norm subtracts the mean), so rounding alone decides its updates: it and the running
mean it feeds are listed as not compared, and their gradients are checked to be ~0 instead.
Anything that cannot be mirrored exactly is refused with the reason
(:class:`NotMirrorable`) rather than compared approximately.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect as _inspect
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import FIELDS, ConfigError, TrainConfig, make_config

__all__ = ["NotMirrorable", "VerifyReport", "verify", "add_parser", "run"]

TOLERANCE = {"float64": {"loss": 1e-10, "grad": 1e-10, "param": 1e-10},
             "float32": {"loss": 1e-5, "grad": 1e-5, "param": 1e-4}}
_TORCH_HELP = ('steepest verify compares against PyTorch, which is not installed: '
               'pip install "steepest[verify]" (or pip install torch)')


class NotMirrorable(ConfigError):
    """A setting or layer that has no exact PyTorch counterpart (the reason is the message)."""


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(_TORCH_HELP) from None
    return torch


def _diff(a: Any, b: Any) -> tuple[float, float]:
    """(max absolute, max relative) difference of two arrays; relative to the larger one."""
    if a is None and b is None:
        return 0.0, 0.0
    if a is None or b is None:
        return math.inf, math.inf  # one side has a gradient, the other has none
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf, math.inf
    if a.size == 0:
        return 0.0, 0.0
    d = float(np.max(np.abs(a - b)))
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    if d == 0.0:
        return 0.0, 0.0
    return d, (d / scale if scale > 0 else math.inf)


@dataclass
class VerifyReport:
    """Per-step differences between steepest and PyTorch, and the verdict."""

    dtype: str
    tolerance: dict[str, float]
    config: dict[str, Any]
    not_compared: dict[str, str] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    first_failure: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return self.first_failure is None and bool(self.steps)

    def worst(self, kind: str) -> tuple[float, float]:
        """The largest (absolute, relative) difference of ``kind`` over all steps."""
        vals = [s[kind] for s in self.steps]
        return (max((v["abs"] for v in vals), default=0.0),
                max((v["rel"] for v in vals), default=0.0))

    def summary(self) -> str:
        parts = []
        for kind in ("loss", "grad", "param"):
            a, r = self.worst(kind)
            parts.append(f"{kind} abs {a:.2e} rel {r:.2e}")
        tol = ", ".join(f"{k} {v:g}" for k, v in self.tolerance.items())
        head = (f"{len(self.steps)} steps in {self.dtype}, relative tolerance {tol}: worst "
                + ", ".join(parts))
        if self.not_compared:
            head += f"; not compared: {', '.join(self.not_compared)} (see not_compared)"
        excused = self.excused()
        if excused:
            head += (f"; {excused} values beyond the relative tolerance are no farther from a "
                     f"float64 run than torch's own float32 run is (x2): float32 rounding")
        if self.passed:
            return f"PASS: {head}"
        f = self.first_failure or {}
        return (f"FAIL: {head}; first difference beyond tolerance at step {f.get('step')}: "
                f"{f.get('what')} (abs {f.get('abs', 0):.3e}, rel {f.get('rel', 0):.3e})")

    def excused(self) -> int:
        """How many float32 values beyond tolerance were as close to float64 as torch's."""
        n = 0
        for row in self.steps:
            items = [("loss", row["loss"])]
            items += [("grad", v) for k, v in row["grads"].items() if k not in self.not_compared]
            items += [("param", v) for k, v in row["params"].items()
                      if k not in self.not_compared]
            n += sum(1 for kind, v in items
                     if not v["rel"] <= self.tolerance[kind] and _as_close_as_torch(v))
        return n

    def to_dict(self) -> dict[str, Any]:
        return {"dtype": self.dtype, "tolerance": self.tolerance, "passed": self.passed,
                "not_compared": self.not_compared, "config": self.config,
                "steps": self.steps, "first_failure": self.first_failure}

    def plot(self, path: str | Path) -> str:
        """Write a figure of the per-step relative differences (log scale) to ``path``."""
        from .inspect import _plot

        fig = _plot.figure((10, 3.6))
        axes = fig.subplots(1, 3)
        x = [s["step"] for s in self.steps]
        floor = 1e-18  # exact agreement is drawn at the floor of the log axis
        for ax, kind, title in zip(axes, ("loss", "grad", "param"),
                                   ("loss", "gradients (worst parameter)",
                                    "parameters after the update")):
            rel = [max(s[kind]["rel"], floor) for s in self.steps]
            ab = [max(s[kind]["abs"], floor) for s in self.steps]
            ax.semilogy(x, rel, "o-", ms=3, label="relative")
            ax.semilogy(x, ab, "s--", ms=3, alpha=0.7, label="absolute")
            tol = self.tolerance[kind]
            ax.axhline(tol, color="r", lw=1, label=f"tolerance {tol:g}")
            ax.set(xlabel="step", ylabel="max difference", title=title)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        fig.suptitle(f"steepest vs PyTorch ({self.dtype}): "
                     f"{'PASS' if self.passed else 'FAIL'}")
        _plot.save(fig, path, dpi=100)
        return str(path)


# ---------------------------------------------------------------------------------------
# Mirroring the pieces in PyTorch
# ---------------------------------------------------------------------------------------


class _Masks:
    """Dropout masks drawn by steepest in this forward pass, by module name."""

    def __init__(self) -> None:
        self.masks: dict[str, np.ndarray | None] = {}

    def hook(self, name: str) -> Callable[..., None]:
        def record(module: Any, args: Any, out: Any) -> None:
            mask = getattr(getattr(out, "creator", None), "mask", None)
            if module.training and module.p > 0 and mask is None:
                raise NotMirrorable(f"dropout {name!r}: its mask could not be read from the "
                                    f"graph (an input that needs no gradient?)")
            self.masks[name] = None if mask is None else np.array(mask, copy=True)

        return record


def _mirror_model(model: Any, torch: Any, masks: _Masks, dtype: Any = None) -> Any:
    """The torch twin of a steepest ``Sequential`` MLP, with copies of its weights."""
    from collections import OrderedDict

    tnn = torch.nn

    class GivenMask(tnn.Module):
        """Dropout with the mask steepest drew (x * mask: the same inverted dropout)."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.key = name

        def forward(self, x: Any) -> Any:
            m = masks.masks.get(self.key) if self.training else None
            return x if m is None else x * torch.from_numpy(m).to(x.dtype)

    def act(m: Any) -> Any:
        kind = type(m).__name__
        simple = {"ReLU": tnn.ReLU, "Sigmoid": tnn.Sigmoid, "Tanh": tnn.Tanh}
        if kind in simple:
            return simple[kind]()
        if kind == "LeakyReLU":
            return tnn.LeakyReLU(m.negative_slope)
        if kind == "ELU":
            return tnn.ELU(m.alpha)
        if kind == "GELU":
            return tnn.GELU(approximate=m.approximate)
        if kind == "Softplus":
            return tnn.Softplus(beta=m.beta, threshold=m.threshold)
        return None

    if type(model).__name__ != "Sequential":
        raise NotMirrorable(f"only Sequential models can be mirrored, got "
                            f"{type(model).__name__}")
    layers = OrderedDict()
    for name, m in model.named_children():
        kind = type(m).__name__
        if kind == "Linear":
            t = tnn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
        elif kind == "BatchNorm1d":
            t = tnn.BatchNorm1d(m.num_features, eps=m.eps, momentum=m.momentum,
                                affine=m.affine, track_running_stats=m.track_running_stats)
        elif kind == "Dropout":
            t = GivenMask(name)
            m.register_forward_hook(masks.hook(name))
        else:
            t = act(m)
            if t is None:
                raise NotMirrorable(f"layer {name} ({kind}) has no PyTorch mirror in "
                                    f"steepest verify yet")
        layers[name] = t
    tm = tnn.Sequential(layers)
    ours = model.state_dict()
    theirs = tm.state_dict()
    if dtype is None:
        dtype = torch.float64 if next(iter(ours.values())).dtype == np.float64 else \
            torch.float32
    tm.to(dtype)
    with torch.no_grad():
        for k, v in tm.state_dict().items():
            if k not in ours:
                if k.endswith("num_batches_tracked"):
                    continue
                raise NotMirrorable(f"torch state {k!r} has no steepest counterpart")
            v.copy_(torch.from_numpy(np.asarray(ours[k])))
    missing = set(ours) - set(theirs)
    if missing:
        raise NotMirrorable(f"steepest state {sorted(missing)} has no torch counterpart")
    return tm


def _mirror_optimizer(opt: Any, tparams: list[Any], torch: Any,
                      overrides: dict[str, Any]) -> Any:
    name = type(opt).__name__
    cls = getattr(torch.optim, name, None)
    if cls is None:
        raise NotMirrorable(f"optimizer {name} has no torch.optim counterpart")
    accepted = set(_inspect.signature(cls.__init__).parameters)
    group = opt.param_groups[0]
    kwargs = {}
    for k, v in group.items():
        if k in ("params", "initial_lr"):
            continue
        if k == "lr" and "initial_lr" in group:
            v = group["initial_lr"]
        if k not in accepted:
            if name == "AdamW" and k == "decoupled_weight_decay" and v:
                continue  # torch's AdamW is decoupled by definition
            raise NotMirrorable(f"optimizer {name}: option {k}={v!r} has no PyTorch "
                                f"counterpart")
        kwargs[k] = tuple(v) if isinstance(v, list) else v
    for k, v in overrides.items():
        if k not in accepted:
            raise ConfigError(f"torch override {k!r}: torch.optim.{name} has no such option")
        kwargs[k] = v
    return cls(tparams, **kwargs)




def _as_config(config: TrainConfig | dict[str, Any] | None, dtype: str | None) -> TrainConfig:
    if isinstance(config, TrainConfig):
        values = config.to_dict()
    else:
        values = {"dataset": "mnist-small", "dtype": "float64", **(config or {})}
    if dtype is not None:
        values["dtype"] = dtype
    return make_config(values)


def verify(config: TrainConfig | dict[str, Any] | None = None, *, steps: int = 20,
           dtype: str | None = None, tolerance: float | None = None,
           torch_overrides: dict[str, Any] | None = None,
           log: Callable[[str], Any] | None = print) -> VerifyReport:
    """Train ``config`` for ``steps`` steps in steepest and in PyTorch and compare them.

    Parameters
    ----------
    config : TrainConfig or dict, optional
        The settings of ``steepest train``; a dict defaults to ``dataset='mnist-small'``
        and ``dtype='float64'`` (a TrainConfig is taken as it is).
    steps : int
        Optimiser steps to compare (schedules step at each epoch boundary, as in ``fit``).
    dtype : {'float64', 'float32'}, optional
        Overrides the config's dtype.
    tolerance : float, optional
        Largest relative difference accepted for everything (default: 1e-10 in float64;
        in float32 1e-5 for loss and gradients, 1e-4 for parameters).
    torch_overrides : dict, optional
        Change torch-side optimiser options (e.g. ``{'weight_decay': 0.01}``): a deliberate
        difference, to see the check fail and name where.
    log : callable, optional
        Receives one line per step (``None`` for silence).
    """
    torch = _torch()
    cfg = _as_config(config, dtype)
    # torch keeps some optimiser scalars (NAdam's mu_product, step counts) in its default
    # dtype: float32 unless told otherwise, which would put float32 rounding into a float64
    # run. The run's dtype is made torch's default for its duration.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64 if cfg.dtype == "float64" else torch.float32)
    try:
        return _verify(cfg, torch, steps, tolerance, torch_overrides or {}, log)
    finally:
        torch.set_default_dtype(previous)


class _TorchTwin:
    """The torch side of a run: model, optimiser, schedule and loss, in one dtype."""

    def __init__(self, cfg: TrainConfig, model: Any, opt: Any, masks: _Masks, torch: Any,
                 classification: bool, dtype: Any, overrides: dict[str, Any]) -> None:
        self.cfg, self.torch, self.classification = cfg, torch, classification
        self.model = _mirror_model(model, torch, masks, dtype)
        self.dtype = next(self.model.parameters()).dtype
        self.params = dict(self.model.named_parameters())
        self.opt = _mirror_optimizer(opt, [self.params[n] for n, _ in model.named_parameters()],
                                     torch, overrides)
        from .pipeline import build_scheduler

        self.sched = build_scheduler(cfg, self.opt, torch.optim.lr_scheduler)
        self.weights = [self.params[n] for n, p in model.named_parameters()
                        if n.endswith("weight") and p.ndim == 2]
        self.loss_sum, self.count = 0.0, 0

    def tensor(self, x: np.ndarray) -> Any:
        return self.torch.from_numpy(x).to(self.dtype)

    def target(self, y: np.ndarray) -> Any:
        if self.classification:
            return self.torch.from_numpy(np.asarray(y, dtype=np.int64))
        return self.tensor(y)

    def base_loss(self, out: Any, y: np.ndarray) -> Any:
        tf = self.torch.nn.functional
        t = self.target(y)
        return tf.cross_entropy(out, t) if self.classification else tf.mse_loss(out, t)

    def loss(self, out: Any, y: np.ndarray) -> Any:
        cfg = self.cfg
        total = self.base_loss(out, y)
        ws = self.weights
        l1 = sum(w.abs().sum() for w in ws) if (cfg.l1 or cfg.elastic_net) else 0.0
        l2 = sum((w * w).sum() for w in ws) * 0.5 if (cfg.l2 or cfg.elastic_net) else 0.0
        if cfg.l1:
            total = total + l1 * cfg.l1
        if cfg.l2:
            total = total + l2 * cfg.l2
        if cfg.elastic_net:
            total = total + (l1 * cfg.l1_ratio + l2 * (1.0 - cfg.l1_ratio)) * cfg.elastic_net
        return total

    def forward_backward(self, xb: np.ndarray, yb: np.ndarray) -> float:
        self.model.train()
        value = self.loss(self.model(self.tensor(xb)), yb)
        self.opt.zero_grad()
        value.backward()
        if self.cfg.grad_clip is not None:
            self.torch.nn.utils.clip_grad_norm_(list(self.params.values()), self.cfg.grad_clip)
        self.loss_sum += float(value.detach()) * len(xb)
        self.count += len(xb)
        return float(value.detach())

    def grads(self) -> dict[str, Any]:
        return {n: None if p.grad is None else p.grad.double().numpy()
                for n, p in self.params.items()}

    def state(self) -> dict[str, np.ndarray]:
        return {k: v.double().numpy() for k, v in self.model.state_dict().items()}

    def epoch_end(self, plateau: bool, val: Any) -> None:
        """Step the schedule as ``fit`` does (the validation loss, else the epoch's loss)."""
        if self.sched is not None and plateau:
            metric = self.loss_sum / max(self.count, 1)
            if val is not None:
                self.model.eval()
                with self.torch.no_grad():
                    metric = float(self.base_loss(self.model(self.tensor(val[0])), val[1]))
            self.sched.step(metric)
        elif self.sched is not None:
            self.sched.step()
        self.loss_sum, self.count = 0.0, 0


def _verify(cfg: TrainConfig, torch: Any, steps: int, tolerance: float | None,
            torch_overrides: dict[str, Any], log: Callable[[str], Any] | None) -> VerifyReport:
    from . import functional as F
    from .data import DataLoader, TensorDataset
    from .optim import ReduceLROnPlateau, clip_grad_norm_
    from .pipeline import (
        build_loss,
        build_model,
        build_optimizer,
        build_scheduler,
        prepare_data,
    )
    from .random import manual_seed
    from .tensor import Tensor
    from .train import evaluate

    if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        raise ConfigError(f"verify: steps must be a positive integer, got {steps!r}")
    tol = dict(TOLERANCE[cfg.dtype]) if tolerance is None else dict.fromkeys(
        ("loss", "grad", "param"), float(tolerance))
    manual_seed(cfg.seed)
    prep = prepare_data(cfg)
    data, x_tr, y_tr, val = prep.data, prep.x_train, prep.y_train, prep.val
    classification = data.task == "classification"
    n_out = data.n_classes if classification else y_tr.shape[1]
    model = build_model(cfg, x_tr.shape[1], n_out)
    opt = build_optimizer(cfg, list(model.parameters()))
    masks = _Masks()
    twin = _TorchTwin(cfg, model, opt, masks, torch, classification, None, torch_overrides)
    # float32 rounding differs between any two libraries; a float64 twin tells how far
    # torch's own float32 run is from the exact-ish result, to judge steepest's distance
    ref = (_TorchTwin(cfg, model, opt, masks, torch, classification, torch.float64,
                      torch_overrides) if cfg.dtype == "float32" else None)
    names = [n for n, _ in model.named_parameters()]
    params = dict(model.named_parameters())
    sched = build_scheduler(cfg, opt)
    loss_fn = build_loss(cfg, model, data.task)
    loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=cfg.batch_size, shuffle=True,
                        seed=cfg.seed)
    report = VerifyReport(cfg.dtype, tol, cfg.to_dict(), not_compared=_degenerate(model))
    base_loss = F.cross_entropy if classification else F.mse_loss
    buffers = [k for k in model.state_dict() if k.endswith(("running_mean", "running_var"))]

    def compare(ours: Any, theirs: Any, exact: Any = None) -> dict[str, Any]:
        """Differences steepest vs torch; in float32 also both vs the float64 twin."""
        a, r = _diff(ours, theirs)
        out: dict[str, Any] = {"abs": a, "rel": r}
        if exact is not None:
            out["vs_float64"] = _diff(ours, exact)[0]
            out["torch_vs_float64"] = _diff(theirs, exact)[0]
        return out

    step, epoch, sums = 0, 0, [0.0, 0]
    while step < steps:
        loader.set_epoch(epoch)
        model.train()
        for xb, yb in loader:
            if step >= steps:
                break
            step += 1
            lval = loss_fn(model(Tensor(xb)), yb)
            tl = twin.forward_backward(xb, yb)
            rl = ref.forward_backward(xb, yb) if ref is not None else None
            opt.zero_grad()
            lval.backward()
            if cfg.grad_clip is not None:
                clip_grad_norm_(list(params.values()), cfg.grad_clip)
            row: dict[str, Any] = {"step": step, "epoch": epoch + 1,
                                   "lr": float(opt.param_groups[0]["lr"]),
                                   "torch_lr": float(twin.opt.param_groups[0]["lr"])}
            row["loss"] = {**compare(lval.data, tl, rl), "value": float(lval.data)}
            tg = twin.grads()
            rg = ref.grads() if ref is not None else {}
            grads = {n: compare(None if params[n].grad is None else params[n].grad.data,
                                tg[n], rg.get(n)) for n in names}
            row["grad_scale"] = max((float(np.max(np.abs(p.grad.data))) for p in
                                     params.values() if p.grad is not None), default=0.0)
            opt.step()
            twin.opt.step()
            if ref is not None:
                ref.opt.step()
            ours, theirs = model.state_dict(), twin.state()
            exact = ref.state() if ref is not None else {}
            after = {n: compare(ours[n], theirs[n], exact.get(n)) for n in [*names, *buffers]}
            row["grads"], row["params"] = grads, after
            for kind, table in (("grad", grads), ("param", after)):
                table = {n: v for n, v in table.items() if n not in report.not_compared}
                worst = max(table, key=lambda n: table[n]["rel"])
                row[kind] = {"abs": max(v["abs"] for v in table.values()),
                             "rel": table[worst]["rel"], "worst": worst}
            row["lr_diff"] = compare(row["lr"], row["torch_lr"])
            report.steps.append(row)
            if report.first_failure is None:
                report.first_failure = _first_failure(row, tol, report.not_compared)
            sums[0] += float(lval.data) * len(xb)
            sums[1] += len(xb)
            if log is not None:
                log(_step_line(row, tol))
        else:
            epoch += 1
            plateau = isinstance(sched, ReduceLROnPlateau)
            if sched is not None:
                if plateau:
                    sched.step(evaluate(model, base_loss, val)["loss"] if val is not None
                               else sums[0] / max(sums[1], 1))
                else:
                    sched.step()
            for t in (twin, ref):
                if t is not None:
                    t.epoch_end(plateau, val)
            sums = [0.0, 0]
            continue
        break
    return report


def _degenerate(model: Any) -> dict[str, str]:
    """Values that rounding alone decides: a Linear bias followed by batch norm (its gradient
    is zero in exact arithmetic) and the running mean that bias feeds."""
    out: dict[str, str] = {}
    children = list(model.named_children())
    for (name, m), (bn_name, nxt) in zip(children, children[1:]):
        if (type(m).__name__ == "Linear" and m.bias is not None
                and type(nxt).__name__ == "BatchNorm1d"):
            out[f"{name}.bias"] = ("Linear bias followed by batch norm: zero gradient in "
                                   "exact arithmetic, updated by rounding noise only")
            out[f"{bn_name}.running_mean"] = f"accumulates {name}.bias (see above)"
    return out


def _first_failure(row: dict[str, Any], tol: dict[str, float],
                   skip: dict[str, str]) -> dict[str, Any] | None:
    checks = [("loss", "loss", row["loss"]), ("learning rate", "loss", row["lr_diff"])]
    checks += [(f"gradient of parameter {n!r}", "grad", v) for n, v in row["grads"].items()
               if n not in skip]
    checks += [(f"parameter {n!r} after the update" if "running" not in n
                else f"buffer {n!r} after the update", "param", v)
               for n, v in row["params"].items() if n not in skip]
    # the skipped gradients must still be zero up to rounding, against the largest gradient
    scale = row["grad_scale"] or 1.0
    checks += [(f"gradient of parameter {n!r} (zero up to rounding)", "grad",
                {"abs": v["abs"], "rel": v["abs"] / scale})
               for n, v in row["grads"].items() if n in skip]
    for what, kind, v in checks:
        if not v["rel"] <= tol[kind] and not _as_close_as_torch(v):  # also catches NaN
            return {"step": row["step"], "what": what, "abs": v["abs"], "rel": v["rel"]}
    return None


def _as_close_as_torch(v: dict[str, Any]) -> bool:
    """float32: steepest is at most twice as far from the float64 result as torch is."""
    if "vs_float64" not in v:
        return False
    return bool(v["vs_float64"] <= 2.0 * v["torch_vs_float64"])


def _step_line(row: dict[str, Any], tol: dict[str, float]) -> str:
    def cell(kind: str) -> str:
        v = row[kind]
        flag = "" if v["rel"] <= tol[kind] else " !"
        worst = f" [{v['worst']}]" if "worst" in v else ""
        return f"{kind} {v['abs']:.1e}/{v['rel']:.1e}{worst}{flag}"

    return (f"step {row['step']:4d}  loss={row['loss']['value']:.6f}  abs/rel  "
            + "  ".join(cell(k) for k in ("loss", "grad", "param")))


# ---------------------------------------------------------------------------------------
# The `steepest verify` sub-command
# ---------------------------------------------------------------------------------------


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``verify``: every ``steepest train`` setting as a flag, plus the check's own."""
    p = subparsers.add_parser(
        "verify", help="train side by side with PyTorch and compare every step",
        description="Run a training config in steepest and in PyTorch (same initial weights, "
                    "batches, dropout masks, optimiser, schedule, penalties, clipping) and "
                    "print, per step, the largest absolute/relative differences of the loss, "
                    "the gradients and the parameters. Exit 0 within tolerance, 1 otherwise. "
                    "Defaults: --dataset mnist-small --dtype float64.")
    p.add_argument("--config", help="TOML file with any `steepest train` settings")
    defaults = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        flag = f"--{f.name.replace('_', '-')}"
        d = getattr(defaults, f.name)
        if isinstance(d, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                           help="as in steepest train")
            continue
        if isinstance(d, (list, str)) or f.name == "data_dir":
            kind: Any = str
        elif isinstance(d, int) or f.name == "early_stopping":
            kind = int
        else:
            kind = float
        p.add_argument(flag, type=kind, default=None,
                       help="folder for the plot and report (default runs/verify)"
                       if f.name == "out" else "as in steepest train")
    p.add_argument("--steps", type=int, default=20, help="optimiser steps to compare (20)")
    p.add_argument("--tolerance", type=float, default=None,
                   help="largest relative difference accepted (1e-10 float64, 1e-5 float32)")
    p.add_argument("--torch-override", action="append", default=[], metavar="KEY=VALUE",
                   help="deliberately change a torch-side optimiser option (to see the check "
                        "fail), e.g. weight_decay=0.01")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=run)
    return p


def _json_safe(obj: Any) -> Any:
    """Non-finite floats (a gradient on one side only) become null: strict JSON."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _override(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ConfigError(f"--torch-override expects KEY=VALUE, got {text!r}")
    for cast in (int, float):
        try:
            return key, cast(value)
        except ValueError:
            pass
    return key, {"true": True, "false": False}.get(value.lower(), value)


def run(args: argparse.Namespace) -> int:
    """Execute ``steepest verify``: 0 when every step agrees, 1 otherwise, 2 refused."""
    import json

    from .atomic import atomic_write_text
    from .config import load_toml

    values: dict[str, Any] = {"dataset": "mnist-small", "dtype": "float64"}
    if args.config:
        values.update(load_toml(args.config))
    for name in FIELDS:
        v = getattr(args, name, None)
        if v is not None:
            values[name] = v
    out = Path(values.pop("out", None) or "runs/verify")
    overrides = dict(_override(t) for t in args.torch_override)
    try:
        report = verify(values, steps=args.steps, tolerance=args.tolerance,
                        torch_overrides=overrides, log=None if args.quiet else print)
    except ImportError as exc:
        print(f"steepest verify: error: {exc}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "verify.json", json.dumps(_json_safe(report.to_dict()),
                                                      indent=1) + "\n")
    files = ["verify.json"]
    try:
        report.plot(out / "verify.png")
        files.append("verify.png")
    except ImportError:
        print("matplotlib is not installed: no plot (pip install 'steepest[viz]')")
    print(report.summary())
    print(f"files in {out}: {', '.join(files)}")
    return 0 if report.passed else 1
