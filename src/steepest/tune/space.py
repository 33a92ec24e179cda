"""Search spaces: the distributions hyperparameters are drawn from, and their checks.

A space maps parameter names to *domains*: ``loguniform(1e-6, 1e-2)`` (the notes'
learning rate 10^U(-6, -2)), ``uniform(0, 0.5)``, ``randint(32, 256)`` (both ends
included), ``choice(["relu", "tanh"])`` or a fixed value. In a TOML file the same domains
are written ``{loguniform = [1e-6, 1e-2]}``, ``{uniform = [0, 0.5]}``,
``{randint = [32, 256], log = true}``, ``{choice = ["relu", "tanh"]}``; any other value
(a number, a string, a list) is a fixed value.

Every parameter draws from its own random stream, seeded by ``(search seed, round, trial
index, name)``: a trial's configuration depends on nothing else, so it is the same on one
worker, on many, or on a Ray cluster, and adding a parameter leaves the others' values alone.
"""

from __future__ import annotations

import json
import math
import numbers
import re
import zlib
from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from typing import Any

import numpy as np

__all__ = [
    "Domain", "LogUniform", "Uniform", "RandInt", "Choice", "Fixed",
    "loguniform", "uniform", "randint", "choice", "fixed", "SearchSpace", "SpaceError",
    "suggest",
]


class SpaceError(ValueError):
    """A search space, a fixed value or a setting is invalid (the message says which)."""


def _initials(name: str) -> str:
    return "".join(p[0] for p in re.split(r"[_\-\s]+", name) if p)


def suggest(name: str, valid: Sequence[str]) -> str:
    """``"; did you mean 'lr'?"`` for the closest valid name, or ``""``.

    Close spellings first (``lrr`` -> ``lr``), then abbreviations both ways
    (``learning_rate`` -> ``lr``, ``wd`` -> ``weight_decay``).
    """
    valid = [v for v in valid if isinstance(v, str)]
    if not isinstance(name, str) or not valid:
        return ""
    hint = get_close_matches(name, valid, n=1, cutoff=0.6)
    if not hint and "_" in name:
        hint = [v for v in valid if v == _initials(name)]
    if not hint and len(name) >= 2:
        hint = [v for v in valid if "_" in v and _initials(v) == name]
    if not hint:
        hint = get_close_matches(name, valid, n=1, cutoff=0.5)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def _canon(value: Any) -> str:
    """A canonical JSON text of a value (for hashing and comparing configurations)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpaceError(f"{what} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise SpaceError(f"{what} must be finite, got {value!r}")
    return v


def _plain(value: Any) -> Any:
    """NumPy scalars/arrays and tuples to plain JSON-able Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


class Domain:
    """Where one hyperparameter lives. Subclasses sample, enumerate a grid and narrow."""

    kind = "domain"
    numeric = False
    log = False

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def grid(self, points: int) -> list[Any]:
        raise NotImplementedError

    def to_spec(self) -> Any:
        """The TOML/JSON form, e.g. ``{"loguniform": [1e-06, 0.01]}``."""
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        raise NotImplementedError

    def narrow(self, values: Sequence[Any], best: Any, shrink: float = 0.5,
               min_fraction: float = 0.2, within: Domain | None = None) -> Domain:
        """A smaller domain around ``values`` (the top trials) that contains ``best``;
        it may slide past this domain's ends but stays inside ``within`` (the original)."""
        return self

    def describe(self) -> str:
        """Short text such as ``loguniform[1e-06, 0.01]`` (4 significant digits)."""
        spec = self.to_spec()
        if isinstance(self, _Range):
            lo, hi = (f"{v:.4g}" for v in (self.low, self.high))
            return f"{self.kind}[{lo}, {hi}]" + (" log" if self.kind == "randint" and self.log
                                                  else "")
        return _canon(spec)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Domain) and _canon(self.to_spec()) == _canon(other.to_spec())

    def __hash__(self) -> int:
        return hash(_canon(self.to_spec()))


