"""TensorBoard logs, read back with TensorBoard's own EventAccumulator."""

import numpy as np
import pytest

pytest.importorskip("tensorboardX")
pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402

import steepest as st  # noqa: E402
from steepest import nn, optim  # noqa: E402
from steepest.train import TensorBoard, fit  # noqa: E402
from steepest.train.tensorboard import write_trials  # noqa: E402


def _events(path):
    ea = EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0,
                                                     "tensors": 0})
    ea.Reload()
    return ea


def _hparams(ea):
    """The hyperparameter names and values of the HParams session-start summary."""
    content = ea.PluginTagToContent("hparams")
    for raw in content.values():
        data = plugin_data_pb2.HParamsPluginData.FromString(raw)
        if data.HasField("session_start_info"):
            return {k: v for k, v in data.session_start_info.hparams.items()}
    return {}


def test_fit_writes_scalars_histograms_and_hparams(tmp_path):
    st.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    tb = TensorBoard(tmp_path / "tb", hparams={"lr": 0.1, "hidden": [8], "opt": "sgd"},
                     example_input=x[:2])
    fit(model, "cross_entropy", opt, (x, y), (x, y), epochs=3, batch_size=16,
        metrics=["accuracy"], callbacks=[tb], progress=False)
    ea = _events(tmp_path / "tb")
    scalars = set(ea.Tags()["scalars"])
    assert {"step/loss", "step/lr", "step/grad_norm", "epoch/loss", "epoch/val_loss",
            "epoch/accuracy", "epoch/val_accuracy", "epoch/lr"} <= scalars
    assert [e.step for e in ea.Scalars("step/loss")] == list(range(1, 13))
    assert [e.step for e in ea.Scalars("epoch/loss")] == [1, 2, 3]
    assert all(e.value > 0 for e in ea.Scalars("step/grad_norm"))
    assert ea.Scalars("epoch/val_loss")[-1].value == pytest.approx(
        min(e.value for e in ea.Scalars("epoch/val_loss")), rel=0.5)
    hist = set(ea.Tags()["histograms"])
    assert {"weights/0.weight", "weights/2.bias", "grads/0.weight"} <= hist
    h = ea.Histograms("weights/0.weight")[-1].histogram_value
    assert h.num == 32
    hp = _hparams(ea)
    assert hp["lr"].number_value == pytest.approx(0.1) and hp["opt"].string_value == "sgd"
    assert hp["hidden"].string_value == "[8]"
    assert "hparam/val_accuracy" in scalars
    ops = {n.op for n in ea.Graph().node}
    assert {"Gemm", "Relu"} <= ops


def test_write_trials_one_run_per_trial(tmp_path):
    records = [
        {"type": "trial", "trial": i, "config": {"lr": lr, "model": {"width": 8}},
         "status": "completed", "score": 0.5 + i / 10, "epochs": 2,
         "scores": [{"epoch": 1, "val_accuracy": 0.4}, {"epoch": 2, "val_accuracy": 0.6}]}
        for i, lr in enumerate([0.1, 0.01])
    ]
    runs = write_trials(records, tmp_path / "tb")
    assert len(runs) == 2
    for i, run in enumerate(runs):
        ea = _events(run)
        assert [e.value for e in ea.Scalars("epoch/val_accuracy")] == pytest.approx([0.4, 0.6])
        assert ea.Scalars("hparam/score")[0].value == pytest.approx(0.5 + i / 10)
        assert _hparams(ea)["model.width"].number_value == 8


def test_missing_tensorboardx_is_named(monkeypatch, tmp_path):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "tensorboardX":
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"steepest\[tensorboard\]"):
        write_trials([{"trial": 0, "config": {}}], tmp_path)
