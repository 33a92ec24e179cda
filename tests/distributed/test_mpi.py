"""Data-parallel training under a real ``mpiexec -n N`` (localhost subprocesses with
timeouts), plus the MPI-free pieces (sharding, mpiexec lookup, the missing-MPI error)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import steepest as st
from steepest.cli import main
from steepest.distributed import ShardView, find_mpiexec
from steepest.distributed.comm import MISSING

WORKER = Path(__file__).with_name("mpi_worker.py")
TIMEOUT = 120  # generous: CI may oversubscribe 3 ranks on 2 cores


def _mpiexec() -> str:
    pytest.importorskip("mpi4py", reason='needs pip install "steepest[mpi]"')
    try:
        return find_mpiexec()
    except Exception as exc:  # noqa: BLE001 - any lookup failure means: cannot run here
        pytest.skip(str(exc))


def mpirun(n: int, args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """``mpiexec -n n python ARGS`` with one BLAS thread per rank."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", **env}
    return subprocess.run([_mpiexec(), "-n", str(n), sys.executable, *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True, timeout=TIMEOUT)


def max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


CLI = ["-m", "steepest.cli", "train", "--dataset", "mnist-small", "--hidden", "32",
       "--optimizer", "sgd", "--lr", "0.1", "--epochs", "2", "--schedule", "none",
       "--dropout", "0", "--val-fraction", "0.1", "--no-progress"]


@pytest.mark.parametrize("n,b", [(2, 32), (3, 22)])
def test_cli_n_ranks_equal_one_process_with_global_batch(tmp_path, capsys, n, b):
    """N ranks x batch b == 1 process x batch N*b (3 x 22 = 66 leaves an uneven last
    batch: 1800 = 27 * 66 + 18); only rank 0 writes, and only the run folder."""
    single, multi = tmp_path / "single", tmp_path / "multi"
    assert main([*CLI[2:], "--batch-size", str(n * b), "--out", str(single), "--quiet"]) == 0
    capsys.readouterr()
    (tmp_path / "work").mkdir()
    res = mpirun(n, [*CLI, "--batch-size", str(b), "--out", str(multi), "--distributed"],
                 tmp_path / "work")
    assert res.returncode == 0, res.stderr
    ws = st.load(single / "model.npz")["state"]
    wm = st.load(multi / "model.npz")["state"]
    assert max_diff(ws, wm) <= 1e-5
    assert sorted(p.name for p in multi.iterdir()) == sorted(p.name for p in single.iterdir())
    assert list((tmp_path / "work").iterdir()) == []  # nothing written beside the run
    assert res.stdout.count("result: ") == 1  # one rank speaks
    hist_s = (single / "history.csv").read_text().splitlines()
    hist_m = (multi / "history.csv").read_text().splitlines()
    assert hist_s[0] == hist_m[0]
    for rs, rm in zip(hist_s[1:], hist_m[1:]):  # loss, accuracy, val_loss, val_accuracy
        np.testing.assert_allclose([float(v) for v in rs.split(",")[1:5]],
                                   [float(v) for v in rm.split(",")[1:5]], rtol=1e-5)
    ms = json.loads((single / "metrics.json").read_text())
    mm = json.loads((multi / "metrics.json").read_text())
    assert mm["test_accuracy"] == pytest.approx(ms["test_accuracy"], abs=1e-3)


def test_dropout_and_batchnorm_runs_equal_one_process_in_float64(tmp_path, capsys):
    """fit keeps the one-process dropout masks (DistributedDropout) and global BatchNorm
    statistics (SyncBatchNorm): in float64 the runs agree to round-off, 1e-15 (in
    float32 the round-off of such nets can grow past 1e-5, see docs/distributed.md)."""
    flags = ["--dtype", "float64", "--dropout", "0.2", "--batch-norm", "--hidden", "32,16",
             "--optimizer", "momentum", "--epochs", "1"]
    single, multi = tmp_path / "single", tmp_path / "multi"
    assert main([*CLI[2:], *flags, "--batch-size", "66", "--out", str(single),
                 "--quiet"]) == 0
    capsys.readouterr()
    res = mpirun(3, [*CLI, *flags, "--batch-size", "22", "--out", str(multi),
                     "--distributed"], tmp_path)
    assert res.returncode == 0, res.stderr
    ws, wm = st.load(single / "model.npz")["state"], st.load(multi / "model.npz")["state"]
    assert any("running_mean" in k for k in ws)
    assert max_diff(ws, wm) <= 1e-10


def test_sync_batchnorm_outside_a_job_is_batchnorm():
    from steepest.distributed import SyncBatchNorm
    from steepest.models import mlp
    from steepest.nn.layers import BatchNorm1d

    st.manual_seed(0)
    model = mlp([6, 4, 2], batch_norm=True)
    bn = model[1]
    x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    ref = model(st.tensor(x)).data
    SyncBatchNorm.convert_sync_batchnorm(model)
    assert type(model[1]) is SyncBatchNorm and not isinstance(bn, SyncBatchNorm)
    assert model[1].weight is bn.weight  # same Parameters: the optimiser still sees them
    assert isinstance(model[1], BatchNorm1d)
    bn.load_state_dict(model[1].state_dict())
    np.testing.assert_array_equal(model(st.tensor(x)).data, ref)


def test_collectives(tmp_path):
    res = mpirun(3, [str(WORKER), "collectives", str(tmp_path / "ok.txt")], tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "ok.txt").read_text() == "ok 3\n"


def test_ddp_wrapper_in_a_loop_of_ones_own(tmp_path):
    """Ranks start from different weights; the wrapper's broadcast and gradient averaging
    still reproduce one process with the global batch."""
    res = mpirun(3, [str(WORKER), "ddp", str(tmp_path / "d.npz"), "--batch", "20"], tmp_path)
    assert res.returncode == 0, res.stderr
    subprocess.run([sys.executable, str(WORKER), "ddp", str(tmp_path / "s.npz"), "--single",
                    "--batch", "60"], check=True, timeout=TIMEOUT)
    assert max_diff(st.load(tmp_path / "d.npz"), st.load(tmp_path / "s.npz")) <= 1e-5


def test_resume_after_a_failure_is_exact_and_needs_the_same_world_size(tmp_path):
    """With dropout and BatchNorm: a run that fails in epoch 2, resumed from its epoch-1
    checkpoint to 3 epochs, is bit-identical to an uninterrupted 3-epoch run."""
    w = [str(WORKER), "fit"]
    common = ["--dropout", "0.2", "--bn", "--batch", "25", "--epochs", "3"]
    full = mpirun(2, [*w, str(tmp_path / "full.npz"), *common], tmp_path)
    assert full.returncode == 0, full.stderr
    ck = tmp_path / "run.ckpt"
    failed = mpirun(2, [str(WORKER), "raise", str(tmp_path / "failed.npz"), *common,
                        "--fail-epoch", "2", "--checkpoint", str(ck)], tmp_path)
    assert failed.returncode != 0 and "injected failure" in failed.stderr
    assert ck.exists() and not (tmp_path / "failed.npz").exists()
    assert st.load(ck)["epoch"] == 1
    again = mpirun(2, [*w, str(tmp_path / "resumed.npz"), *common, "--resume", str(ck)],
                   tmp_path)
    assert again.returncode == 0, again.stderr
    a, b = st.load(tmp_path / "full.npz"), st.load(tmp_path / "resumed.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a)

    other = mpirun(3, [*w, str(tmp_path / "x.npz"), *common, "--resume", str(ck)], tmp_path)
    assert other.returncode != 0
    assert "written by 2 ranks but this job has 3" in other.stderr
    assert not (tmp_path / "x.npz").exists()


def test_a_raising_rank_stops_every_rank_with_one_message(tmp_path):
    res = mpirun(2, [str(WORKER), "raise", str(tmp_path / "x.npz")], tmp_path)
    assert res.returncode != 0
    assert res.stderr.count("rank 1 of 2 failed: RuntimeError: injected failure at step 3"
                            "; stopping all 2 ranks") == 1
    assert not (tmp_path / "x.npz").exists()


def test_a_rank_that_stops_taking_part_times_out(tmp_path):
    res = mpirun(2, [str(WORKER), "hang", str(tmp_path / "x.npz")], tmp_path)
    assert res.returncode != 0
    assert "rank 0 of 2 waited 5 s in " in res.stderr and "for the other ranks" in res.stderr


def test_a_cli_error_on_every_rank_is_one_line_and_exit_code_2(tmp_path):
    res = mpirun(2, ["-m", "steepest.cli", "train", "--distributed", "--dataset", "nosuch",
                     "--out", str(tmp_path / "run")], tmp_path)
    assert res.returncode == 2
    assert res.stderr.count("steepest train: error: unknown dataset 'nosuch'") == 1


def test_an_mpiexec_of_another_mpi_is_caught(tmp_path):
    """Ranks started by a foreign mpiexec each see a world of 1 and would all write the
    run folder; the launcher's PMI_SIZE gives them away."""
    _mpiexec()
    env = {**os.environ, "PMI_SIZE": "3"}
    res = subprocess.run([sys.executable, "-m", "steepest.cli", "train", "--distributed",
                          "--dataset", "spirals", "--out", str(tmp_path / "run")], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert res.returncode == 2
    assert "started as one of 3 ranks, but MPI sees a world of 1" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "model.npz").exists()


# ------------------------------------------------------------------ without MPI
def test_cost_model_bytes_and_formula():
    from benchmarks.distributed import allreduce_model, cost_table, n_params

    assert 4 * (n_params([784, 100, 10]) + 1) == 318_044
    assert 4 * (n_params([784, 256, 256, 10]) + 1) == 1_077_292
    assert allreduce_model(1e6, 1, 1e9, 1e-5) == 0.0
    assert allreduce_model(1e6, 2, 1e9, 1e-5) == pytest.approx(2e-5 + 1e-3)
    rows = cost_table("A", 6.5e-6)
    assert "318,044 bytes" in rows[0] and sum(r.startswith("| 1") for r in rows) == 9

def test_shards_partition_every_global_batch():
    ds = st.data.TensorDataset(np.arange(10, dtype=np.float32))
    for world in (1, 2, 3, 4):
        for idx in (np.arange(7) * 3 % 10, np.arange(3), np.array([5])):
            parts = []
            for r in range(world):
                view = ShardView(ds, r, world)
                got = view[idx][0]
                if view.count:
                    parts.append(got)
                else:  # an empty part gets one zero-weight duplicate
                    assert len(got) == 1 and len(idx) < world
            joined = np.concatenate(parts)
            assert sorted(joined.tolist()) == sorted(idx.tolist())
            assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_find_mpiexec_prefers_the_override_then_this_pythons_scripts(monkeypatch, tmp_path):
    monkeypatch.setenv("STEEPEST_MPIEXEC", "/opt/mpi/bin/mpiexec")
    assert find_mpiexec() == "/opt/mpi/bin/mpiexec"
    monkeypatch.delenv("STEEPEST_MPIEXEC")
    fake = tmp_path / "mpiexec"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    import sysconfig

    monkeypatch.setattr(sysconfig, "get_path", lambda *a, **k: str(tmp_path))
    assert find_mpiexec() == str(fake)


def test_distributed_without_mpi_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py -> ImportError
    code = main(["train", "--dataset", "spirals", "--epochs", "1", "--distributed"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"steepest train: error: {MISSING}"
    assert 'pip install "steepest[mpi]"' in err


@pytest.mark.parametrize("value,message", [("abc", "must be a number of seconds"),
                                           ("0", "timeout must be > 0")])
def test_a_bad_timeout_is_refused_before_mpi_starts(monkeypatch, value, message):
    from steepest.distributed import DistributedError, init, is_initialized

    assert not is_initialized()
    monkeypatch.setenv("STEEPEST_DIST_TIMEOUT", value)
    with pytest.raises(DistributedError, match=message):
        init()
    assert not is_initialized()
