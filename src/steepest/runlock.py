"""An exclusive lock on a run folder, so that two runs never write the same files.

``with run_lock(folder):`` holds ``folder/.lock`` for the whole run. On POSIX the lock is
an ``fcntl.flock`` on that file, which the kernel releases when the holder dies (even by
SIGKILL), so a lock can never outlive its process; elsewhere it is a file created with
``O_CREAT | O_EXCL``. Either way the file records the holder (pid, host, start time), a
second run is refused with :class:`RunLockedError` naming the holder, and a lock file left
by a dead process is reported and taken over.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = ".lock"

__all__ = ["LOCK_FILE", "RunLockedError", "run_lock"]


class RunLockedError(RuntimeError):
    """Another live process holds the run folder."""


def _holder(text: str) -> dict[str, Any]:
    try:
        info = json.loads(text)
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


def _describe(info: dict[str, Any]) -> str:
    if not info:
        return "another process"
    since = info.get("since")
    when = time.strftime(" since %Y-%m-%d %H:%M:%S", time.localtime(since)) if isinstance(
        since, (int, float)) else ""
    return f"pid {info.get('pid')} on {info.get('host')}{when} ({info.get('command', '?')})"


def _alive(pid: Any) -> bool:
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _me(command: str) -> str:
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                       "command": command})


def _stale_note(info: dict[str, Any], lock: Path, log: Any) -> None:
    if info:
        log(f"steepest: {lock}: taking over a stale lock of {_describe(info)}, which is no "
            f"longer running")


@contextmanager
def run_lock(folder: str | os.PathLike, command: str = "steepest", log: Any = None
             ) -> Iterator[Path]:
    """Hold ``folder``'s lock (the folder must exist) until the block ends.

    Raises :class:`RunLockedError`, naming the holder, if a live process holds it.
    ``log`` (default: print to stderr) reports a stale lock taken over.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    lock = Path(folder) / LOCK_FILE
    if fcntl is None:  # pragma: no cover - Windows
        with _exclusive_file(lock, command, log):
            yield lock
        return
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            text = _read(fd)
            os.close(fd)
            raise RunLockedError(f"{str(folder)!r} is in use by {_describe(_holder(text))}; "
                                 f"wait for it to finish or choose another --out") from None
        try:  # the holder before us may have removed the file: lock the one on disk
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        old = _holder(_read(fd))
        if old.get("pid") != os.getpid() or old.get("host") != socket.gethostname():
            _stale_note(old, lock, log)
        os.ftruncate(fd, 0)
        os.pwrite(fd, _me(command).encode(), 0)
        yield lock
    finally:
        try:
            os.unlink(lock)  # while still holding it: nobody can lock this inode meanwhile
        except OSError:
            pass
        os.close(fd)


def _read(fd: int) -> str:
    try:
        return os.pread(fd, 4096, 0).decode("utf-8", "replace")
    except OSError:
        return ""


@contextmanager
def _exclusive_file(lock: Path, command: str, log: Any) -> Iterator[None]:  # pragma: no cover
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            break
        except FileExistsError:
            try:
                info = _holder(lock.read_text(encoding="utf-8"))
            except OSError:
                info = {}
            if info.get("host") == socket.gethostname() and not _alive(info.get("pid")):
                _stale_note(info, lock, log)
                lock.unlink(missing_ok=True)
                continue
            raise RunLockedError(f"{str(lock.parent)!r} is in use by {_describe(info)}; wait "
                                 f"for it to finish or choose another --out") from None
    else:
        raise RunLockedError(f"{str(lock.parent)!r}: could not take the lock {lock}")
    try:
        os.write(fd, _me(command).encode())
        os.close(fd)
        yield
    finally:
        lock.unlink(missing_ok=True)
