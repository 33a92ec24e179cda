"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model, optimiser and scheduler states, steepest's RNG state, the
data loader's position (epoch and step), the partial sums of the current epoch, the
history and every callback's state, saved atomically in steepest's safe format.

Nothing in a checkpoint is trusted: :func:`restore_checkpoint` checks every part (with the
rules the constructors apply) before the run continues, and a refusal names the file and
the key; if any part is refused, the model and optimiser are left as they were.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

FORMAT = "steepest-checkpoint-v1"
KEYS = ("model", "optimizer", "scheduler", "rng", "loader", "history", "callbacks", "epoch",
        "step", "partial")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: the message names the file and the key."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    from ..serialization import save

    state = dict(state)
    state["format"] = FORMAT
    if not isinstance(state.get("rng"), str):
        state["rng"] = json.dumps(state.get("rng"))  # PCG64 state holds 128-bit ints
    save(state, path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    from ..serialization import load

    where = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint {where!r} does not exist")
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{where!r} is not a steepest training checkpoint "
                              f"(expected format {FORMAT!r})")
    missing = [k for k in KEYS if k not in state]
    if missing:
        raise CheckpointError(f"checkpoint {where!r} lacks {', '.join(missing)}")
    rng = state["rng"]
    if not isinstance(rng, str) or len(rng) > 1 << 16:
        raise CheckpointError(f"checkpoint {where!r}: key 'rng' is not a JSON string")
    try:
        state["rng"] = json.loads(rng)
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"checkpoint {where!r}: key 'rng' is not valid JSON "
                              f"({str(exc)[:100]})") from None
    return state


def _count(value: Any, key: str, where: str, high: int, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise CheckpointError(f"checkpoint {where!r}: key {key!r} is {str(value)[:40]!r}; "
                              f"expected an integer in [0, {high}]{hint}")
    return value


def _like(saved: Any, live: Any, key: str, where: str) -> None:
    """``saved`` has the structure and kinds of ``live`` (a scheduler's or callback's
    state as this run builds it): same keys, numbers for numbers, no NaN; lrs >= 0."""
    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {where!r}: key {key!r}: {why}")

    if isinstance(live, dict):
        if not isinstance(saved, dict) or set(saved) != set(live):
            got = sorted(map(str, saved)) if isinstance(saved, dict) else type(saved).__name__
            raise bad(f"expected entries {sorted(map(str, live))}, got {got}")
        for k in live:
            _like(saved[k], live[k], f"{key}.{k}", where)
    elif isinstance(live, (list, tuple)):
        if not isinstance(saved, (list, tuple)) or len(saved) != len(live):
            raise bad(f"expected a list of {len(live)} entries")
        for i, (s, v) in enumerate(zip(saved, live)):
            _like(s, v, f"{key}[{i}]", where)
    elif isinstance(live, (int, float)) and not isinstance(live, bool):
        if isinstance(saved, bool) or not isinstance(saved, (int, float)) or saved != saved:
            raise bad(f"expected a number, got {str(saved)[:40]!r}")
        if "lr" in key and (not math.isfinite(saved) or saved < 0):
            raise bad(f"a learning rate must be finite and >= 0, got {saved!r}")
    elif isinstance(live, (str, bool)) and type(saved) is not type(live):
        raise bad(f"expected {type(live).__name__}, got {str(saved)[:40]!r}")


def restore_checkpoint(path: str | os.PathLike, *, model: Any, optimizer: Any,
                       scheduler: Any, loader: Any, history: Any, callbacks: list[Any],
                       epochs: int, distributed: Any = None
                       ) -> tuple[int, int, dict[str, float] | None]:
    """Load ``path`` into the live objects of a run; returns (epoch, step, partial sums).

    ``distributed`` (a data-parallel run's sync object) checks the world size and restores
    this rank's RNG state.

    Every part is validated; on any refusal the model and optimiser are rolled back and a
    :class:`CheckpointError` names the file and the key.
    """
    from .. import random as _random

    where = os.fspath(path)
    state = load_checkpoint(path)
    epoch = _count(state["epoch"], "epoch", where, epochs,
                   f" (this run has epochs={epochs}; pass a larger --epochs to train on)")
    step = _count(state["step"], "step", where, len(loader))
    partial = state["partial"]
    if partial is not None:
        if not isinstance(partial, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in partial.values()):
            raise CheckpointError(f"checkpoint {where!r}: key 'partial' must map names to "
                                  f"finite numbers")
    saved_cbs = state["callbacks"]
    if not isinstance(saved_cbs, list):
        raise CheckpointError(f"checkpoint {where!r}: key 'callbacks' is not a list")
    # paired in order, as they were saved (a callback added after the last is ignored)
    for i, (cb, cs) in enumerate(zip(callbacks, saved_cbs)):
        _like(cs, cb.state_dict(), f"callbacks[{i}]", where)
    if (scheduler is None) != (state["scheduler"] is None):
        raise CheckpointError(f"checkpoint {where!r}: key 'scheduler': the checkpoint "
                              f"{'has no' if scheduler is not None else 'has a'} schedule "
                              f"but this run {'has' if scheduler is not None else 'has none'}")
    if scheduler is not None:
        _like(state["scheduler"], scheduler.state_dict(), "scheduler", where)
    model_backup = {k: v.copy() for k, v in model.state_dict().items()}
    opt_backup = optimizer.state_dict()
    key = "model"
    try:
        model.load_state_dict(state["model"])
        key = "optimizer"
        optimizer.load_state_dict(state["optimizer"])
        key = "scheduler"
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        key = "rng"
        _random.set_rng_state(state["rng"])
        if distributed is not None:
            key = "distributed"
            distributed.load_state_dict(state.get("distributed"))
        key = "loader"
        loader.load_state_dict(state["loader"])
        key = "history"
        history.load_state_dict(state["history"])
        key = "callbacks"
        for cb, cs in zip(callbacks, saved_cbs):
            cb.load_state_dict(cs)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RuntimeError) as exc:
        model.load_state_dict(model_backup)
        optimizer.load_state_dict(opt_backup)
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        raise CheckpointError(f"checkpoint {where!r}: key {key!r}: {msg}") from None
    return epoch, step, partial
