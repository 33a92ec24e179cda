"""Search results: the JSONL log that makes a search resumable, and the results table.

The file's first line is a header: the search's settings (objective, space, fixed values,
strategy, trials, seed, metric, mode, early termination) and their hash. Every finished
trial is then appended as one JSON line, written with a single ``write`` on an
``O_APPEND`` descriptor and ``fsync``-ed, so a crash loses at most the trials that were
running. Resuming reads the file back, refuses it if the header differs from the current
search (naming what differs), drops a torn last line, and skips every trial already there.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .space import SpaceError

__all__ = ["ResultsFile", "ResultsMismatch", "Table", "ranked", "best_record",
           "settings_hash", "format_value"]

FORMAT = "steepest-tune-v1"


class ResultsMismatch(SpaceError):
    """A results file belongs to a different search (refused on resume)."""


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def settings_hash(settings: Mapping[str, Any]) -> str:
    """A short SHA-256 of the settings' canonical JSON."""
    return hashlib.sha256(_canon(settings).encode("utf-8")).hexdigest()[:16]


def _clean(value: Any) -> Any:
    """JSON-safe data: NaN/inf become None, tuples lists, NumPy scalars Python ones."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        try:
            return _clean(value.item())
        except (TypeError, ValueError):
            return str(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, Mapping):
        return {prefix: d}
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping) and v and not (len(v) <= 2 and set(v) <= {
                "loguniform", "uniform", "randint", "choice", "fixed", "log"}):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


def describe_differences(old: Mapping[str, Any], new: Mapping[str, Any], limit: int = 5
                         ) -> list[str]:
    """``key: file has X, this search has Y`` for each differing setting."""
    a, b = _flatten(old), _flatten(new)
    lines = []
    for key in list(a) + [k for k in b if k not in a]:
        if _canon(a.get(key, "<absent>")) != _canon(b.get(key, "<absent>")):
            va = json.dumps(a[key]) if key in a else "nothing"
            vb = json.dumps(b[key]) if key in b else "nothing"
            lines.append(f"{key}: the file has {va}, this search has {vb}")
    if len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(lines) - limit} more"]
    return lines


class ResultsFile:
    """The JSONL log of one search (see the module notes)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def open(self, settings: Mapping[str, Any], resume: bool = False,
             overwrite: bool = False) -> list[dict[str, Any]]:
        """Start or continue the log; returns the records already there (resume)."""
        settings = _clean(settings)
        header = {"type": "header", "format": FORMAT, "hash": settings_hash(settings),
                  "settings": settings}
        exists = self.path.exists() and self.path.stat().st_size > 0
        if exists and self._header_only():
            exists = False  # a search that stopped before any trial finished: reuse the file
        records: list[dict[str, Any]] = []
        if exists and resume:
            old_header, records = self._read()
            if old_header.get("hash") != header["hash"]:
                diffs = describe_differences(old_header.get("settings", {}), settings)
                detail = "; ".join(diffs) if diffs else "the settings hash differs"
                raise ResultsMismatch(f"{self.path} holds the results of a different search "
                                      f"({detail}); refusing to resume it. Use another output "
                                      f"directory, or run without resume to start over "
                                      f"(overwrite)")
        elif exists and not overwrite:
            raise SpaceError(f"{self.path} already holds search results; resume it "
                             f"(resume=True, CLI --resume), overwrite it (overwrite=True, "
                             f"CLI --overwrite) or choose another output")
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "w", encoding="utf-8") as f:
                f.write(json.dumps(header, allow_nan=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        return records

    def _header_only(self) -> bool:
        """True for one of our files that holds no trial (nothing to lose by restarting)."""
        with open(self.path, "rb") as f:
            first = f.readline()
            rest = f.read(1 << 16)
        try:
            header = json.loads(first)
        except ValueError:
            return False
        return (isinstance(header, dict) and header.get("format") == FORMAT
                and b'"type": "trial"' not in rest)

    def _read(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        data = self.path.read_bytes()
        if not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            warnings.warn(f"{self.path}: dropping a torn last line ({len(data) - cut} bytes) "
                          f"left by an interrupted write", stacklevel=3)
            with open(self.path, "r+b") as f:
                f.truncate(cut)
            data = data[:cut]
        lines = data.decode("utf-8").splitlines()
        header: dict[str, Any] = {}
        records = []
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SpaceError(f"{self.path}:{n}: not a JSON line ({exc})") from None
            if n == 1:
                if obj.get("type") != "header" or obj.get("format") != FORMAT:
                    raise ResultsMismatch(f"{self.path} is not a steepest search results "
                                          f"file (no {FORMAT} header on line 1)")
                header = obj
            elif obj.get("type") == "trial":
                records.append(obj)
        return header, records

    def append(self, record: Mapping[str, Any]) -> None:
        """Append one line with a single write, then fsync."""
        if self._fd is None:
            raise RuntimeError("ResultsFile.append before open")
        data = (json.dumps(_clean(record), allow_nan=False) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def load(path: str | os.PathLike) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """``(header, trial records)`` of a results file (read only)."""
        rf = ResultsFile(path)
        data = rf.path.read_bytes()
        text = data[: data.rfind(b"\n") + 1].decode("utf-8")
        lines = [json.loads(x) for x in text.splitlines() if x.strip()]
        if not lines or lines[0].get("format") != FORMAT:
            raise ResultsMismatch(f"{path} is not a steepest search results file")
        return lines[0], [x for x in lines[1:] if x.get("type") == "trial"]


def _key(record: Mapping[str, Any], mode: str) -> float:
    s = record.get("score")
    return -s if mode == "max" else s


def ranked(records: Iterable[Mapping[str, Any]], mode: str,
           statuses: Sequence[str] = ("completed",)) -> list[dict[str, Any]]:
    """Records with one of ``statuses`` and a score, best first (ties: lower trial number)."""
    rs = [dict(r) for r in records if r.get("status") in statuses and r.get("score") is not None]
    return sorted(rs, key=lambda r: (_key(r, mode), r.get("trial", 0)))


def best_record(records: Iterable[Mapping[str, Any]], mode: str) -> dict[str, Any] | None:
    """The best completed trial; the best stopped one if none completed; else None."""
    records = list(records)
    for statuses in (("completed",), ("stopped",)):
        r = ranked(records, mode, statuses)
        if r:
            return r[0]
    return None


def format_value(value: Any, width: int | None = None) -> str:
    """Compact text for a table cell (4 significant digits for floats)."""
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ",".join(format_value(v) for v in value) + "]"
    else:
        text = str(value)
    if width is not None and len(text) > width:
        text = text[: max(width - 1, 1)] + "~"
    return text


class Table:
    """Rows of equal keys, printable (``print(table)``) and exportable (CSV, pandas)."""

    def __init__(self, rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None
                 ) -> None:
        self.rows = [dict(r) for r in rows]
        if columns is None:
            columns = []
            for r in self.rows:
                for k in r:
                    if k not in columns:
                        columns.append(k)
        self.columns = list(columns)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __getitem__(self, key: str | int) -> Any:
        if isinstance(key, int):
            return self.rows[key]
        if key not in self.columns:
            raise KeyError(f"the table has no column {key!r}; columns: {self.columns}")
        return [r.get(key) for r in self.rows]

    def to_string(self, max_width: int = 24) -> str:
        cells = [[format_value(r.get(c), max_width) for c in self.columns] for r in self.rows]
        widths = [max([len(c)] + [len(row[i]) for row in cells])
                  for i, c in enumerate(self.columns)]
        lines = ["  ".join(c.rjust(w) for c, w in zip(self.columns, widths))]
        lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return f"Table({len(self.rows)} rows, columns={self.columns})"

    def to_csv(self, path: str | os.PathLike | None = None) -> str:
        """CSV text (lists as JSON); written to ``path`` when given."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        for r in self.rows:
            w.writerow([json.dumps(v) if isinstance(v, (list, dict)) else
                        ("" if v is None else v) for v in (r.get(c) for c in self.columns)])
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns)
