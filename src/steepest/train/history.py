"""History: what happened in each epoch of ``fit`` (losses, metrics, learning rate, time)."""

from __future__ import annotations

import csv
import io
import os
from typing import Any

from ..atomic import atomic_write_text


class History:
    """Per-epoch records, one dict per epoch (keys such as ``loss``, ``val_loss``,
    ``accuracy``, ``val_accuracy``, ``lr``, ``time``).

    ``history["val_loss"]`` gives the list of one column; ``history.rows`` all records.
    """

    def __init__(self, rows: list[dict[str, Any]] | None = None) -> None:
        self.rows: list[dict[str, Any]] = list(rows or [])
        self.stopped_epoch: int | None = None
        self.best_epoch: int | None = None
        self.interrupted = False
        self.checkpoint: str | None = None

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(dict(row))

    def __getitem__(self, key: str) -> list[Any]:
        if not any(key in r for r in self.rows):
            keys = sorted({k for r in self.rows for k in r})
            raise KeyError(f"history has no column {key!r}; columns: {keys}")
        return [r.get(key) for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key: str) -> bool:
        return any(key in r for r in self.rows)

    @property
    def columns(self) -> list[str]:
        cols: list[str] = []
        for r in self.rows:
            for k in r:
                if k not in cols:
                    cols.append(k)
        return cols

    def to_csv(self, path: str | os.PathLike | None = None) -> str:
        """The table as CSV text; written atomically to ``path`` when given."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=self.columns, lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            w.writerow(r)
        text = buf.getvalue()
        if path is not None:
            atomic_write_text(path, text)
        return text

    def state_dict(self) -> dict[str, Any]:
        return {"rows": [dict(r) for r in self.rows], "stopped_epoch": self.stopped_epoch,
                "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows = [dict(r) for r in state["rows"]]
        self.stopped_epoch = state.get("stopped_epoch")
        self.best_epoch = state.get("best_epoch")

    def __repr__(self) -> str:
        return f"History({len(self.rows)} epochs, columns={self.columns})"
