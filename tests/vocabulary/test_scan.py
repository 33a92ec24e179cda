"""Scans and order-free reductions against torch."""

import numpy as np
import pytest
import torch

import steepest as st
from tests.oracle import check

DTYPES = [np.float64, np.float32]


def _x(shape=(3, 4), seed=0, dtype=np.float64):
    return np.random.default_rng(seed).uniform(0.5, 2, shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp"])
def test_cumulative(name, dim, dtype):
    x = _x(dtype=dtype)
    check(lambda a: getattr(st, name)(a, dim), lambda a: getattr(torch, name)(a, dim), [x],
          second_order=True)


def test_cumprod_with_zeros():
    x = _x((2, 5))
    x[0, 1] = 0.0
    x[1, 2] = x[1, 4] = 0.0
    check(lambda a: st.cumprod(a, 1), lambda a: torch.cumprod(a, 1), [x], second_order=True)
    assert st.gradcheck(lambda a: st.cumprod(a, 1), [x])


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cum_extreme_with_ties(name):
    x = np.array([[1.0, 3.0, 3.0, 2.0, 5.0], [2.0, 2.0, 1.0, 1.0, 0.5]])
    for dim in (0, 1):
        check(lambda a, d=dim: getattr(st, name)(a, d).values,
              lambda a, d=dim: getattr(torch, name)(a, d).values, [x], second_order=True)
        ours, theirs = getattr(st, name)(st.tensor(x), dim), getattr(torch, name)(
            torch.tensor(x), dim)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_integer_scans_and_0d():
    i = np.array([[1, 2, 3], [4, 5, 6]])
    check(lambda a: st.cumsum(a, 1), lambda a: torch.cumsum(a, 1), [i], grad=False)
    check(lambda a: st.cumprod(a, 0), lambda a: torch.cumprod(a, 0), [i], grad=False)
    check(lambda a: st.cumsum(a, 0), lambda a: torch.cumsum(a, 0), [np.array(2.5)])
    with pytest.raises(IndexError, match="cumsum: dim 2 is out of range"):
        st.cumsum(st.tensor([1.0]), 2)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_amin_ties(name):
    x = np.array([[1.0, 4.0, 4.0], [2.0, -1.0, -1.0]])
    check(lambda a: getattr(st, name)(a, 1), lambda a: getattr(torch, name)(a, 1), [x])
    check(lambda a: getattr(st, name)(a, (0, 1), keepdim=True),
          lambda a: getattr(torch, name)(a, (0, 1), keepdim=True), [x])
    check(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), [x])


def test_count_nonzero_and_diff():
    x = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])
    check(st.count_nonzero, torch.count_nonzero, [x], grad=False)
    check(lambda a: st.count_nonzero(a, 1), lambda a: torch.count_nonzero(a, 1), [x],
          grad=False)
    check(lambda a: st.diff(a, dim=1), lambda a: torch.diff(a, dim=1), [x])
    check(lambda a: st.diff(a, n=2, dim=1), lambda a: torch.diff(a, n=2, dim=1), [x])
    p = np.ones((2, 1))
    check(lambda a: st.diff(a, dim=1, prepend=st.tensor(p)),
          lambda a: torch.diff(a, dim=1, prepend=torch.tensor(p)), [x])
