"""The eager fast paths (scalar constants, clip's mask, the full sum, the lean backward walk)
compute exactly what the general paths and PyTorch compute."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
from tests.oracle import check

SCALARS = [1.5, 0.1, 1 / 3, 3, -7, 2**40 + 1, 1e38, -0.0, float("inf")]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("op", ["mul", "rmul", "div", "add", "sub"])
def test_python_scalar_ops_are_numpys_bit_for_bit(dtype, op):
    x = (np.random.default_rng(0).standard_normal(64) * 10).astype(dtype)
    fns = {"mul": lambda a, c: a * c, "rmul": lambda a, c: c * a, "div": lambda a, c: a / c,
           "add": lambda a, c: a + c, "sub": lambda a, c: a - c}
    with np.errstate(all="ignore"):
        for c in SCALARS:
            t = st.tensor(x, requires_grad=True)
            y = fns[op](t, c)
            want = fns[op](x, c)
            assert y.dtype == dtype
            np.testing.assert_array_equal(y.numpy(), want)
            y.backward(st.tensor(np.ones_like(x)))
            gwant = {"mul": np.ones_like(x) * c, "rmul": np.ones_like(x) * c,
                     "div": np.ones_like(x) / c}.get(op, np.ones_like(x))
            np.testing.assert_array_equal(t.grad.numpy(), gwant)
            assert t.grad.dtype == dtype


def test_scalar_ops_on_integer_tensors_keep_torchs_dtypes():
    i = st.tensor(np.array([1, 2, 3], np.int64))
    assert (i * 2).dtype == np.int64 and (i + 1).dtype == np.int64
    assert (i * 1.5).dtype == np.float32 and (i / 2).dtype == np.float32
    np.testing.assert_array_equal((i * 1.5).numpy(), np.array([1.5, 3.0, 4.5], np.float32))


def test_scalar_ops_second_order():
    x = np.random.default_rng(1).standard_normal((3, 4)) + 3.0
    check(lambda t: ((t * 1.5) / 3.0 + 0.5).sqrt() * t,
          lambda t: ((t * 1.5) / 3.0 + 0.5).sqrt() * t, [x], second_order=True)


@pytest.mark.parametrize("bounds", [(0.0, 1.0), (None, 0.5), (-0.5, None), (0.25, 0.25)])
def test_clip_gradient_at_bounds_nan_and_inf_is_torchs(bounds):
    lo, hi = bounds
    vals = [np.nan, np.inf, -np.inf, 0.0, 1.0, 0.5, -0.5, 0.25, 0.3, 2.0, -2.0]
    x = np.array(vals, np.float32)
    t = st.tensor(x, requires_grad=True)
    y = t.clip(lo, hi)
    y.backward(st.tensor(np.ones_like(x)))
    tt = torch.tensor(x, requires_grad=True)
    yt = tt.clamp(lo, hi)
    yt.backward(torch.ones_like(tt))
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(t.grad.numpy(), tt.grad.numpy())


def test_clip_of_integer_tensor_keeps_its_dtype():
    i = st.tensor(np.array([-3, 0, 5], np.int32))
    assert i.clip(-1, 2).dtype == np.int32
    np.testing.assert_array_equal(i.clip(-1, 2).numpy(), [-1, 0, 2])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (1000,), (3, 4), (64, 130)])
def test_full_sum_is_numpys_and_a_0d_tensor(dtype, shape):
    x = (np.random.default_rng(2).standard_normal(shape) * 10).astype(dtype)
    for a in (x, x.T):  # Tensor(a) shares a's memory: x.T stays a transposed view
        t = st.Tensor(a, requires_grad=True)
        s = t.sum()
        assert s.shape == () and s.dtype == dtype
        np.testing.assert_array_equal(s.numpy(), np.asarray(a.sum()))
        s.backward()
        np.testing.assert_array_equal(t.grad.numpy(), np.ones_like(a))
        assert t.grad.numpy().flags.writeable


def test_chain_backward_matches_torch_and_frees_the_graph():
    x = np.random.default_rng(3).random(8)

    def chain(t, lib):
        y = (t * 1.5 + 0.5).exp()
        y = (y * y - 1.0) / 3.0
        y = y.clip(0.0, 10.0) if lib is st else y.clamp(0.0, 10.0)
        return (y * 2.0).sqrt().sum()

    check(lambda t: chain(t, st), lambda t: chain(t, torch), [x], second_order=True)
    t = st.tensor(x, requires_grad=True)
    y = chain(t, st)
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_failing_backward_frees_only_the_nodes_that_ran():
    class Boom(st.autograd.Function):
        def forward(self, x):
            return x * 2.0

        def backward(self, gy, y, x):
            raise ValueError("boom")

    t = st.tensor(np.ones(3, np.float32), requires_grad=True)
    b = Boom()(t)
    y = b.sum()
    with pytest.raises(ValueError, match="boom"):
        y.backward()
    assert y.creator.inputs is None  # the sum ran: freed
    assert b.creator.inputs == (t,)  # the failing node did not
