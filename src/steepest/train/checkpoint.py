"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model, optimiser and scheduler states, steepest's RNG state, the
data loader's position (epoch and step), the partial sums of the current epoch, the
history and every callback's state, saved atomically in steepest's safe format.
"""

from __future__ import annotations

import json
import os
from typing import Any

FORMAT = "steepest-checkpoint-v1"


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    from ..serialization import save

    state = dict(state)
    state["format"] = FORMAT
    if not isinstance(state.get("rng"), str):
        state["rng"] = json.dumps(state.get("rng"))  # PCG64 state holds 128-bit ints
    save(state, path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    from ..serialization import load

    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint {os.fspath(path)!r} does not exist")
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{os.fspath(path)!r} is not a steepest training checkpoint "
                         f"(expected format {FORMAT!r})")
    state["rng"] = json.loads(state["rng"])
    return state
