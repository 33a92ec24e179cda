"""Run steepest and torch optimisers side by side on the same parameters and gradients."""

from __future__ import annotations

import copy

import numpy as np
import torch

import steepest as st
import steepest.optim as so

SHAPES = [(4, 3), (7,), (2, 3, 2), ()]

# (steepest class, torch factory, option sets)
CASES: dict[str, tuple] = {
    "SGD": (so.SGD, torch.optim.SGD, [
        dict(lr=0.1),
        dict(lr=0.1, momentum=0.9),
        dict(lr=0.1, momentum=0.9, dampening=0.5),
        dict(lr=0.1, momentum=0.9, nesterov=True),
        dict(lr=0.1, weight_decay=0.1),
        dict(lr=0.1, maximize=True),
        dict(lr=0.05, momentum=0.8, weight_decay=0.1, maximize=True),
        dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True, maximize=True),
        dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01),
    ]),
    "Adam": (so.Adam, torch.optim.Adam, [
        dict(lr=0.01),
        dict(lr=0.01, amsgrad=True),
        dict(lr=0.01, weight_decay=0.1),
        dict(lr=0.01, maximize=True),
        dict(lr=0.01, betas=(0.3, 0.6), eps=1e-3),
        dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True),
        dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    ]),
    "AdamW": (so.AdamW, torch.optim.AdamW, [
        dict(lr=0.01),
        dict(lr=0.01, weight_decay=0.1, amsgrad=True),
        dict(lr=0.01, weight_decay=0.1, maximize=True),
    ]),
    "NAdam": (so.NAdam, torch.optim.NAdam, [
        dict(lr=0.01),
        dict(lr=0.01, weight_decay=0.1),
        dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
        dict(lr=0.01, momentum_decay=0.01, betas=(0.8, 0.99), maximize=True),
    ]),
    "Adagrad": (so.Adagrad, torch.optim.Adagrad, [
        dict(lr=0.1),
        dict(lr=0.1, lr_decay=0.01),
        dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.1),
        dict(lr=0.1, eps=1e-3, maximize=True),
    ]),
    "RMSprop": (so.RMSprop, torch.optim.RMSprop, [
        dict(lr=0.01),
        dict(lr=0.01, centered=True),
        dict(lr=0.01, momentum=0.9),
        dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1),
        dict(lr=0.01, eps=1e-3, maximize=True),
    ]),
    "Adadelta": (so.Adadelta, torch.optim.Adadelta, [
        dict(lr=1.0),
        dict(lr=0.5, rho=0.5, weight_decay=0.1),
        dict(lr=1.0, eps=1e-4, maximize=True),
    ]),
}


def all_cases() -> list[tuple[str, int]]:
    return [(name, i) for name, (_, _, opts) in CASES.items() for i in range(len(opts))]


def case_id(c: tuple[str, int]) -> str:
    name, i = c
    opts = CASES[name][2][i]
    return name + "-" + ",".join(f"{k}={v}" for k, v in opts.items())


def make_params(seed: int = 0, dtype=np.float64, shapes=SHAPES) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.standard_normal(s)).astype(dtype) for s in shapes]


def grad_sequence(n: int, seed: int = 1, dtype=np.float64, shapes=SHAPES) -> list[list]:
    rng = np.random.default_rng(seed)
    return [[np.asarray(rng.standard_normal(s)).astype(dtype) for s in shapes]
            for _ in range(n)]


def st_params(arrays) -> list[st.Tensor]:
    return [st.Tensor(a.copy(), requires_grad=True) for a in arrays]


def torch_params(arrays) -> list[torch.Tensor]:
    return [torch.tensor(a.copy(), requires_grad=True) for a in arrays]


def set_grads(sp, tp, grads) -> None:
    for p, q, g in zip(sp, tp, grads):
        p.grad = st.Tensor(g.copy())
        q.grad = torch.tensor(g.copy())


def assert_close(sp, tp, what: str, rtol: float = 1e-10, atol: float = 1e-10) -> None:
    for i, (p, q) in enumerate(zip(sp, tp)):
        a, b = p.data, q.detach().numpy()
        assert a.dtype == b.dtype, f"{what}: param {i} dtype {a.dtype} != torch {b.dtype}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{what}: param {i}")


def plain_copy(sd: dict) -> dict:
    """A deep copy made of plain containers (what a file round trip gives back)."""
    return copy.deepcopy(sd)
