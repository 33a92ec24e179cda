"""Losses (functions and modules) against PyTorch for every reduction, float32 and
float64, with gradients w.r.t. input and (float) target and second derivatives."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import steepest as st
import steepest.functional as F
from steepest import nn
from tests.oracle import check

REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [np.float32, np.float64]


def _pair(dtype, shape=(5, 4), seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape).astype(dtype),
            rng.standard_normal(shape).astype(dtype))


def _probs(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.02, 0.98, shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse", "l1", "huber", "huber_0.5", "smooth_l1",
                                  "smooth_l1_0.5", "smooth_l1_0"])
def test_regression_losses(name, reduction, dtype):
    fns = {
        "mse": (F.mse_loss, tF.mse_loss, {}),
        "l1": (F.l1_loss, tF.l1_loss, {}),
        "huber": (F.huber_loss, tF.huber_loss, {}),
        "huber_0.5": (F.huber_loss, tF.huber_loss, {"delta": 0.5}),
        "smooth_l1": (F.smooth_l1_loss, tF.smooth_l1_loss, {}),
        "smooth_l1_0.5": (F.smooth_l1_loss, tF.smooth_l1_loss, {"beta": 0.5}),
        "smooth_l1_0": (F.smooth_l1_loss, tF.smooth_l1_loss, {"beta": 0.0}),
    }
    f, tf, kw = fns[name]
    x, t = _pair(dtype)
    check(lambda a, b: f(a, b, reduction=reduction, **kw),
          lambda a, b: tf(a, b, reduction=reduction, **kw), [x, t], second_order=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction, dtype):
    p = _probs((6, 3), 1).astype(dtype)
    t = _probs((6, 3), 2).astype(dtype)
    check(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
          lambda a, b: tF.binary_cross_entropy(a, b, reduction=reduction), [p, t],
          second_order=True)
    hard = (t > 0.5).astype(dtype)  # 0/1 labels as constants (integer-valued floats)
    check(lambda a: F.binary_cross_entropy(a, hard, reduction=reduction),
          lambda a: tF.binary_cross_entropy(a, torch.tensor(hard), reduction=reduction), [p])


def test_binary_cross_entropy_at_0_and_1_is_clamped():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    check(lambda a: F.binary_cross_entropy(a, t, reduction="none"),
          lambda a: tF.binary_cross_entropy(a, torch.tensor(t), reduction="none"), [p])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction, dtype):
    x = np.random.default_rng(3).standard_normal((6, 3)) * 4
    x[0] = [1000.0, -1000.0, 0.0]
    t = _probs((6, 3), 4)
    check(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
          lambda a, b: tF.binary_cross_entropy_with_logits(a, b, reduction=reduction),
          [x.astype(dtype), t.astype(dtype)], second_order=True)


def _logits(dtype, n=6, c=5, seed=5, extreme=True):
    x = np.random.default_rng(seed).standard_normal((n, c)) * 3
    if extreme:
        x[0] = [1000.0, -1000.0, 0.0, 999.0, -999.0]
        x[1] = -1000.0
        x[2] = [1000.0, 1000.0, 1000.0, -1000.0, 1000.0]
    return x.astype(dtype)


LABELS = np.array([0, 1, 4, 2, 3, 0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_integer_labels(reduction, dtype, smoothing):
    check(lambda a: F.cross_entropy(a, LABELS, reduction=reduction, label_smoothing=smoothing),
          lambda a: tF.cross_entropy(a, torch.tensor(LABELS), reduction=reduction,
                                     label_smoothing=smoothing),
          [_logits(dtype)], second_order=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probability_targets(reduction, dtype, smoothing):
    q = np.random.default_rng(6).dirichlet(np.ones(5), size=6).astype(dtype)
    check(lambda a, b: F.cross_entropy(a, b, reduction=reduction, label_smoothing=smoothing),
          lambda a, b: tF.cross_entropy(a, b, reduction=reduction, label_smoothing=smoothing),
          [_logits(dtype), q], second_order=True)


def test_cross_entropy_one_hot_equals_labels():
    x = _logits(np.float64)
    onehot = np.eye(5)[LABELS]
    a = F.cross_entropy(st.Tensor(x), onehot)
    b = F.cross_entropy(st.Tensor(x), LABELS)
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12)
    check(lambda z: F.cross_entropy(z, onehot),
          lambda z: tF.cross_entropy(z, torch.tensor(onehot)), [x], second_order=True)


def test_cross_entropy_is_one_node_with_backward_softmax_minus_onehot():
    x = st.Tensor(_logits(np.float32, extreme=False), requires_grad=True)
    loss = F.cross_entropy(x, LABELS)
    assert loss.creator.inputs[0] is x
    loss.backward()
    expect = (F.softmax(x.data, axis=1) - np.eye(5, dtype=np.float32)[LABELS]) / 6
    np.testing.assert_allclose(x.grad.data, expect, rtol=1e-6, atol=1e-7)
    assert x.grad.dtype == np.float32


def test_cross_entropy_backward_twice_with_retain_graph():
    x = st.Tensor(_logits(np.float64), requires_grad=True)
    loss = F.cross_entropy(x, LABELS)
    loss.backward(retain_graph=True)
    g1 = x.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * g1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction, dtype):
    lp = np.log(np.random.default_rng(7).dirichlet(np.ones(5), size=6)).astype(dtype)
    check(lambda a: F.nll_loss(a, LABELS, reduction=reduction),
          lambda a: tF.nll_loss(a, torch.tensor(LABELS), reduction=reduction), [lp],
          second_order=True)


def test_nll_of_log_softmax_equals_cross_entropy():
    x = st.Tensor(_logits(np.float64))
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(x, axis=1), LABELS).data,
                               F.cross_entropy(x, LABELS).data, rtol=1e-12)


LOSS_MODULES = [
    (nn.MSELoss, torch.nn.MSELoss, {}, "pair"),
    (nn.L1Loss, torch.nn.L1Loss, {}, "pair"),
    (nn.HuberLoss, torch.nn.HuberLoss, {"delta": 0.7}, "pair"),
    (nn.SmoothL1Loss, torch.nn.SmoothL1Loss, {"beta": 0.7}, "pair"),
    (nn.BCELoss, torch.nn.BCELoss, {}, "probs"),
    (nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss, {}, "logit_probs"),
    (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, {"label_smoothing": 0.1}, "labels"),
    (nn.NLLLoss, torch.nn.NLLLoss, {}, "labels"),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ours,theirs,kw,kind", LOSS_MODULES,
                         ids=[m[0].__name__ for m in LOSS_MODULES])
def test_loss_modules(ours, theirs, kw, kind, reduction):
    m, tm = ours(reduction=reduction, **kw), theirs(reduction=reduction, **kw)
    if kind == "pair":
        check(m, tm, list(_pair(np.float32)))
    elif kind == "probs":
        check(m, tm, [_probs((4, 3), 1).astype(np.float32),
                      _probs((4, 3), 2).astype(np.float32)])
    elif kind == "logit_probs":
        check(m, tm, [_pair(np.float32, (4, 3))[0], _probs((4, 3), 2).astype(np.float32)])
    else:
        check(lambda a: m(a, LABELS), lambda a: tm(a, torch.tensor(LABELS)),
              [_logits(np.float32, extreme=False)])
    assert reduction in repr(m)


@pytest.mark.parametrize("f", [
    lambda x, t: F.mse_loss(x, t), lambda x, t: F.l1_loss(x, t, "sum"),
    lambda x, t: F.huber_loss(x, t, delta=0.5), lambda x, t: F.smooth_l1_loss(x, t, "none"),
    lambda x, t: F.binary_cross_entropy_with_logits(x, t),
])
def test_gradcheck_regression(f):
    x, t = _pair(np.float64, (3, 4), seed=8)
    assert st.gradcheck(f, [x, t])


def test_gradcheck_classification():
    x = _logits(np.float64, extreme=False)
    q = np.random.default_rng(9).dirichlet(np.ones(5), size=6)
    assert st.gradcheck(lambda a: F.cross_entropy(a, LABELS, label_smoothing=0.1), [x])
    assert st.gradcheck(lambda a, b: F.cross_entropy(a, b, reduction="none"), [x, q])
    assert st.gradcheck(lambda a: F.nll_loss(a, LABELS, reduction="sum"), [x])
    p, t = _probs((3, 4), 10), _probs((3, 4), 11)
    assert st.gradcheck(lambda a, b: F.binary_cross_entropy(a, b), [p, t])


def test_errors():
    x = st.Tensor(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes"):
        F.cross_entropy(x, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"label -1 is out of range"):
        F.cross_entropy(x, np.array([0, -1, 2, 1]))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        F.cross_entropy(x, np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        F.cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"input shape \(4, 3\) and target shape \(4,\)"):
        F.mse_loss(x, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="reduction"):
        F.l1_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        F.binary_cross_entropy(x + 2.0, x)
    with pytest.raises(ValueError, match="label 5 is out of range for 3 classes"):
        F.nll_loss(x, np.array([0, 1, 2, 5]))


def test_float32_stays_float32():
    x = st.Tensor(_logits(np.float32, extreme=False), requires_grad=True)
    t = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    for loss in (F.cross_entropy(x, LABELS), F.mse_loss(x, t), F.huber_loss(x, t),
                 F.binary_cross_entropy_with_logits(x, np.abs(t) / 10),
                 F.nll_loss(x, LABELS), F.smooth_l1_loss(x, t)):
        assert loss.dtype == np.float32
        (gx,) = st.grad(loss, [x])
        assert gx.dtype == np.float32
