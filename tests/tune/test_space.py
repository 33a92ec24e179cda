"""Search spaces: sampling distributions, grids, narrowing, and refusing bad input."""

import math

import numpy as np
import pytest

from steepest import tune
from steepest.tune.space import SearchSpace, SpaceError, parse_domain


def draws(domain, n=4000, name="x"):
    space = SearchSpace({name: domain})
    return np.array([space.sample(0, 0, i)[name] for i in range(n)])


def test_loguniform_quantiles_are_uniform_in_log10():
    x = draws(tune.loguniform(1e-6, 1e-2))
    assert x.min() >= 1e-6 and x.max() <= 1e-2
    logs = np.log10(x)
    qs = np.quantile(logs, [0.1, 0.25, 0.5, 0.75, 0.9])
    expected = -6 + 4 * np.array([0.1, 0.25, 0.5, 0.75, 0.9])
    np.testing.assert_allclose(qs, expected, atol=0.12)
    # every decade gets about a quarter of the draws (a linear draw would put ~90% in the last)
    counts = np.histogram(logs, bins=[-6, -5, -4, -3, -2])[0] / len(x)
    np.testing.assert_allclose(counts, 0.25, atol=0.03)


def test_uniform_randint_choice_distributions():
    u = draws(tune.uniform(0.0, 0.5))
    assert 0 <= u.min() and u.max() <= 0.5
    np.testing.assert_allclose(np.quantile(u, [0.25, 0.5, 0.75]), [0.125, 0.25, 0.375], atol=0.02)
    k = draws(tune.randint(3, 7))
    assert set(k.tolist()) == {3, 4, 5, 6, 7}  # both ends included
    np.testing.assert_allclose(np.bincount(k)[3:] / len(k), 0.2, atol=0.03)
    kl = draws(tune.randint(16, 1024, log=True))
    assert kl.min() >= 16 and kl.max() <= 1024
    assert abs(np.median(np.log2(kl)) - 7.0) < 0.25  # log-uniform: median near 2^7
    c = draws(tune.choice("relu", "tanh", "gelu"), n=3000)
    vals, counts = np.unique(c, return_counts=True)
    assert set(vals) == {"relu", "tanh", "gelu"}
    np.testing.assert_allclose(counts / 3000, 1 / 3, atol=0.04)
    assert tune.choice(["a", "b"]).values == ["a", "b"]


def test_samples_are_plain_python_and_deterministic():
    space = SearchSpace({"lr": tune.loguniform(1e-4, 1), "k": tune.randint(1, 9),
                         "act": {"choice": ["relu", "tanh"]}}, fixed={"epochs": 3})
    a, b = space.sample(5, 0, 2), space.sample(5, 0, 2)
    assert a == b and type(a["lr"]) is float and type(a["k"]) is int and a["epochs"] == 3
    assert space.sample(5, 0, 3) != a and space.sample(6, 0, 2) != a
    assert space.sample(5, 1, 2) != a  # another round draws afresh


def test_adding_a_parameter_keeps_the_others_values():
    one = SearchSpace({"lr": tune.loguniform(1e-4, 1)})
    two = SearchSpace({"wd": tune.loguniform(1e-8, 1e-4), "lr": tune.loguniform(1e-4, 1)})
    for i in range(5):
        assert one.sample(0, 0, i)["lr"] == two.sample(0, 0, i)["lr"]


def test_toml_forms_and_fixed_values():
    assert parse_domain("lr", {"loguniform": [1e-6, 1e-2]}) == tune.loguniform(1e-6, 1e-2)
    assert parse_domain("w", {"randint": [16, 256], "log": True}) == tune.randint(16, 256, True)
    assert parse_domain("h", [100, 100]) == tune.fixed([100, 100])  # a plain list is fixed
    assert parse_domain("h", {"fixed": 3}).value == 3
    assert tune.loguniform(1e-6, 1e-2).describe() == "loguniform[1e-06, 0.01]"


@pytest.mark.parametrize("spec, words", [
    ({"loguniform": [0, 1e-2]}, "must be positive"),
    ({"loguniform": [-1e-3, 1e-2]}, "must be positive"),
    ({"loguniform": [1e-2, 1e-6]}, "inverted"),
    ({"uniform": [1.0, 0.0]}, "did you mean [0.0, 1.0]"),
    ({"uniform": [0.5, 0.5]}, "empty"),
    ({"randint": [4, 4]}, "empty"),
    ({"randint": [1.5, 4]}, "must be an integer"),
    ({"uniform": [0, float("nan")]}, "finite"),
    ({"uniform": ["a", 1]}, "must be a number"),
    ({"uniform": [0, 1, 2]}, "[low, high]"),
    ({"choice": []}, "at least one"),
    ({"choice": ["a", "a"]}, "twice"),
    ({"logunifrom": [1e-6, 1e-2]}, "did you mean 'loguniform'"),
    ({"uniform": [0, 1], "log": True}, "does not take 'log'"),
])
def test_bad_ranges_are_refused(spec, words):
    with pytest.raises(SpaceError) as err:
        parse_domain("lr", spec)
    assert words in str(err.value)
    assert "lr" in str(err.value)


