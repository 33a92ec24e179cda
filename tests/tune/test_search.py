"""End-to-end searches: finding a good learning rate, reproducibility across workers,
failures, NaN losses, early termination, cross-validation, resuming, plots."""

import json
import math

import pytest

from steepest import tune
from steepest.tune.results import ResultsMismatch
from steepest.tune.space import SpaceError

from .conftest import FAST


# -- objectives (module level, so worker processes can import them) ----------------------
def bowl(config, reporter):
    """A known optimum at lr = 1e-2: score = -(log10 lr + 2)^2, reported over 3 epochs."""
    target = -((math.log10(config["lr"]) + 2) ** 2)
    for epoch in range(1, 4):
        reporter.report(epoch, score=target - (3 - epoch))
    return None


bowl.params = ("lr", "epochs")


def flaky(config, reporter):
    if config["lr"] > 1e-2:
        raise ValueError(f"lr {config['lr']:.3g} is too large for this model")
    reporter.report(1, score=config["lr"])
    return config["lr"]


def goes_nan(config, reporter):
    reporter.report(1, score=0.5)
    reporter.report(2, score=float("nan"))
    return 1.0


def wrong_metric(config, reporter):
    reporter.report(1, val_loss=0.3)


# -- the default objective on a synthetic problem ----------------------------------------
def test_random_search_finds_the_known_good_learning_rate():
    result = tune.search("train_mlp", {"lr": tune.loguniform(1e-4, 10.0)}, fixed=FAST,
                         trials=10, seed=0, n_jobs=1)
    assert result.metric == "val_accuracy" and result.mode == "max"
    assert len(result.records) == 10
    assert 0.02 <= result.best_config["lr"] <= 0.6, result.results
    assert result.best_score > 0.5
    # lr at the extremes learns nothing
    worst = [r for r in result.records if r["config"]["lr"] < 1e-3 or r["config"]["lr"] > 2]
    assert all(r["score"] < 0.3 for r in worst)


def test_same_seed_same_trials_with_1_and_2_workers():
    kw = dict(space={"lr": tune.loguniform(1e-4, 10.0)}, fixed={**FAST, "epochs": 3},
              trials=8, seed=3, early_stop={"rungs": [1, 2], "fraction": 0.5, "min_trials": 3})
    one = tune.search("train_mlp", n_jobs=1, **kw)
    two = tune.search("train_mlp", n_jobs=2, **kw)

    def key(r):
        return [(x["trial"], x["seed"], x["config"], x["status"], x["epochs"], x["score"])
                for x in r.records]

    assert key(one) == key(two)  # configs, early-stop decisions and scores, bit for bit
    assert {x["status"] for x in one.records} == {"completed", "stopped"}
    assert len({x["worker"] for x in two.records}) == 2
    assert one.best_config == two.best_config


def test_coarse_to_fine_rounds_narrow_around_the_best():
    result = tune.search(bowl, {"lr": tune.loguniform(1e-6, 1.0)}, metric="score",
                         strategy=tune.coarse_to_fine(rounds=3, keep_top=3), trials=8,
                         seed=1, n_jobs=1)
    assert len(result.records) == 24 and [r["round"] for r in result.rounds] == [0, 1, 2]
    widths = [math.log10(r["space"]["lr"]["loguniform"][1] / r["space"]["lr"]["loguniform"][0])
              for r in result.rounds]
    assert widths[0] == pytest.approx(6) and widths[0] > widths[1] > widths[2]
    for rnd in (0, 1):  # each new range contains the previous round's best trial
        prev = [r for r in result.records if r["round"] == rnd]
        best = max(prev, key=lambda r: r["score"])["config"]["lr"]
        lo, hi = result.rounds[rnd + 1]["space"]["lr"]["loguniform"]
        assert lo <= best <= hi
    assert abs(math.log10(result.best_config["lr"]) + 2) < 0.5
    round_best = [max(r["score"] for r in result.records if r["round"] == k) for k in range(3)]
    assert round_best[2] >= round_best[0]


