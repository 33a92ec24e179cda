"""The PyTorch oracle: run the same NumPy inputs through steepest and torch, compare
forward values (shape, dtype, values) and gradients. One helper, used by every op test."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

import steepest as st

TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=1e-5, atol=1e-5)}


def tol(dtype: Any) -> dict[str, float]:
    return TOL[np.dtype(dtype).type]


def _to_np(t: Any) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return np.asarray(t.data if isinstance(t, st.Tensor) else t)


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
) -> None:
    """Compare forward, gradients of sum(y * w), and optionally second derivatives.

    ``inputs`` are NumPy arrays; float arrays become tensors that require grad in both
    libraries, other arrays (integer labels, masks) are passed as constants.
    """
    dtype = next((x.dtype for x in inputs if x.dtype.kind == "f"), np.dtype(np.float32))
    t = tol(dtype)
    rtol = t["rtol"] if rtol is None else rtol
    atol = t["atol"] if atol is None else atol
    diff = [x.dtype.kind == "f" for x in inputs]
    xs = [st.Tensor(x.copy(), requires_grad=d and grad) for x, d in zip(inputs, diff)]
    ts = [torch.tensor(x.copy(), requires_grad=d and grad) for x, d in zip(inputs, diff)]
    y = fn_st(*xs)
    ty = fn_torch(*ts)
    compare(y, ty, "forward", rtol, atol)
    if not grad:
        return
    w = np.random.default_rng(seed).standard_normal(ty.shape).astype(dtype)
    wx = [x for x, d in zip(xs, diff) if d]
    wt = [x for x, d in zip(ts, diff) if d]
    g_st = st.grad((y * w).sum(), wx, create_graph=second_order, allow_unused=True)
    g_t = torch.autograd.grad((ty * torch.tensor(w)).sum(), wt, create_graph=second_order,
                              allow_unused=True)
    for i, (a, b) in enumerate(zip(g_st, g_t)):
        if b is None:
            assert a is None or np.all(a.data == 0), f"grad {i}: torch has none"
            continue
        assert a is not None, f"grad {i}: steepest returned None"
        compare(a, b, f"grad of input {i}", rtol, atol)
    if not second_order:
        return
    v = [np.random.default_rng(seed + 1 + i).standard_normal(x.shape).astype(dtype)
         for i, x in enumerate(wx)]
    s_st = st.sum(st.stack([(g * vi).sum() for g, vi in zip(g_st, v) if g is not None]))
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
            assert a is None or np.allclose(a.data, 0), f"hvp {i}: torch has none"
            continue
        if a is None:  # unused in our graph: torch's must be zero
            assert not bool(b.abs().sum() > 0), f"hvp {i}: steepest returned None"
            continue
        compare(a, b, f"second derivative (Hessian-vector product) of input {i}", rtol, atol)
