"""The MPI process group: start-up, rank and size, collectives that never hang, failure.

Every collective here is started non-blocking (``Iallreduce``, ``Ibcast``, ``Ibarrier``:
mpi4py's uppercase methods, which move NumPy buffers without pickling) and then polled
until it completes or a deadline passes. Polling is what makes failures bounded:

* a rank that raises calls :func:`fail`: it sends its one-line message to rank 0, rank 0
  (polling in its current or next collective) prints it and aborts the whole job with
  ``MPI_Abort``; if rank 0 does not answer within a grace period the failing rank prints
  the message itself and aborts;
* a rank that dies outright is noticed by ``mpiexec`` (MPICH's hydra), which ends the job;
* a rank that hangs or exits early leaves the others waiting: each gives up after
  ``timeout`` seconds (``init(timeout=...)`` or ``$STEEPEST_DIST_TIMEOUT``, default 300)
  with a message naming the collective, and aborts.

An uncaught exception in a script (``sys.excepthook``) and Ctrl-C take the same path.
MPI's process group is process-wide by nature; the session object lives in a
``contextvars.ContextVar`` like steepest's other state.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ..tensor import Tensor

MISSING = ('distributed training needs MPI: pip install "steepest[mpi]" (mpi4py and the '
           'mpich wheel), then start the ranks with mpiexec -n N')
_ERROR_TAG = 77
_DEFAULT_TIMEOUT_S = 300.0
_DRAIN_S = 0.5  # seconds between the failure message and MPI_Abort
_SPINS = 200  # Test() calls before the poll starts sleeping (keeps latency ~µs)


class DistributedError(RuntimeError):
    """MPI is missing, not initialised, or the ranks disagree (world size, state)."""


class ReduceOp:
    """Reduction operators for :func:`all_reduce` (``torch.distributed.ReduceOp`` names)."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"


_OPS = (ReduceOp.SUM, ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX, ReduceOp.AVG)


def _import_mpi() -> Any:
    try:
        from mpi4py import MPI
    except ImportError:
        raise DistributedError(MISSING) from None
    except RuntimeError as exc:  # mpi4py present, but no MPI library to load
        raise DistributedError(f"{MISSING} ({exc})") from None
    return MPI


def find_mpiexec() -> str:
    """Path of the ``mpiexec`` that belongs to this Python's MPI.

    The ``mpich`` wheel installs ``mpiexec`` into the interpreter's scripts folder
    (``<venv>/bin``, or ``~/.local/bin`` for ``pip install --user``), which need not be on
    ``PATH``; that one is preferred over a system ``mpiexec`` on ``PATH``, which may
    belong to another MPI than the one mpi4py loads. ``$STEEPEST_MPIEXEC`` overrides both.
    """
    override = os.environ.get("STEEPEST_MPIEXEC")
    if override:
        return override
    exe = "mpiexec.exe" if os.name == "nt" else "mpiexec"
    folders = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        folders.append(sysconfig.get_path("scripts", user_scheme))
    for folder in folders:
        candidate = Path(folder) / exe
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(exe)
    if found:
        return found
    raise DistributedError(f"no mpiexec found (looked in {', '.join(folders)} and on PATH); "
                           + MISSING)


