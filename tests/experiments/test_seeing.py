"""The experiments of issue 18 in --quick mode: files written, claims hold in the numbers."""

from __future__ import annotations

import numpy as np
import pytest

from steepest.experiments import list_experiments

from .test_experiments import _run

pytest.importorskip("matplotlib")


def test_registered_with_descriptions():
    names = [n for n, _ in list_experiments()]
    for name in ("quantization", "backprop-steps", "universal-approximation",
                 "generalization"):
        assert name in names


def test_quantization(tmp_path):
    r = _run("quantization", tmp_path)
    c = r["claims"]
    assert c["int8_loses_at_most_half_a_point"]
    assert r["float_accuracy"] - r["accuracy"]["per_channel"]["8"]["accuracy"] <= 0.005
    assert c["accuracy_degrades_as_bits_fall"]
    assert c["per_channel_at_least_per_tensor"]
    assert c["file_about_4x_smaller"] and 3.5 <= r["file_bytes"]["ratio"] <= 4.1
    assert c["save_load_round_trip_exact"] and c["float_gemm_equals_int32_accumulation"]
    assert r["float_accuracy"] > 0.8  # the shipped MNIST subset, a real trained model
    acc2 = r["accuracy"]["per_channel"]["2"]["accuracy"]
    assert acc2 < r["accuracy"]["per_channel"]["8"]["accuracy"] - 0.02


def test_backprop_steps(tmp_path):
    r = _run("backprop-steps", tmp_path)
    assert all(r["claims"].values()), r["claims"]
    assert {"chain.gif", "diamond.gif", "mlp_2_2_1.gif", "diamond_frame_00.png"} <= set(
        r["files"])
    assert (tmp_path / "backprop-steps" / "tables.md").read_text(encoding="utf-8").count(
        "| step |") == 3
    g = r["graphs"]
    assert g["chain"]["grads"]["x"] == pytest.approx(28.0)
    assert g["diamond"]["grads"]["x"] == pytest.approx(36.0)
    (acc,) = r["accumulation"]["diamond"]
    assert (acc["node"], acc["before"], acc["added"], acc["after"]) == ("x", 24.0, 12.0, 36.0)
    # the MLP walk starts at the loss and ends at the first layer's matmul
    steps = g["mlp-2-2-1"]["backward"]
    assert steps[0]["output"] == "L" and steps[-1]["op"] == "matmul"
    assert len(steps) == 9


def test_universal_approximation(tmp_path):
    r = _run("universal-approximation", tmp_path)
    for target in ("smooth", "kinked", "oscillating"):
        assert r["claims"][f"error_falls_with_width_{target}"], target
        e = r["mse"][target]
        assert e[-1] < e[0] / 20
    assert r["claims"]["bump_error_falls_with_k"]
    assert {"error_vs_width.png", "fits.png", "bumps.png"} <= set(r["files"])


def test_generalization(tmp_path):
    r = _run("generalization", tmp_path)
    c = r["claims"]
    assert c["test_error_decreases_with_data"]
    assert c["small_data_departs_between_samples"]
    plain = r["runs"]["plain"]
    assert plain["5"]["train_mse"] < 0.01  # five points are fitted (nearly) exactly ...
    assert plain["5"]["test_mse"] > 5 * plain["300"]["test_mse"]  # ... the function is not
    assert np.isfinite([v["test_mse"] for v in r["runs"]["weight decay"].values()]).all()
