"""steepest.gradcheck (central differences) over the vocabulary's differentiable ops."""

import numpy as np
import pytest

import steepest as st
import steepest.functional as F


def _x(shape=(3, 4), seed=0, lo=0.2, hi=0.8):
    return np.random.default_rng(seed).uniform(lo, hi, shape)


IDX = np.array([[0, 2, 1, 0], [1, 1, 0, 2]])
OPS = {
    "tan": (st.tan, 1), "acos": (st.acos, 1), "acosh": (lambda a: st.acosh(a + 1.5), 1),
    "sinh": (st.sinh, 1), "exp2": (st.exp2, 1), "log10": (st.log10, 1),
    "reciprocal": (st.reciprocal, 1), "fmod": (lambda a, b: st.fmod(a * 3, b), 2),
    "remainder": (lambda a, b: st.remainder(a * 3, b), 2), "lerp": (st.lerp, 3),
    "clamp_t": (lambda a, b: st.clamp(a, b * 0.5, b + 0.3), 2), "xlogy": (st.xlogy, 2),
    "logit": (st.logit, 1), "sinc": (st.sinc, 1), "copysign": (st.copysign, 2),
    "cumsum": (lambda a: st.cumsum(a, 1), 1), "cumprod": (lambda a: st.cumprod(a, 0), 1),
    "logcumsumexp": (lambda a: st.logcumsumexp(a, 1), 1),
    "cummax": (lambda a: st.cummax(a, 1).values, 1), "amin": (lambda a: st.amin(a, 0), 1),
    "gather": (lambda a: st.gather(a, 0, IDX[:, :3]), 1),
    "scatter": (lambda a, s: st.scatter(a, 0, np.array([[0, 1, 2, 0]]), s[:1]), 2),
    "index_add": (lambda a, s: st.index_add(a, 0, np.array([2, 2, 0]), s), 2),
    "masked_fill": (lambda a: st.masked_fill(a, a > 0.5, 1.0), 1),
    "take_along_dim": (lambda a: st.take_along_dim(a, IDX, 0), 1),
    "pad_replicate": (lambda a: F.pad(a, (2, 1), "replicate"), 1),
    "pad_circular": (lambda a: F.pad(a, (1, 2), "circular"), 1),
    "tril": (lambda a: st.tril(a, 1), 1), "diagonal": (lambda a: st.diagonal(a, 1), 1),
    "kron": (st.kron, 2), "cross": (lambda a, b: st.cross(a[:, :3], b[:, :3]), 2),
    "rot90": (lambda a: st.rot90(a), 1), "tile": (lambda a: st.tile(a, (2, 1)), 1),
    "kthvalue": (lambda a: st.kthvalue(a, 2, 1).values, 1),
    "median": (lambda a: st.median(a, 0).values, 1),
    "einsum": (lambda a, b: st.einsum("ij,kj->ik", a, b), 2),
    "einsum_diag": (lambda a: st.einsum("ii->i", a[:, :3]), 1),
    "slogdet": (lambda a: st.slogdet(a[:, :3] + st.eye(3, dtype="float64"))[1], 1),
    "vector_norm3": (lambda a: st.linalg.vector_norm(a - 0.5, 3, 1), 1),
    "cdist": (lambda a, b: st.cdist(a, b), 2),
    "silu": (F.silu, 1), "mish": (F.mish, 1), "selu": (lambda a: F.selu(a - 0.5), 1),
    "softsign": (F.softsign, 1), "logsigmoid": (F.logsigmoid, 1),
    "glu": (lambda a: F.glu(a, 1), 1), "normalize": (F.normalize, 1),
    "layer_norm": (lambda a, w: F.layer_norm(a, (4,), w[0], w[1]), 2),
    "group_norm": (lambda a, w: F.group_norm(a.reshape(1, 4, 3), 2, w[0], w[1]), 2),
    "embedding": (lambda w: F.embedding(np.array([[0, 2], [2, 2]]), w), 1),
    "kl_div": (lambda a, b: F.kl_div(st.log(a), b, reduction="batchmean"), 2),
    "gaussian_nll": (lambda a, b, c: F.gaussian_nll_loss(a, b, c), 3),
    "poisson_nll": (lambda a, b: F.poisson_nll_loss(a, b * 3, log_input=False), 2),
    "cosine_similarity": (lambda a, b: F.cosine_similarity(a, b), 2),
    "triplet": (lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=2.0), 3),
    "cross_entropy_w": (lambda a: F.cross_entropy(a, np.array([1, -100, 3]),
                                                  weight=np.array([1.0, 2.0, 0.5, 1.0]),
                                                  label_smoothing=0.1), 1),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck(name):
    fn, n = OPS[name]
    if name in ("layer_norm", "group_norm"):
        w = _x((2, 4 if name == "layer_norm" else 4), 1)
        assert st.gradcheck(fn, [_x(), w])
        return
    assert st.gradcheck(fn, [_x(seed=i) for i in range(n)])
