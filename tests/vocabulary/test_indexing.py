"""Indexing ops against torch (repeated indices accumulate in the gradients)."""

import numpy as np
import pytest
import torch

import steepest as st
from tests.oracle import check

DTYPES = [np.float64, np.float32]
rng = np.random.default_rng(0)


def _x(shape=(3, 4), seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


IDX = np.array([[0, 0, 2], [1, 2, 2]])  # repeated indices, smaller than the input


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1])
def test_gather(dim, dtype):
    x = _x(dtype=dtype)
    check(lambda a: st.gather(a, dim, IDX), lambda a: torch.gather(a, dim, torch.tensor(IDX)),
          [x], second_order=True)
    check(lambda a: a.gather(dim, IDX), lambda a: a.gather(dim, torch.tensor(IDX)), [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_add_and_scatter(dtype):
    x, src = _x(dtype=dtype), _x((2, 3), seed=1, dtype=dtype)
    idx = np.array([[0, 1, 2], [2, 0, 1]])  # scatter: distinct targets per column
    check(lambda a, s: st.scatter_add(a, 0, IDX, s),
          lambda a, s: torch.scatter_add(a, 0, torch.tensor(IDX), s), [x, src],
          second_order=True)
    check(lambda a, s: st.scatter(a, 0, idx, s),
          lambda a, s: torch.scatter(a, 0, torch.tensor(idx), s), [x, src])
    check(lambda a: a.scatter(1, idx, 2.5), lambda a: a.scatter(1, torch.tensor(idx), 2.5),
          [x])
    check(lambda a, s: st.scatter(a, 1, IDX, s, reduce="add"),
          lambda a, s: torch.scatter_add(a, 1, torch.tensor(IDX), s), [x, src])


@pytest.mark.parametrize("dtype", DTYPES)
def test_index_select_add_fill(dtype):
    x = _x((4, 3), dtype=dtype)
    i = np.array([3, 0, 3, 1])
    check(lambda a: st.index_select(a, 0, i), lambda a: torch.index_select(a, 0,
                                                                           torch.tensor(i)),
          [x], second_order=True)
    check(lambda a: a.index_select(1, i[:2] % 3), lambda a: a.index_select(
        1, torch.tensor(i[:2] % 3)), [x])
    s = _x((4, 3), seed=2, dtype=dtype)
    check(lambda a, b: st.index_add(a, 0, i, b, alpha=2.0),
          lambda a, b: torch.index_add(a, 0, torch.tensor(i), b, alpha=2.0), [x, s],
          second_order=True)
    check(lambda a: a.index_fill(1, np.array([0, 2]), -1.0),
          lambda a: a.index_fill(1, torch.tensor([0, 2]), -1.0), [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_masks(dtype):
    x = _x(dtype=dtype)
    m = x > 0.2
    check(lambda a: st.masked_fill(a, m, -7.0), lambda a: a.masked_fill(torch.tensor(m), -7.0),
          [x], second_order=True)
    check(lambda a: a.masked_fill(m[:1], 0.0),
          lambda a: a.masked_fill(torch.tensor(m[:1]), 0.0), [x])
    check(lambda a: st.masked_select(a, m), lambda a: torch.masked_select(a, torch.tensor(m)),
          [x])
    check(lambda a: a.masked_select(m[0]), lambda a: a.masked_select(torch.tensor(m[0])), [x])
    src = _x((12,), seed=3, dtype=dtype)
    check(lambda a, s: st.masked_scatter(a, m, s),
          lambda a, s: a.masked_scatter(torch.tensor(m), s), [x, src])
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool"):
        st.masked_fill(st.tensor(x), x, 0.0)


def test_take_along_dim_nonzero_where():
    x = _x()
    idx = np.argsort(x, axis=1)[:, :2]
    check(lambda a: st.take_along_dim(a, idx, 1),
          lambda a: torch.take_along_dim(a, torch.tensor(idx), 1), [x], second_order=True)
    check(lambda a: st.take_along_dim(a, np.array([0, 5, 5])),
          lambda a: torch.take_along_dim(a, torch.tensor([0, 5, 5])), [x])
    check(lambda a: st.take_along_dim(a, idx[:1], 1),  # broadcast of the other dims
          lambda a: torch.take_along_dim(a, torch.tensor(idx[:1]), 1), [x])
    z = np.array([[0.0, 1.0], [2.0, 0.0]])
    check(st.nonzero, torch.nonzero, [z], grad=False)
    for a, b in zip(st.nonzero(st.tensor(z), as_tuple=True),
                    torch.nonzero(torch.tensor(z), as_tuple=True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(st.where(st.tensor(z) > 0), torch.where(torch.tensor(z) > 0)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    check(lambda a, b: st.where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b),
          [x, _x(seed=1)])


def test_one_hot_and_errors():
    t = np.array([[0, 2], [1, 1]])
    check(lambda a: st.functional.one_hot(a, 4),
          lambda a: torch.nn.functional.one_hot(a, 4), [t], grad=False)
    check(st.functional.one_hot, torch.nn.functional.one_hot, [t], grad=False)
    with pytest.raises(IndexError, match="gather: index 5 is out of range"):
        st.gather(st.tensor(_x()), 1, np.array([[5]]))
    with pytest.raises(TypeError, match="gather: index must be an integer"):
        st.gather(st.tensor(_x()), 1, np.array([[0.5]]))
    with pytest.raises(ValueError, match="index_add: source shape"):
        st.index_add(st.tensor(_x()), 0, np.array([0]), st.tensor(_x()))


def test_gradcheck_indexing():
    x = _x()
    assert st.gradcheck(lambda a: st.gather(a, 1, IDX), [x])
    assert st.gradcheck(lambda a: st.index_select(a, 1, np.array([0, 0, 3])), [x])
    assert st.gradcheck(lambda a, s: st.scatter_add(a, 0, IDX, s), [x, _x((2, 3))])
