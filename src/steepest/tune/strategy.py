"""Search strategies: which configurations to try, round after round.

* ``random()``: ``trials`` independent draws from the space (Bergstra & Bengio 2012: with
  a few important parameters, random search covers each of them far better than a grid).
* ``grid(points=3)``: every combination of each parameter's grid values (``points`` per
  numeric range, log-spaced for log-uniform ones; every value of a choice).
* ``coarse_to_fine(rounds, keep_top)``: ``rounds`` random searches of ``trials`` each; after
  each round every numeric range shrinks around the ``keep_top`` best trials of that round
  (to at most ``shrink`` of its width, in its own scale, always containing the best trial),
  the procedure of the notes: search wide, then narrow the ranges and search again.

A strategy only proposes configurations; they are drawn in the driver from
``(seed, round, index)``, so the executor and the number of workers never change them.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from .space import SearchSpace, SpaceError, suggest

__all__ = ["Strategy", "RandomSearch", "GridSearch", "CoarseToFine", "random", "grid",
           "coarse_to_fine", "resolve_strategy"]


def _positive_int(value: Any, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise SpaceError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class Strategy:
    """Base class: ``rounds`` rounds; ``configs`` proposes one round's configurations."""

    name = "strategy"
    rounds = 1

    def n_trials(self, space: SearchSpace, trials: int | None) -> int:
        if trials is None:
            raise SpaceError(f"the {self.name} strategy needs the number of trials (trials=)")
        return _positive_int(trials, "trials")

    def configs(self, space: SearchSpace, rnd: int, seed: int, trials: int | None
                ) -> list[dict[str, Any]]:
        return [space.sample(seed, rnd, i) for i in range(self.n_trials(space, trials))]

    def next_space(self, space: SearchSpace, ranked: Sequence[Mapping[str, Any]],
                   original: SearchSpace | None = None) -> SearchSpace:
        """The space of the next round, given this round's configs ranked best first
        (``original``: the first round's space, which bounds every later one)."""
        return space

    def to_spec(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_spec().items() if k != "name")
        return f"{self.name}({args})"


class RandomSearch(Strategy):
    """Independent random draws (see the module notes)."""

    name = "random"


class GridSearch(Strategy):
    """Every combination of the parameters' grid values; ``trials`` is not used.

    ``points`` values per numeric range (log-spaced for log-uniform ones), or per parameter
    through ``per_param={"lr": 5}``.
    """

    name = "grid"

    def __init__(self, points: int = 3, per_param: Mapping[str, int] | None = None) -> None:
        self.points = _positive_int(points, "grid points")
        self.per_param = {str(k): _positive_int(v, f"grid points of {k}")
                          for k, v in dict(per_param or {}).items()}

    def n_trials(self, space: SearchSpace, trials: int | None) -> int:
        return space.grid_size(self.points, self.per_param)

    def configs(self, space: SearchSpace, rnd: int, seed: int, trials: int | None
                ) -> list[dict[str, Any]]:
        unknown = [k for k in self.per_param if k not in space.domains]
        if unknown:
            raise SpaceError(f"grid: points given for {unknown[0]!r}, which is not searched"
                             f"{suggest(unknown[0], list(space.domains))}")
        configs = space.grid(self.points, self.per_param)
        if trials is not None and trials != len(configs):
            warnings.warn(f"grid search: trials={trials} is ignored; the grid has "
                          f"{len(configs)} points", stacklevel=3)
        return configs

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": self.name, "points": self.points}
        if self.per_param:
            spec["per_param"] = dict(self.per_param)
        return spec


class CoarseToFine(Strategy):
    """``rounds`` random searches, each range narrowed around the ``keep_top`` best trials
    of the previous round (see the module notes)."""

    name = "coarse_to_fine"

    def __init__(self, rounds: int = 2, keep_top: int = 4, shrink: float = 0.5) -> None:
        self.rounds = _positive_int(rounds, "coarse_to_fine rounds")
        self.keep_top = _positive_int(keep_top, "coarse_to_fine keep_top")
        if isinstance(shrink, bool) or not isinstance(shrink, numbers.Real) or not (
                0 < shrink < 1):
            raise SpaceError(f"coarse_to_fine shrink must be a number in (0, 1), got "
                             f"{shrink!r}")
        self.shrink = float(shrink)

    def n_trials(self, space: SearchSpace, trials: int | None) -> int:
        n = super().n_trials(space, trials)
        if self.keep_top > n:
            raise SpaceError(f"coarse_to_fine: keep_top={self.keep_top} is more than the "
                             f"{n} trials of a round")
        return n

    def next_space(self, space: SearchSpace, ranked: Sequence[Mapping[str, Any]],
                   original: SearchSpace | None = None) -> SearchSpace:
        if not ranked:
            warnings.warn("coarse_to_fine: no trial of this round has a score; the next "
                          "round searches the same ranges", stacklevel=3)
            return space
        return space.narrow(list(ranked)[: self.keep_top], shrink=self.shrink,
                            within=original)

    def to_spec(self) -> dict[str, Any]:
        return {"name": self.name, "rounds": self.rounds, "keep_top": self.keep_top,
                "shrink": self.shrink}


def random() -> RandomSearch:
    """Random search: ``trials`` independent draws from the space."""
    return RandomSearch()


def grid(points: int = 3, **per_param: int) -> GridSearch:
    """Grid search with ``points`` values per numeric range (``grid(3, lr=5)``)."""
    return GridSearch(points, per_param)


def coarse_to_fine(rounds: int = 2, keep_top: int = 4, shrink: float = 0.5) -> CoarseToFine:
    """Random search in ``rounds`` rounds, narrowing around the ``keep_top`` best each time."""
    return CoarseToFine(rounds, keep_top, shrink)


STRATEGIES = {"random": RandomSearch, "grid": GridSearch, "coarse_to_fine": CoarseToFine}


def resolve_strategy(strategy: Any, **options: Any) -> Strategy:
    """A Strategy from an instance, or a name plus its options (as in a TOML file)."""
    if isinstance(strategy, Strategy):
        if options:
            raise SpaceError(f"strategy options {sorted(options)} given with a "
                             f"{strategy!r} object; set them on the object")
        return strategy
    if not isinstance(strategy, str) or strategy not in STRATEGIES:
        hint = suggest(str(strategy), list(STRATEGIES)) if isinstance(strategy, str) else ""
        raise SpaceError(f"unknown strategy {strategy!r}{hint} (choose from "
                         f"{', '.join(STRATEGIES)})")
    allowed = {"random": (), "grid": ("points", "per_param"),
               "coarse_to_fine": ("rounds", "keep_top", "shrink")}[strategy]
    for k in options:
        if k not in allowed:
            takes = f"it takes {', '.join(allowed)}" if allowed else "it takes no options"
            raise SpaceError(f"strategy {strategy!r} does not take {k!r} ({takes})")
    return STRATEGIES[strategy](**options)
