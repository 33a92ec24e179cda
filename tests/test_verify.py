"""steepest verify: steepest and PyTorch side by side, step by step."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from steepest import nn
from steepest.cli import main
from steepest.config import OPTIMIZERS, ConfigError
from steepest.verify import NotMirrorable, _Masks, _mirror_model, verify

torch = pytest.importorskip("torch")

SMALL = {"hidden": [16], "batch_size": 64}
# each optimiser also exercises some of the rest: dropout, batch norm, penalties, clipping,
# weight decay and schedules (they step at the epoch boundary: 1800 / 600 = 3 steps)
EXTRAS = {
    "sgd": {"dropout": 0.3, "l2": 1e-3, "schedule": "step", "step_size": 1},
    "momentum": {"batch_norm": True, "l1": 1e-4, "schedule": "exponential", "gamma": 0.5},
    "nesterov": {"grad_clip": 0.1, "weight_decay": 1e-3, "schedule": "plateau"},
    "adagrad": {"elastic_net": 1e-3, "activation": "tanh", "schedule": "warmup-cosine"},
    "rmsprop": {"batch_norm": True, "dropout": 0.2, "activation": "gelu"},
    "adadelta": {"weight_decay": 1e-2, "activation": "sigmoid", "lr": 1.0},
    "adam": {"grad_clip": 0.5, "l2": 1e-3, "standardize": True},
    "adamw": {"weight_decay": 0.1, "activation": "leaky_relu", "dropout": 0.5},
    "nadam": {"batch_norm": True, "activation": "elu", "weight_decay": 1e-3},
}


def test_every_optimizer_has_a_case():
    assert set(EXTRAS) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_matches_torch_in_float64(name):
    cfg = {**SMALL, "batch_size": 600, "epochs": 3, "optimizer": name, **EXTRAS[name]}
    report = verify(cfg, steps=7, log=None)
    assert report.passed, report.summary()
    assert len(report.steps) == 7
    worst = max(report.worst(k)[1] for k in ("loss", "grad", "param"))
    assert worst < 1e-10
    # the schedule really moved the learning rate in both (epoch boundary after 3 steps)
    if EXTRAS[name].get("schedule") in ("step", "exponential"):
        assert report.steps[-1]["lr"] < report.steps[0]["lr"]
        assert report.steps[-1]["lr"] == report.steps[-1]["torch_lr"]


def test_default_config_passes_on_the_command_line(tmp_path, capsys):
    code = main(["verify", "--steps", "3", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("step ") >= 3 and "PASS" in out
    saved = json.loads((tmp_path / "verify.json").read_text())
    assert saved["passed"] and saved["dtype"] == "float64"
    assert saved["config"]["hidden"] == [256, 256] and saved["config"]["optimizer"] == "adam"
    assert (tmp_path / "verify.png").read_bytes()[:4] == b"\x89PNG"


def test_injected_difference_fails_naming_step_and_parameter(tmp_path, capsys):
    code = main(["verify", "--hidden", "16", "--steps", "3", "--quiet", "--out", str(tmp_path),
                 "--torch-override", "weight_decay=0.01"])
    out = capsys.readouterr().out
    assert code == 1
    # Adam's weight decay enters at the first update: gradients of step 1 agree, the
    # parameters after it do not
    assert "FAIL" in out and "at step 1: parameter '0.weight' after the update" in out
    saved = json.loads((tmp_path / "verify.json").read_text())
    assert saved["first_failure"]["step"] == 1
    assert saved["steps"][0]["grad"]["rel"] < 1e-10


def test_float32_within_its_tolerance():
    report = verify({**SMALL, "dtype": "float32"}, steps=5, log=None)
    assert report.passed, report.summary()
    assert report.tolerance == {"loss": 1e-5, "grad": 1e-5, "param": 1e-4}
    assert report.worst("loss")[1] > 0  # float32: rounding differs, not bit-identical


def test_float32_rounding_excuse_does_not_hide_a_real_difference():
    report = verify({**SMALL, "dtype": "float32"}, steps=2, log=None,
                    torch_overrides={"weight_decay": 0.01})
    assert not report.passed
    assert report.first_failure["what"] == "parameter '0.weight' after the update"
    p = report.steps[0]["params"]["0.weight"]
    assert p["vs_float64"] > 100 * p["torch_vs_float64"]


def test_refuses_what_it_cannot_mirror():
    class Odd(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(NotMirrorable, match=r"layer 1 \(Odd\) has no PyTorch mirror"):
        _mirror_model(nn.Sequential(nn.Linear(3, 2), Odd()), torch, _Masks())
    with pytest.raises(ConfigError, match="torch override 'no_such'"):
        verify(SMALL, steps=1, torch_overrides={"no_such": 1}, log=None)
    with pytest.raises(ConfigError, match="steps must be a positive integer"):
        verify(SMALL, steps=0, log=None)


def test_without_torch_says_what_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r'pip install "steepest\[verify\]"'):
        verify(SMALL, steps=1, log=None)
    assert main(["verify", "--steps", "1", "--out", str(tmp_path)]) == 2
    assert "steepest[verify]" in capsys.readouterr().err


def test_dropout_masks_are_shared():
    # with dropout the two runs agree only if torch used steepest's masks
    report = verify({**SMALL, "dropout": 0.5}, steps=3, log=None)
    assert report.passed, report.summary()
    assert np.isfinite(report.steps[-1]["loss"]["value"])