def test_unknown_and_duplicate_names():
    space = SearchSpace({"lrr": tune.loguniform(1e-4, 1)})
    with pytest.raises(SpaceError, match=r"unknown parameter 'lrr'; did you mean 'lr'\?"):
        space.check_names(["lr", "weight_decay"])
    with pytest.raises(SpaceError, match="both searched"):
        SearchSpace({"lr": tune.loguniform(1e-4, 1)}, fixed={"lr": 0.1})


def test_grid_enumeration():
    space = SearchSpace({"lr": tune.loguniform(1e-4, 1e-1), "act": tune.choice("relu", "tanh"),
                         "k": tune.randint(1, 3)}, fixed={"epochs": 2})
    configs = space.grid(points=4)
    assert len(configs) == 4 * 2 * 3 == space.grid_size(4)
    np.testing.assert_allclose(sorted({c["lr"] for c in configs}), [1e-4, 1e-3, 1e-2, 1e-1])
    assert {c["k"] for c in configs} == {1, 2, 3}  # 4 points on 3 integers: no repeats
    # the first parameter varies slowest; the order is deterministic
    assert [c["lr"] for c in configs[:6]] == [configs[0]["lr"]] * 6
    assert configs[0] == {"epochs": 2, "lr": 1e-4, "act": "relu", "k": 1}
    assert len({(c["lr"], c["act"], c["k"]) for c in configs}) == len(configs)
    assert space.grid(points=4, per_param={"lr": 2})[0]["lr"] == 1e-4
    assert len(space.grid(points=4, per_param={"lr": 2})) == 2 * 2 * 3
    u = tune.uniform(0, 1).grid(5)
    np.testing.assert_allclose(u, [0, 0.25, 0.5, 0.75, 1])


@pytest.mark.parametrize("seed", range(20))
def test_narrowing_contains_the_best_and_shrinks(seed):
    rng = np.random.default_rng(seed)
    for dom in (tune.loguniform(1e-6, 1e-2), tune.uniform(-3.0, 5.0), tune.randint(1, 500),
                tune.randint(2, 2048, log=True)):
        space = SearchSpace({"p": dom})
        top = [space.sample(seed, 0, i) for i in range(int(rng.integers(1, 6)))]
        new = space.narrow(top).domains["p"]
        best = top[0]["p"]
        assert new.contains(best)
        if isinstance(new, tune.Fixed):
            continue
        assert dom.low <= new.low < new.high <= dom.high  # inside the old range
        scale = (lambda v: math.log10(v)) if dom.log else (lambda v: v)
        old_w = scale(dom.high) - scale(dom.low)
        new_w = scale(new.high) - scale(new.low)
        assert new_w < old_w  # strictly smaller
        if not isinstance(dom, tune.RandInt):
            assert new_w <= 0.5 * old_w * (1 + 1e-9)
            # the top configs are inside when they fit in half the width
            vals = [scale(c["p"]) for c in top]
            if (max(vals) - min(vals)) * 1.5 <= 0.5 * old_w:
                assert all(new.contains(c["p"]) for c in top)


def test_narrowing_around_clustered_top_trials():
    space = SearchSpace({"lr": tune.loguniform(1e-6, 1e-2), "act": tune.choice("relu", "tanh")},
                        fixed={"epochs": 3})
    top = [{"lr": 1e-3, "act": "tanh"}, {"lr": 2e-3, "act": "tanh"}, {"lr": 5e-4, "act": "relu"}]
    new = space.narrow(top)
    lr = new.domains["lr"]
    assert lr.low <= 5e-4 and lr.high >= 2e-3  # covers the top trials
    assert math.log10(lr.high / lr.low) < 2  # from 4 decades to less than 2
    assert new.domains["act"] == space.domains["act"]  # choices are kept
    assert new.fixed == {"epochs": 3}
    # repeated narrowing keeps shrinking around the best, by at most 5x (min_fraction 0.2)
    for _ in range(4):
        before = math.log10(new.domains["lr"].high / new.domains["lr"].low)
        new = new.narrow(top[:1])
        after = math.log10(new.domains["lr"].high / new.domains["lr"].low)
        assert new.domains["lr"].contains(1e-3)
        assert 0.2 * before * (1 - 1e-9) <= after < before
