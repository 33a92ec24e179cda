"""Sorting and order statistics against torch."""

import numpy as np
import pytest
import torch

import steepest as st
from tests.oracle import check

DTYPES = [np.float64, np.float32]


def _x(shape=(3, 5), seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(descending, dim, dtype):
    x = _x(dtype=dtype)
    check(lambda a: st.sort(a, dim, descending).values,
          lambda a: torch.sort(a, dim, descending).values, [x], second_order=True)
    check(lambda a: st.sort(a, dim, descending)[1], lambda a: torch.sort(a, dim,
                                                                          descending)[1],
          [x], grad=False)
    check(lambda a: a.argsort(dim, descending), lambda a: a.argsort(dim, descending), [x],
          grad=False)


def test_sort_ties_are_stable():
    x = np.array([[2.0, 1.0, 2.0, 1.0, 3.0, 2.0]])
    for desc in (False, True):
        check(lambda a, d=desc: st.sort(a, descending=d, stable=True).indices,
              lambda a, d=desc: torch.sort(a, descending=d, stable=True).indices, [x],
              grad=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("largest", [True, False])
def test_topk(largest, dtype):
    x = _x(dtype=dtype)
    check(lambda a: st.topk(a, 3, largest=largest).values,
          lambda a: torch.topk(a, 3, largest=largest).values, [x], second_order=True)
    check(lambda a: a.topk(2, 0, largest)[1], lambda a: a.topk(2, 0, largest)[1], [x],
          grad=False)


@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue_median(keepdim):
    x = _x((4, 5))
    check(lambda a: st.kthvalue(a, 2, 1, keepdim).values,
          lambda a: torch.kthvalue(a, 2, 1, keepdim).values, [x])
    check(lambda a: a.kthvalue(3, 0, keepdim)[1], lambda a: a.kthvalue(3, 0, keepdim)[1], [x],
          grad=False)
    check(lambda a: st.median(a, 0, keepdim).values, lambda a: torch.median(a, 0,
                                                                            keepdim).values,
          [x])  # even count: the lower median, as torch
    check(lambda a: a.median(1, keepdim)[1], lambda a: a.median(1, keepdim)[1], [x],
          grad=False)
    check(st.median, torch.median, [x])
    check(st.msort, torch.msort, [x])


def test_unique():
    x = np.array([[3, 1, 2], [3, 3, 0]])
    u, inv, cnt = st.unique(st.tensor(x), return_inverse=True, return_counts=True)
    tu, tinv, tcnt = torch.unique(torch.tensor(x), return_inverse=True, return_counts=True)
    for a, b in ((u, tu), (inv, tinv), (cnt, tcnt)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.numpy().dtype == b.numpy().dtype
    ud = st.unique(st.tensor(x), dim=1)
    np.testing.assert_array_equal(ud.numpy(), torch.unique(torch.tensor(x), dim=1).numpy())
    v = np.array([1, 1, 2, 2, 3, 1, 1])
    ours = st.unique_consecutive(st.tensor(v), return_inverse=True, return_counts=True)
    theirs = torch.unique_consecutive(torch.tensor(v), return_inverse=True, return_counts=True)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_sort_errors_and_gradcheck():
    with pytest.raises(ValueError, match="topk: k=6"):
        st.topk(st.tensor(_x()), 6)
    with pytest.raises(ValueError, match="kthvalue: k=0"):
        st.kthvalue(st.tensor(_x()), 0)
    assert st.gradcheck(lambda a: st.sort(a, 1).values * st.arange(5.0).double(), [_x()])
    assert st.gradcheck(lambda a: st.topk(a, 2).values, [_x()])