class Session:
    """This process's place in the MPI job: rank, size, communicators and deadlines."""

    def __init__(self, mpi: Any, timeout: float) -> None:
        self.MPI = mpi
        self.comm = mpi.COMM_WORLD.Dup()  # our own, so user code on COMM_WORLD can't collide
        self.errors = mpi.COMM_WORLD.Dup()  # failure reports to rank 0
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.timeout = float(timeout)
        self.is_root = self.rank == 0
        self._status = mpi.Status()
        self._prev_hook = sys.excepthook
        if self.size > 1:  # an uncaught exception on one rank must stop the others
            sys.excepthook = self._excepthook

    @property
    def who(self) -> str:
        return f"rank {self.rank} of {self.size}"

    # -------------------------------------------------------------- polling
    def wait(self, request: Any, what: str) -> None:
        """Poll ``request`` to completion; on rank 0 also watch for failure reports."""
        spins, pause, deadline = 0, 2e-5, None
        while True:
            if self.is_root:
                self._check_reports()
            if request.Test():
                return
            spins += 1
            if spins > _SPINS:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.timeout
                elif now > deadline:
                    self.fail(f"steepest.distributed: {self.who} waited {self.timeout:g} s in "
                              f"{what} for the other ranks (a rank died, hangs, or the ranks "
                              f"run different code); stopping all {self.size} ranks", 1)
                time.sleep(pause)
                pause = min(pause * 2, 1e-3)

    def _check_reports(self) -> None:
        mpi = self.MPI
        if not self.errors.Iprobe(source=mpi.ANY_SOURCE, tag=_ERROR_TAG, status=self._status):
            return
        buf = bytearray(self._status.Get_count(mpi.BYTE))
        self.errors.Recv([buf, mpi.BYTE], source=self._status.Get_source(), tag=_ERROR_TAG)
        self._abort(buf[1:].decode("utf-8", "replace"), buf[0] if buf else 1)

    def _abort(self, message: str, code: int) -> NoReturn:
        print(message, file=sys.stderr, flush=True)
        sys.stdout.flush()
        # mpiexec forwards each rank's output asynchronously and MPI_Abort ends the
        # forwarding too: give it a moment to pass the one message on
        time.sleep(_DRAIN_S)
        self.MPI.COMM_WORLD.Abort(code)
        raise SystemExit(code)  # Abort does not return; this keeps NoReturn honest

    # -------------------------------------------------------------- failure
    def fail(self, message: str, code: int = 1) -> NoReturn:
        """End the whole job with ``message`` printed once, by rank 0 where possible."""
        code = min(max(int(code), 1), 255)
        if self.is_root:
            self._abort(message, code)
        data = bytes([code]) + message.encode("utf-8")
        request = self.errors.Isend([data, self.MPI.BYTE], dest=0, tag=_ERROR_TAG)
        # rank 0 aborts us all once it reads the report, at its next collective at the latest
        # (collectives poll for reports): wait as long as any collective may take, so that
        # a busy machine never lets this rank's own abort overtake rank 0's one message
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            request.Test()
            time.sleep(1e-3)
        self._abort(message, code)

    def _excepthook(self, kind: type, value: BaseException, tb: Any) -> None:
        self._prev_hook(kind, value, tb)
        code = 130 if issubclass(kind, KeyboardInterrupt) else 1
        self.fail(f"steepest.distributed: {self.who} failed: {kind.__name__}: {value}; "
                  f"stopping all {self.size} ranks", code)


_SESSION: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "steepest_distributed_session", default=None)


def init(timeout: float | None = None) -> Session:
    """Join the MPI job started by ``mpiexec`` (idempotent) and return the session.

    Run without ``mpiexec`` it is a world of one rank. ``timeout`` (seconds; default
    ``$STEEPEST_DIST_TIMEOUT`` or 300) bounds how long any rank waits in a collective.
    """
    session = _SESSION.get()
    if session is not None:
        if timeout is not None:
            session.timeout = float(timeout)
        return session
    if timeout is None:
        raw = os.environ.get("STEEPEST_DIST_TIMEOUT", "")
        try:
            timeout = float(raw) if raw else _DEFAULT_TIMEOUT_S
        except ValueError:
            raise DistributedError(f"STEEPEST_DIST_TIMEOUT must be a number of seconds, "
                                   f"got {raw!r}") from None
    if not timeout > 0:
        raise DistributedError(f"init: timeout must be > 0 seconds, got {timeout!r}")
    session = Session(_import_mpi(), timeout)
    launched = _launched_size()
    if launched is not None and launched != session.size:
        raise DistributedError(
            f"this process was started as one of {launched} ranks, but MPI sees a world of "
            f"{session.size}: the mpiexec used belongs to another MPI than the one mpi4py "
            f"loads; start with python -m steepest.distributed -n {launched} ... (which runs "
            f"{find_mpiexec()})")
    _SESSION.set(session)
    return session


def _launched_size() -> int | None:
    """The world size the launcher announced (MPICH/hydra, Open MPI), if any."""
    for key in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        value = os.environ.get(key, "")
        if value.isdigit():
            return int(value)
    return None


def is_initialized() -> bool:
    """Whether :func:`init` has run in this process (``torch.distributed.is_initialized``)."""
    return _SESSION.get() is not None


