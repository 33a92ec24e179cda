"""The less common torch names: sinc, copysign, nansum, rot90, kron, cross, block_diag,
take, searchsorted, bucketize, bincount, slogdet/logdet, matrix_power, baddbmm, addmv."""

import numpy as np
import pytest
import torch

import steepest as st
from tests.oracle import check


def _x(shape, seed=0, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def _spd(n, batch=(), seed=0):
    a = np.random.default_rng(seed).standard_normal((*batch, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


PAIRS = {
    "sinc": ([_x((3, 4))], st.sinc, torch.sinc, True),
    "sinc_zero": ([np.array([0.0, 0.5, -1.0])], st.sinc, torch.sinc, False),
    "copysign": ([_x((3, 4)), _x((3, 4), 1)], st.copysign, torch.copysign, False),
    "deg2rad": ([_x((3,))], st.deg2rad, torch.deg2rad, False),
    "rad2deg": ([_x((3,))], st.rad2deg, torch.rad2deg, False),
    "erfc": ([_x((3,))], st.erfc, torch.erfc, True),
    "rot90": ([_x((2, 3, 4))], lambda a: st.rot90(a, 1, (1, 2)),
              lambda a: torch.rot90(a, 1, (1, 2)), False),
    "rot90_k3": ([_x((2, 3))], lambda a: st.rot90(a, -1), lambda a: torch.rot90(a, -1), False),
    "rot90_k2": ([_x((2, 3))], lambda a: st.rot90(a, 2), lambda a: torch.rot90(a, 2), False),
    "kron": ([_x((2, 3)), _x((3, 2), 1)], st.kron, torch.kron, True),
    "kron_nd": ([_x((2,)), _x((2, 3), 1)], st.kron, torch.kron, False),
    "cross": ([_x((4, 3)), _x((4, 3), 1)], st.cross, lambda a, b: torch.cross(a, b, dim=1),
              True),
    "cross_dim0": ([_x((3, 2)), _x((3, 2), 1)], lambda a, b: st.linalg.cross(a, b, dim=0),
                   lambda a, b: torch.linalg.cross(a, b, dim=0), False),
    "block_diag": ([_x((2, 2)), _x((1, 3), 1), _x((2,), 2)], st.block_diag, torch.block_diag,
                   False),
    "take": ([_x((3, 4))], lambda a: st.take(a, np.array([[0, 11], [5, 5]])),
             lambda a: torch.take(a, torch.tensor([[0, 11], [5, 5]])), False),
    "column_stack": ([_x((3,)), _x((3, 2), 1)], lambda a, b: st.column_stack([a, b]),
                     lambda a, b: torch.column_stack([a, b]), False),
    "dstack": ([_x((2, 3)), _x((2, 3), 1)], lambda a, b: st.dstack([a, b]),
               lambda a, b: torch.dstack([a, b]), False),
    "atleast_3d": ([_x((3,))], st.atleast_3d, torch.atleast_3d, False),
    "slogdet": ([_spd(3)], lambda a: st.slogdet(a)[1], lambda a: torch.slogdet(a)[1], True),
    "logdet": ([_spd(3, (2,))], st.logdet, torch.logdet, True),
    "matrix_power": ([_x((3, 3))], lambda a: st.linalg.matrix_power(a, 3),
                     lambda a: torch.linalg.matrix_power(a, 3), True),
    "matrix_power_neg": ([_spd(3)], lambda a: st.linalg.matrix_power(a, -2),
                         lambda a: torch.linalg.matrix_power(a, -2), False),
    "matrix_power_0": ([_x((3, 3))], lambda a: st.linalg.matrix_power(a, 0) + a,
                       lambda a: torch.linalg.matrix_power(a, 0) + a, False),
    "baddbmm": ([_x((2, 3, 2)), _x((2, 3, 4), 1), _x((2, 4, 2), 2)],
                lambda i, a, b: st.baddbmm(i, a, b, beta=0.5, alpha=3.0),
                lambda i, a, b: torch.baddbmm(i, a, b, beta=0.5, alpha=3.0), False),
    "addmv": ([_x((3,)), _x((3, 4), 1), _x((4,), 2)], st.addmv, torch.addmv, False),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_pairs(name, dtype):
    inputs, ours, theirs, second = PAIRS[name]
    check(ours, theirs, [x.astype(dtype) for x in inputs],
          second_order=second and dtype == np.float64)


def test_nan_reductions_and_constants():
    x = _x((3, 4))
    x[0, 1] = x[2, 2] = np.nan
    check(st.nansum, torch.nansum, [x])
    check(lambda a: st.nansum(a, 1), lambda a: torch.nansum(a, 1), [x])
    check(lambda a: st.nanmean(a, 0, True), lambda a: torch.nanmean(a, 0, True), [x])
    v = np.array([-1.0, 0.0, -0.0, 2.0])
    check(st.signbit, torch.signbit, [v], grad=False)
    check(lambda a: st.heaviside(a, np.array(0.5)),
          lambda a: torch.heaviside(a, torch.tensor(0.5, dtype=torch.float64)), [v],
          grad=False)


def test_search_and_counts():
    seq = np.array([1.0, 3.0, 3.0, 7.0])
    vals = np.array([[0.0, 3.0], [7.0, 9.0]])
    for right in (False, True):
        check(lambda v, r=right: st.searchsorted(seq, v, right=r),
              lambda v, r=right: torch.searchsorted(torch.tensor(seq), v, right=r), [vals],
              grad=False)
        check(lambda v, r=right: st.bucketize(v, seq, right=r),
              lambda v, r=right: torch.bucketize(v, torch.tensor(seq), right=r), [vals],
              grad=False)
    rows = np.array([[1.0, 2.0, 5.0], [0.0, 4.0, 4.0]])
    check(lambda v: st.searchsorted(rows, v), lambda v: torch.searchsorted(
        torch.tensor(rows), v), [np.array([[2.0, 6.0], [4.0, -1.0]])], grad=False)
    i = np.array([0, 3, 3, 1])
    check(lambda a: st.bincount(a, minlength=6), lambda a: torch.bincount(a, minlength=6), [i],
          grad=False)
    w = np.array([0.5, 1.0, 2.0, 0.25])
    out, ref = st.bincount(st.tensor(i), st.tensor(w)), torch.bincount(torch.tensor(i),
                                                                       torch.tensor(w))
    np.testing.assert_allclose(out.numpy(), ref.numpy())
    assert out.dtype == ref.numpy().dtype


METHODS = {  # method: (args for steepest, args for torch, input)
    "logit": ((), (), _x((3, 4), 0, 0.1, 0.9)), "xlogy": ((2.0,), (2.0,), _x((3,))),
    "nan_to_num": ((), (), np.array([np.nan, 1.0])), "nansum": ((0,), (0,), _x((3, 4))),
    "nanmean": ((1,), (1,), _x((3, 4))), "copysign": ((-1.0,), (-1.0,), _x((3,))),
    "sinc": ((), (), _x((3,))), "sgn": ((), (), _x((3,))), "deg2rad": ((), (), _x((3,))),
    "rad2deg": ((), (), _x((3,))), "rot90": ((1, (0, 1)), (1, (0, 1)), _x((2, 3))),
    "unbind": ((1,), (1,), _x((2, 3))), "logdet": ((), (), _spd(3)),
    "matrix_power": ((2,), (2,), _x((3, 3))),
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_more_methods(name):
    a_st, a_t, x = METHODS[name]
    if name == "unbind":
        check(lambda a: st.stack(a.unbind(1)), lambda a: torch.stack(a.unbind(1)), [x])
        return
    if name == "xlogy":
        x = np.abs(x) + 0.1
    check(lambda a: getattr(a, name)(*a_st), lambda a: getattr(a, name)(*a_t), [x])
    m = _x((2, 3))
    check(lambda a: a.kron(st.ones(2, 2, dtype="float64")),
          lambda a: a.kron(torch.ones(2, 2, dtype=torch.float64)), [m])
    check(lambda a: a.take(np.array([0, 5])), lambda a: a.take(torch.tensor([0, 5])), [m])