class _Range(Domain):
    """A numeric interval [low, high], sampled uniformly in its own scale (linear or log)."""

    numeric = True

    def __init__(self, low: Any, high: Any, name: str = "") -> None:
        where = f"{name}: " if name else ""
        lo = _number(low, f"{where}{self.kind} low")
        hi = _number(high, f"{where}{self.kind} high")
        if lo > hi:
            raise SpaceError(f"{where}inverted {self.kind} range [{low}, {high}] (low > high); "
                             f"did you mean [{high}, {low}]?")
        if lo == hi:
            raise SpaceError(f"{where}empty {self.kind} range [{low}, {high}] (low == high); "
                             f"use a fixed value instead")
        if self.log and lo <= 0:
            raise SpaceError(f"{where}a {self.kind} range must be positive, got [{low}, {high}]; "
                             f"a log scale cannot reach 0 or negative values (use uniform, or "
                             f"a positive low such as {_nice_low(hi)})")
        self.low, self.high = lo, hi

    # the scale in which the range is uniform
    def _to(self, x: float) -> float:
        return math.log10(x) if self.log else x

    def _from(self, t: float) -> float:
        return 10.0 ** t if self.log else t

    def contains(self, value: Any) -> bool:
        try:
            v = float(value)
        except (TypeError, ValueError):
            return False
        return self.low <= v <= self.high

    def _clamp(self, v: float) -> float:
        return min(max(v, self.low), self.high)

    def _limits(self, within: Domain | None) -> tuple[float, float]:
        """The bounds a narrowed range must stay in: the original range's (or this one's)."""
        if isinstance(within, _Range):
            return min(within.low, self.low), max(within.high, self.high)
        return self.low, self.high

    def _narrow_bounds(self, values: Sequence[Any], best: Any, shrink: float,
                       min_fraction: float, within: Domain | None) -> tuple[float, float]:
        """New bounds in the transformed scale (see :meth:`SearchSpace.narrow`)."""
        if not 0 < shrink < 1:
            raise SpaceError(f"shrink must be in (0, 1), got {shrink}")
        low, high = self._limits(within)
        lim_lo, lim_hi = self._to(low), self._to(high)
        width_old = self._to(self.high) - self._to(self.low)
        ts = [self._to(min(max(float(v), low), high)) for v in values]
        b = self._to(min(max(float(best), low), high))
        lo, hi = min(ts + [b]), max(ts + [b])
        spread = hi - lo
        width = min(max(1.5 * spread, min_fraction * width_old), shrink * width_old)
        if width >= spread:  # cover every top value, as centred on the best as that allows
            margin = (width - spread) / 4  # keep the extreme top values off the very edge
            centre = min(max(b, hi - width / 2 + margin), lo + width / 2 - margin)
        else:  # the top values are too spread out: centre on the best
            centre = b
        new_lo, new_hi = centre - width / 2, centre + width / 2
        if new_lo < lim_lo:
            new_lo, new_hi = lim_lo, lim_lo + width
        elif new_hi > lim_hi:
            new_lo, new_hi = lim_hi - width, lim_hi
        return new_lo, new_hi


def _nice_low(high: float) -> str:
    return f"{high * 1e-4:.0e}" if high > 0 else "1e-6"


class LogUniform(_Range):
    """``10 ** U(log10 low, log10 high)``: every decade is equally likely (0 < low < high)."""

    kind = "loguniform"
    log = True

    def sample(self, rng: np.random.Generator) -> float:
        t = rng.uniform(math.log(self.low), math.log(self.high))
        return self._clamp(float(math.exp(t)))

    def grid(self, points: int) -> list[float]:
        if points == 1:
            return [float(math.sqrt(self.low * self.high))]
        return [self._clamp(float(v)) for v in np.geomspace(self.low, self.high, points)]

    def to_spec(self) -> dict[str, Any]:
        return {"loguniform": [self.low, self.high]}

    def narrow(self, values: Sequence[Any], best: Any, shrink: float = 0.5,
               min_fraction: float = 0.2, within: Domain | None = None) -> Domain:
        lo, hi = self._narrow_bounds(values, best, shrink, min_fraction, within)
        low, high = self._limits(within)
        new = LogUniform(max(10.0 ** lo, low), min(10.0 ** hi, high))
        # guard against rounding in the log/exp round trip
        new.low = min([new.low, float(best)] + [float(v) for v in values
                                                if new.low * (1 - 1e-9) <= v < new.low])
        new.high = max([new.high, float(best)] + [float(v) for v in values
                                                  if new.high < v <= new.high * (1 + 1e-9)])
        return new


