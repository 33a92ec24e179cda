"""Runs under faults: the run-folder lock, refused commands that change nothing, resume
rules, validated checkpoints, stale temp files, BLAS threads and the CLI's error lines."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

import steepest as st
from steepest.cli import main
from steepest.models import mlp
from steepest.runlock import RunLockedError, run_lock
from tests.test_cli import FAST, run


def snapshot(folder):
    """Every file under ``folder`` with its bytes (the on-disk state of a run)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """A run interrupted (SIGINT) in its second epoch: checkpoint + recorded settings."""
    from steepest.pipeline import fit as real_fit
    from steepest.train import Callback

    class Kill(Callback):
        def on_batch_end(self, trainer, step, logs):
            if trainer.epoch == 2 and step == 3:
                os.kill(os.getpid(), signal.SIGINT)

    def fit_with_kill(*a, **kw):
        kw["callbacks"] = [*kw.get("callbacks", []), Kill()]
        return real_fit(*a, **kw)

    out = tmp_path_factory.mktemp("interrupted") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("steepest.pipeline.fit", fit_with_kill)
        code = main(["train", *FAST, "--out", str(out), "--epochs", "4", "--lr", "0.01"])
    assert code == 130 and (out / "checkpoint.ckpt").exists()
    return out


@pytest.fixture
def run_copy(interrupted, tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(interrupted, dst)
    return dst


# -- the run lock ---------------------------------------------------------------------------
def test_a_second_run_on_a_locked_folder_is_refused_naming_the_holder(tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    with run_lock(out, command="steepest train"):
        code, _, err = run(capsys, "train", *FAST, "--out", str(out))
        assert code == 2 and "Traceback" not in err
        assert f"pid {os.getpid()}" in err and socket.gethostname() in err
        with pytest.raises(RunLockedError):
            with run_lock(out):
                pass
    assert sorted(p.name for p in out.iterdir()) == []  # nothing written, lock released
    assert run(capsys, "train", *FAST, "--out", str(out))[0] == 0


def test_a_lock_held_by_another_process_refuses_resume(run_copy, capsys):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from steepest.runlock import run_lock\n"
         "with run_lock(sys.argv[1]):\n print('held', flush=True); time.sleep(60)",
         str(run_copy)], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert holder.stdout.readline().strip() == "held"
        before = snapshot(run_copy)
        code, _, err = run(capsys, "train", "--out", str(run_copy), "--resume", "--quiet")
        assert code == 2 and f"pid {holder.pid}" in err
        assert snapshot(run_copy) == before
    finally:
        holder.kill()
        holder.wait()
    # the kernel released the dead holder's lock: the stale file is reported and taken over
    code, _, err = run(capsys, "train", "--out", str(run_copy), "--resume", "--quiet")
    assert code == 0, err
    assert "stale lock" in err and f"pid {holder.pid}" in err
    assert not (run_copy / ".lock").exists()


# -- refused commands change nothing ---------------------------------------------------------
def test_a_refused_run_leaves_the_interrupted_run_untouched(run_copy, capsys):
    before = snapshot(run_copy)
    code, _, err = run(capsys, "train", *FAST, "--lr", "0.5", "--out", str(run_copy))
    assert code == 2 and "already exists" in err
    assert snapshot(run_copy) == before  # config.partial.json used to be rewritten here
    code, _, err = run(capsys, "train", "--out", str(run_copy), "--resume", "--quiet")
    assert code == 0, err
    assert json.loads((run_copy / "config.json").read_text())["lr"] == 0.01


@pytest.mark.parametrize("bad", [
    ["--activation", "relux"], ["--init", "glorotish"], ["--dataset", "nope"],
    ["--seed", "-1"], ["--grad-clip", "0"], ["--momentum", "1.5", "--optimizer", "momentum"],
    ["--epochs", "0"], ["--hidden", "64,,64"], ["--gamma", "0"], ["--lr", "nan"],
    ["--dataset", "missing.npz"], ["--dtype", "float16"],
])
def test_invalid_settings_create_no_folder(tmp_path, capsys, monkeypatch, bad):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "train", *FAST, *bad)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err
    code, _, err = run(capsys, "train", *FAST, *bad, "--out", str(tmp_path / "x" / "y"))
    assert code == 2
    assert list(tmp_path.iterdir()) == []  # neither runs/spirals nor x/y


