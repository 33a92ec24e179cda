"""The captured step: bit-identical to eager over 50 steps, retrace, fallback, fit, resume."""

import os
import signal
import warnings

import numpy as np
import pytest

import steepest as st
import steepest.functional as F
from steepest import nn, optim
from steepest.compile import CompileWarning, compile_step
from steepest.data.datasets import spirals
from steepest.models import mlp
from steepest.train import Callback, fit

OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd_momentum_wd": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1,
                                           weight_decay=1e-3),
    "sgd_nesterov_wd": lambda p: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True,
                                           weight_decay=1e-4),
    "momentum": lambda p: optim.Momentum(p, lr=0.05, momentum=0.9, weight_decay=1e-4),
    "nesterov": lambda p: optim.Nesterov(p, lr=0.05, momentum=0.9),
    "adam": lambda p: optim.Adam(p, lr=1e-2),
    "adam_amsgrad_l2": lambda p: optim.Adam(p, lr=1e-2, amsgrad=True, weight_decay=1e-3),
    "adamw": lambda p: optim.AdamW(p, lr=1e-2, weight_decay=0.05),
    "nadam": lambda p: optim.NAdam(p, lr=1e-2, weight_decay=1e-3),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.05, lr_decay=1e-3, weight_decay=1e-4),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
    "adadelta": lambda p: optim.Adadelta(p, lr=1.0, weight_decay=1e-4),
}

MODELS = {
    "relu": dict(),
    "dropout": dict(dropout=0.3),
    "batch_norm": dict(batch_norm=True),
    "bn_dropout_tanh": dict(batch_norm=True, dropout=0.2, activation="tanh"),
    "sigmoid": dict(activation="sigmoid"),
}


