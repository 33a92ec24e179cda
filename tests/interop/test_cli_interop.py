"""The interop parts of the CLI: ``train --tensorboard``, ``export``, ``tune --tensorboard``."""

import json

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("tensorboardX")

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa

from steepest.cli import main  # noqa: E402
from steepest.pipeline import predict_saved  # noqa: E402

FAST = ["--dataset", "spirals", "--hidden", "16,16", "--epochs", "2", "--batch-size", "64",
        "--quiet"]


def test_train_tensorboard_then_export_onnx(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", *FAST, "--out", str(run), "--standardize", "--batch-norm",
                 "--dropout", "0.1", "--tensorboard"]) == 0
    ea = EventAccumulator(str(run / "tensorboard"))
    ea.Reload()
    assert {"epoch/loss", "epoch/val_accuracy", "step/grad_norm"} <= set(ea.Tags()["scalars"])
    assert "weights/0.weight" in ea.Tags()["histograms"]
    assert "BatchNormalization" in {n.op for n in ea.Graph().node}
    capsys.readouterr()
    onnx_path = tmp_path / "model.onnx"
    assert main(["export", str(run), str(onnx_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    x = np.random.default_rng(0).standard_normal((11, 2)).astype(np.float32) * 3
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    logits = sess.run(None, {"input": x})[0]
    assert logits.shape[0] == 11
    np.testing.assert_array_equal(logits.argmax(axis=1), predict_saved(run, x))


def test_export_errors_are_one_line(tmp_path, capsys):
    code = main(["export", str(tmp_path / "nothing"), str(tmp_path / "m.onnx")])
    assert code == 2 and "no saved model" in capsys.readouterr().err


def test_tune_tensorboard_one_run_per_trial(tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text("""
[search]
strategy = "random"
trials = 2
seed = 0
metric = "val_accuracy"
mode = "max"
n_jobs = 1

[space]
lr = {loguniform = [1e-3, 1e-1]}

[fixed]
dataset = "mnist-like"
hidden = [8]
n_train = 200
batch_size = 50
epochs = 2
""")
    out = tmp_path / "tune"
    assert main(["tune", "--config", str(cfg), "--out", str(out), "--no-plot", "--quiet",
                 "--tensorboard"]) == 0
    runs = sorted((out / "tensorboard").iterdir())
    assert [r.name for r in runs] == ["trial-000", "trial-001"]
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    scores = {r["trial"]: r["score"] for r in records if r.get("type") == "trial"}
    for i, r in enumerate(runs):
        ea = EventAccumulator(str(r))
        ea.Reload()
        assert ea.Scalars("hparam/score")[0].value == pytest.approx(scores[i], rel=1e-6)
        assert "epoch/val_accuracy" in ea.Tags()["scalars"]


def test_cnn_run_tensorboard_graph_and_export(tmp_path, capsys):
    """A CNN's first layer unflattens flat pixels: the graph and the export size their input
    from it (not from the dense head)."""
    run = tmp_path / "cnn"
    assert main(["train", "--dataset", "mnist-small", "--model", "cnn", "--epochs", "1",
                 "--batch-size", "200", "--quiet", "--out", str(run), "--tensorboard"]) == 0
    ea = EventAccumulator(str(run / "tensorboard"))
    ea.Reload()
    assert "Conv" in {n.op for n in ea.Graph().node}
    onnx_path = tmp_path / "cnn.onnx"
    assert main(["export", str(run), str(onnx_path)]) == 0
    capsys.readouterr()
    x = np.random.default_rng(1).random((5, 784)).astype(np.float32)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    logits = sess.run(None, {"input": x})[0]
    np.testing.assert_array_equal(logits.argmax(axis=1), predict_saved(run, x))
