"""Every optimiser and option set against torch.optim: 50 steps, float64, to 1e-10."""

import numpy as np
import pytest
import torch

import steepest as st
import steepest.optim as so
from tests.optim.helpers import (
    CASES,
    all_cases,
    assert_close,
    case_id,
    grad_sequence,
    make_params,
    set_grads,
    st_params,
    torch_params,
)

STEPS = 50


@pytest.mark.parametrize("case", all_cases(), ids=case_id)
def test_fixed_gradient_sequence(case):
    name, i = case
    cls, tcls, opts = CASES[name]
    kw = opts[i]
    arrays = make_params()
    sp, tp = st_params(arrays), torch_params(arrays)
    opt, topt = cls(sp, **kw), tcls(tp, **kw)
    for k, grads in enumerate(grad_sequence(STEPS)):
        set_grads(sp, tp, grads)
        opt.step()
        topt.step()
        assert_close(sp, tp, f"{case_id(case)} step {k}")


@pytest.mark.parametrize("case", all_cases(), ids=case_id)
def test_state_dict_resume_in_the_middle(case):
    """Save after 25 steps, rebuild optimiser and parameters from the saved data, go on:
    the trajectory is the uninterrupted torch one."""
    name, i = case
    cls, tcls, opts = CASES[name]
    kw = opts[i]
    arrays = make_params()
    sp, tp = st_params(arrays), torch_params(arrays)
    opt, topt = cls(sp, **kw), tcls(tp, **kw)
    seq = grad_sequence(STEPS)
    for grads in seq[:25]:
        set_grads(sp, tp, grads)
        opt.step()
        topt.step()
    sd = opt.state_dict()
    saved_params = [p.data.copy() for p in sp]
    # the saved state is a copy: more steps on the old optimiser must not change it
    set_grads(sp, tp, seq[0])
    opt.step()
    sp2 = st_params(saved_params)
    opt2 = cls(sp2, **{**kw, "lr": 123.0})  # lr is restored from the state dict
    opt2.load_state_dict(sd)
    for k, grads in enumerate(seq[25:]):
        set_grads(sp2, tp, grads)
        opt2.step()
        topt.step()
        assert_close(sp2, tp, f"{case_id(case)} resumed step {25 + k}")


@pytest.mark.parametrize("name", list(CASES))
def test_param_groups(name):
    """Two groups with different hyperparameters, plus one added later."""
    cls, tcls, opts = CASES[name]
    base = opts[1] if len(opts) > 1 else opts[0]
    other = {k: v for k, v in opts[-1].items()}
    other["lr"] = base["lr"] * 0.5
    third = {"lr": base["lr"] * 2}
    arrays = make_params()
    sp, tp = st_params(arrays), torch_params(arrays)
    opt = cls([{"params": sp[:2]}, {"params": sp[2:3], **other}], **base)
    topt = tcls([{"params": tp[:2]}, {"params": tp[2:3], **other}], **base)
    seq = grad_sequence(30)
    for k, grads in enumerate(seq):
        if k == 10:
            opt.add_param_group({"params": [sp[3]], **third})
            topt.add_param_group({"params": [tp[3]], **third})
        if k == 20:  # resume from a state dict into fresh parameters and optimiser
            sd = opt.state_dict()
            sp = st_params([p.data for p in sp])
            opt = cls([{"params": sp[:2]}, {"params": sp[2:3], **other}], **base)
            opt.add_param_group({"params": [sp[3]], **third})
            opt.load_state_dict(sd)
        if k < 10:
            for p, q in zip(sp[3:], tp[3:]):
                p.grad, q.grad = None, None
            set_grads(sp[:3], tp[:3], grads[:3])
        else:
            set_grads(sp, tp, grads)
        opt.step()
        topt.step()
        assert_close(sp, tp, f"{name} groups step {k}")
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2], [3]]
    assert sorted(sd["state"]) == [0, 1, 2, 3] or name == "SGD"


