"""The steepest command end to end on small data: outputs, evaluate/predict, bad input."""

import json
import os

import numpy as np
import pytest

from steepest.cli import main
from steepest.models import mlp

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


# -- the command line under faults (issue: runs, files and the command line) ----------------
def test_every_steepest_error_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    import steepest as st

    model = mlp([2, 8, 3])
    bad = tmp_path / "m.npz"
    st.save_model(model, bad, dataset="spirals")
    obj = st.load(bad)
    obj["state"]["2.weight"] = np.zeros((3, 9), np.float32)  # LoadStateDictError inside
    st.save(obj, bad)
    code, _, err = run(capsys, "evaluate", str(bad))
    assert code == 2 and err.count("\n") == 1 and "shape mismatch" in err
    assert str(bad) in err and "Traceback" not in err
    with pytest.raises(Exception, match="shape mismatch"):  # --debug shows the traceback
        main(["evaluate", str(bad), "--debug"])
    capsys.readouterr()

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("steepest.cli.build_parser", interrupted)
    code, _, err = run(capsys, "train")
    assert code == 130 and "Traceback" not in err and "interrupted" in err


def test_a_bug_still_shows_its_traceback(monkeypatch):
    def broken(args):
        raise AttributeError("a bug")

    monkeypatch.setitem(__import__("steepest.cli").cli.RUNNERS, "evaluate", broken)
    with pytest.raises(AttributeError):
        main(["evaluate", "x"])


@pytest.mark.parametrize("argv,message", [
    (["--learning-rate", "0.1"], "did you mean --lr?"),
    (["--batchsize", "3"], "did you mean --batch-size?"),
    (["--epochs", "0"], "epochs must be >= 1"),
    (["--hidden", "64,,64"], "empty entry in '64,,64'"),
    (["--momentum", "0.5"], "momentum has no effect with optimizer 'adam'"),
    (["--optimizer", "sgd", "--momentum", "0.5"], "momentum has no effect"),
    (["--optimizer", "momentum", "--momentum", "1.5"], "momentum must be in [0, 1)"),
    (["--activation", "Relux"], "did you mean 'relu'"),
    (["--resume", "--overwrite"], "exclude each other"),
])
def test_flag_mistakes_are_explained(tmp_path, capsys, argv, message):
    code, _, err = run(capsys, "train", *FAST, "--out", str(tmp_path / "x"), *argv)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()


def test_names_match_ignoring_case_and_toml_keys_get_suggestions(tmp_path, capsys):
    from steepest.config import make_config

    cfg = make_config({"activation": "Relu", "optimizer": "AdamW", "schedule": "Cosine"})
    assert (cfg.activation, cfg.optimizer, cfg.schedule) == ("relu", "adamw", "cosine")
    for text, hint in (("learning_rate = 0.1", "did you mean 'lr'?"),
                       ("Batch_Size = 3", "did you mean 'batch_size'?"),
                       ("[trian]\nlr = 0.1", "did you mean 'train'?"),
                       ("[train]\nn_epochs = 3", "did you mean 'epochs'?")):
        path = tmp_path / "c.toml"
        path.write_text(text + "\n")
        code, _, err = run(capsys, "train", "--config", str(path), "--out", str(tmp_path / "o"))
        assert code == 2 and hint in err and str(path) in err, (text, err)


def test_quiet_prints_only_the_result_and_epochs_are_counted(tmp_path, capsys):
    code, out, _ = run(capsys, "train", *FAST, "--out", str(tmp_path / "q"))
    assert code == 0 and len(out.splitlines()) == 1 and out.startswith("result: ")
    code, out, _ = run(capsys, "train", *[a for a in FAST if a != "--quiet"], "--epochs", "1",
                       "--no-progress", "--out", str(tmp_path / "one"))
    assert code == 0 and "1 epoch," in out and "1 epochs" not in out
    result = json.loads(out.splitlines()[-1][len("result: "):])
    assert all(len(repr(v).split(".")[-1]) <= 4 for v in result.values()
               if isinstance(v, float))  # one number of decimals everywhere
    code, out, _ = run(capsys, "evaluate", str(tmp_path / "one"), "--confusion")
    lines = out.splitlines()
    assert "rows: true class, columns: predicted class" in lines[1]
    assert lines[2].split()[:2] == ["true", "\\"] and lines[2].split()[-3:] == ["0", "1", "2"]
    assert [ln.split()[0] for ln in lines[3:]] == ["0", "1", "2"]


def test_experiment_out_is_not_overwritten_without_overwrite(tmp_path, capsys):
    out = tmp_path / "exp"
    out.mkdir()
    (out / "results.json").write_text('{"mine": 1}')
    code, _, err = run(capsys, "experiment", "weight_init", "--quick", "--out", str(out))
    assert code == 2 and "--overwrite" in err
    assert (out / "results.json").read_text() == '{"mine": 1}'


