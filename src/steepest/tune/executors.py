"""Where trials run: in this process, in a local pool of worker processes, or on Ray.

* ``n_jobs=1``: in-process, one trial after another (easy to debug: breakpoints work).
* ``executor="local"`` (default): a ``ProcessPoolExecutor`` of ``n_jobs`` workers started
  with the ``spawn`` method (no fork after threads). Each trial limits BLAS to
  ``threads_per_trial`` threads (1 by default; threadpoolctl, and the ``*_NUM_THREADS``
  variables for the workers), so ``n_jobs`` trials use ``n_jobs`` cores without
  oversubscription. Workers run in their own process group: Ctrl-C reaches only the driver,
  which then terminates them.
* ``executor="ray"``: the same trial function as Ray tasks (``num_cpus=1`` each) on the
  cluster at ``address``, or on a local Ray started here (and shut down afterwards; a Ray
  that was already running is left alone).

No scheduler beyond this: at most ``n_jobs`` trials are in flight, submitted in index order
(which the early termination's ordered decisions rely on), and records come back as trials
finish. Ray is the engine for anything larger.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.managers import BaseManager
from typing import Any

from .asha import EarlyStop, RungTable
from .trial import BLAS_ENV, run_trial

__all__ = ["InProcessExecutor", "LocalPoolExecutor", "RayExecutor", "make_executor",
           "default_n_jobs"]


def default_n_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def failed_record(spec: Mapping[str, Any], message: str) -> dict[str, Any]:
    """The record of a trial whose worker died or could not run it."""
    return {"type": "trial", "trial": spec["trial"], "round": spec["round"],
            "index": spec["index"], "seed": spec["seed"], "config": dict(spec["config"]),
            "status": "failed", "score": None, "score_std": None, "epochs": 0, "scores": [],
            "reason": None, "error": message, "traceback": None, "time": 0.0, "worker": None}


class _Windowed:
    """Keep at most ``n_slots`` trials in flight, submitted in order; yield as they end."""

    n_slots = 1

    def _submit(self, spec: Mapping[str, Any], objective: Any, table: Any) -> Any:
        raise NotImplementedError

    def _wait(self, pending: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    def _result(self, handle: Any, spec: Mapping[str, Any]) -> dict[str, Any] | None:
        """The trial's record, or None when its worker process died (result unknown)."""
        raise NotImplementedError

    def _prepare(self, objective: Any) -> Any:
        return objective

    def run(self, specs: Sequence[Mapping[str, Any]], objective: Callable[..., Any],
            table: Any = None) -> Iterator[dict[str, Any]]:
        queue = list(specs)
        if not queue:
            return
        obj = self._prepare(objective)
        inflight: dict[Any, Mapping[str, Any]] = {}
        lost: list[Mapping[str, Any]] = []  # trials whose worker died: retried one at a time
        solo = False  # a lost trial is running alone: a crash now is its own
        pos = 0

        def fill() -> None:
            nonlocal pos, solo
            if solo:
                return
            if lost:
                if not inflight:
                    spec = lost.pop(0)
                    inflight[self._submit(spec, obj, table)] = spec
                    solo = True
                return
            while pos < len(queue) and len(inflight) < self.n_slots:
                inflight[self._submit(queue[pos], obj, table)] = queue[pos]
                pos += 1

        fill()
        while inflight:
            finished = []
            for handle in self._wait(list(inflight)):
                spec = inflight.pop(handle)
                record = self._result(handle, spec)
                if record is None and not solo:
                    lost.append(spec)  # it, or a trial beside it, crashed its worker
                    continue
                if record is None:
                    record = failed_record(spec, "the worker process died while this trial ran "
                                                 "alone (a crash such as a segfault, or killed "
                                                 "for memory)")
                solo = False
                finished.append(record)
            lost.sort(key=lambda sp: sp["index"])  # keep index order (early termination)
            fill()  # keep workers busy before handing the records over
            yield from finished

    def __enter__(self) -> _Windowed:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


