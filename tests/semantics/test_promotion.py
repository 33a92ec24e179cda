"""dtype promotion as torch's: integer/bool tensors compute float ops in float32, float16
stays float16 (or is refused), never a silent float64; top-level functions return Tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
import steepest.functional as F


def same(ours, theirs):
    assert isinstance(ours, st.Tensor)
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch.")), (
        f"{ours.dtype} != {theirs.dtype}")
    np.testing.assert_allclose(ours.numpy().astype(np.float64),
                               theirs.numpy().astype(np.float64), rtol=1e-3, atol=1e-3)


INT_CASES = [
    ("add float", lambda x: x + 1.5),
    ("radd float", lambda x: 1.5 + x),
    ("sub float", lambda x: x - 0.5),
    ("rsub float", lambda x: 0.5 - x),
    ("mul float", lambda x: x * 0.5),
    ("add int", lambda x: x + 2),
    ("mul int", lambda x: x * 3),
    ("div int", lambda x: x / 2),
    ("rdiv", lambda x: 2 / (x + 1)),
    ("pow float", lambda x: x ** 0.5),
    ("pow int", lambda x: x ** 2),
    ("rpow", lambda x: 2.0 ** x),
    ("exp", lambda x: x.exp()),
    ("log", lambda x: (x + 1).log()),
    ("sqrt", lambda x: x.sqrt()),
    ("sigmoid", lambda x: x.sigmoid()),
    ("tanh", lambda x: x.tanh()),
    ("relu", lambda x: x.relu()),
    ("sum", lambda x: x.sum()),
    ("abs", lambda x: abs(x)),
    ("neg", lambda x: -x),
    ("maximum", lambda x: x.maximum(x * 2)),
]


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name,fn", INT_CASES, ids=[c[0] for c in INT_CASES])
def test_integer_and_bool_tensors_promote_like_torch(name, fn, dtype):
    data = np.array([0, 1, 3]).astype(dtype)
    try:
        theirs = fn(torch.tensor(data))
    except RuntimeError:
        with pytest.raises((RuntimeError, TypeError)):
            fn(st.tensor(data))
        return
    same(fn(st.tensor(data)), theirs)


def test_issue_examples():
    y = st.tensor([1.0]) + st.tensor([1, 2, 3]) / 2
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), [1.5, 2.0, 2.5])
    e = st.exp([1.0, 2.0])
    assert isinstance(e, st.Tensor) and e.dtype == np.float32
    w = st.where(st.tensor([True, False]), 1.0, 0.0)
    same(w, torch.where(torch.tensor([True, False]), 1.0, 0.0))
    w2 = st.where(np.array([True, False]), st.tensor([1.0, 2.0]), 0.0)
    assert isinstance(w2, st.Tensor) and w2.dtype == np.float32
    s = st.sum([1, 2, 3])
    assert isinstance(s, st.Tensor) and s.dtype == np.int64
    m = st.maximum([1.0, 5.0], [2.0, 3.0])
    assert isinstance(m, st.Tensor) and m.dtype == np.float32


def test_mean_var_softmax_of_integers_are_refused_like_torch():
    i = st.tensor([1, 2, 3])
    for fn, tfn in ((lambda x: x.mean(), lambda x: x.mean()),
                    (lambda x: x.var(), lambda x: x.var()),
                    (lambda x: F.softmax(x, 0), lambda x: torch.softmax(x, 0))):
        with pytest.raises(TypeError, match="floating-point"):
            fn(i)
        with pytest.raises(RuntimeError):
            tfn(torch.tensor([1, 2, 3]))
    same(i.float().mean(), torch.tensor([1, 2, 3]).float().mean())
    same(i.mean(dtype=st.float32), torch.tensor([1, 2, 3]).mean(dtype=torch.float32))


@pytest.mark.parametrize("fn", [
    lambda x: x * 1.5, lambda x: x + 2, lambda x: x / 3, lambda x: x.exp(), lambda x: x.sqrt(),
    lambda x: x ** 2.0, lambda x: x.sigmoid(), lambda x: x.tanh(), lambda x: x.sum(),
    lambda x: x.mean(), lambda x: x @ x, lambda x: F.softmax(x, 0), lambda x: x.norm(),
    lambda x: x.logsumexp(0), lambda x: x.var(),
])
def test_float16_stays_float16(fn):
    x = np.array([0.5, 1.0, 2.0], np.float16)
    assert fn(st.tensor(x)).dtype == np.float16
    assert fn(st.tensor(x, requires_grad=True)).dtype == np.float16


def test_float32_never_becomes_float64():
    x = st.tensor([1.0, 2.0], requires_grad=True)
    outs = [x * np.float64(2.0), x + np.sqrt(2.0), x / np.float64(3), x ** np.float64(2),
            st.where(x > 1, x, np.float64(0.0)), x.clamp(np.float64(0), np.float64(1.5)),
            x.norm(), x.var(), x.logsumexp(0), x.prod()]
    for o in outs:
        assert o.dtype == np.float32
    (outs[0].sum() + outs[5].sum()).backward()
    assert x.grad.dtype == np.float32


def test_mixing_float32_and_float64_tensors_is_refused_not_promoted():
    with pytest.raises(TypeError, match="mix dtypes"):
        st.tensor([1.0]) + st.tensor([1.0], dtype="float64")


@pytest.mark.parametrize("bad", [np.array(["a", "b"]), np.array([1 + 2j]),
                                 np.array([object(), 1], dtype=object), ["a", "b"]])
def test_object_string_and_complex_data_are_refused(bad):
    with pytest.raises(TypeError, match="Tensor"):
        st.tensor(bad)
    with pytest.raises(TypeError, match="not supported"):
        st.tensor([1.0, 2.0]) + bad if not isinstance(bad, list) else st.ops.add(
            st.tensor([1.0, 2.0]), np.asarray(bad))
    with pytest.raises(TypeError):
        st.tensor([1.0]).astype(np.complex64)