class Uniform(_Range):
    """``U(low, high)`` on a linear scale."""

    kind = "uniform"

    def sample(self, rng: np.random.Generator) -> float:
        return self._clamp(float(rng.uniform(self.low, self.high)))

    def grid(self, points: int) -> list[float]:
        if points == 1:
            return [(self.low + self.high) / 2]
        return [float(v) for v in np.linspace(self.low, self.high, points)]

    def to_spec(self) -> dict[str, Any]:
        return {"uniform": [self.low, self.high]}

    def narrow(self, values: Sequence[Any], best: Any, shrink: float = 0.5,
               min_fraction: float = 0.2, within: Domain | None = None) -> Domain:
        lo, hi = self._narrow_bounds(values, best, shrink, min_fraction, within)
        return Uniform(min(lo, float(best)), max(hi, float(best)))


class RandInt(_Range):
    """Integers ``low <= k <= high`` (both ends included), uniform or, with ``log=True``,
    uniform in log scale (for widths such as 16..1024)."""

    kind = "randint"

    def __init__(self, low: Any, high: Any, log: bool = False, name: str = "") -> None:
        where = f"{name}: " if name else ""
        for v, end in ((low, "low"), (high, "high")):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or (
                    math.isfinite(float(v)) and float(v) != int(v)):
                raise SpaceError(f"{where}randint {end} must be an integer, got {v!r}")
        if not isinstance(log, bool):
            raise SpaceError(f"{where}randint log must be true or false, got {log!r}")
        self.log = log
        super().__init__(low, high, name)
        self.low, self.high = int(self.low), int(self.high)

    def sample(self, rng: np.random.Generator) -> int:
        if not self.log:
            return int(rng.integers(self.low, self.high, endpoint=True))
        # uniform in log scale over [low - 0.5, high + 0.5) so end points get their share
        t = rng.uniform(math.log(self.low - 0.5), math.log(self.high + 0.5))
        return int(min(max(round(math.exp(t)), self.low), self.high))

    def grid(self, points: int) -> list[int]:
        if points == 1:
            mid = math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2
            return [int(round(mid))]
        vals = (np.geomspace if self.log else np.linspace)(self.low, self.high, points)
        out: list[int] = []
        for v in vals:
            k = int(round(float(v)))
            if k not in out:
                out.append(k)
        return out

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"randint": [self.low, self.high]}
        if self.log:
            spec["log"] = True
        return spec

    def contains(self, value: Any) -> bool:
        return isinstance(value, (int, np.integer)) and self.low <= value <= self.high

    def narrow(self, values: Sequence[Any], best: Any, shrink: float = 0.5,
               min_fraction: float = 0.2, within: Domain | None = None) -> Domain:
        lo, hi = self._narrow_bounds(values, best, shrink, min_fraction, within)
        low, high = self._limits(within)
        b = int(best)
        new_lo = max(int(low), min(b, math.floor(self._from(lo) + 1e-9)))
        new_hi = min(int(high), max(b, math.ceil(self._from(hi) - 1e-9)))
        if new_hi - new_lo >= self.high - self.low:
            # integer rounding undid the shrink: drop the end farther from the best
            if b - new_lo >= new_hi - b:
                new_lo += 1
            else:
                new_hi -= 1
        if new_lo >= new_hi:
            return Fixed(b)
        return RandInt(new_lo, new_hi, log=self.log)


class Choice(Domain):
    """One of a list of values (strings, numbers, lists...), each equally likely."""

    kind = "choice"

    def __init__(self, values: Sequence[Any], name: str = "") -> None:
        where = f"{name}: " if name else ""
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise SpaceError(f"{where}choice needs a list of values, got {values!r}")
        if len(values) == 0:
            raise SpaceError(f"{where}choice needs at least one value, got an empty list")
        self.values = [_plain(v) for v in values]
        seen = set()
        for v in self.values:
            c = _canon(v)
            if c in seen:
                raise SpaceError(f"{where}choice lists {v!r} twice")
            seen.add(c)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def grid(self, points: int) -> list[Any]:
        return list(self.values)

    def to_spec(self) -> dict[str, Any]:
        return {"choice": list(self.values)}

    def contains(self, value: Any) -> bool:
        c = _canon(_plain(value))
        return any(_canon(v) == c for v in self.values)


