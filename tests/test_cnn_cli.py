"""`steepest train --model cnn` end to end on the small MNIST subset: a CNN from TOML layer
tables, evaluate, predict on images, exact resume, early stopping, config errors."""

import json
import os
import signal

import numpy as np

import steepest as st
from tests.test_cli import run

LAYERS = """
model = "cnn"
dataset = "mnist-small"
batch_size = 128
epochs = 3
lr = 0.01
[[layers]]
type = "conv2d"
out_channels = 4
kernel_size = 5
stride = 3
[[layers]]
type = "batchnorm2d"
[[layers]]
type = "relu"
[[layers]]
type = "maxpool2d"
kernel_size = 2
[[layers]]
type = "dropout2d"
p = 0.1
"""


def _config(tmp_path, extra=""):
    path = tmp_path / "cnn.toml"
    path.write_text(LAYERS + extra, encoding="utf-8")
    return str(path)


def test_cnn_train_evaluate_predict(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "train", "--config", _config(tmp_path), "--out", str(out),
                            "--early-stopping", "5", "--no-progress")
    assert code == 0, err
    assert "(N, 4, 8, 8)" in stdout and "(N, 4, 4, 4)" in stdout  # the summary table
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.5
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"] == "cnn" and cfg["layers"][0]["type"] == "conv2d"
    code, stdout, _ = run(capsys, "evaluate", str(out))
    assert code == 0
    assert json.loads(stdout.splitlines()[0])["accuracy"] == metrics["test_accuracy"]
    images = np.random.default_rng(0).random((5, 28, 28)).astype(np.float32)
    np.save(tmp_path / "x.npy", images)
    code, stdout, _ = run(capsys, "predict", str(out), str(tmp_path / "x.npy"))
    assert code == 0 and len(stdout.split()) == 5


def test_cnn_resume_after_interrupt_matches_uninterrupted(tmp_path, capsys, monkeypatch):
    from steepest.pipeline import fit as real_fit
    from steepest.train import Callback

    cfg = _config(tmp_path)
    ref = tmp_path / "ref"
    assert run(capsys, "train", "--config", cfg, "--out", str(ref), "--quiet")[0] == 0

    class Kill(Callback):
        def on_batch_end(self, trainer, step, logs):
            if trainer.epoch == 1 and step == 3:
                os.kill(os.getpid(), signal.SIGINT)

    def fit_with_kill(*a, **kw):
        kw["callbacks"] = [*kw.get("callbacks", []), Kill()]
        return real_fit(*a, **kw)

    out = tmp_path / "int"
    monkeypatch.setattr("steepest.pipeline.fit", fit_with_kill)
    code, _, err = run(capsys, "train", "--config", cfg, "--out", str(out), "--quiet")
    assert code == 130 and (out / "checkpoint.ckpt").exists()
    monkeypatch.setattr("steepest.pipeline.fit", real_fit)
    code, _, err = run(capsys, "train", "--config", cfg, "--out", str(out), "--resume",
                       "--quiet")
    assert code == 0, err
    a, b = st.load(ref / "model.npz")["state"], st.load(out / "model.npz")["state"]
    assert any(k.endswith("running_var") for k in a)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_cnn_config_errors(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('model = "cnn"\n[[layers]]\ntype = "conv2d"\nout_chanels = 3\n'
                   'kernel_size = 3\n', encoding="utf-8")
    code, _, err = run(capsys, "train", "--config", str(bad), "--out", str(tmp_path / "b"))
    assert code == 2 and "out_chanels" in err and "out_channels" in err
    code, _, err = run(capsys, "train", "--model", "cnn", "--dataset", "spirals",
                       "--out", str(tmp_path / "c"))
    assert code == 2 and "input_shape" in err
    code, _, err = run(capsys, "train", "--model", "rnn", "--out", str(tmp_path / "d"))
    assert code == 2 and "rnn" in err
