"""The Ray executor runs the same search as the local one (on a local Ray with 2 CPUs)."""

import pytest

from steepest import tune

from .conftest import FAST

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'steepest[ray]')")


@pytest.mark.timeout(240)  # effective with pytest-timeout; the trials take about a second
def test_ray_runs_the_same_trials_as_the_local_executor():
    if ray.is_initialized():
        pytest.skip("a Ray session is already running in this process")
    kw = dict(space={"lr": tune.loguniform(1e-4, 10.0)}, fixed={**FAST, "epochs": 3},
              trials=6, seed=3, early_stop={"rungs": [1], "fraction": 0.5, "min_trials": 3})
    local = tune.search("train_mlp", n_jobs=1, **kw)
    # no address: the search starts a local Ray with n_jobs CPUs, and shuts it down after
    remote = tune.search("train_mlp", executor="ray", n_jobs=2, **kw)
    assert not ray.is_initialized()

    def key(r):
        return [(x["trial"], x["config"], x["status"], x["epochs"], x["score"])
                for x in r.records]

    assert [x["config"] for x in remote.records] == [x["config"] for x in local.records]
    assert key(remote) == key(local)  # the same scores and early-stop decisions too
    assert remote.best_config == local.best_config
    assert {x["status"] for x in remote.records} == {"completed", "stopped"}