def _data(n=64, d=12, c=5, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(dtype), rng.integers(0, c, n)


def _batches(x, y, bs, steps):
    n = len(x)
    for s in range(steps):
        i = (s * bs) % n
        yield x[i:i + bs], y[i:i + bs]


def _run(compiled, model_kw, make_opt, steps=50, bs=16, grad_clip=None, sched=None,
         loss=None, model=None, dtype=np.float32):
    st.manual_seed(3)
    model = model or mlp([12, 24, 16, 5], dtype=dtype, **model_kw)
    opt = make_opt(model.parameters())
    scheduler = sched(opt) if sched else None
    loss = loss or nn.CrossEntropyLoss()
    x, y = _data(dtype=dtype)
    step = compile_step(model, loss, opt, grad_clip=grad_clip)
    losses = []
    for k, (xb, yb) in enumerate(_batches(x, y, bs, steps)):
        if compiled:
            lval = step(xb, yb)
        else:
            lval = loss(model(st.Tensor(xb)), yb)
            opt.zero_grad()
            lval.backward()
            if grad_clip is not None:
                optim.clip_grad_norm_(list(model.parameters()), grad_clip)
            opt.step()
        losses.append(float(lval.data))
        if scheduler is not None and k % 10 == 9:
            scheduler.step()
    return losses, model, opt, step


def _same(a, b):
    la, ma, oa, _ = a
    lb, mb, ob, _ = b
    assert la == lb
    sa, sb = ma.state_dict(), mb.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        np.testing.assert_array_equal(sa[k], sb[k], err_msg=k)
    da, db = oa.state_dict(), ob.state_dict()
    assert da["param_groups"] == db["param_groups"]
    assert da["state"].keys() == db["state"].keys()
    for i in da["state"]:
        for k, v in da["state"][i].items():
            np.testing.assert_array_equal(v, db["state"][i][k], err_msg=f"{i} {k}")


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_captured_equals_eager_for_every_optimiser(opt_name):
    a = _run(False, {}, OPTIMIZERS[opt_name])
    b = _run(True, {}, OPTIMIZERS[opt_name])
    assert b[3].captures == 1 and b[3].eager_steps == 0
    _same(a, b)


@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_captured_equals_eager_for_layers(model_name):
    make = OPTIMIZERS["adam"]
    a = _run(False, MODELS[model_name], make)
    b = _run(True, MODELS[model_name], make)
    assert b[3].eager_steps == 0
    _same(a, b)


def test_clipping_scheduler_sum_loss_and_float64():
    kw = dict(grad_clip=0.5, sched=lambda o: optim.StepLR(o, step_size=1, gamma=0.7))
    make = OPTIMIZERS["sgd_momentum_wd"]
    _same(_run(False, MODELS["batch_norm"], make, **kw),
          _run(True, MODELS["batch_norm"], make, **kw))
    loss = nn.CrossEntropyLoss(reduction="sum")
    _same(_run(False, {}, make, loss=loss), _run(True, {}, make, loss=loss))
    _same(_run(False, MODELS["dropout"], make, dtype=np.float64),
          _run(True, MODELS["dropout"], make, dtype=np.float64))


def test_retrace_on_new_shape_and_mode():
    st.manual_seed(0)
    model = mlp([12, 16, 5], dropout=0.5)
    opt = optim.SGD(model.parameters(), lr=0.1)
    step = compile_step(model, F.cross_entropy, opt)
    x, y = _data()
    step(x[:16], y[:16])
    step(x[16:32], y[16:32])
    assert step.captures == 1
    step(x[:10], y[:10])  # a smaller batch: a new plan
    assert step.captures == 2
    model.eval()  # dropout off: another plan
    step(x[:16], y[:16])
    assert step.captures == 3 and step.eager_steps == 0
    model.train()
    step(x[:16], y[:16])
    assert step.captures == 3  # cached


def test_retraced_shapes_still_equal_eager():
    def run(compiled):
        st.manual_seed(1)
        model = mlp([12, 16, 5], batch_norm=True)
        opt = optim.Adam(model.parameters(), lr=1e-2)
        step = compile_step(model, "cross_entropy", opt)
        x, y = _data()
        out = []
        for bs in (16, 7, 16, 5, 64):
            if compiled:
                out.append(float(step(x[:bs], y[:bs]).data))
            else:
                lval = F.cross_entropy(model(st.Tensor(x[:bs])), y[:bs])
                opt.zero_grad()
                lval.backward()
                opt.step()
                out.append(float(lval.data))
        return out, model, opt, step

    _same(run(False), run(True))


class _Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(12, 5)

    def forward(self, x):
        h = self.lin(x)
        return h * 2.0 if float(h.data.mean()) > 0 else h  # data-dependent control flow


@pytest.mark.parametrize("case", ["hook", "custom", "custom_loss", "unknown_layer"])
def test_fallback_warns_once_and_equals_eager(case):
    def build():
        st.manual_seed(2)
        loss = nn.CrossEntropyLoss()
        if case == "custom":
            model = _Custom()
        elif case == "unknown_layer":
            model = nn.Sequential(nn.Linear(12, 8), nn.ELU(), nn.Linear(8, 5))
        else:
            model = mlp([12, 8, 5])
        if case == "hook":
            model[0].register_forward_hook(lambda m, i, o: None)
        if case == "custom_loss":
            def loss(out, t):
                return F.cross_entropy(out, t) + 0.0 * (out * out).mean()
        return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), loss

    def run(compiled):
        model, opt, loss = build()
        step = compile_step(model, loss, opt)
        x, y = _data()
        out = []
        for xb, yb in _batches(x, y, 16, 6):
            if compiled:
                out.append(float(step(xb, yb).data))
            else:
                lval = loss(model(st.Tensor(xb)), yb)
                opt.zero_grad()
                lval.backward()
                opt.step()
                out.append(float(lval.data))
        return out, model, opt, step

    ref = run(False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = run(True)
    msgs = [w for w in caught if issubclass(w.category, CompileWarning)]
    assert len(msgs) == 1, [str(w.message) for w in caught]
    assert got[3].eager_steps == 6 and got[3].captures == 0
    _same(ref, got)


def test_non_elementwise_optimiser_falls_back():
    st.manual_seed(0)
    model = mlp([12, 8, 5])
    opt = optim.LBFGS(model.parameters(), lr=0.1)
    step = compile_step(model, "cross_entropy", opt)
    x, y = _data()
    with pytest.warns(CompileWarning, match="LBFGS"):
        step.forward(x[:16], y[:16])


def test_bad_labels_and_nonfinite_gradients_are_refused_as_in_eager():
    st.manual_seed(0)
    model = mlp([12, 8, 5])
    opt = optim.SGD(model.parameters(), lr=0.1)
    step = compile_step(model, "cross_entropy", opt)
    x, y = _data()
    with pytest.raises(ValueError, match="out of range"):
        step(x[:16], y[:16] + 10)
    before = [p.data.copy() for p in model.parameters()]
    bad = x[:16].copy()
    bad[0, 0] = np.inf
    with pytest.raises(optim.NonFiniteGradientError), np.errstate(invalid="ignore"):
        step(bad, y[:16])
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


def _fit(compile, tmp=None, kill=None, resume=None, seed=0):
    x, y = spirals(60, 3, seed=1)
    st.manual_seed(seed)
    model = mlp([2, 32, 32, 3], dropout=0.2, batch_norm=True)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.StepLR(opt, step_size=1, gamma=0.8)
    cbs = [kill] if kill else []
    h = fit(model, "cross_entropy", opt, (x, y), epochs=4, batch_size=16, seed=5,
            scheduler=sched, metrics=["accuracy"], grad_clip=1.0, progress=False,
            compile=compile, checkpoint=tmp, resume=resume, callbacks=cbs)
    return h, model


class _Kill(Callback):
    def on_batch_end(self, trainer, step, logs):
        if (trainer.epoch, step) == (3, 2):
            os.kill(os.getpid(), signal.SIGINT)


def test_fit_compile_equals_eager_and_resumes_exactly(tmp_path):
    he, me = _fit(False)
    hc, mc = _fit(True)
    assert hc["loss"] == he["loss"] and hc["accuracy"] == he["accuracy"]
    for k, v in me.state_dict().items():
        np.testing.assert_array_equal(mc.state_dict()[k], v, err_msg=k)

    ckpt = tmp_path / "c.ckpt"
    h1, _ = _fit(True, tmp=ckpt, kill=_Kill())
    assert h1.interrupted
    h2, m2 = _fit(True, tmp=ckpt, resume=ckpt, seed=99)
    assert h2["loss"] == he["loss"]
    for k, v in me.state_dict().items():
        np.testing.assert_array_equal(m2.state_dict()[k], v, err_msg=k)


def test_cli_train_compile_matches_eager(tmp_path, capsys):
    import json

    from steepest.cli import main

    args = ["train", "--dataset", "spirals", "--hidden", "16,16", "--epochs", "2",
            "--batch-size", "32", "--quiet"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)  # the default recipe is captured
        assert main([*args, "--out", str(tmp_path / "c"), "--compile"]) == 0
    assert main([*args, "--out", str(tmp_path / "e")]) == 0
    capsys.readouterr()
    mc = json.loads((tmp_path / "c" / "metrics.json").read_text())
    me = json.loads((tmp_path / "e" / "metrics.json").read_text())
    assert mc["test_loss"] == me["test_loss"] and mc["test_accuracy"] == me["test_accuracy"]


def test_diverged_optimiser_state_falls_back():
    st.manual_seed(0)
    model = mlp([12, 8, 5])
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x, y = _data()
    F.cross_entropy(model(st.Tensor(x[:16])), y[:16]).backward()
    model[0].bias.grad = None  # this parameter's Adam step count falls behind
    opt.step()
    step = compile_step(model, "cross_entropy", opt)
    with pytest.warns(CompileWarning, match="state differs"):
        step(x[:16], y[:16])
    assert step.eager_steps == 1


def test_rebuilt_buffers_and_new_param_groups_are_followed():
    def run(compiled):
        st.manual_seed(4)
        model = mlp([12, 16, 5])
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        step = compile_step(model, "cross_entropy", opt)
        x, y = _data()
        out = []
        for k, (xb, yb) in enumerate(_batches(x, y, 16, 8)):
            if k == 3:  # a checkpoint round trip rebuilds the flat buffers
                opt.load_state_dict(opt.state_dict())
                model.load_state_dict(model.state_dict())
            if k == 5:
                opt.add_param_group({"params": [st.Tensor(np.zeros(3, np.float32),
                                                          requires_grad=True)]})
            if compiled:
                out.append(float(step(xb, yb).data))
            else:
                lval = F.cross_entropy(model(st.Tensor(xb)), yb)
                opt.zero_grad()
                lval.backward()
                opt.step()
                out.append(float(lval.data))
        return out, model, opt, step

    ref = run(False)
    with pytest.warns(CompileWarning, match="does not use"):
        got = run(True)
    assert got[3].eager_steps == 3
    _same(ref, got)


def test_overflow_in_the_captured_step_warns_nothing():
    """As eager ops: an overflow shows as inf/nan (then the non-finite check), never as a
    NumPy RuntimeWarning, even when warnings are errors."""
    from steepest.optim.optimizer import NonFiniteGradientError

    st.manual_seed(0)
    model = mlp((4, 8, 2))
    step = compile_step(model, "cross_entropy", optim.SGD(model.parameters(), lr=1e30))
    x, y = np.full((4, 4), 1e30, np.float32), np.array([0, 1, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NonFiniteGradientError):
            for _ in range(3):
                step(x, y)
