"""Search files: a TOML description of a whole search, turned into ``search()`` arguments.

```toml
[search]
objective = "train_mlp"        # or "package.module:function"
strategy = "coarse_to_fine"    # random | grid | coarse_to_fine
trials = 16                    # per round
rounds = 2
keep_top = 4
seed = 0
metric = "val_accuracy"
mode = "max"

[early_stop]                   # optional: stop hopeless trials at these epochs
rungs = [1, 2]
fraction = 0.5

[space]
lr = {loguniform = [1e-6, 1e-2]}
weight_decay = {loguniform = [1e-8, 1e-4]}

[fixed]
dataset = "mnist-small"
hidden = [100, 100]
epochs = 5
```
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from .space import SpaceError, suggest

__all__ = ["load_config", "config_to_kwargs", "read_toml"]

SEARCH_KEYS = ("objective", "strategy", "trials", "rounds", "keep_top", "shrink", "points",
               "seed", "metric", "mode", "n_jobs", "executor", "address",
               "threads_per_trial")
TABLES = ("search", "early_stop", "space", "fixed")


def read_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a TOML file (``tomllib`` on 3.11+, else the ``tomli`` package)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise SpaceError("reading TOML on Python 3.10 needs the tomli package "
                             "(pip install tomli)") from None
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise SpaceError(f"config file {os.fspath(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpaceError(f"{os.fspath(path)}: invalid TOML ({exc})") from None


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a search file; returns keyword arguments for :func:`search`."""
    return config_to_kwargs(read_toml(path), where=os.fspath(path))


def config_to_kwargs(cfg: Mapping[str, Any], where: str = "config") -> dict[str, Any]:
    """``search()`` keyword arguments from a parsed search file (unknown keys refused)."""
    for table in cfg:
        if table not in TABLES:
            raise SpaceError(f"{where}: unknown table [{table}]{suggest(table, TABLES)} "
                             f"(a search file has {', '.join(f'[{t}]' for t in TABLES)})")
        if not isinstance(cfg[table], Mapping):
            raise SpaceError(f"{where}: [{table}] must be a table")
    s = dict(cfg.get("search", {}))
    for key in s:
        if key not in SEARCH_KEYS:
            raise SpaceError(f"{where}: unknown setting {key!r} in [search]"
                             f"{suggest(key, SEARCH_KEYS)} (settings: {', '.join(SEARCH_KEYS)})")
    if "space" not in cfg or not cfg["space"]:
        raise SpaceError(f"{where}: no [space] table: nothing to search")
    strategy = s.get("strategy", "random")
    options = {k: s[k] for k in ("rounds", "keep_top", "shrink", "points") if k in s}
    from .strategy import resolve_strategy

    kwargs: dict[str, Any] = {
        "objective": s.get("objective", "train_mlp"),
        "space": dict(cfg["space"]),
        "fixed": dict(cfg.get("fixed", {})),
        "strategy": resolve_strategy(strategy, **options),
        "trials": s.get("trials"),
        "seed": s.get("seed", 0),
        "metric": s.get("metric"),
        "mode": s.get("mode"),
        "n_jobs": s.get("n_jobs"),
        "executor": s.get("executor", "local"),
        "address": s.get("address"),
        "threads_per_trial": s.get("threads_per_trial", 1),
    }
    if "early_stop" in cfg:
        from .asha import resolve_early_stop

        kwargs["early_stop"] = resolve_early_stop(dict(cfg["early_stop"]))
    return kwargs