class InProcessExecutor(_Windowed):
    """Run trials one after another in this process."""

    name = "in-process"

    def __init__(self, threads: int | None = 1) -> None:
        self.threads = threads

    def make_table(self, early: EarlyStop, mode: str) -> RungTable:
        return RungTable(early.rungs or [], early.fraction, early.min_trials, mode)

    def run(self, specs: Sequence[Mapping[str, Any]], objective: Callable[..., Any],
            table: Any = None) -> Iterator[dict[str, Any]]:
        for spec in specs:
            yield run_trial(spec, objective, table, self.threads)


class _TableManager(BaseManager):
    pass


_TableManager.register("RungTable", RungTable, exposed=(
    "get_rungs", "start", "record", "finish", "preload", "decide"))


_SPAWN_HELP = (
    "the worker processes could not start. They are started with the 'spawn' method, which "
    "re-imports your main script: put the code that calls tune.search() under "
    "`if __name__ == '__main__':`, or run with n_jobs=1 (in-process)")


def _init_worker() -> None:
    """Pool worker start-up: leave the terminal's process group (Ctrl-C is the driver's)."""
    try:
        os.setpgrp()
    except (AttributeError, OSError):  # pragma: no cover - not POSIX
        pass


class LocalPoolExecutor(_Windowed):
    """A pool of ``n_jobs`` spawned worker processes (see the module notes)."""

    name = "local"

    def __init__(self, n_jobs: int, threads: int | None = 1) -> None:
        self.n_jobs = self.n_slots = int(n_jobs)
        self.threads = threads
        self._ctx = mp.get_context("spawn")
        self._pool: cf.ProcessPoolExecutor | None = None
        self._manager: _TableManager | None = None
        self._generation = 0  # bumped each time a broken pool is replaced
        self._saved_env: dict[str, str | None] = {}

    def __enter__(self) -> LocalPoolExecutor:
        if self.threads is not None:
            for var in BLAS_ENV:  # read by the workers' BLAS when they import NumPy
                self._saved_env[var] = os.environ.get(var)
                os.environ[var] = str(self.threads)
        return self  # the workers start with the first trial (none if nothing is left to run)

    def _new_pool(self) -> None:
        self._pool = cf.ProcessPoolExecutor(max_workers=self.n_jobs, mp_context=self._ctx,
                                            initializer=_init_worker)
        try:  # start every worker now (they spawn on demand), failing clearly if they cannot
            for f in [self._pool.submit(os.getpid) for _ in range(self.n_jobs)]:
                f.result()
        except BrokenProcessPool:
            self._kill_pool()
            raise RuntimeError(_SPAWN_HELP) from None

    def make_table(self, early: EarlyStop, mode: str) -> Any:
        if self._manager is None:
            manager = _TableManager(ctx=self._ctx)
            try:
                manager.start(_init_worker)
            except EOFError:
                raise RuntimeError(_SPAWN_HELP) from None
            self._manager = manager
        return self._manager.RungTable(early.rungs or [], early.fraction, early.min_trials,
                                       mode)

    def _prepare(self, objective: Any) -> Any:
        try:
            pickle.dumps(objective)
        except Exception as exc:
            raise TypeError(f"the objective {objective!r} cannot be sent to worker processes "
                            f"({type(exc).__name__}: {exc}); define it at module level (not "
                            f"a lambda or a nested function), or use n_jobs=1 or "
                            f"executor='ray'") from None
        return objective

    def _submit(self, spec: Mapping[str, Any], objective: Any, table: Any) -> Any:
        if self._pool is None:
            self._new_pool()
        assert self._pool is not None
        fut = self._pool.submit(run_trial, dict(spec), objective, table, self.threads)
        fut.steepest_generation = self._generation  # type: ignore[attr-defined]
        return fut

    def _wait(self, pending: Sequence[Any]) -> list[Any]:
        done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        return [f for f in pending if f in done]

    def _result(self, handle: Any, spec: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            return handle.result()
        except BrokenProcessPool:
            if getattr(handle, "steepest_generation", None) == self._generation:
                self._kill_pool()  # replace the broken pool once, not once per lost trial
                self._generation += 1
            return None
        except Exception as exc:
            return failed_record(spec, f"{type(exc).__name__}: {exc}")

    def _kill_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # our own workers, by their handles
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        try:
            if exc_type is None and self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
            else:
                self._kill_pool()
        finally:
            if self._manager is not None:
                self._manager.shutdown()
                self._manager = None
            for var, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(var, None)
                else:
                    os.environ[var] = value
            self._saved_env.clear()


class _RayTable:
    """The rung table behind a Ray actor, with the plain table's methods."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    def _call(self, name: str, *args: Any) -> Any:
        import ray

        return ray.get(getattr(self.actor, name).remote(*args))

    def get_rungs(self) -> list[int]:
        return self._call("get_rungs")

    def start(self, rnd: int, index: int) -> None:
        self._call("start", rnd, index)

    def record(self, rnd: int, index: int, epoch: int, score: float) -> None:
        self._call("record", rnd, index, epoch, score)

    def finish(self, rnd: int, index: int) -> None:
        self._call("finish", rnd, index)

    def preload(self, rnd: int, index: int, scores: Any) -> None:
        self._call("preload", rnd, index, scores)

    def decide(self, rnd: int, index: int, rung: int, waited: float = 0.0) -> Any:
        return self._call("decide", rnd, index, rung, waited)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError("executor='ray' needs Ray: pip install 'steepest[ray]'") from None
    return ray


class RayExecutor(_Windowed):
    """Trials as Ray tasks (see the module notes)."""

    name = "ray"

    def __init__(self, address: str | None = None, n_jobs: int | None = None,
                 threads: int | None = 1, init_kwargs: Mapping[str, Any] | None = None
                 ) -> None:
        self.address = address
        self.n_jobs = n_jobs
        self.threads = threads
        self.init_kwargs = dict(init_kwargs or {})
        self._started = False
        self._pending: list[Any] = []

    def __enter__(self) -> RayExecutor:
        ray = _import_ray()
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "logging_level": "ERROR"}
            if self.address:
                kwargs["address"] = self.address
            else:
                kwargs["num_cpus"] = self.n_jobs or default_n_jobs()
            kwargs.update(self.init_kwargs)
            ray.init(**kwargs)
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.n_slots = max(1, self.n_jobs or cpus)
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_trial)
        return self

    def make_table(self, early: EarlyStop, mode: str) -> _RayTable:
        ray = _import_ray()
        actor = ray.remote(num_cpus=0)(RungTable).remote(
            early.rungs or [], early.fraction, early.min_trials, mode)
        return _RayTable(actor)

    def _prepare(self, objective: Any) -> Any:
        return _import_ray().put(objective)

    def _submit(self, spec: Mapping[str, Any], objective: Any, table: Any) -> Any:
        ref = self._remote.remote(dict(spec), objective, table, self.threads)
        self._pending.append(ref)
        return ref

    def _wait(self, pending: Sequence[Any]) -> list[Any]:
        ray = _import_ray()
        done, _ = ray.wait(list(pending), num_returns=1)
        return done

    def _result(self, handle: Any, spec: Mapping[str, Any]) -> dict[str, Any] | None:
        ray = _import_ray()
        self._pending = [r for r in self._pending if r != handle]
        try:
            return ray.get(handle)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # the worker died (a task has its own), or could not run
            text = str(exc).strip().splitlines()
            return failed_record(spec, f"{type(exc).__name__}: {text[-1] if text else ''}")

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        ray = _import_ray()
        if exc_type is not None:
            for ref in self._pending:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # pragma: no cover - best effort
                    pass
        self._pending = []
        if self._started:
            ray.shutdown()
            self._started = False


def make_executor(executor: str, n_jobs: int | None, address: str | None = None,
                  threads: int | None = 1, ray_init: Mapping[str, Any] | None = None
                  ) -> _Windowed:
    """An executor by name: ``"local"`` (in-process when ``n_jobs == 1``) or ``"ray"``."""
    from .space import SpaceError, suggest

    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int)
                               or n_jobs < 1):
        raise SpaceError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    if executor == "ray":
        return RayExecutor(address, n_jobs, threads, ray_init)
    if executor != "local":
        raise SpaceError(f"unknown executor {executor!r}{suggest(str(executor), ['local', 'ray'])}"
                         f" (choose local or ray)")
    if address:
        raise SpaceError("address is for executor='ray' (a Ray cluster); the local executor "
                         "takes n_jobs")
    n = n_jobs or default_n_jobs()
    return InProcessExecutor(threads) if n == 1 else LocalPoolExecutor(n, threads)