def test_grid_search_runs_every_point():
    result = tune.search(bowl, {"lr": tune.loguniform(1e-4, 1.0)}, metric="score",
                         strategy=tune.grid(5), n_jobs=1)
    assert [r["config"]["lr"] for r in result.records] == pytest.approx(
        [1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert result.best_config["lr"] == pytest.approx(1e-2)


# -- failures ---------------------------------------------------------------------------
def test_failed_trials_are_recorded_and_the_search_goes_on(tmp_path):
    path = tmp_path / "r.jsonl"
    result = tune.search(flaky, {"lr": tune.loguniform(1e-4, 1.0)}, metric="score", mode="max",
                         trials=8, seed=0, n_jobs=1, results=path)
    failed = [r for r in result.records if r["status"] == "failed"]
    done = [r for r in result.records if r["status"] == "completed"]
    assert failed and done and len(failed) + len(done) == 8
    for r in failed:
        assert r["error"].startswith("ValueError: lr ") and "too large" in r["error"]
        assert "Traceback" in r["traceback"] and r["score"] is None
    assert result.best_config["lr"] <= 1e-2
    lines = path.read_text().splitlines()
    assert len(lines) == 9 and json.loads(lines[0])["type"] == "header"
    assert sum(json.loads(x)["status"] == "failed" for x in lines[1:]) == len(failed)
    table = result.table()
    assert table.rows[-1]["status"] == "failed" and "too large" in table.rows[-1]["note"]


def test_nan_scores_and_nan_losses_stop_the_trial():
    result = tune.search(goes_nan, {"lr": tune.loguniform(1e-4, 1.0)}, metric="score",
                         mode="max", trials=2, n_jobs=1)
    for r in result.records:
        assert r["status"] == "stopped" and r["reason"].startswith("diverged: score is nan")
        assert r["score"] is None and r["epochs"] == 2
    # a real NaN loss in fit: lr 1e30 overflows the weights (silently, as in torch)
    result = tune.search("train_mlp", {"lr": tune.choice(1e30, 0.1)},
                         fixed={**FAST, "epochs": 1}, strategy="grid", n_jobs=1)
    bad, good = result.records
    assert bad["status"] == "stopped" and "the loss became nan" in bad["reason"]
    assert good["status"] == "completed" and result.best_config["lr"] == 0.1


def test_a_metric_the_objective_does_not_report_stops_the_search():
    with pytest.raises(SpaceError, match=r"ranks trials by 'val_accuracy'.*\['val_loss'\]"):
        tune.search(wrong_metric, {"lr": tune.loguniform(1e-4, 1.0)}, metric="val_accuracy",
                    trials=2, n_jobs=1)


def test_unknown_names_and_bad_values_are_refused_before_any_trial():
    with pytest.raises(SpaceError, match=r"unknown parameter 'learning_rate'.*did you mean 'lr'"):
        tune.search("train_mlp", {"learning_rate": tune.loguniform(1e-4, 1)}, trials=2)
    with pytest.raises(SpaceError, match=r"unknown optimizer 'adma'; did you mean 'adam'"):
        tune.search("train_mlp", {"lr": tune.loguniform(1e-4, 1)},
                    fixed={"optimizer": "adma"}, trials=2)
    with pytest.raises(SpaceError, match="must be positive"):
        tune.search("train_mlp", {"lr": {"loguniform": [0, 1]}}, trials=2)
    with pytest.raises(SpaceError, match="keep_top=5 is more than the 4 trials"):
        tune.search(bowl, {"lr": tune.loguniform(1e-4, 1)}, metric="score",
                    strategy=tune.coarse_to_fine(2, keep_top=5), trials=4)
    with pytest.raises(SpaceError, match="maximised or minimised"):
        tune.search(bowl, {"lr": tune.loguniform(1e-4, 1)}, metric="thing", trials=2)


# -- early termination and cross-validation -----------------------------------------------
def test_early_termination_stops_the_bottom_trials():
    result = tune.search(bowl, {"lr": tune.loguniform(1e-6, 1.0)}, metric="score", trials=12,
                         seed=2, n_jobs=1,
                         early_stop={"rungs": [1], "fraction": 0.5, "min_trials": 4})
    stopped = [r for r in result.records if r["status"] == "stopped"]
    assert stopped and all(r["epochs"] == 1 and "early-stopped at epoch 1" in r["reason"]
                           for r in stopped)
    completed = [r for r in result.records if r["status"] == "completed"]
    assert all(r["epochs"] == 3 for r in completed)
    # the best trial of the search was never stopped
    best_possible = max(result.records, key=lambda r: r["scores"][0]["score"])
    assert best_possible["status"] == "completed"


def test_cross_validation_reports_mean_and_std():
    fixed = {**FAST, "n_train": 300, "cv_folds": 3, "epochs": 2}
    result = tune.search("train_mlp", {"lr": tune.choice(0.1, 1e-4)}, fixed=fixed,
                         strategy="grid", n_jobs=1,
                         early_stop={"rungs": [1], "min_trials": 2})
    good, bad = result.records
    assert good["status"] == "completed" and good["epochs"] == 2
    assert good["score_std"] is not None and 0 <= good["score_std"] < 0.3
    row = good["scores"][-1]
    assert row["val_accuracy"] == good["score"] and row["val_accuracy_std"] == good["score_std"]
    assert bad["status"] == "stopped" and bad["epochs"] == 1  # CV trials stop early too
    assert "val_accuracy_std" in result.table().columns


# -- results: resume, refuse, tables, plots, final test -----------------------------------
class Interrupt:
    def __init__(self, after):
        self.after, self.seen = after, 0

    def __call__(self, record):
        self.seen += 1
        if self.seen == self.after:
            raise KeyboardInterrupt


CALLS = []


def counting_bowl(config, reporter):
    CALLS.append(config["lr"])
    return bowl(config, reporter)


counting_bowl.params = ("lr",)


def test_resume_skips_finished_trials_and_refuses_another_search(tmp_path):
    path = tmp_path / "results.jsonl"
    kw = dict(space={"lr": tune.loguniform(1e-6, 1.0)}, metric="score",
              strategy=tune.coarse_to_fine(rounds=2, keep_top=2), trials=5, seed=4, n_jobs=1,
              results=path)
    full = tune.search(counting_bowl, **{**kw, "results": tmp_path / "full.jsonl"})
    CALLS.clear()
    with pytest.raises(KeyboardInterrupt):
        tune.search(counting_bowl, **kw, on_trial_end=Interrupt(after=7))
    assert len(CALLS) == 7 and len(path.read_text().splitlines()) == 1 + 7
    with pytest.raises(SpaceError, match="already holds search results"):
        tune.search(counting_bowl, **kw)
    CALLS.clear()
    resumed = tune.search(counting_bowl, **kw, resume=True)
    assert len(CALLS) == 3  # only the unfinished trials ran
    assert [(r["trial"], r["config"], r["score"]) for r in resumed.records] == [
        (r["trial"], r["config"], r["score"]) for r in full.records]
    # a finished search resumes to the same result without running anything
    CALLS.clear()
    again = tune.search(counting_bowl, **kw, resume=True)
    assert CALLS == [] and again.best_config == full.best_config
    # another space: refused, naming the difference
    with pytest.raises(ResultsMismatch, match=r"space\.lr: the file has .*1e-06.*this search "
                                              r"has .*1e-05"):
        tune.search(counting_bowl, **{**kw, "space": {"lr": tune.loguniform(1e-5, 1.0)}},
                    resume=True)
    with pytest.raises(ResultsMismatch, match="seed: the file has 4, this search has 5"):
        tune.search(counting_bowl, **{**kw, "seed": 5}, resume=True)
    # overwrite starts over
    CALLS.clear()
    tune.search(counting_bowl, **kw, overwrite=True)
    assert len(CALLS) == 10


def test_a_torn_last_line_is_dropped_on_resume(tmp_path):
    path = tmp_path / "r.jsonl"
    kw = dict(space={"lr": tune.loguniform(1e-6, 1.0)}, metric="score", trials=4, n_jobs=1,
              results=path)
    tune.search(bowl, **kw, on_trial_end=None)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3]) + lines[3][:20])  # a crash in the middle of a write
    with pytest.warns(UserWarning, match="torn last line"):
        result = tune.search(bowl, **kw, resume=True)
    assert len(result.records) == 4
    assert all(json.loads(x) for x in path.read_text().splitlines())


