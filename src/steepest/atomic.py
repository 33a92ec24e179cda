"""Atomic file writes: readers see the old content or the new one, never a part of it.

Everything steepest writes that a user may rely on (models, checkpoints, data caches,
histories, figures) goes through :func:`atomic_open`: a temporary file in the target's
folder, flushed and fsynced, then renamed over the target, then the folder fsynced.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` when the block ends without error."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; ours are ordinary files
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)


def remove_stale_temps(path: str | os.PathLike) -> list[str]:
    """Delete the temporary files :func:`atomic_open` left for ``path`` when a process was
    killed mid-write (``.NAME.XXXXXXXX.tmp``); returns the removed paths.

    Only safe while no other process writes ``path``: call it under the run lock.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    prefix = "." + os.path.basename(path) + "."
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp") and len(name) > len(prefix) + 4:
            full = os.path.join(directory, name)
            try:
                os.unlink(full)
                removed.append(full)
            except OSError:
                pass
    return removed
