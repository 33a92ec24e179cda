"""Each experiment in --quick mode: its files exist and its key claim holds in the numbers."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from steepest.experiments import EXPERIMENTS, list_experiments, run_experiment
from steepest.experiments import cli as exp_cli

pytest.importorskip("matplotlib")


def _run(name: str, tmp_path: Path) -> dict:
    out = tmp_path / name
    results = run_experiment(name, out, quick=True, seed=0)
    assert (out / "results.json").is_file()
    on_disk = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert on_disk["experiment"] == name
    assert on_disk["quick"] is True
    assert results["files"], "an experiment must write at least one figure"
    for f in results["files"]:
        path = out / f
        assert path.is_file() and path.stat().st_size > 1000, f
        magic = path.read_bytes()[:6]
        assert magic.startswith(b"\x89PNG") or magic.startswith(b"GIF8"), f
    return on_disk


def test_registry_lists_every_experiment_in_order():
    names = [n for n, _ in list_experiments()]
    assert names == ["linear-regression", "optimizers-2d", "optimizers-mnist", "weight-init",
                     "batch-norm", "overfitting", "gradients", "numerical-vs-backprop",
                     "hyperparameters", "loss-landscape", "backprop-steps",
                     "universal-approximation", "generalization", "quantization",
                     "restricted-architectures", "conv-features"]
    for name, desc in list_experiments():
        assert desc and "\n" not in desc and len(desc) < 120, name
        mod = EXPERIMENTS[name]
        assert callable(mod.run) and callable(mod.summary)


def test_deterministic_and_leaves_caller_rng_alone(tmp_path):
    import steepest as st

    st.manual_seed(123)
    expected = st.random.generator().random()
    st.manual_seed(123)
    a = run_experiment("loss-landscape", tmp_path / "a", quick=True, seed=0)
    assert st.random.generator().random() == expected
    b = run_experiment("loss-landscape", tmp_path / "b", quick=True, seed=0)
    for r in (a, b):
        r.pop("elapsed_s")
    assert a == b


def test_unknown_experiment_suggests_closest():
    with pytest.raises(ValueError, match="did you mean 'linear-regression'"):
        run_experiment("linear-regresion", "/nonexistent/never-created")


def test_linear_regression(tmp_path):
    r = _run("linear-regression", tmp_path)
    notes_line = r["lines"][0]
    assert (notes_line["slope"], notes_line["intercept"]) == (-0.11, 2.5)
    assert notes_line["mse"] == pytest.approx(0.16024, abs=1e-4)
    x, y = np.array(r["data"]["x"]), np.array(r["data"]["y"])
    slope, intercept = np.polyfit(x, y, 1)
    ls = r["least_squares"]
    assert ls["slope"] == pytest.approx(slope, abs=1e-10)
    assert ls["intercept"] == pytest.approx(intercept, abs=1e-10)
    gd = r["gradient_descent"]
    assert gd["distance_to_least_squares"] < 1e-3
    assert np.hypot(gd["final"][0] - slope, gd["final"][1] - intercept) < 1e-3
    assert r["claims"]["gd_reaches_least_squares_within_1e-3"]
    # The three candidate lines rank as the notes say: the notes' line is the worst.
    mses = [ln["mse"] for ln in r["lines"]]
    assert mses == sorted(mses, reverse=True) and mses[-1] >= ls["mse"]


def test_optimizers_2d(tmp_path):
    r = _run("optimizers-2d", tmp_path)
    assert "race_bowl.gif" in r["files"]
    assert set(r["functions"]) == {"bowl", "rosenbrock", "beale", "saddle"}
    for fr in r["functions"].values():
        assert set(fr["optimizers"]) == {"SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop",
                                         "AdaDelta", "Adam", "L-BFGS"}
    c = r["claims"]
    assert c["bowl_momentum_and_adam_beat_sgd"]
    assert c["lbfgs_solves_rosenbrock"]
    assert c["adaptive_escape_saddle_before_sgd"]
    assert c["momentum_0.99_overshoots_more_than_0.9"]
    heavy = r["momentum_0.99"]["momentum 0.99"]
    assert heavy["lr"] == 0.02 and heavy["momentum"] == 0.99


def test_optimizers_mnist(tmp_path):
    r = _run("optimizers-mnist", tmp_path)
    opts = r["optimizers"]
    assert set(opts) == {"SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "AdaDelta",
                         "Adam"}
    assert opts["Adam"]["final_loss_mean_last_10pct"] < opts["SGD"]["final_loss_mean_last_10pct"]
    assert r["claims"]["notes_claim_adagrad_adam_momentum_faster_than_sgd"]
    assert not any(o["diverged"] for o in opts.values())


def test_weight_init(tmp_path):
    r = _run("weight-init", tmp_path)
    relu = r["activation_stats"]["relu"]
    he = [layer["std"] for layer in relu["He"]]
    small = [layer["std"] for layer in relu["std = 0.01"]]
    assert 0.3 <= he[-1] / he[0] <= 3.0  # He keeps the spread
    assert small[-1] < 1e-3 * he[-1]  # std 0.01 collapses toward 0
    assert all(b < a for a, b in zip(small, small[1:]))  # ... layer after layer
    c = r["claims"]
    assert c["std1_sigmoid_saturates"] and c["xavier_sigmoid_not_saturated"]
    assert c["he_trains_faster_than_std001"]


def test_batch_norm(tmp_path):
    r = _run("batch-norm", tmp_path)
    c = r["claims"]
    assert c["bn_learns_at_more_scales"]
    assert c["plain_stuck_at_smallest_scale"]
    assert c["mean_final_accuracy_bn"] > c["mean_final_accuracy_plain"]


def test_overfitting(tmp_path):
    r = _run("overfitting", tmp_path)
    c = r["claims"]
    assert c["no_regularisation_overfits"]
    assert c["weight_decay_shrinks_gap"] and c["dropout_shrinks_gap"]
    es = r["variants"]["early stopping"]
    assert c["early_stopping_stops_early"]
    assert es["best_epoch"] < es["stopped_epoch"] == es["epochs_run"] < r["epochs"]


def test_gradients(tmp_path):
    r = _run("gradients", tmp_path)
    c = r["claims"]
    assert c["sigmoid_gradients_vanish_toward_input"]
    assert c["relu_he_gradients_same_order"]
    assert c["unclipped_diverges"] and c["clipping_tames_it"]


def test_numerical_vs_backprop(tmp_path):
    r = _run("numerical-vs-backprop", tmp_path)
    rows = r["float64"]
    assert all(row["rel_error"] < 1e-6 for row in rows)
    assert rows[-1]["ratio"] > rows[0]["ratio"] > 10
    assert r["claims"]["numerical_scales_faster"]
    assert max(row["rel_error"] for row in r["float32"]) > 1e3 * max(
        row["rel_error"] for row in rows)


def test_hyperparameters(tmp_path):
    r = _run("hyperparameters", tmp_path)
    for t in r["round1"]["trials"]:
        assert 1e-6 <= t["lr"] <= 1e-2 and 1e-8 <= t["weight_decay"] <= 1e-4
    lo, hi = r["round2"]["lr_log10_range"]
    for t in r["round2"]["trials"]:
        assert lo <= np.log10(t["lr"]) <= hi
    c = r["claims"]
    assert c["round2_box_narrower"] and c["round2_median_beats_round1"]
    assert c["best_lr_in_top_decade"]


def test_loss_landscape(tmp_path):
    r = _run("loss-landscape", tmp_path)
    c = r["claims"]
    assert c["trained_point_is_near_minimum_of_1d_slices"]
    assert c["loss_rises_at_alpha_1"]
    assert c["centre_is_near_minimum_of_2d_slice"]
    centre = len(r["alphas"]) // 2
    assert r["slices_1d"][0]["train"][centre] == pytest.approx(
        r["loss_at_trained"]["train"], rel=1e-5)


# -- the CLI entry -----------------------------------------------------------------------


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="steepest")
    sub = parser.add_subparsers(dest="command")
    exp_cli.add_parser(sub)
    return parser.parse_args(argv)


def test_cli_list(capsys):
    assert exp_cli.run(_parse(["experiment", "--list"])) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(EXPERIMENTS)
    for line, name in zip(out, EXPERIMENTS):
        assert line.startswith(name)


def test_cli_unknown_and_missing_name(capsys):
    assert exp_cli.run(_parse(["experiment", "weight-inits"])) == 2
    assert "did you mean 'weight-init'" in capsys.readouterr().err
    assert exp_cli.run(_parse(["experiment"])) == 2


def test_cli_runs_quick_experiment(tmp_path, capsys):
    out = tmp_path / "lr"
    args = _parse(["experiment", "linear-regression", "--quick", "--out", str(out),
                   "--seed", "3"])
    assert args.func is exp_cli.run
    assert exp_cli.run(args) == 0
    text = capsys.readouterr().out
    assert "least squares" in text and "MSE 0.1602" in text
    r = json.loads((out / "results.json").read_text())
    assert r["seed"] == 3 and r["quick"] is True
    assert (out / "mse_surface.png").is_file()


def test_cli_default_out_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert exp_cli.run(_parse(["experiment", "linear-regression", "--quick"])) == 0
    assert (tmp_path / "runs" / "experiments" / "linear-regression" / "results.json").is_file()
