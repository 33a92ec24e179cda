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


def _check_seed(seed: Any, where: str, none_ok: bool) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        allowed = "a non-negative integer or None" if none_ok else "a non-negative integer"
        raise ValueError(f"{where}: seed must be {allowed}, got {seed!r}")
    return int(seed)


def manual_seed(seed: int) -> np.random.Generator:
    """Seed steepest's random generator (like ``torch.manual_seed``) and return it."""
    gen = np.random.default_rng(_check_seed(seed, "manual_seed", none_ok=False))
    _GENERATOR.set(gen)
    return gen


def generator_for(seed: int | None, where: str) -> np.random.Generator:
    """A generator of its own for ``seed``, or steepest's shared one when ``seed`` is None
    (so an unseeded call still follows ``manual_seed``). ``where`` names the caller in
    the error for a bad seed."""
    if seed is None:
        return generator()
    return np.random.default_rng(_check_seed(seed, where, none_ok=True))


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


#: the bit generators a saved state may name (looked up here, never by getattr on a name
#: read from a file: ``np.random.test`` would run NumPy's test suite)
BIT_GENERATORS: dict[str, Any] = {
    "PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM, "MT19937": np.random.MT19937,
    "Philox": np.random.Philox, "SFC64": np.random.SFC64,
}


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a state returned by :func:`get_rng_state` (checked before it is used)."""
    if not isinstance(state, dict):
        raise ValueError(f"set_rng_state: expected a dict, got {type(state).__name__}")
    name = state.get("bit_generator")
    if not isinstance(name, str) or name not in BIT_GENERATORS:
        raise ValueError(f"set_rng_state: unknown bit generator {str(name)[:40]!r} (allowed: "
                         f"{', '.join(BIT_GENERATORS)})")
    bit_gen = BIT_GENERATORS[name]()
    try:
        bit_gen.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"set_rng_state: invalid {name} state ({exc})") from None
    _GENERATOR.set(np.random.Generator(bit_gen))
