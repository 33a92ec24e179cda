"""Layers (LayerNorm, GroupNorm, Embedding, Unflatten) and the nn.utils / utils.data aliases
against torch: same parameters, state-dict names, outputs and gradients."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import steepest as st
import steepest.functional as F
from steepest import nn
from tests.oracle import check

DTYPES = [np.float64, np.float32]


def _x(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ns", [(4,), (3, 4)])
def test_layer_norm(ns, dtype):
    x, w, b = _x((2, 3, 4), dtype=dtype), _x(ns, 1, dtype), _x(ns, 2, dtype)
    check(lambda a, c, d: F.layer_norm(a, ns, c, d), lambda a, c, d: tF.layer_norm(a, ns, c, d),
          [x, w, b], second_order=True)
    check(lambda a: F.layer_norm(a, ns), lambda a: tF.layer_norm(a, ns), [x],
          second_order=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", [((3, 6), 2), ((2, 6, 5), 3), ((2, 4, 3, 2), 4)])
def test_group_norm(shape, groups, dtype):
    c = shape[1]
    x, w, b = _x(shape, dtype=dtype), _x((c,), 1, dtype), _x((c,), 2, dtype)
    check(lambda a, p, q: F.group_norm(a, groups, p, q),
          lambda a, p, q: tF.group_norm(a, groups, p, q), [x, w, b], second_order=True)


def test_norm_modules_match_torch():
    for ours, theirs in ((nn.LayerNorm((3, 4)), torch.nn.LayerNorm((3, 4))),
                         (nn.LayerNorm(4, elementwise_affine=False),
                          torch.nn.LayerNorm(4, elementwise_affine=False)),
                         (nn.LayerNorm(4, bias=False), torch.nn.LayerNorm(4, bias=False)),
                         (nn.GroupNorm(3, 6), torch.nn.GroupNorm(3, 6))):
        assert list(ours.state_dict()) == list(theirs.state_dict())
        shape = (2, 6, 4) if isinstance(ours, nn.GroupNorm) else (2, 3, 4)
        check(ours, theirs, [_x(shape, dtype=np.float32)])
    assert st.gradcheck(lambda a: F.layer_norm(a, (4,)), [_x((3, 4))])
    assert st.gradcheck(lambda a: F.group_norm(a, 2), [_x((2, 4, 3))])
    with pytest.raises(ValueError, match="layer_norm: normalized_shape"):
        F.layer_norm(st.tensor(_x((2, 3))), (4,))
    with pytest.raises(ValueError, match="cannot be split into 4 groups"):
        F.group_norm(st.tensor(_x((2, 6))), 4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding(padding_idx, dtype):
    w = _x((5, 3), dtype=dtype)
    idx = np.array([[0, 2, 4, 2], [1, 1, 2, 0]])  # repeated rows accumulate
    check(lambda a: F.embedding(idx, a, padding_idx), lambda a: tF.embedding(
        torch.tensor(idx), a, padding_idx), [w], second_order=True)
    m = nn.Embedding(5, 3, padding_idx=padding_idx)
    tm = torch.nn.Embedding(5, 3, padding_idx=padding_idx)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(m.weight.data))
    assert list(m.state_dict()) == list(tm.state_dict())
    out = m(idx)
    out.sum().backward()
    tm(torch.tensor(idx)).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-6)
    if padding_idx is not None:
        assert np.all(m.weight.data[padding_idx] == 0)
    with pytest.raises(IndexError, match="embedding: index 5 is out of range"):
        m(np.array([5]))


def test_embedding_from_pretrained_and_large_batch():
    w = _x((4, 2))
    m = nn.Embedding.from_pretrained(w)
    assert not m.weight.requires_grad
    np.testing.assert_array_equal(m(np.array([3, 0])).numpy(), w[[3, 0]])
    big = np.random.default_rng(1).integers(0, 50, 5000)
    wt = st.tensor(_x((50, 8)), requires_grad=True)
    g = (F.embedding(big, wt) * 2.0).sum()
    g.backward()
    ref = np.zeros((50, 8))
    np.add.at(ref, big, 2.0)
    np.testing.assert_allclose(wt.grad.numpy(), ref)


def test_unflatten_identity_flatten():
    x = _x((2, 12), dtype=np.float32)
    check(nn.Unflatten(1, (3, 4)), torch.nn.Unflatten(1, (3, 4)), [x])
    seq = nn.Sequential(nn.Unflatten(1, (3, 4)), nn.Flatten(), nn.Identity())
    np.testing.assert_array_equal(seq(st.tensor(x)).numpy(), x)


def test_nn_utils_aliases():
    p = nn.Parameter(np.ones((2, 2), dtype=np.float32))
    p.grad = st.tensor(np.full((2, 2), 3.0, dtype=np.float32))
    total = nn.utils.clip_grad_norm_([p], 1.0)
    np.testing.assert_allclose(float(total), 6.0, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(p.grad.numpy()), 1.0, rtol=1e-5)
    v = nn.utils.parameters_to_vector([p])
    assert v.shape == (4,)
    nn.utils.vector_to_parameters(st.arange(4.0), [p])
    np.testing.assert_array_equal(p.data, [[0.0, 1.0], [2.0, 3.0]])


def test_utils_data_aliases():
    from steepest.utils.data import DataLoader, Dataset, TensorDataset, random_split

    ds = TensorDataset(np.arange(10.0).reshape(10, 1), np.arange(10))
    assert isinstance(ds, Dataset)
    a, b = random_split(ds, [0.7, 0.3], seed=0)
    assert (len(a), len(b)) == (7, 3)
    assert sorted(np.r_[a.indices, b.indices].tolist()) == list(range(10))
    assert sum(len(xb) for xb, _ in DataLoader(a, batch_size=3)) == 7