class Fixed(Domain):
    """A constant: every trial gets this value."""

    kind = "fixed"

    def __init__(self, value: Any) -> None:
        self.value = _plain(value)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.value

    def grid(self, points: int) -> list[Any]:
        return [self.value]

    def to_spec(self) -> Any:
        return {"fixed": self.value}

    def contains(self, value: Any) -> bool:
        return _canon(_plain(value)) == _canon(self.value)


def loguniform(low: float, high: float) -> LogUniform:
    """``10 ** U(log10 low, log10 high)``, e.g. ``loguniform(1e-6, 1e-2)`` for a learning rate."""
    return LogUniform(low, high)


def uniform(low: float, high: float) -> Uniform:
    """``U(low, high)``, e.g. ``uniform(0.0, 0.5)`` for a dropout rate."""
    return Uniform(low, high)


def randint(low: int, high: int, log: bool = False) -> RandInt:
    """An integer in ``[low, high]`` (both included); ``log=True`` for widths."""
    return RandInt(low, high, log=log)


def choice(*values: Any) -> Choice:
    """One of ``values``: ``choice("relu", "tanh")`` or ``choice(["relu", "tanh"])``."""
    if len(values) == 1 and isinstance(values[0], (list, tuple)):
        values = tuple(values[0])
    return Choice(list(values))


def fixed(value: Any) -> Fixed:
    """A constant value (the same as writing the value itself)."""
    return Fixed(value)


_SPEC_KEYS = ("loguniform", "uniform", "randint", "choice", "fixed")
_MODIFIERS = {"randint": ("log",), "loguniform": (), "uniform": (), "choice": (), "fixed": ()}


def parse_domain(name: str, spec: Any) -> Domain:
    """A domain from its TOML/JSON form; anything that is not such a table is fixed."""
    if isinstance(spec, Domain):
        return spec
    if not isinstance(spec, Mapping):
        return Fixed(spec)
    keys = list(spec)
    kinds = [k for k in keys if k in _SPEC_KEYS]
    if len(kinds) != 1:
        unknown = [k for k in keys if k not in _SPEC_KEYS and k not in ("log",)]
        if unknown:
            raise SpaceError(f"space: {name}: unknown distribution {unknown[0]!r}"
                             f"{suggest(unknown[0], _SPEC_KEYS)} (choose from "
                             f"{', '.join(_SPEC_KEYS)})")
        raise SpaceError(f"space: {name}: give exactly one of {', '.join(_SPEC_KEYS)}, got "
                         f"{_canon(dict(spec))}")
    kind = kinds[0]
    extra = [k for k in keys if k != kind]
    for k in extra:
        if k not in _MODIFIERS[kind]:
            allowed = _MODIFIERS[kind]
            raise SpaceError(f"space: {name}: {kind} does not take {k!r}"
                             + (f" (it takes {', '.join(allowed)})" if allowed else ""))
    arg = spec[kind]
    where = f"space: {name}"
    if kind == "fixed":
        return Fixed(arg)
    if kind == "choice":
        return Choice(arg, name=where)
    if not isinstance(arg, (list, tuple)) or len(arg) != 2:
        raise SpaceError(f"{where}: {kind} needs [low, high], got {arg!r}")
    if kind == "loguniform":
        return LogUniform(arg[0], arg[1], name=where)
    if kind == "uniform":
        return Uniform(arg[0], arg[1], name=where)
    return RandInt(arg[0], arg[1], log=spec.get("log", False), name=where)


def param_seed(seed: int, rnd: int, index: int, name: str) -> np.random.SeedSequence:
    """The seed of parameter ``name`` in trial ``index`` of round ``rnd``."""
    return np.random.SeedSequence([int(seed), int(rnd), int(index),
                                   zlib.crc32(name.encode("utf-8"))])