def test_params_without_grad_are_left_alone():
    arrays = make_params()
    sp, tp = st_params(arrays), torch_params(arrays)
    opt = so.Adam(sp, lr=0.1)
    topt = torch.optim.Adam(tp, lr=0.1)
    for grads in grad_sequence(5):
        set_grads(sp[:2], tp[:2], grads[:2])
        opt.step()
        topt.step()
    assert_close(sp, tp, "partial grads")
    np.testing.assert_array_equal(sp[3].data, arrays[3])
    assert 3 not in opt.state


def _loss_st(w, b, x, y):
    h = st.ops.matmul(x, w) + b
    return ((h - y) * (h - y)).mean() + (w * w * w).sum() * 0.01


def _loss_torch(w, b, x, y):
    h = x @ w + b
    return ((h - y) * (h - y)).mean() + (w * w * w).sum() * 0.01


@pytest.mark.parametrize("name", list(CASES))
def test_real_gradients_from_a_loss(name):
    cls, tcls, opts = CASES[name]
    kw = opts[-1]
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((8, 4)), rng.standard_normal((8, 2))
    w0, b0 = rng.standard_normal((4, 2)) * 0.5, rng.standard_normal(2) * 0.1
    sw, sb = st.Tensor(w0.copy(), requires_grad=True), st.Tensor(b0.copy(), requires_grad=True)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt, topt = cls([sw, sb], **kw), tcls([tw, tb], **kw)
    tx, ty = torch.tensor(x), torch.tensor(y)
    for k in range(10):
        opt.zero_grad()
        topt.zero_grad()
        loss = _loss_st(sw, sb, x, y)
        loss.backward()
        tloss = _loss_torch(tw, tb, tx, ty)
        tloss.backward()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-10)
        opt.step()
        topt.step()
        assert_close([sw, sb], [tw, tb], f"{name} loss step {k}")


@pytest.mark.parametrize("name", list(CASES))
def test_float32_stays_float32(name):
    cls, tcls, opts = CASES[name]
    kw = opts[-1]
    arrays = make_params(dtype=np.float32)
    sp, tp = st_params(arrays), torch_params(arrays)
    opt, topt = cls(sp, **kw), tcls(tp, **kw)
    for grads in grad_sequence(20, dtype=np.float32):
        set_grads(sp, tp, grads)
        opt.step()
        topt.step()
    for p in sp:
        assert p.data.dtype == np.float32
    for s in opt.state.values():
        for k, v in s.items():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32, (k, v.dtype)
    assert_close(sp, tp, f"{name} float32", rtol=2e-5, atol=2e-5)


def test_update_is_in_place():
    """With ``flat = False`` p.data is never rebound (other code may hold the arrays)."""
    for name, (cls, _, opts) in CASES.items():
        for kw in opts:
            sp = st_params(make_params())
            before = [p.data for p in sp]
            opt = cls(sp, **kw)
            opt.flat = False
            for grads in grad_sequence(3):
                for p, g in zip(sp, grads):
                    p.grad = st.Tensor(g)
                opt.step()
            assert all(p.data is a for p, a in zip(sp, before)), name


def test_flat_buffers_rebind_once_then_update_in_place():
    """The flat path rebinds p.data once (to its view of the group's flat buffer), then
    updates that view in place; the values equal the per-tensor path exactly."""
    for name, (cls, _, opts) in CASES.items():
        for kw in opts:
            flat, plain = st_params(make_params()), st_params(make_params())
            o1, o2 = cls(flat, **kw), cls(plain, **kw)
            o2.flat = False
            views = None
            for grads in grad_sequence(3):
                for p, q, g in zip(flat, plain, grads):
                    p.grad, q.grad = st.Tensor(g), st.Tensor(g.copy())
                o1.step()
                o2.step()
                if views is None:
                    views = [p.data for p in flat]
                assert all(p.data is v for p, v in zip(flat, views)), name
            for p, q in zip(flat, plain):
                np.testing.assert_array_equal(p.data, q.data, err_msg=name)
            if o1._elementwise:
                base = views[0].base
                assert all(v.base is base for v in views), name


