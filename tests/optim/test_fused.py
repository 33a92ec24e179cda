"""The optional numba kernels give the NumPy path's numbers, bit for bit.

Together with the torch comparisons (which run on whichever path is active) this checks
both paths. Skipped when numba is not installed.
"""

import numpy as np
import pytest

import steepest as st
from steepest import optim
from steepest.optim import _fused

pytestmark = pytest.mark.skipif(not _fused.AVAILABLE, reason="numba is not installed")

ADAM_OPTIONS = [dict(), dict(weight_decay=0.1), dict(weight_decay=0.1, maximize=True),
                dict(maximize=True), dict(betas=(0.5, 0.9), eps=1e-3)]
SGD_OPTIONS = [dict(), dict(momentum=0.9), dict(momentum=0.9, nesterov=True),
               dict(momentum=0.9, dampening=0.3, weight_decay=0.1),
               dict(momentum=0.5, maximize=True, weight_decay=0.01), dict(maximize=True)]
CASES = ([(optim.Adam, kw) for kw in ADAM_OPTIONS] + [(optim.AdamW, kw) for kw in ADAM_OPTIONS]
         + [(optim.SGD, kw) for kw in SGD_OPTIONS])


def _run(cls, kw, p0, grads, fused, monkeypatch):
    monkeypatch.setattr(_fused, "AVAILABLE", fused)
    p = st.Tensor(p0.copy(), requires_grad=True)
    opt = cls([p], lr=1e-2, **kw)
    for g in grads:
        p.grad = st.Tensor(g)
        opt.step()
    return p.data, opt.state_dict()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7,), (300, 250)])  # NumPy path and the kernel
@pytest.mark.parametrize("cls,kw", CASES)
def test_fused_equals_numpy_bit_for_bit(cls, kw, shape, dtype, monkeypatch):
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(shape).astype(dtype)
    grads = [rng.standard_normal(shape).astype(dtype) for _ in range(6)]
    a, sa = _run(cls, kw, p0, grads, True, monkeypatch)
    b, sb = _run(cls, kw, p0, grads, False, monkeypatch)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == dtype
    assert sa["state"].keys() == sb["state"].keys()
    for key, value in sa["state"].get(0, {}).items():
        np.testing.assert_array_equal(value, sb["state"][0][key], err_msg=key)


def test_non_contiguous_gradient_takes_the_numpy_path(monkeypatch):
    p = st.Tensor(np.ones((4, 3), np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = st.Tensor(np.asfortranarray(np.arange(1, 13, dtype=np.float32).reshape(4, 3)))
    assert not _fused.adam_step(p.data, p.grad.data, np.zeros_like(p.data),
                                np.zeros_like(p.data), lr=0.1, b1=0.9, b2=0.999, eps=1e-8,
                                wd=0.0, decoupled=False, maximize=False, step_size=1.0,
                                bc2_sqrt=1.0)
    opt.step()
    assert np.all(p.data < 1)