class SearchSpace:
    """Named domains plus fixed values: what a trial's configuration is made of.

    Parameters
    ----------
    space : mapping of name to a Domain or its TOML form
        The searched parameters (fixed values may appear here too).
    fixed : mapping, optional
        Constant settings passed to every trial (dataset, layer sizes, epochs...).
    """

    def __init__(self, space: Mapping[str, Any], fixed: Mapping[str, Any] | None = None
                 ) -> None:
        if not isinstance(space, Mapping):
            raise SpaceError(f"space must be a mapping of names to domains, got "
                             f"{type(space).__name__}")
        fixed = dict(fixed or {})
        self.domains: dict[str, Domain] = {}
        for name, spec in space.items():
            if not isinstance(name, str) or not name:
                raise SpaceError(f"space: parameter names must be non-empty strings, got "
                                 f"{name!r}")
            self.domains[name] = parse_domain(name, spec)
        both = [k for k in fixed if k in self.domains]
        if both:
            raise SpaceError(f"{both[0]!r} is both searched (space) and fixed; keep one")
        self.fixed = {str(k): _plain(v) for k, v in fixed.items()}

    @property
    def names(self) -> list[str]:
        """Every parameter name: searched first, then fixed."""
        return list(self.domains) + list(self.fixed)

    @property
    def searched(self) -> list[str]:
        """Names whose domain is not a constant."""
        return [k for k, d in self.domains.items() if not isinstance(d, Fixed)]

    def sample(self, seed: int, rnd: int, index: int) -> dict[str, Any]:
        """The configuration of trial ``index`` of round ``rnd``: fixed values + draws."""
        config = dict(self.fixed)
        for name, dom in self.domains.items():
            rng = np.random.default_rng(param_seed(seed, rnd, index, name))
            config[name] = _plain(dom.sample(rng))
        return config

    def grid(self, points: int = 3, per_param: Mapping[str, int] | None = None
             ) -> list[dict[str, Any]]:
        """Every combination of each domain's grid values (the first name varies slowest)."""
        per_param = dict(per_param or {})
        axes = []
        for name, dom in self.domains.items():
            n = int(per_param.get(name, points))
            if n < 1:
                raise SpaceError(f"grid: points for {name} must be >= 1, got {n}")
            axes.append((name, dom.grid(n)))
        configs: list[dict[str, Any]] = [dict(self.fixed)]
        for name, values in axes:
            configs = [{**c, name: _plain(v)} for c in configs for v in values]
        return configs

    def grid_size(self, points: int = 3, per_param: Mapping[str, int] | None = None) -> int:
        per_param = dict(per_param or {})
        size = 1
        for name, dom in self.domains.items():
            size *= len(dom.grid(int(per_param.get(name, points))))
        return size

    def narrow(self, top: Sequence[Mapping[str, Any]], shrink: float = 0.5,
               min_fraction: float = 0.2, within: SearchSpace | None = None) -> SearchSpace:
        """A space whose numeric ranges shrink around the configs ``top`` (best first).

        Each range gets 1.5 times the spread of the top values (in its own scale: decades
        for log-uniform), at most ``shrink`` and at least ``min_fraction`` of its current
        width, placed to cover the top values as centred on the best as possible (on the
        best alone when they do not fit), and always containing the best. It may slide past
        the current range's ends but never past ``within`` (the first round's space), so a
        best trial at the edge of a range pulls the next range that way. Choices and fixed
        values are kept.
        """
        if not top:
            return self
        new = SearchSpace({}, self.fixed)
        for name, dom in self.domains.items():
            if dom.numeric:
                vals = [c[name] for c in top if name in c]
                outer = within.domains.get(name) if within is not None else None
                new.domains[name] = dom.narrow(vals, top[0][name], shrink, min_fraction, outer)
            else:
                new.domains[name] = dom
        return new

    def to_spec(self) -> dict[str, Any]:
        """Plain data (for the results header and hashing): ``{"space": ..., "fixed": ...}``."""
        return {"space": {k: d.to_spec() for k, d in self.domains.items()},
                "fixed": dict(self.fixed)}

    def check_names(self, valid: Sequence[str] | None, who: str = "the objective") -> None:
        """Refuse names ``valid`` does not list, suggesting the closest one."""
        if valid is None:
            return
        valid = list(valid)
        for name in self.names:
            if name not in valid:
                raise SpaceError(f"unknown parameter {name!r}{suggest(name, valid)} "
                                 f"({who} understands: {', '.join(sorted(valid))})")

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={d.describe()}" for k, d in self.domains.items())
        return f"SearchSpace({inner}; fixed={self.fixed})"
