"""The steepest command end to end on small data: outputs, evaluate/predict, bad input."""

import json
import os

import numpy as np
import pytest

from steepest.cli import main

FAST = ["--dataset", "spirals", "--hidden", "16,16", "--epochs", "3", "--batch-size", "64",
        "--quiet"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_writes_every_output(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "train", *FAST, "--out", str(out), "--dropout", "0.1",
                            "--batch-norm", "--l2", "1e-4", "--schedule", "cosine")
    assert code == 0, err
    for name in ("model.npz", "config.json", "history.csv", "curves.png", "metrics.json"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "checkpoint.ckpt").exists()
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["hidden"] == [16, 16] and cfg["batch_norm"] is True and cfg["l2"] == 1e-4
    assert {"lr", "optimizer", "seed", "epochs", "weight_decay", "dropout"} <= set(cfg)
    rows = (out / "history.csv").read_text().splitlines()
    assert len(rows) == 4 and rows[0].startswith("epoch,loss,accuracy,val_loss")
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["epochs_run"] == 3
    assert "test_accuracy" in stdout

    code, stdout, _ = run(capsys, "evaluate", str(out), "--confusion")
    assert code == 0
    assert json.loads(stdout.splitlines()[0])["accuracy"] == pytest.approx(
        metrics["test_accuracy"], abs=5e-5)  # printed with 4 decimals, like train's result
    x = np.random.default_rng(0).standard_normal((5, 2)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    code, stdout, _ = run(capsys, "predict", str(out), str(tmp_path / "x.npy"))
    assert code == 0 and len(stdout.split()) == 5
    assert set(int(v) for v in stdout.split()) <= {0, 1, 2}


def test_toml_config_and_flag_precedence(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[train]\ndataset = "spirals"\nhidden = [8]\nepochs = 2\nlr = 0.01\n')
    out = tmp_path / "r"
    code, _, err = run(capsys, "train", "--config", str(cfg), "--lr", "0.02", "--quiet",
                       "--out", str(out))
    assert code == 0, err
    saved = json.loads((out / "config.json").read_text())
    assert saved["hidden"] == [8] and saved["lr"] == 0.02 and saved["epochs"] == 2


@pytest.mark.parametrize("argv,message", [
    (["--optimizer", "adamm"], "did you mean 'adam'"),
    (["--batch-size", "0"], "batch_size must be a positive integer"),
    (["--activation", "relux"], "did you mean 'relu'"),
    (["--dataset", "minst"], "did you mean 'mnist'"),
])
def test_bad_flags_exit_2_without_traceback(tmp_path, capsys, argv, message):
    code, _, err = run(capsys, "train", *FAST, "--out", str(tmp_path / "x"), *argv)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_misspelt_config_key_suggests(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('dataset = "spirals"\nlearning_rat = 0.1\nhiden = [4]\n')
    code, _, err = run(capsys, "train", "--config", str(cfg), "--out", str(tmp_path / "o"))
    assert code == 2 and "unknown config key 'learning_rat'" in err


def test_bad_data_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = rng.integers(0, 2, 40)
    x_nan = x.copy()
    x_nan[3, 1] = np.nan
    np.savez(tmp_path / "nan.npz", x_train=x_nan, y_train=y, x_test=x, y_test=y)
    code, _, err = run(capsys, "train", "--dataset", str(tmp_path / "nan.npz"), "--quiet",
                       "--epochs", "1", "--out", str(tmp_path / "a"))
    assert code == 2 and "NaN" in err
    np.savez(tmp_path / "short.npz", x_train=x, y_train=y[:30], x_test=x, y_test=y)
    code, _, err = run(capsys, "train", "--dataset", str(tmp_path / "short.npz"), "--quiet",
                       "--epochs", "1", "--out", str(tmp_path / "b"))
    assert code == 2 and "differ in length (40 != 30)" in err
    y_bad = y.copy()
    y_bad[0] = -1
    np.savez(tmp_path / "lab.npz", x_train=x, y_train=y_bad, x_test=x, y_test=y)
    code, _, err = run(capsys, "train", "--dataset", str(tmp_path / "lab.npz"), "--quiet",
                       "--epochs", "1", "--out", str(tmp_path / "c"))
    assert code == 2 and "label -1 is out of range" in err


def test_existing_run_is_never_overwritten_by_accident(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(capsys, "train", *FAST, "--out", str(out))[0] == 0
    before = (out / "model.npz").read_bytes()
    code, _, err = run(capsys, "train", *FAST, "--out", str(out), "--lr", "0.5")
    assert code == 2 and "already exists" in err
    code, _, err = run(capsys, "train", *FAST, "--out", str(out), "--optimizer", "nope",
                       "--overwrite")
    assert code == 2
    assert (out / "model.npz").read_bytes() == before


def test_corrupted_checkpoint_and_model_are_clear_errors(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.ckpt").write_bytes(b"PK\x03\x04garbage")
    code, _, err = run(capsys, "train", *FAST, "--out", str(out), "--resume")
    assert code == 2 and "Traceback" not in err and "checkpoint" in err
    (out / "model.npz").write_bytes(b"\x80\x04garbage")
    code, _, err = run(capsys, "evaluate", str(out))
    assert code == 2 and "Traceback" not in err


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "train" in out and "evaluate" in out and "predict" in out
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in ("--optimizer", "--weight-decay", "--early-stopping", "--batch-norm",
                 "--resume", "--schedule", "--elastic-net", "--config"):
        assert flag in out


def test_resume_after_interrupt_matches_uninterrupted(tmp_path, capsys, monkeypatch):
    import signal

    from steepest.train import Callback

    ref = tmp_path / "ref"
    assert run(capsys, "train", *FAST, "--out", str(ref), "--epochs", "4")[0] == 0

    class Kill(Callback):
        def on_batch_end(self, trainer, step, logs):
            if trainer.epoch == 2 and step == 3:
                os.kill(os.getpid(), signal.SIGINT)

    from steepest.pipeline import fit as real_fit

    def fit_with_kill(*a, **kw):
        kw["callbacks"] = [*kw.get("callbacks", []), Kill()]
        return real_fit(*a, **kw)

    out = tmp_path / "int"
    monkeypatch.setattr("steepest.pipeline.fit", fit_with_kill)
    code, _, err = run(capsys, "train", *FAST, "--out", str(out), "--epochs", "4")
    assert code == 130 and (out / "checkpoint.ckpt").exists() and "--resume" in err
    monkeypatch.setattr("steepest.pipeline.fit", real_fit)
    code, _, err = run(capsys, "train", "--out", str(out), "--resume", "--quiet")
    assert code == 0, err
    assert (out / "model.npz").read_bytes() != b""
    import steepest as st

    a, b = st.load(ref / "model.npz")["state"], st.load(out / "model.npz")["state"]
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_default_out_dir_is_fresh(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for expected in ("runs/spirals", "runs/spirals-2"):
        code, _, err = run(capsys, "train", *FAST)
        assert code == 0, err
        assert (tmp_path / expected / "model.npz").exists()
