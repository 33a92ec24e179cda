"""Linear algebra against torch (det/inv/solve in float64 on well-conditioned matrices)."""

import math

import numpy as np
import pytest
import torch

import steepest as st
from tests.oracle import check

DTYPES = [np.float64, np.float32]


def _x(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _spd(n, batch=(), seed=0):
    a = _x((*batch, n, n), seed)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("dtype", DTYPES)
def test_products(dtype):
    a, b = _x((3, 4), dtype=dtype), _x((4, 2), 1, dtype=dtype)
    check(st.mm, torch.mm, [a, b], second_order=True)
    check(st.bmm, torch.bmm, [_x((2, 3, 4), dtype=dtype), _x((2, 4, 5), 1, dtype=dtype)])
    check(st.mv, torch.mv, [a, _x((4,), 2, dtype=dtype)])
    check(st.dot, torch.dot, [_x((4,), dtype=dtype), _x((4,), 1, dtype=dtype)])
    check(st.outer, torch.outer, [_x((3,), dtype=dtype), _x((4,), 1, dtype=dtype)],
          second_order=True)
    with pytest.raises(ValueError, match="mm: expected 2-D and 2-D"):
        st.mm(st.tensor(_x((3,))), st.tensor(b))


EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ij->", [(3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 2)]),
    ("ij,ij->i", [(3, 4), (3, 4)]),
    ("ijk,k->ij", [(2, 3, 4), (4,)]),
    ("i,i,i->", [(5,), (5,), (5,)]),
    ("ij,k->ijk", [(2, 3), (4,)]),
    ("iij->ij", [(3, 3, 2)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum(eq, shapes, dtype):
    xs = [_x(s, i, dtype) for i, s in enumerate(shapes)]
    check(lambda *a: st.einsum(eq, *a), lambda *a: torch.einsum(eq, *a), xs,
          second_order=True)


def test_trace_det_inv_solve():
    a = _spd(3)
    check(st.trace, torch.trace, [_x((3, 3))], second_order=True)
    check(st.det, torch.det, [a], second_order=True)
    check(st.linalg.det, torch.linalg.det, [_spd(3, (2,))], second_order=True)
    check(st.inv, torch.inverse, [a], second_order=True)
    check(st.linalg.inv, torch.linalg.inv, [_spd(3, (2,))], second_order=True)
    check(st.linalg.solve, torch.linalg.solve, [a, _x((3, 2), 1)], second_order=True)
    check(st.linalg.solve, torch.linalg.solve, [a, _x((3,), 1)], second_order=True)
    check(st.linalg.solve, torch.linalg.solve, [_spd(3, (2,)), _x((2, 3), 1)])
    check(lambda m: m.det(), lambda m: m.det(), [_x((3, 3))])
    assert st.gradcheck(st.det, [a]) and st.gradcheck(st.inv, [a])
    assert st.gradcheck(st.linalg.solve, [a, _x((3, 2), 1)])
    with pytest.raises(ValueError, match="inv: input must be a"):
        st.inv(st.tensor(_x((2, 3))))
    with pytest.raises(ValueError, match="singular"):
        st.inv(st.tensor(np.zeros((2, 2))))


NORMS = [2, 1, math.inf, -math.inf, 0, 3, 0.5]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ord", NORMS, ids=str)
def test_vector_norm(ord, dtype):
    x = _x((3, 4), dtype=dtype)
    x[0, 1] = x[0, 2]  # a tie for the inf norms
    so = ord not in (math.inf, -math.inf, 0, 1)
    check(lambda a: st.linalg.vector_norm(a, ord), lambda a: torch.linalg.vector_norm(a, ord),
          [x], second_order=so)
    check(lambda a: st.linalg.vector_norm(a, ord, 1, True),
          lambda a: torch.linalg.vector_norm(a, ord, 1, True), [x], second_order=so)


def test_norm_at_zero_and_matrix_norms():
    z = np.zeros((2, 3))
    z[1] = [1.0, -2.0, 2.0]
    check(lambda a: st.linalg.vector_norm(a, dim=1), lambda a: torch.linalg.vector_norm(
        a, dim=1), [z])  # zero gradient at a zero norm, as torch
    x = _x((3, 4))
    for ord in ("fro", 1, -1, math.inf, -math.inf):
        check(lambda a, o=ord: st.linalg.matrix_norm(a, o),
              lambda a, o=ord: torch.linalg.matrix_norm(a, o), [x])
    check(st.linalg.norm, torch.linalg.norm, [x])
    check(lambda a: st.linalg.norm(a, 1, 0), lambda a: torch.linalg.norm(a, 1, 0), [x])
    check(lambda a: st.linalg.norm(a, "fro"), lambda a: torch.linalg.norm(a, "fro"), [x])


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
def test_cdist(p):
    a, b = _x((4, 3)), _x((5, 3), 1)
    check(lambda x, y: st.cdist(x, y, p), lambda x, y: torch.cdist(x, y, p), [a, b])
    check(lambda x, y: st.cdist(x, y, p), lambda x, y: torch.cdist(x, y, p),
          [_x((2, 4, 3)), _x((2, 5, 3), 1)])


def test_tensordot_addmm():
    a, b = _x((2, 3, 4)), _x((3, 4, 5), 1)
    check(lambda x, y: st.tensordot(x, y), lambda x, y: torch.tensordot(x, y), [a, b],
          second_order=True)
    check(lambda x, y: st.tensordot(x, y, ([1], [0])),
          lambda x, y: torch.tensordot(x, y, ([1], [0])), [a, b])
    m, p, q = _x((3, 5)), _x((3, 4), 1), _x((4, 5), 2)
    check(lambda i, x, y: st.addmm(i, x, y, beta=0.5, alpha=2.0),
          lambda i, x, y: torch.addmm(i, x, y, beta=0.5, alpha=2.0), [m, p, q])
