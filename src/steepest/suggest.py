"""'Did you mean ...?' for misspelt names: one wording for every unknown-name error."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(value: object, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice closest to ``value``, ignoring case (``Relu`` -> ``relu``), or None."""
    choices = list(choices)
    lowered = {c.lower(): c for c in reversed(choices)}
    hint = difflib.get_close_matches(str(value).lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[hint[0]] if hint else None


def did_you_mean(value: object, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """``"; did you mean 'x'?"`` for the closest choice (ignoring case), or ``""``."""
    hint = closest(value, choices, cutoff)
    return f"; did you mean {hint!r}?" if hint is not None else ""


def unknown(what: str, value: object, choices: Iterable[str], also: str = "") -> str:
    """``"unknown optimizer 'adamm'; did you mean 'adam'? (choose from sgd, adam, ...)"``;
    ``also`` is appended to the list (e.g. ``"or a .npz file"``)."""
    choices = list(choices)
    listed = ", ".join(choices) + (f", {also}" if also else "")
    return f"unknown {what} {value!r}{did_you_mean(value, choices)} (choose from {listed})"
