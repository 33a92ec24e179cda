"""Seeded randomness for the whole library.

Every random draw in steepest (initialisers, dropout, shuffling) comes from the
``numpy.random.Generator`` returned by :func:`generator`, never from the global
``np.random``. ``manual_seed`` replaces it, so a run is reproducible. The generator lives
in a ``contextvars.ContextVar`` rather than a module global so threads and async tasks can
each hold their own.
"""

from __future__ import annotations

import contextvars
from typing import Any

import numpy as np

_GENERATOR: contextvars.ContextVar[np.random.Generator] = contextvars.ContextVar(
    "steepest_generator"
)


def manual_seed(seed: int) -> np.random.Generator:
    """Seed steepest's random generator (like ``torch.manual_seed``) and return it."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    gen = np.random.default_rng(int(seed))
    _GENERATOR.set(gen)
    return gen


def generator() -> np.random.Generator:
    """The current generator; a fresh OS-seeded one if ``manual_seed`` was never called."""
    try:
        return _GENERATOR.get()
    except LookupError:
        gen = np.random.default_rng()
        _GENERATOR.set(gen)
        return gen


def get_rng_state() -> dict[str, Any]:
    """The generator's state as plain data (JSON/npz friendly), for checkpoints."""
    return generator().bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    gen = np.random.Generator(getattr(np.random, state["bit_generator"])())
    gen.bit_generator.state = state
    _GENERATOR.set(gen)
