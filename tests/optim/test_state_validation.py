"""Optimizer.load_state_dict checks a saved state with the constructor's rules first, so a
refused load changes nothing (lr, betas, moments, steps, dtypes, finiteness)."""

import copy

import numpy as np
import pytest

import steepest as st
from steepest import optim


def _trained(cls, **kw):
    p = st.nn.Parameter(np.ones((3, 2), np.float32))
    opt = cls([p], **kw)
    p.grad = st.Tensor(np.full((3, 2), 0.5, np.float32))
    opt.step()
    return opt


def _set(sd, path, value):
    node = sd
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


@pytest.mark.parametrize("cls,kw,path,value,message", [
    (optim.Adam, {}, ("param_groups", 0, "lr"), -1.0, "invalid learning rate"),
    (optim.Adam, {}, ("param_groups", 0, "lr"), float("nan"), "invalid learning rate"),
    (optim.Adam, {}, ("param_groups", 0, "weight_decay"), float("nan"), "weight_decay"),
    (optim.Adam, {}, ("param_groups", 0, "betas"), [1.5, 0.999], "beta1"),
    (optim.Adam, {}, ("param_groups", 0, "eps"), "tiny", "expected a number"),
    (optim.Adam, {}, ("state", 0, "exp_avg_sq"), -np.ones((3, 2), np.float32), "negative"),
    (optim.Adam, {}, ("state", 0, "exp_avg"), np.full((3, 2), np.inf, np.float32), "NaN or inf"),
    (optim.Adam, {}, ("state", 0, "exp_avg"), np.array([["a", "b"]] * 3), "floating array"),
    (optim.Adam, {}, ("state", 0, "exp_avg"), np.ones((3, 2), np.complex64), "floating array"),
    (optim.Adam, {}, ("state", 0, "exp_avg"), np.full((3, 2), 1e300), "NaN or inf"),
    (optim.Adam, {}, ("state", 0, "step"), -4, "'step' must be"),
    (optim.Adam, {}, ("state", 0, "step"), "ten", "'step' must be"),
    (optim.Adagrad, {"lr": 0.1}, ("state", 0, "sum"), -np.ones((3, 2), np.float32),
     "negative"),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}, ("param_groups", 0, "momentum"), -0.5,
     "momentum"),
    (optim.RMSprop, {"lr": 0.1}, ("param_groups", 0, "alpha"), 2.0, "alpha"),
])
def test_bad_saved_state_is_refused_and_nothing_changes(cls, kw, path, value, message):
    opt = _trained(cls, **kw)
    sd = opt.state_dict()
    before = copy.deepcopy(sd)
    bad = copy.deepcopy(sd)
    _set(bad, path, value)
    bad["param_groups"][0]["lr"] = bad["param_groups"][0]["lr"] if path[-1] == "lr" else 0.5
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]  # lr 0.5 was not applied either
    for k, v in before["state"][0].items():
        np.testing.assert_array_equal(after["state"][0][k], v)


def test_state_of_another_optimiser_is_refused():
    sgd = _trained(optim.SGD, lr=0.1, momentum=0.9)
    adam = _trained(optim.Adam)
    with pytest.raises(ValueError, match="different optimiser"):
        adam.load_state_dict(sgd.state_dict())


def test_scheduler_keys_are_allowed():
    opt = _trained(optim.Adam)
    optim.StepLR(opt, step_size=2)
    fresh = _trained(optim.Adam)
    fresh.load_state_dict(opt.state_dict())  # 'initial_lr' comes along
    assert fresh.param_groups[0]["initial_lr"] == opt.param_groups[0]["initial_lr"]
