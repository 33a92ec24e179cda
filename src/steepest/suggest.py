"""'Did you mean ...?' for misspelt names: one wording for every unknown-name error."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(value: object, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    hint = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=cutoff)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def unknown(what: str, value: object, choices: Iterable[str], also: str = "") -> str:
    """``"unknown optimizer 'adamm'; did you mean 'adam'? (choose from sgd, adam, ...)"``;
    ``also`` is appended to the list (e.g. ``"or a .npz file"``)."""
    choices = list(choices)
    listed = ", ".join(choices) + (f", {also}" if also else "")
    return f"unknown {what} {value!r}{did_you_mean(value, choices)} (choose from {listed})"