def session() -> Session:
    """The running session; a clear error if :func:`init` was not called."""
    s = _SESSION.get()
    if s is None:
        raise DistributedError("steepest.distributed is not initialised: call "
                               "steepest.distributed.init() first (under mpiexec -n N)")
    return s


def rank() -> int:
    """This process's rank, 0 .. world_size() - 1."""
    return session().rank


def world_size() -> int:
    """Number of ranks in the job."""
    return session().size


def barrier() -> None:
    """Wait until every rank has reached this point (with the session's deadline)."""
    s = session()
    s.wait(s.comm.Ibarrier(), "barrier")


def _buffer(array: Any, who: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The C-contiguous buffer MPI works on, and the array to copy the result back into
    when that buffer is a staging copy (a non-C-contiguous array, e.g. nn.Linear's
    column-major weight: ranks then agree on the logical values whatever their layout)."""
    a = array.data if isinstance(array, Tensor) else array
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{who}: expected a NumPy array or Tensor, got {type(array).__name__}")
    if not a.flags.writeable:
        raise ValueError(f"{who}: the array must be writeable (it is changed in place)")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{who}: unsupported dtype {a.dtype} (bool, integer or float only)")
    if a.flags.c_contiguous:
        return a, None
    return np.ascontiguousarray(a), a


def all_reduce(array: Any, op: str = ReduceOp.SUM) -> None:
    """Reduce ``array`` (NumPy array or Tensor) over all ranks, in place, like
    ``torch.distributed.all_reduce``; ``op`` is a :class:`ReduceOp` (``'avg'`` divides the
    sum by the world size)."""
    if op not in _OPS:
        raise ValueError(f"all_reduce: unknown op {op!r}; choose from {list(_OPS)}")
    s = session()
    a, back = _buffer(array, "all_reduce")
    if op == ReduceOp.AVG and a.dtype.kind != "f":
        raise TypeError(f"all_reduce: op 'avg' needs a float array, got {a.dtype}")
    mpi_op = {"sum": s.MPI.SUM, "avg": s.MPI.SUM, "product": s.MPI.PROD,
              "min": s.MPI.MIN, "max": s.MPI.MAX}[op]
    s.wait(s.comm.Iallreduce(s.MPI.IN_PLACE, a, op=mpi_op), f"all_reduce({a.shape})")
    if op == ReduceOp.AVG:
        np.divide(a, s.size, out=a)
    if back is not None:
        back[...] = a


def broadcast(array: Any, src: int = 0) -> None:
    """Overwrite ``array`` on every rank with rank ``src``'s, in place
    (``torch.distributed.broadcast``). Every rank must pass the same shape and dtype."""
    s = session()
    if not 0 <= src < s.size:
        raise ValueError(f"broadcast: src must be a rank in [0, {s.size}), got {src}")
    a, back = _buffer(array, "broadcast")
    s.wait(s.comm.Ibcast(a, root=src), f"broadcast({a.shape})")
    if back is not None:
        back[...] = a


def broadcast_bytes(data: bytes, src: int = 0) -> bytes:
    """Rank ``src``'s ``data`` on every rank (length first, then the bytes; no pickle)."""
    size = np.array([len(data)], dtype=np.int64)
    broadcast(size, src)
    buf = np.frombuffer(data, dtype=np.uint8).copy() if rank() == src else np.empty(
        int(size[0]), dtype=np.uint8)
    broadcast(buf, src)
    return buf.tobytes()


def gather_bytes(data: bytes) -> list[bytes]:
    """Every rank's ``data``, in rank order, on every rank (sizes, then one padded block)."""
    s = session()
    sizes = np.zeros(s.size, dtype=np.int64)
    sizes[s.rank] = len(data)
    all_reduce(sizes)
    width = int(sizes.max()) if s.size else 0
    block = np.zeros((s.size, max(width, 1)), dtype=np.uint8)
    block[s.rank, :len(data)] = np.frombuffer(data, dtype=np.uint8)
    all_reduce(block)  # each row is non-zero on one rank only
    return [block[r, :int(sizes[r])].tobytes() for r in range(s.size)]


# torch.distributed spellings
init_process_group = init
get_rank = rank
get_world_size = world_size
