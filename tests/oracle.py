"""The PyTorch oracle: run the same NumPy inputs through steepest and torch, compare
forward values (shape, dtype, values) and gradients. One helper, used by every op test.

Devices: with ``STEEPEST_TEST_DEVICE=standin`` (the CPU stand-in for CuPy, see
``tests/standin.py``) or ``=cuda`` (a real GPU through CuPy) every ``check`` moves steepest's
inputs to that device, checks the outputs and gradients stay there, and compares them on the
host with torch's: the same oracle checks run on every device. ``check(..., device=...)``
overrides the variable for one call.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

import steepest as st

TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-5, atol=1e-5)}


def tol(dtype: Any) -> dict[str, float]:
    return TOL[np.dtype(dtype).type]


#: the device every check runs steepest on: None (the CPU), "standin" or "cuda"
DEVICE = os.environ.get("STEEPEST_TEST_DEVICE") or None


@contextlib.contextmanager
def on_device(device: str | None) -> Iterator[str | None]:
    """Make ``device`` usable for a block; yields the steepest device name (None: CPU).

    "standin" registers the CPU stand-in as the CUDA module; "cuda" needs CuPy and a GPU
    (the test is skipped without them)."""
    if device in (None, "cpu"):
        yield None
    elif device == "standin":
        from tests import standin

        if st.backend.is_device_array(standin.asarray(0.0)):  # already registered
            yield "cuda"
        else:
            with standin.installed():
                yield "cuda"
    elif device == "cuda":
        import pytest

        if not st.cuda.is_available():
            pytest.skip("needs CuPy and an NVIDIA GPU")
        yield "cuda"
    else:
        raise ValueError(f"STEEPEST_TEST_DEVICE: expected standin or cuda, got {device!r}")


def to_dev(x: Any, device: str | None) -> Any:
    """A host array (or Tensor) moved to ``device`` (unchanged for the CPU)."""
    if device is None:
        return x
    if isinstance(x, st.Tensor):
        return x.to(device)
    return st.backend.to_device(x, device)


def host(x: Any) -> Any:
    """A host NumPy array of a steepest Tensor or array on any device."""
    x = x.data if isinstance(x, st.Tensor) else x
    return st.backend.to_device(x, "cpu") if st.backend.is_device_array(x) else x


def _to_np(t: Any) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return np.asarray(host(t))


def _same_device(t: Any, device: str | None, what: str) -> None:
    if device is not None and isinstance(t, st.Tensor):
        assert t.device.type == st.device(device).type, f"{what}: on {t.device}, not {device}"


def compare(ours: Any, theirs: Any, what: str, rtol: float, atol: float) -> None:
    a, b = _to_np(ours), _to_np(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != torch {b.dtype}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def check(
    fn_st: Callable[..., st.Tensor],
    fn_torch: Callable[..., torch.Tensor],
    inputs: Sequence[np.ndarray],
    *,
    grad: bool = True,
    second_order: bool = False,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    device: str | None = "env",
) -> None:
    """Compare forward, gradients of sum(y * w), and optionally second derivatives.

    ``inputs`` are NumPy arrays; float arrays become tensors that require grad in both
    libraries, other arrays (integer labels, masks) are passed as constants. ``device``
    (default: ``STEEPEST_TEST_DEVICE``) runs steepest's side there; see the module docstring.
    """
    with on_device(DEVICE if device == "env" else device) as dev:
        _check(fn_st, fn_torch, inputs, grad, second_order, rtol, atol, seed, dev)


def _check(fn_st, fn_torch, inputs, grad, second_order, rtol, atol, seed, dev) -> None:
    dtype = next((x.dtype for x in inputs if x.dtype.kind == "f"), np.dtype(np.float32))
    t = tol(dtype)
    rtol = t["rtol"] if rtol is None else rtol
    atol = t["atol"] if atol is None else atol
    diff = [x.dtype.kind == "f" for x in inputs]
    xs = [st.Tensor(to_dev(x.copy(), dev), requires_grad=d and grad)
          for x, d in zip(inputs, diff)]
    ts = [torch.tensor(x.copy(), requires_grad=d and grad) for x, d in zip(inputs, diff)]
    y = fn_st(*xs)
    ty = fn_torch(*ts)
    compare(y, ty, "forward", rtol, atol)
    _same_device(y, dev, "forward")
    if not grad:
        return
    w = np.random.default_rng(seed).standard_normal(ty.shape).astype(dtype)
    wd = to_dev(w, dev)
    wx = [x for x, d in zip(xs, diff) if d]
    wt = [x for x, d in zip(ts, diff) if d]
    g_st = st.grad((y * wd).sum(), wx, create_graph=second_order, allow_unused=True)
    g_t = torch.autograd.grad((ty * torch.tensor(w)).sum(), wt, create_graph=second_order,
                              allow_unused=True)
    for i, (a, b) in enumerate(zip(g_st, g_t)):
        if b is None:
            assert a is None or np.all(host(a) == 0), f"grad {i}: torch has none"
            continue
        assert a is not None, f"grad {i}: steepest returned None"
        compare(a, b, f"grad of input {i}", rtol, atol)
        _same_device(a, dev, f"grad of input {i}")
    if not second_order:
        return
    v = [np.random.default_rng(seed + 1 + i).standard_normal(x.shape).astype(dtype)
         for i, x in enumerate(wx)]
    s_st = st.sum(st.stack([(g * to_dev(vi, dev)).sum() for g, vi in zip(g_st, v)
                            if g is not None]))
    s_t = torch.stack([(g * torch.tensor(vi)).sum() for g, vi in zip(g_t, v) if g is not None]
                      ).sum()
    if not s_t.requires_grad:
        return
    if not s_st.requires_grad:  # our derivative is constant: torch's must be zero
        for i, b in enumerate(torch.autograd.grad(s_t, wt, allow_unused=True)):
            assert b is None or not bool(b.abs().sum() > 0), f"hvp {i}: torch's is non-zero"
        return
    h_st = st.grad(s_st, wx, allow_unused=True)
    h_t = torch.autograd.grad(s_t, wt, allow_unused=True)
    for i, (a, b) in enumerate(zip(h_st, h_t)):
        if b is None:
            assert a is None or np.allclose(host(a), 0), f"hvp {i}: torch has none"
            continue
        if a is None:  # unused in our graph: torch's must be zero
            assert not bool(b.abs().sum() > 0), f"hvp {i}: steepest returned None"
            continue
        compare(a, b, f"second derivative (Hessian-vector product) of input {i}", rtol, atol)
