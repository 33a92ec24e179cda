"""Empty dims, 0-d tensors and float32 discipline across the vocabulary."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import steepest as st
import steepest.functional as F
from tests.oracle import check

E = np.zeros((0, 3))
S = np.array(1.5)

CASES = {
    "cumsum_empty": ([E], lambda a: st.cumsum(a, 0), lambda a: torch.cumsum(a, 0)),
    "cumprod_empty": ([E], lambda a: st.cumprod(a, 1), lambda a: torch.cumprod(a, 1)),
    "cumsum_0d": ([S], lambda a: st.cumsum(a, 0), lambda a: torch.cumsum(a, 0)),
    "sin_0d": ([S], st.sin, torch.sin),
    "sin_empty": ([E], st.sin, torch.sin),
    "gather_empty": ([np.ones((2, 3))], lambda a: st.gather(a, 1, np.zeros((2, 0), int)),
                     lambda a: torch.gather(a, 1, torch.zeros((2, 0), dtype=torch.long))),
    "sort_empty": ([E], lambda a: st.sort(a, 0).values, lambda a: torch.sort(a, 0).values),
    "flip_empty": ([E], lambda a: st.flip(a, 0), lambda a: torch.flip(a, (0,))),
    "pad_empty": ([E], lambda a: F.pad(a, (1, 1)), lambda a: tF.pad(a, (1, 1))),
    "einsum_empty": ([E, np.ones((3, 2))], lambda a, b: st.einsum("ij,jk->ik", a, b),
                     lambda a, b: torch.einsum("ij,jk->ik", a, b)),
    "index_select_empty": ([np.ones((2, 3))], lambda a: st.index_select(a, 0, np.zeros(0, int)),
                           lambda a: torch.index_select(a, 0, torch.zeros(0, dtype=torch.long))),
    "masked_select_none": ([np.ones((2, 3))], lambda a: st.masked_select(a, np.zeros((2, 3),
                                                                                    bool)),
                           lambda a: torch.masked_select(a, torch.zeros((2, 3), dtype=bool))),
    "softsign_0d": ([S], F.softsign, tF.softsign),
    "norm_empty": ([E], lambda a: st.linalg.vector_norm(a), torch.linalg.vector_norm),
    "repeat_0d": ([S], lambda a: a.repeat(2, 3), lambda a: a.repeat(2, 3)),
    "diff_empty": ([E], lambda a: st.diff(a, dim=0), lambda a: torch.diff(a, dim=0)),
    "layer_norm_empty_batch": ([np.zeros((0, 4))], lambda a: F.layer_norm(a, (4,)),
                               lambda a: tF.layer_norm(a, (4,))),
    "cross_entropy_all_ignored_sum": ([np.ones((2, 3))], lambda a: F.cross_entropy(
        a, np.array([-100, -100]), reduction="sum"), lambda a: tF.cross_entropy(
        a, torch.tensor([-100, -100]), reduction="sum")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_edges(name):
    inputs, ours, theirs = CASES[name]
    check(ours, theirs, [x.astype(np.float64) if x.dtype.kind == "f" else x for x in inputs])


def test_float32_stays_float32():
    x = st.tensor(np.random.default_rng(0).uniform(0.1, 0.9, (3, 4)).astype(np.float32),
                  requires_grad=True)
    outs = [st.sin(x), st.logit(x), st.cumprod(x, 1), st.lerp(x, x * 2, 0.3), F.selu(x),
            st.linalg.vector_norm(x, 3), F.layer_norm(x, (4,)), st.einsum("ij,ij->i", x, x),
            st.cdist(x, x), F.kl_div(x, x, reduction="batchmean"), st.logaddexp(x, 1.0 - x),
            F.pad(x, (1, 1), "reflect"), st.det(x[:, :3] + st.eye(3)), st.topk(x, 2).values]
    for y in outs:
        assert y.dtype == np.float32, y
        g = st.grad(y.sum(), [x], create_graph=True)[0]
        assert g.dtype == np.float32
