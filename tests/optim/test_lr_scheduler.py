"""Each schedule's learning-rate sequence against torch.optim.lr_scheduler (100 steps)."""

import numpy as np
import pytest
import torch

import steepest as st
import steepest.optim as so
from steepest.optim import lr_scheduler as sl

TL = torch.optim.lr_scheduler


def optimisers():
    a = [st.Tensor(np.zeros(2), requires_grad=True), st.Tensor(np.zeros(3), requires_grad=True)]
    b = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    opt = so.SGD([{"params": a[:1]}, {"params": a[1:], "lr": 0.05}], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": b[:1]}, {"params": b[1:], "lr": 0.05}], lr=0.1,
                           momentum=0.9)
    return opt, topt


SCHEDULES = {
    "StepLR": (lambda o: sl.StepLR(o, step_size=7, gamma=0.5),
               lambda o: TL.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": (lambda o: sl.MultiStepLR(o, milestones=[10, 30, 30, 60], gamma=0.3),
                    lambda o: TL.MultiStepLR(o, milestones=[10, 30, 30, 60], gamma=0.3)),
    "ExponentialLR": (lambda o: sl.ExponentialLR(o, gamma=0.97),
                      lambda o: TL.ExponentialLR(o, gamma=0.97)),
    "CosineAnnealingLR": (lambda o: sl.CosineAnnealingLR(o, T_max=30, eta_min=1e-3),
                          lambda o: TL.CosineAnnealingLR(o, T_max=30, eta_min=1e-3)),
    "LinearLR": (lambda o: sl.LinearLR(o, start_factor=0.1, total_iters=20),
                 lambda o: TL.LinearLR(o, start_factor=0.1, total_iters=20)),
    "LinearLR-decay": (lambda o: sl.LinearLR(o, start_factor=1.0, end_factor=0.2,
                                             total_iters=50),
                       lambda o: TL.LinearLR(o, start_factor=1.0, end_factor=0.2,
                                             total_iters=50)),
    "LambdaLR": (lambda o: sl.LambdaLR(o, lambda e: 1.0 / (1 + e)),
                 lambda o: TL.LambdaLR(o, lambda e: 1.0 / (1 + e))),
    "warmup+cosine": (
        lambda o: sl.warmup(o, 10, then=lambda o2: sl.CosineAnnealingLR(o2, T_max=90),
                            start_factor=0.01),
        lambda o: TL.SequentialLR(o, [TL.LinearLR(o, start_factor=0.01, total_iters=10),
                                      TL.CosineAnnealingLR(o, T_max=90)], milestones=[10])),
    "warmup": (lambda o: sl.warmup(o, 10),
               lambda o: TL.LinearLR(o, start_factor=1e-3, end_factor=1.0, total_iters=10)),
    "Sequential-3": (
        lambda o: sl.SequentialLR(o, [sl.ExponentialLR(o, 0.9), sl.StepLR(o, 5, 0.5),
                                      sl.ExponentialLR(o, 0.95)], milestones=[20, 50]),
        lambda o: TL.SequentialLR(o, [TL.ExponentialLR(o, 0.9), TL.StepLR(o, 5, 0.5),
                                      TL.ExponentialLR(o, 0.95)], milestones=[20, 50])),
}


def _lrs(opt):
    return [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    make, tmake = SCHEDULES[name]
    opt, topt = optimisers()
    s, ts = make(opt), tmake(topt)
    assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-14, abs=0)
    for k in range(100):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        np.testing.assert_allclose(s.get_last_lr(), ts.get_last_lr(), rtol=1e-13, atol=0,
                                   err_msg=f"{name} step {k}")
        assert _lrs(opt) == s.get_last_lr()


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_state_dict_resume(name):
    make, tmake = SCHEDULES[name]
    opt, topt = optimisers()
    s, ts = make(opt), tmake(topt)
    for _ in range(40):
        opt.step()
        topt.step()
        s.step()
        ts.step()
    osd, ssd = opt.state_dict(), s.state_dict()
    opt2, _ = optimisers()
    s2 = make(opt2)
    opt2.load_state_dict(osd)
    s2.load_state_dict(ssd)
    for k in range(60):
        opt2.step()
        topt.step()
        s2.step()
        ts.step()
        np.testing.assert_allclose(s2.get_last_lr(), ts.get_last_lr(), rtol=1e-13, atol=0,
                                   err_msg=f"{name} resumed step {40 + k}")


def _metrics(n=100, seed=0):
    rng = np.random.default_rng(seed)
    m = np.concatenate([np.linspace(1.0, 0.5, 20), 0.5 + 0.01 * rng.standard_normal(30),
                        np.linspace(0.5, 0.3, 20), 0.3 + 0.05 * rng.standard_normal(30)])
    return m[:n]


@pytest.mark.parametrize("kw", [
    dict(),
    dict(patience=3, factor=0.5),
    dict(mode="max", patience=2, factor=0.5, threshold=0.01),
    dict(patience=2, threshold_mode="abs", threshold=0.01, cooldown=3),
    dict(patience=1, factor=0.5, min_lr=[0.02, 0.01]),
    dict(patience=0, factor=0.1, min_lr=1e-4, eps=1e-3),
])
def test_reduce_on_plateau_matches_torch(kw):
    opt, topt = optimisers()
    s, ts = sl.ReduceLROnPlateau(opt, **kw), TL.ReduceLROnPlateau(topt, **kw)
    metrics = _metrics()
    if kw.get("mode") == "max":
        metrics = -metrics
    for k, m in enumerate(metrics):
        opt.step()
        topt.step()
        s.step(float(m))
        ts.step(float(m))
        assert s.get_last_lr() == ts.get_last_lr(), f"step {k}"
        if k == 50:  # resume from a state dict
            sd = s.state_dict()
            s = sl.ReduceLROnPlateau(opt, **kw)
            s.load_state_dict(sd)
    assert s.get_last_lr() != [0.1, 0.05]


def test_reduce_on_plateau_accepts_a_tensor_metric():
    opt, _ = optimisers()
    s = sl.ReduceLROnPlateau(opt, patience=0)
    s.step(st.Tensor(np.array(1.0)))
    s.step(st.Tensor(np.array(2.0)))
    assert s.get_last_lr() == pytest.approx([0.01, 0.005])


def test_scheduler_errors():
    opt, _ = optimisers()
    with pytest.raises(TypeError, match="not a steepest Optimizer"):
        sl.StepLR(object(), 3)
    with pytest.raises(ValueError, match="start_factor"):
        sl.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="factor must be in"):
        sl.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="milestones"):
        sl.SequentialLR(opt, [sl.StepLR(opt, 3), sl.StepLR(opt, 4)], milestones=[])
    other, _ = optimisers()
    with pytest.raises(ValueError, match="different optimiser"):
        sl.SequentialLR(opt, [sl.StepLR(other, 3)], milestones=[])


def test_scheduler_drives_an_optimiser_step():
    """The lr the scheduler sets is the one the next optimiser step uses."""
    q = st.Tensor(np.zeros(1), requires_grad=True)
    opt = so.SGD([q], lr=1.0)
    s = sl.StepLR(opt, step_size=1, gamma=0.5)
    for expected in [1.0, 0.5, 0.25]:
        before = q.data.copy()
        q.grad = st.Tensor(np.ones(1))
        opt.step()
        assert before - q.data == pytest.approx([expected])
        s.step()