def test_resume_with_conflicting_flags_lists_every_differing_key(run_copy, capsys):
    before = snapshot(run_copy)
    code, _, err = run(capsys, "train", "--out", str(run_copy), "--resume", "--hidden", "64",
                       "--batch-norm", "--optimizer", "sgd", "--dataset", "moons")
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    for key in ("hidden: [16, 16] -> [64]", "batch_norm: False -> True",
                "optimizer: 'adam' -> 'sgd'", "dataset: 'spirals' -> 'moons'"):
        assert key in err
    assert snapshot(run_copy) == before
    # equal values and the settings that may change are accepted
    code, _, err = run(capsys, "train", "--out", str(run_copy), "--resume", "--quiet",
                       "--lr", "0.01", "--hidden", "16,16", "--epochs", "5")
    assert code == 0, err
    assert json.loads((run_copy / "metrics.json").read_text())["epochs_run"] == 5


def test_stale_temp_files_are_removed_on_resume(run_copy, capsys):
    orphan = run_copy / ".checkpoint.ckpt.k2j3h4g5.tmp"
    orphan.write_bytes(b"x" * 1000)
    other = run_copy / "notes.txt.tmp"
    other.write_text("mine")
    code, _, err = run(capsys, "train", "--out", str(run_copy), "--resume", "--quiet")
    assert code == 0, err
    assert not orphan.exists() and other.exists()
    assert not [p for p in run_copy.iterdir() if p.name.startswith(".") and
                p.name.endswith(".tmp")]


# -- checkpoints are validated -----------------------------------------------------------------
def _tamper(path, edit):
    state = st.load(path)
    edit(state)
    st.save(state, path)


@pytest.mark.parametrize("edit,key", [
    (lambda s: s["optimizer"]["param_groups"][0].__setitem__("lr", -1.0), "optimizer"),
    (lambda s: s["optimizer"]["param_groups"][0].__setitem__("lr", float("nan")), "optimizer"),
    (lambda s: s["optimizer"]["param_groups"][0].__setitem__("weight_decay", float("nan")),
     "optimizer"),
    (lambda s: s["optimizer"]["param_groups"][0].__setitem__("betas", [1.5, 0.999]),
     "optimizer"),
    (lambda s: s["optimizer"]["state"][0].__setitem__(
        "exp_avg_sq", -np.abs(s["optimizer"]["state"][0]["exp_avg_sq"]) - 1), "optimizer"),
    (lambda s: s.__setitem__("epoch", 1000), "epoch"),
    (lambda s: s.__setitem__("step", -3), "step"),
    (lambda s: s["model"].__setitem__("0.weight", s["model"]["0.weight"].astype(np.int64)),
     "model"),
    (lambda s: s["model"].__setitem__("0.weight", s["model"]["0.weight"].astype(bool)),
     "model"),
    (lambda s: s["model"].__setitem__("3.weight", np.full_like(
        s["model"]["3.weight"], 1e300, dtype=np.float64)), "model"),
    (lambda s: s.__setitem__("rng", json.dumps({"bit_generator": "test", "state": {}})),
     "rng"),
    (lambda s: s["scheduler"].__setitem__("base_lrs", [-1.0]), "scheduler"),
])
def test_bad_checkpoint_contents_are_refused_naming_file_and_key(run_copy, capsys, edit, key):
    ckpt = run_copy / "checkpoint.ckpt"
    _tamper(ckpt, edit)
    code, _, err = run(capsys, "train", "--out", str(run_copy), "--resume", "--quiet")
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err
    assert str(ckpt) in err and f"key '{key}" in err
    assert not (run_copy / "model.npz").exists()


def test_a_checkpoint_naming_numpy_functions_runs_nothing(run_copy, capsys):
    for name in ("test", "seed", "__import__"):
        with pytest.raises(ValueError, match="unknown bit generator"):
            st.random.set_rng_state({"bit_generator": name, "state": {}})
    np.random.seed(5)
    expected = np.random.random()
    np.random.seed(5)
    _tamper(run_copy / "checkpoint.ckpt",
            lambda s: s.__setitem__("rng", json.dumps({"bit_generator": "seed"})))
    assert run(capsys, "train", "--out", str(run_copy), "--resume", "--quiet")[0] == 2
    assert np.random.random() == expected  # the global RNG was not reseeded


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_model_and_checkpoint_do_not_hang(run_copy, capsys):
    (run_copy / "checkpoint.ckpt").unlink()
    os.mkfifo(run_copy / "checkpoint.ckpt")
    code, _, err = run(capsys, "train", "--out", str(run_copy), "--resume", "--quiet")
    assert code == 2 and "not a regular file" in err
    os.mkfifo(run_copy / "model.npz")
    code, _, err = run(capsys, "evaluate", str(run_copy))
    assert code == 2 and "not a regular file" in err


