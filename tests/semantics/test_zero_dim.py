"""0-d tensors work in every op, with dim 0 / -1 accepted where torch accepts them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import steepest as st
import steepest.functional as F
from tests.oracle import check

V = [np.array(0.7), np.array(-1.3), np.array(0.0)]

UNARY = [
    ("sigmoid", lambda t: F.sigmoid(t), torch.sigmoid),
    ("tanh", lambda t: F.tanh(t), torch.tanh),
    ("relu", lambda t: F.relu(t), torch.relu),
    ("softplus", lambda t: F.softplus(t), torch.nn.functional.softplus),
    ("gelu", lambda t: F.gelu(t), torch.nn.functional.gelu),
    ("elu", lambda t: F.elu(t), torch.nn.functional.elu),
    ("leaky_relu", lambda t: F.leaky_relu(t), torch.nn.functional.leaky_relu),
    ("softmax", lambda t: F.softmax(t, 0), lambda t: torch.softmax(t, 0)),
    ("softmax-1", lambda t: F.softmax(t, -1), lambda t: torch.softmax(t, -1)),
    ("log_softmax", lambda t: F.log_softmax(t, 0), lambda t: torch.log_softmax(t, 0)),
    ("exp", lambda t: t.exp(), torch.exp),
    ("abs", lambda t: abs(t), torch.abs),
    ("pow", lambda t: t ** 3, lambda t: t ** 3),
    ("sum0", lambda t: t.sum(0), lambda t: t.sum(0)),
    ("sum-1k", lambda t: t.sum(-1, keepdim=True), lambda t: t.sum(-1, keepdim=True)),
    ("mean0", lambda t: t.mean(0), lambda t: t.mean(0)),
    ("prod0", lambda t: t.prod(0), lambda t: t.prod(0)),
    ("amax0", lambda t: t.amax(0), lambda t: t.amax(0)),
    ("max", lambda t: t.max(), lambda t: t.max()),
    ("max0", lambda t: t.max(0).values, lambda t: t.max(0).values),
    ("min0k", lambda t: t.min(0, keepdim=True).values,
     lambda t: t.min(0, keepdim=True).values),
    ("logsumexp", lambda t: t.logsumexp(0), lambda t: t.logsumexp(0)),
    ("norm", lambda t: t.norm(), lambda t: t.norm()),
    ("squeeze0", lambda t: t.squeeze(0), lambda t: t.squeeze(0)),
    ("squeeze", lambda t: t.squeeze(), lambda t: t.squeeze()),
    ("unsqueeze", lambda t: t.unsqueeze(0), lambda t: t.unsqueeze(0)),
    ("unsqueeze-1", lambda t: t.unsqueeze(-1), lambda t: t.unsqueeze(-1)),
    ("flatten", lambda t: t.flatten(), lambda t: t.flatten()),
    ("reshape", lambda t: t.reshape(1, 1), lambda t: t.reshape(1, 1)),
    ("stack", lambda t: st.stack([t, t * 2]), lambda t: torch.stack([t, t * 2])),
    ("T", lambda t: t.T * 1.0, lambda t: t.T * 1.0),
    ("clamp", lambda t: t.clamp(-1.0, 0.5), lambda t: t.clamp(-1.0, 0.5)),
]


@pytest.mark.parametrize("name,f_st,f_t", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("value", V, ids=["pos", "neg", "zero"])
def test_unary_ops_on_0d(name, f_st, f_t, value):
    # torch's second derivative of norm at 0 is nan (ours 0): compared to first order there
    second = name not in ("prod0", "relu", "leaky_relu") and not (name == "norm" and value == 0)
    check(f_st, f_t, [value], second_order=second)


LOSSES = [
    ("bce_with_logits", F.binary_cross_entropy_with_logits,
     torch.nn.functional.binary_cross_entropy_with_logits),
    ("mse", F.mse_loss, torch.nn.functional.mse_loss),
    ("l1", F.l1_loss, torch.nn.functional.l1_loss),
    ("smooth_l1", F.smooth_l1_loss, torch.nn.functional.smooth_l1_loss),
    ("huber", F.huber_loss, torch.nn.functional.huber_loss),
]


@pytest.mark.parametrize("name,f_st,f_t", LOSSES, ids=[n for n, _, _ in LOSSES])
def test_losses_on_0d(name, f_st, f_t):
    check(f_st, f_t, [np.array(0.3), np.array(1.0)])
    check(f_st, f_t, [np.array(-2.0), np.array(0.0)])
    check(lambda a, b: F.binary_cross_entropy(F.sigmoid(a), b),
          lambda a, b: torch.nn.functional.binary_cross_entropy(torch.sigmoid(a), b),
          [np.array(0.3), np.array(1.0)])


def test_0d_refusals_and_scalars():
    s = st.tensor(2.5)
    for fn in (lambda: st.cat([s, s]), lambda: st.split(s, 1), lambda: s.chunk(2),
               lambda: s.sum(1), lambda: s.squeeze(1), lambda: len(s)):
        with pytest.raises((ValueError, IndexError, TypeError)):
            fn()
    assert s.argmax().item() == 0 and s.argmax(0).shape == ()
    assert s.size() == () and s.numel() == 1 and s.dim() == 0
    assert float(s) == 2.5 and f"{s:.1f}" == "2.5"
    assert s.any().item() and s.all(0).shape == ()
    assert s.var(unbiased=False).item() == 0.0


def test_empty_batches_follow_torch():
    x = np.zeros((0, 3))
    for f_st, f_t in ((F.mse_loss, torch.nn.functional.mse_loss),
                      (F.l1_loss, torch.nn.functional.l1_loss)):
        ours = f_st(st.tensor(x), st.tensor(x))
        assert np.isnan(ours.item()) and np.isnan(f_t(torch.tensor(x), torch.tensor(x)).item())
    labels = np.zeros(0, np.int64)
    ce = F.cross_entropy(st.tensor(x), labels)
    assert np.isnan(ce.item())
    assert np.isnan(torch.nn.functional.cross_entropy(torch.tensor(x),
                                                      torch.tensor(labels)).item())
    assert F.cross_entropy(st.tensor(x), labels, reduction="sum").item() == 0.0
    assert np.isnan(st.tensor(x).mean().item())
    assert st.tensor(x).mean(0).shape == (3,) and np.isnan(st.tensor(x).mean(0).numpy()).all()
    with pytest.raises(IndexError):
        st.tensor(x).amax(0)
    with pytest.raises(IndexError):
        st.tensor(x).argmax()


def test_pow_gradients_at_zero_match_torch():
    x = np.array([0.0, 0.0, 2.0, -1.0])
    for c in (0, 0.0, 1, 2, 3, 0.5):
        check(lambda t, c=c: t ** c, lambda t, c=c: t ** c, [np.abs(x) if c == 0.5 else x])
    a = np.array([0.0, 0.0, 0.0, 2.0, 1.5])
    b = np.array([0.0, 2.0, -1.0, 0.0, -2.0])
    check(lambda u, v: u ** v, lambda u, v: u ** v, [a, b], second_order=False)
    check(lambda v: 0.0 ** v, lambda v: 0.0 ** v, [np.array([0.0, 1.0, 2.5])])


def test_no_numpy_runtime_warnings_leak():
    """Under the default warning filters, overflow and 0/0 inside ops stay silent (inf/nan
    as torch); the same NumPy call in user code still warns."""
    with warnings.catch_warnings(record=True) as caught:
        x = st.tensor([1000.0, -1000.0, 0.0], requires_grad=True)
        y = x.exp() + (x * 0).log() + 1.0 / (x * 0) + (x - 2000).sqrt() + x.norm() / 0.0
        y.sum().backward()
        st.tensor([0.0]) / st.tensor([0.0])
        F.softmax(st.tensor([1000.0, -np.inf]), 0)
        F.mse_loss(st.tensor(np.zeros((0, 2))), st.tensor(np.zeros((0, 2))))
        ours = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        warnings.simplefilter("always")
        np.exp(np.float32(1000.0))
        users = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not ours, [(w.filename, w.lineno, str(w.message)) for w in ours]
    assert len(users) == 1
    with pytest.raises(st.AnomalyError):
        with st.detect_anomaly():
            st.tensor([0.0], requires_grad=True).log()
