"""Figures without pyplot's global state: ``matplotlib.figure.Figure`` objects saved
through the Agg canvas. Nothing here switches the user's backend, so the same functions
work in scripts, on servers and in notebooks (a returned Figure displays itself)."""

from __future__ import annotations

import os
from typing import Any


def figure(figsize: tuple[float, float] = (6.4, 4.8), **kwargs: Any) -> Any:
    """A new ``Figure`` (not registered with pyplot, so it never leaks)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is a dev/viz dependency
        raise ImportError("plotting needs matplotlib: pip install 'steepest[viz]' "
                          "(or pip install matplotlib)") from None
    kwargs.setdefault("layout", "constrained")
    return Figure(figsize=figsize, **kwargs)


def save(fig: Any, path: str | os.PathLike | None, dpi: int = 100) -> None:
    """Write ``fig`` to ``path`` (format from the suffix, PNG usually); no-op for None."""
    if path is None:
        return
    d = os.path.dirname(os.fspath(path))
    if d:
        os.makedirs(d, exist_ok=True)
    fig.savefig(os.fspath(path), dpi=dpi)