# -- threads -----------------------------------------------------------------------------------
def test_fit_limits_blas_threads(monkeypatch):
    from threadpoolctl import threadpool_info

    from steepest.train import Callback, fit

    seen = []

    class Probe(Callback):
        def on_batch_end(self, trainer, step, logs):
            # NumPy's BLAS (the one steepest multiplies with); SciPy's may be loaded later
            # (numba's first compile loads it), after the limit was set
            seen.append(max(i["num_threads"] for i in threadpool_info()
                            if i["user_api"] == "blas" and "numpy" in i["filepath"]))

    x = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32)
    y = np.arange(64) % 2
    model = mlp([4, 8, 2])
    opt = st.optim.SGD(list(model.parameters()), lr=0.1)
    fit(model, "cross_entropy", opt, (x, y), epochs=1, batch_size=32, progress=False,
        callbacks=[Probe()], threads=1)
    assert seen == [1, 1]
    with pytest.raises(ValueError, match="threads"):
        fit(model, "cross_entropy", opt, (x, y), epochs=1, progress=False, threads=-2)


def test_auto_threads_follow_the_load(monkeypatch):
    from steepest import threads

    monkeypatch.setattr(threads, "_cores", lambda: 2)
    monkeypatch.setattr(threads, "_own_load", lambda: 0.0)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.1, 0.1, 0.1))
    assert threads.auto_threads() is None  # quiet: the library's setting
    monkeypatch.setattr(os, "getloadavg", lambda: (1.2, 1.0, 1.0))
    assert threads.auto_threads() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (7.0, 7.0, 7.0))
    assert threads.auto_threads() == 1


def test_auto_threads_do_not_count_this_process_as_another_job(monkeypatch):
    """A process that kept both cores busy itself (epoch after epoch) still gets both."""
    import time

    from steepest import threads

    monkeypatch.setattr(threads, "_cores", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.9, 1.9, 1.9))
    own = threads._OwnLoad()
    monkeypatch.setattr(threads, "_own_load", own)
    # 10 minutes since the last look, 1.9 cores busy on average meanwhile
    own.wall, own.cpu = time.monotonic() - 600.0, time.process_time() - 1140.0
    assert threads.auto_threads() is None and abs(own.mean - 1.9) < 0.01
    # then 10 idle minutes: the load is somebody else's
    own.wall, own.cpu = time.monotonic() - 600.0, time.process_time()
    assert threads.auto_threads() == 1 and own.mean < 0.01


def test_train_threads_flag(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:  # argparse's own usage error
        main(["train", *FAST, "--threads", "-1", "--out", str(tmp_path / "a")])
    assert e.value.code == 2 and "--threads" in capsys.readouterr().err
    assert run(capsys, "train", *FAST, "--threads", "1", "--out", str(tmp_path / "b"))[0] == 0


@pytest.mark.parametrize("edit,why", [
    (lambda o: o["state"].__setitem__("0.weight", o["state"]["0.weight"].astype(np.int32)),
     "floating dtype"),
    (lambda o: o["state"].__setitem__("0.bias", np.full_like(o["state"]["0.bias"], 1e300,
                                                             dtype=np.float64)), "inf"),
    (lambda o: o.__setitem__("n_out", "ten"), "'n_out'"),
    (lambda o: o.__setitem__("task", "magic"), "'task'"),
    (lambda o: o.__setitem__("config", '{"lr": -1}'), "lr must be positive"),
    (lambda o: o.__setitem__("config", "[" * 100000), "'config'"),
])
def test_bad_model_files_are_refused_naming_the_file(tmp_path, capsys, edit, why):
    model = mlp([2, 4, 3])
    path = tmp_path / "model.npz"
    st.save_model(model, path, dataset="spirals")
    obj = st.load(path)
    edit(obj)
    st.save(obj, path)
    code, _, err = run(capsys, "evaluate", str(path))
    assert code == 2 and str(path) in err and why in err and err.count("\n") == 1, err


def test_auto_threads_never_raise_an_outer_limit(monkeypatch):
    from threadpoolctl import threadpool_limits

    from steepest import threads

    monkeypatch.setattr(threads, "_cores", lambda: 16)
    monkeypatch.setattr(os, "getloadavg", lambda: (4.0, 4.0, 4.0))  # 12 cores free
    with threadpool_limits(1, user_api="blas"):  # e.g. a search worker
        with threads.blas_threads("auto") as n:
            assert n is None and threads._current() == 1


def test_a_run_failing_before_its_first_checkpoint_leaves_no_folder(tmp_path, capsys,
                                                                   monkeypatch):
    from steepest.train import TrainingDiverged

    def diverge(*a, **kw):
        assert (tmp_path / "a" / "b" / ".lock").exists()  # failing inside the locked run
        raise TrainingDiverged("fit: the loss became nan at epoch 1, step 2")

    monkeypatch.setattr("steepest.pipeline.fit", diverge)
    code, _, err = run(capsys, "train", *FAST, "--out", str(tmp_path / "a" / "b"))
    assert code == 2 and "loss became" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
