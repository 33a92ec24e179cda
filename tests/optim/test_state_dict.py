"""state_dict is plain data, mirrors torch's layout, and survives a file round trip."""

import numpy as np
import pytest

import steepest as st
import steepest.optim as so
from tests.optim.helpers import (
    CASES,
    assert_close,
    grad_sequence,
    make_params,
    set_grads,
    st_params,
    torch_params,
)

PLAIN = (dict, list, np.ndarray, int, float, str, bool, type(None))


def _assert_plain(obj, path="sd"):
    assert isinstance(obj, PLAIN), f"{path}: {type(obj).__name__} is not plain data"
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert isinstance(k, (int, str)), f"{path}: key {k!r}"
            _assert_plain(v, f"{path}[{k!r}]")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _assert_plain(v, f"{path}[{i}]")


def _trained(name, kw, steps=5):
    cls, tcls, _ = CASES[name]
    sp, tp = st_params(make_params()), torch_params(make_params())
    opt, topt = cls(sp, **kw), tcls(tp, **kw)
    for grads in grad_sequence(steps):
        set_grads(sp, tp, grads)
        opt.step()
        topt.step()
    return opt, topt


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_is_plain_and_mirrors_torch(name):
    kw = CASES[name][2][-1]
    opt, topt = _trained(name, kw)
    sd, tsd = opt.state_dict(), topt.state_dict()
    _assert_plain(sd)
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i, s in sd["state"].items():
        assert set(s) == set(tsd["state"][i]), (name, set(s) ^ set(tsd["state"][i]))
        for k, v in s.items():
            tv = tsd["state"][i][k]
            np.testing.assert_allclose(np.asarray(v, dtype=float),
                                       np.asarray(tv, dtype=float), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name} state {i} {k}")
    assert sd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"]
    for k in kw:
        v = sd["param_groups"][0][k]
        assert (list(v) if isinstance(v, tuple) else v) == (
            list(kw[k]) if isinstance(kw[k], tuple) else kw[k])


def test_state_dict_arrays_are_copies():
    opt, _ = _trained("Adam", dict(lr=0.1))
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"][...] = 1e9
    assert not np.any(opt.state[0]["exp_avg"] == 1e9)
    opt2 = so.Adam(st_params(make_params()), lr=0.1)
    sd = opt.state_dict()
    opt2.load_state_dict(sd)
    sd["state"][0]["exp_avg"][...] = 1e9
    assert not np.any(opt2.state[0]["exp_avg"] == 1e9)


def test_load_state_dict_from_numpy_scalars_keeps_float32():
    """A file round trip may give NumPy scalars and 0-d arrays back; they become Python
    numbers so that float32 parameters stay float32."""
    sp = st_params(make_params(dtype=np.float32))
    opt = so.NAdam(sp, lr=0.01, betas=(0.9, 0.99))
    for grads in grad_sequence(3, dtype=np.float32):
        for p, g in zip(sp, grads):
            p.grad = st.Tensor(g)
        opt.step()
    sd = opt.state_dict()
    for s in sd["state"].values():
        s["step"] = np.array(s["step"])
        s["mu_product"] = np.float64(s["mu_product"])
    sd["param_groups"][0]["lr"] = np.float64(0.01)
    sd["param_groups"][0]["betas"] = np.array([0.9, 0.99])
    opt2 = so.NAdam(st_params(make_params(dtype=np.float32)))
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["betas"] == (0.9, 0.99)
    assert type(opt2.state[0]["step"]) is int
    for p, g in zip(opt2.param_groups[0]["params"], grad_sequence(1, dtype=np.float32)[0]):
        p.grad = st.Tensor(g)
    opt2.step()
    assert all(p.data.dtype == np.float32 for p in opt2.param_groups[0]["params"])


@pytest.mark.skipif(not hasattr(st, "save"), reason="steepest.save not available yet")
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "NAdam"])
def test_state_dict_file_round_trip(name, tmp_path):
    cls, tcls, opts = CASES[name]
    kw = opts[-1]
    sp, tp = st_params(make_params()), torch_params(make_params())
    opt, topt = cls(sp, **kw), tcls(tp, **kw)
    seq = grad_sequence(20)
    for grads in seq[:10]:
        set_grads(sp, tp, grads)
        opt.step()
        topt.step()
    path = tmp_path / "opt.npz"
    st.save({"optim": opt.state_dict(), "params": [p.data for p in sp]}, path)
    ck = st.load(path)
    sp2 = st_params([np.asarray(a) for a in ck["params"]])
    opt2 = cls(sp2, **kw)
    opt2.load_state_dict(ck["optim"])
    for grads in seq[10:]:
        set_grads(sp2, tp, grads)
        opt2.step()
        topt.step()
    assert_close(sp2, tp, f"{name} after file round trip")


def test_lbfgs_state_dict_round_trip_is_plain():
    x = st.Tensor(np.array([-1.5, 2.0]), requires_grad=True)
    opt = so.LBFGS([x], line_search_fn="strong_wolfe", history_size=5)

    def closure():
        opt.zero_grad()
        loss = (100.0 * (x[1] - x[0] * x[0]) ** 2 + (1.0 - x[0]) ** 2)
        loss.backward()
        return loss

    opt.step(closure)
    _assert_plain(opt.state_dict())


def test_zero_grad():
    sp = st_params(make_params())
    opt = so.SGD(sp, lr=0.1)
    for p in sp:
        p.grad = st.Tensor(np.ones_like(p.data))
    held = sp[0].grad.data
    opt.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in sp)
    assert np.all(held == 1)  # a fresh array: the old one may be shared
    opt.zero_grad()
    assert all(p.grad is None for p in sp)


def test_step_returns_closure_loss_and_enables_grad():
    x = st.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = so.SGD([x], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    with st.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_allclose(x.data, [0.8, 1.6])