def test_gradients_are_not_modified():
    for name, (cls, _, opts) in CASES.items():
        for kw in opts:
            sp = st_params(make_params())
            opt = cls(sp, **kw)
            for grads in grad_sequence(3):
                copies = [g.copy() for g in grads]
                for p, g in zip(sp, grads):
                    p.grad = st.Tensor(g)
                opt.step()
                for g, c in zip(grads, copies):
                    np.testing.assert_array_equal(g, c, err_msg=f"{name} {kw}")


@pytest.mark.parametrize("nesterov", [False, True])
def test_textbook_momentum_equals_torch_sgd(nesterov):
    """v ← αv − η∇L, W ← W + v (and the look-ahead form) give torch's SGD trajectory for a
    constant learning rate (dampening 0)."""
    arrays = make_params()
    sp, tp = st_params(arrays), torch_params(arrays)
    cls = so.Nesterov if nesterov else so.Momentum
    opt = cls(sp, lr=0.05, momentum=0.9, weight_decay=0.01)
    topt = torch.optim.SGD(tp, lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=nesterov)
    for k, grads in enumerate(grad_sequence(STEPS)):
        set_grads(sp, tp, grads)
        opt.step()
        topt.step()
        assert_close(sp, tp, f"{cls.__name__} step {k}")
    # velocity = −lr · torch's momentum buffer
    for i, p in enumerate(tp):
        buf = topt.state[p]["momentum_buffer"].numpy()
        np.testing.assert_allclose(opt.state[i]["velocity"], -0.05 * buf, rtol=1e-10,
                                   atol=1e-12)


def test_textbook_momentum_differs_when_lr_changes():
    """Under a schedule the textbook velocity keeps the old learning rates: documented."""
    arrays = make_params()
    sp, tp = st_params(arrays), torch_params(arrays)
    opt = so.Momentum(sp, lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tp, lr=0.1, momentum=0.9)
    for k, grads in enumerate(grad_sequence(5)):
        if k == 3:
            opt.param_groups[0]["lr"] = topt.param_groups[0]["lr"] = 0.01
        set_grads(sp, tp, grads)
        opt.step()
        topt.step()
    assert not np.allclose(sp[0].data, tp[0].detach().numpy())


@pytest.mark.parametrize("cls", [so.SGD, so.Adam, so.RMSprop])
def test_weight_decay_is_an_l2_penalty_in_the_loss(cls):
    """weight_decay=λ equals adding λ/2·‖θ‖² to the loss; AdamW's decoupled decay does not."""
    lam = 0.1
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((8, 4)), rng.standard_normal((8, 2))
    w0, b0 = rng.standard_normal((4, 2)), rng.standard_normal(2)
    runs = {}
    for mode in ["option", "loss", "decoupled"]:
        w = st.Tensor(w0.copy(), requires_grad=True)
        b = st.Tensor(b0.copy(), requires_grad=True)
        if mode == "option":
            opt = cls([w, b], lr=0.01, weight_decay=lam)
        elif mode == "loss":
            opt = cls([w, b], lr=0.01)
        else:
            opt = so.AdamW([w, b], lr=0.01, weight_decay=lam)
        for _ in range(20):
            opt.zero_grad()
            loss = _loss_st(w, b, x, y)
            if mode == "loss":
                loss = loss + 0.5 * lam * ((w * w).sum() + (b * b).sum())
            loss.backward()
            opt.step()
        runs[mode] = np.concatenate([w.data.ravel(), b.data])
    np.testing.assert_allclose(runs["option"], runs["loss"], rtol=1e-10, atol=1e-12)
    assert not np.allclose(runs["option"], runs["decoupled"], rtol=1e-4)