def test_results_table_plots_and_final_test(tmp_path):
    result = tune.search("train_mlp", {"lr": tune.loguniform(1e-3, 1.0),
                                       "activation": tune.choice("relu", "tanh")},
                         fixed=FAST, trials=4, seed=0, n_jobs=1)
    table = result.table()
    assert table.columns[:4] == ["trial", "lr", "activation", "val_accuracy"]
    assert table["val_accuracy"][0] == result.best_score
    assert "val_accuracy" in str(table) and len(table.to_csv().splitlines()) == 5
    paths = result.plot(str(tmp_path))
    assert [p.name for p in paths] == ["scores.png", "curves.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
    final = result.retrain_best()
    assert 0.0 <= final["test_accuracy"] <= 1.0 and final["n_test"] == 1000
    assert final["n_train"] == 800 and final["config"]["lr"] == result.best_config["lr"]
    with pytest.raises(SpaceError, match="no final_test"):
        tune.retrain_best({"lr": 0.1}, objective=bowl)


def test_live_table(capsys):
    tune.search(bowl, {"lr": tune.loguniform(1e-4, 1.0)}, metric="score", trials=3, n_jobs=1,
                progress=True)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("search: 3 trials on in-process")
    assert "lr" in out[1] and "score" in out[1] and "status" in out[1]
    assert len([x for x in out if "completed" in x]) == 3
    assert out[-1].startswith("best: trial")


def test_resume_refuses_records_this_search_would_not_draw(tmp_path):
    path = tmp_path / "r.jsonl"
    kw = dict(space={"lr": tune.loguniform(1e-6, 1.0)}, metric="score", trials=3, n_jobs=1,
              results=path)
    tune.search(bowl, **kw)
    lines = path.read_text().splitlines()
    rec = json.loads(lines[2])
    rec["config"]["lr"] = 0.5  # e.g. written by another version of the sampler
    path.write_text("\n".join(lines[:2] + [json.dumps(rec)] + lines[3:]) + "\n")
    with pytest.raises(ResultsMismatch, match="trial 1 was run with"):
        tune.search(bowl, **kw, resume=True)
    with pytest.raises(SpaceError, match="resume=True needs results="):
        tune.search(bowl, **{**kw, "results": None}, resume=True)


def crashes_its_worker(config, reporter):
    import os
    import time

    time.sleep(0.1)
    if config["k"] == 1:
        os._exit(3)  # a segfault or an out-of-memory kill, as the pool sees it
    return float(config["k"])


crashes_its_worker.params = ("k",)


def test_a_trial_that_kills_its_worker_is_failed_alone():
    result = tune.search(crashes_its_worker, {"k": tune.choice(0, 1, 2, 3)}, strategy="grid",
                         metric="score", mode="max", n_jobs=2)
    status = {r["config"]["k"]: r["status"] for r in result.records}
    assert status == {0: "completed", 1: "failed", 2: "completed", 3: "completed"}
    assert "worker process died" in result.records[1]["error"]
