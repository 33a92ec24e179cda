"""The training loop: learning, history, resume bit for bit, early stopping, callbacks."""

import os
import signal

import numpy as np
import pytest

import steepest as st
from steepest import nn, optim
from steepest.data.datasets import spirals
from steepest.models import mlp
from steepest.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    TrainingDiverged,
    evaluate,
    fit,
    predict,
)


@pytest.fixture
def data():
    x, y = spirals(100, 3, seed=1)
    return x, y


def make(seed=0, dropout=0.2):
    st.manual_seed(seed)
    model = mlp([2, 32, 32, 3], dropout=dropout)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched


def test_fit_learns_and_records_history(data):
    x, y = data
    model, opt, _ = make(dropout=0.0)
    h = fit(model, nn.CrossEntropyLoss(), opt, (x, y), (x, y), epochs=40, batch_size=32,
            metrics=["accuracy", "top2"], progress=False)
    assert len(h) == 40 and h.columns[:3] == ["epoch", "loss", "accuracy"]
    assert {"val_loss", "val_accuracy", "val_top2", "lr", "time"} <= set(h.columns)
    assert h["loss"][-1] < h["loss"][0] * 0.5
    assert h["val_accuracy"][-1] > 0.9
    res = evaluate(model, "cross_entropy", (x, y), ["accuracy"])
    assert res["accuracy"] == pytest.approx(h["val_accuracy"][-1])
    out = predict(model, x)
    assert out.shape == (300, 3) and out.dtype == np.float32
    assert model.training  # evaluate/predict restore the mode


class _Kill(Callback):
    """Press Ctrl-C (SIGINT) once, during a given batch."""

    def __init__(self, epoch, step):
        self.at = (epoch, step)

    def on_batch_end(self, trainer, step, logs):
        if (trainer.epoch, step) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


def _weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def test_interrupt_and_resume_is_bit_identical(data, tmp_path):
    x, y = data
    kw = dict(epochs=5, batch_size=16, metrics=["accuracy"], progress=False, seed=7)
    model, opt, sched = make()
    ref = fit(model, "cross_entropy", opt, (x, y), (x[:50], y[:50]), scheduler=sched,
              callbacks=[EarlyStopping(patience=100)], **kw)
    ref_w = _weights(model)

    ckpt = tmp_path / "run.ckpt"
    model, opt, sched = make()
    h = fit(model, "cross_entropy", opt, (x, y), (x[:50], y[:50]), scheduler=sched,
            callbacks=[EarlyStopping(patience=100), _Kill(3, 4)], checkpoint=ckpt, **kw)
    assert h.interrupted and len(h) == 2 and ckpt.exists()

    st.manual_seed(12345)  # a different RNG state: resume must restore it
    model, opt, sched = make(seed=99)
    h2 = fit(model, "cross_entropy", opt, (x, y), (x[:50], y[:50]), scheduler=sched,
             callbacks=[EarlyStopping(patience=100)], resume=ckpt, **kw)
    assert len(h2) == 5 and not h2.interrupted
    for k, v in ref_w.items():
        np.testing.assert_array_equal(_weights(model)[k], v, err_msg=k)
    assert h2["loss"] == ref["loss"]
    assert h2["lr"] == ref["lr"]


def test_early_stopping_restores_best_epoch_weights(data):
    x, y = data
    snapshots = {}

    class Snap(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            snapshots[epoch] = _weights(trainer.model)

    model, opt, _ = make(dropout=0.0)
    for g in opt.param_groups:
        g["lr"] = 0.05  # large steps: validation loss soon stops improving
    xv, yv = x[::7], (y[::7] + 1) % 3  # a validation set the model cannot fit
    h = fit(model, "cross_entropy", opt, (x, y), (xv, yv), epochs=60, batch_size=32,
            callbacks=[Snap(), EarlyStopping("val_loss", patience=3)], progress=False)
    assert h.stopped_epoch is not None and h.stopped_epoch < 60
    best = h.best_epoch
    assert h["val_loss"][best - 1] == min(h["val_loss"])
    assert h.stopped_epoch == best + 3
    for k, v in snapshots[best].items():
        np.testing.assert_array_equal(model.state_dict()[k], v)


def test_checkpoint_and_csv_callbacks(data, tmp_path):
    x, y = data
    model, opt, _ = make()
    fit(model, "cross_entropy", opt, (x, y), (x, y), epochs=3, batch_size=64,
        metrics=["accuracy"], progress=False,
        callbacks=[ModelCheckpoint(tmp_path / "best.npz", save_best_only=True,
                                   monitor="val_accuracy"),
                   CSVLogger(tmp_path / "h.csv")])
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("epoch,loss,accuracy,val_loss")
    state = st.load(tmp_path / "best.npz")
    assert set(state) == set(model.state_dict())


def test_divergence_and_bad_input_are_clear(data):
    x, y = data
    model, opt, _ = make(dropout=0.0)
    opt2 = optim.SGD(model.parameters(), lr=1e30)
    with pytest.raises(TrainingDiverged, match="loss became"), np.errstate(all="ignore"):
        fit(model, "mse", opt2, (x, np.ones((len(x), 3), np.float32) * 1e30), epochs=3,
            progress=False)
    model, opt, _ = make(dropout=0.0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        fit(model, "cross_entropy", opt, (x, y), batch_size=0, progress=False)
    bad = x.copy()
    bad[5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit(model, "cross_entropy", opt, (bad, y), progress=False)
    with pytest.raises(ValueError, match="same"):
        fit(model, "cross_entropy", opt, (x, y[:10]), progress=False)
    with pytest.raises(ValueError, match="EarlyStopping monitors 'val_loss'.*val_data"):
        fit(model, "cross_entropy", opt, (x, y), epochs=1, progress=False,
            callbacks=[EarlyStopping()])
    with pytest.raises(ValueError, match="did you mean 'accuracy'"):
        fit(model, "cross_entropy", opt, (x, y), metrics=["acuracy"], progress=False)


def test_metrics_against_numpy():
    from steepest.train.metrics import accuracy, confusion_matrix, mae, mse, top_k_accuracy

    rng = np.random.default_rng(0)
    out = rng.standard_normal((50, 4))
    y = rng.integers(0, 4, 50)
    assert accuracy(out, y) == np.mean(out.argmax(1) == y)
    assert accuracy(out, np.eye(4)[y]) == accuracy(out, y)
    top2 = np.argsort(-out, axis=1)[:, :2]
    assert top_k_accuracy(out, y, 2) == np.mean((top2 == y[:, None]).any(1))
    cm = confusion_matrix(out, y, 4)
    assert cm.sum() == 50 and np.trace(cm) == (out.argmax(1) == y).sum()
    t = rng.standard_normal((50, 4))
    assert mse(out, t) == pytest.approx(np.mean((out - t) ** 2))
    assert mae(out, t) == pytest.approx(np.mean(np.abs(out - t)))