def test_library_saved_models_work_with_evaluate_and_predict(tmp_path, capsys):
    import steepest as st

    st.manual_seed(0)
    model = mlp([2, 16, 16, 3], dropout=0.1)
    sd = tmp_path / "sd.npz"
    st.save(model.state_dict(), sd)  # a bare state_dict
    code, out, err = run(capsys, "evaluate", str(sd), "--dataset", "spirals")
    assert code == 0, err
    assert set(json.loads(out.splitlines()[0])) == {"loss", "accuracy"}
    x = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    code, out, err = run(capsys, "predict", str(sd), str(tmp_path / "x.npy"))
    assert code == 0 and len(out.split()) == 4, err
    code, _, err = run(capsys, "predict", str(sd), str(tmp_path / "x.npy"), "--hidden", "32")
    assert code == 2 and "hidden widths [16, 16]" in err
    saved = tmp_path / "model.npz"
    st.save_model(model, saved, dataset="spirals")
    code, out2, err = run(capsys, "evaluate", str(saved))
    assert code == 0, err
    assert set(json.loads(out2.splitlines()[0])) == {"loss", "accuracy"}
    other = tmp_path / "other.npz"
    st.save({"w": np.zeros(3)}, other)
    code, _, err = run(capsys, "evaluate", str(other), "--dataset", "spirals")
    assert code == 2 and "steepest.save_model" in err and err.count("\n") == 1
    with pytest.raises(Exception, match="not an MLP"):
        st.save_model(st.nn.Linear(2, 3), tmp_path / "lin.npz")


def _savez_as(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("img") / "run"
    assert main(["train", "--dataset", "mnist-small", "--hidden", "8", "--epochs", "1",
                 "--quiet", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("make,message", [
    (lambda d: np.save(d / "i.npy", np.array(["a", "b"])), "must be numbers"),
    (lambda d: np.save(d / "i.npy", np.float32(3)), "0-d"),
    (lambda d: np.save(d / "i.npy", np.zeros((0, 784), np.float32)), "empty"),
    (lambda d: np.save(d / "i.npy", np.zeros((2, 10), np.float32)), "expects 784"),
    (lambda d: np.save(d / "i.npy", np.full((2, 784), 200.0, np.float32)),
     "--pixel-scale 255"),
    (lambda d: _savez_as(d / "i.npy", a=np.zeros(3), b=np.zeros(3)), "one array"),
    (lambda d: (d / "i.npy").write_bytes(b"\x80\x04junk"), "pickle"),
])
def test_predict_inputs_are_checked(image_model, tmp_path, capsys, make, message):
    make(tmp_path)
    code, _, err = run(capsys, "predict", str(image_model), str(tmp_path / "i.npy"))
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_predict_accepts_both_pixel_scales(image_model, tmp_path, capsys):
    import steepest as st

    x, _ = st.datasets.mnist_small("test", normalize=False, dtype=np.uint8, flatten=False)
    np.save(tmp_path / "u8.npy", x[:20])
    np.save(tmp_path / "f255.npy", x[:20].astype(np.float32))
    np.savez(tmp_path / "f1.npz", x=x[:20].astype(np.float32) / 255)
    outs = []
    for name, extra in (("u8.npy", []), ("f255.npy", ["--pixel-scale", "255"]),
                        ("f1.npz", [])):
        code, out, err = run(capsys, "predict", str(image_model), str(tmp_path / name), *extra)
        assert code == 0, err
        outs.append(out.split())
    assert outs[0] == outs[1] == outs[2] and len(outs[0]) == 20


def test_mnist_files_directly_in_data_dir(tmp_path, capsys):
    import steepest as st
    from steepest.data.datasets import write_idx
    from steepest.data.datasets.mnist import data_source

    x, y = st.datasets.mnist_small("test", normalize=False, dtype=np.uint8, flatten=False)
    for split in ("train", "t10k"):
        write_idx(tmp_path / f"{split}-images-idx3-ubyte", x[:30])
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte", y[:30].astype(np.uint8))
    xs, ys = st.datasets.mnist("test", root=tmp_path, download=False)
    assert xs.shape == (30, 784) and (ys == y[:30]).all()
    assert data_source("mnist", tmp_path) == f"MNIST from {tmp_path}"
    assert "downloaded" in data_source("mnist", tmp_path / "empty")


def test_tqdm_is_a_core_dependency():
    from pathlib import Path

    import tomllib

    meta = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert any(d.startswith("tqdm") for d in meta["project"]["dependencies"])


def test_float64_regression_run_keeps_targets_in_its_dtype(tmp_path, capsys):
    out = tmp_path / "sine64"
    code = main(["train", "--dataset", "sine", "--dtype", "float64", "--epochs", "1",
                 "--out", str(out), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert np.isfinite(metrics["test_loss"])
