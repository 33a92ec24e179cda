"""``steepest tune``: TOML search files, the live table, resume, and user errors."""

import argparse
import json

import pytest

from steepest.tune.cli import add_parser, main, run
from steepest.tune.config import config_to_kwargs

TOML = """
[search]
strategy = "coarse_to_fine"
trials = 3
rounds = 2
keep_top = 2
seed = 0
metric = "val_accuracy"
mode = "max"
n_jobs = 1

[early_stop]
rungs = [1]
min_trials = 2

[space]
lr = {loguniform = [1e-3, 1.0]}
weight_decay = {loguniform = [1e-8, 1e-4]}

[fixed]
dataset = "mnist-like"
hidden = [16]
n_train = 400
batch_size = 50
epochs = 2
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "search.toml"
    path.write_text(TOML)
    return path


def test_search_file_to_results(tmp_path, config, capsys):
    out = tmp_path / "out"
    assert main(["--config", str(config), "--out", str(out), "--final-test"]) == 0
    text = capsys.readouterr().out
    assert "search: 6 trials on in-process" in text and "-- round 2/2: lr loguniform[" in text
    rows = [line for line in text.splitlines() if "/6" in line]
    assert len(rows) == 6 and all(("completed" in r) or ("stopped@1" in r) for r in rows)
    assert "final test (best config retrained on train+validation): test_loss=" in text
    for name in ("results.jsonl", "results.csv", "best.json", "scores.png", "curves.png",
                 "final.json"):
        assert (out / name).exists(), name
    best = json.loads((out / "best.json").read_text())
    assert best["metric"] == "val_accuracy" and set(best["config"]) >= {"lr", "weight_decay"}
    # a finished search resumes without running anything; a different one is refused
    assert main(["--config", str(config), "--out", str(out), "--resume", "--quiet",
                 "--no-plot"]) == 0
    config.write_text(TOML.replace("1e-3, 1.0", "1e-4, 1.0"))
    assert main(["--config", str(config), "--out", str(out), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "different search" in err and "space.lr" in err and "Traceback" not in err
    assert main(["--config", str(config), "--out", str(out), "--quiet"]) == 2
    assert "already holds search results" in capsys.readouterr().err


@pytest.mark.parametrize("edit, words", [
    (("1e-3, 1.0", "1.0, 1e-3"), "inverted loguniform range"),
    (("1e-8, 1e-4", "0, 1e-4"), "must be positive"),
    (("dataset =", "datset ="), "did you mean 'dataset'"),
    (("rounds = 2", "round = 2"), "unknown setting 'round' in [search]; did you mean 'rounds'"),
    (("[fixed]", "[fixd]"), "unknown table [fixd]; did you mean 'fixed'"),
    (('strategy = "coarse_to_fine"', 'strategy = "random"'), "does not take 'rounds'"),
    (("min_trials", "min_trial"), "did you mean 'min_trials'"),
    (("trials = 3", "trials = 3 3"), "invalid TOML"),
])
def test_user_errors_exit_2_with_one_line(tmp_path, config, capsys, edit, words):
    config.write_text(TOML.replace(*edit))
    assert main(["--config", str(config), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("steepest tune: error:") and words in err
    assert "\n" not in err


def test_missing_file_and_resume_without_results(tmp_path, config, capsys):
    assert main(["--config", str(tmp_path / "nope.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["--config", str(config), "--out", str(tmp_path / "new"), "--resume"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_add_parser_plugs_into_a_main_parser(config, tmp_path):
    parser = argparse.ArgumentParser(prog="steepest")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    args = parser.parse_args(["tune", "--config", str(config), "--executor", "local",
                              "--n-jobs", "1", "--out", str(tmp_path / "o"), "--quiet",
                              "--no-plot"])
    assert args.command == "tune" and args.n_jobs == 1
    assert run(args) == 0


def test_config_to_kwargs():
    kw = config_to_kwargs({"space": {"lr": {"loguniform": [1e-4, 1]}},
                           "search": {"strategy": "grid", "points": 4}})
    assert kw["strategy"].points == 4 and kw["objective"] == "train_mlp"
    assert "early_stop" not in kw


def test_the_example_search_file_is_valid():
    from pathlib import Path

    from steepest.tune.config import load_config
    from steepest.tune.objective import train_mlp

    path = Path(__file__).resolve().parents[2] / "examples" / "search.toml"
    kw = load_config(path)
    assert kw["strategy"].rounds == 2 and kw["trials"] == 16
    assert kw["early_stop"].rungs == [1, 2]
    train_mlp.validate({**kw["fixed"], "lr": 1e-3, "weight_decay": 1e-6})
