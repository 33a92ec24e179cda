"""Losses against torch: class weights, ignore_index, (N, C, d...) inputs, pos_weight,
and the margin / divergence / likelihood losses, for every reduction."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import steepest as st
import steepest.functional as F
from steepest import nn
from tests.oracle import check

REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng(0)
W = np.array([0.5, 2.0, 1.0, 0.25])


def _x(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _labels(shape, c=4, seed=0):
    return np.random.default_rng(seed).integers(0, c, shape)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["weight", "ignore", "spatial", "spatial_weight_ignore",
                                  "smooth_weight", "unbatched"])
def test_cross_entropy_and_nll(case, reduction, dtype):
    kw, shape, tshape = {}, (5, 4), (5,)
    if case in ("spatial", "spatial_weight_ignore"):
        shape, tshape = (3, 4, 2, 3), (3, 2, 3)
    if case == "unbatched":
        shape, tshape = (4,), ()
    t = _labels(tshape)
    if case in ("weight", "spatial_weight_ignore", "smooth_weight"):
        kw["weight"] = W.astype(dtype)
    if case in ("ignore", "spatial_weight_ignore"):
        t.reshape(-1)[::3] = -100 if case == "ignore" else 2
        kw["ignore_index"] = -100 if case == "ignore" else 2
    if case == "smooth_weight":
        kw["label_smoothing"] = 0.2
    tk = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    x = _x(shape, dtype=dtype)
    check(lambda a: F.cross_entropy(a, t, reduction=reduction, **kw),
          lambda a: tF.cross_entropy(a, torch.tensor(t), reduction=reduction, **tk), [x],
          second_order=True)
    kw.pop("label_smoothing", None)
    tk.pop("label_smoothing", None)
    check(lambda a: F.nll_loss(F.log_softmax(a, 0 if case == "unbatched" else 1), t,
                               reduction=reduction, **kw),
          lambda a: tF.nll_loss(tF.log_softmax(a, 0 if case == "unbatched" else 1),
                                torch.tensor(t), reduction=reduction, **tk), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities_spatial_weighted(reduction):
    x = _x((3, 4, 5))
    q = np.exp(_x((3, 4, 5), 1))
    q /= q.sum(1, keepdims=True)
    check(lambda a, b: F.cross_entropy(a, b, W, reduction=reduction, label_smoothing=0.1),
          lambda a, b: tF.cross_entropy(a, b, torch.tensor(W), reduction=reduction,
                                        label_smoothing=0.1), [x, q], second_order=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_weights(reduction):
    x, t = _x((4, 3)) * 3, np.random.default_rng(1).uniform(0, 1, (4, 3))
    pw, w = np.array([0.5, 2.0, 3.0]), np.random.default_rng(2).uniform(0, 2, (4, 3))
    check(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                          pos_weight=st.tensor(pw)),
          lambda a, b: tF.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                           pos_weight=torch.tensor(pw)),
          [x, t], second_order=True)
    check(lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction=reduction),
          lambda a, b: tF.binary_cross_entropy_with_logits(a, b, torch.tensor(w),
                                                           reduction=reduction), [x, t])
    p = 1 / (1 + np.exp(-x))
    check(lambda a: F.binary_cross_entropy(a, t, w, reduction=reduction),
          lambda a: tF.binary_cross_entropy(a, torch.tensor(t), torch.tensor(w),
                                            reduction=reduction), [p])


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(np.random.default_rng(0).dirichlet(np.ones(5), 4))
    t = np.random.default_rng(1).dirichlet(np.ones(5), 4)
    if log_target:
        t = np.log(t)
    check(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
          lambda a, b: tF.kl_div(a, b, reduction=reduction, log_target=log_target), [x, t],
          second_order=True)
    if not log_target:  # zero targets contribute 0
        t0 = t.copy()
        t0[0, :2] = 0.0
        check(lambda a: F.kl_div(a, t0, reduction=reduction),
              lambda a: tF.kl_div(a, torch.tensor(t0), reduction=reduction), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(reduction):
    a, b = _x((6,)), _x((6,), 1)
    y = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    a[0], b[0] = 0.3, 0.8  # exactly on the margin: torch passes the gradient there
    check(lambda p, q: F.margin_ranking_loss(p, q, y, 0.5, reduction=reduction),
          lambda p, q: tF.margin_ranking_loss(p, q, torch.tensor(y), 0.5,
                                              reduction=reduction), [a, b])
    check(lambda p: F.hinge_embedding_loss(p, y, 0.7, reduction=reduction),
          lambda p: tF.hinge_embedding_loss(p, torch.tensor(y), 0.7, reduction=reduction),
          [a])
    x1, x2 = _x((6, 4)), _x((6, 4), 1)
    check(lambda p, q: F.cosine_embedding_loss(p, q, y, 0.1, reduction=reduction),
          lambda p, q: tF.cosine_embedding_loss(p, q, torch.tensor(y), 0.1,
                                                reduction=reduction), [x1, x2],
          second_order=True)
    check(lambda p: F.soft_margin_loss(p, y, reduction=reduction),
          lambda p: tF.soft_margin_loss(p, torch.tensor(y), reduction=reduction), [a],
          second_order=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input,full", [(True, False), (False, False), (True, True)])
def test_poisson_nll(reduction, log_input, full):
    x = np.random.default_rng(0).uniform(0.1, 2, (3, 4))
    t = np.random.default_rng(1).integers(0, 5, (3, 4)).astype(np.float64)
    check(lambda a: F.poisson_nll_loss(a, t, log_input, full, reduction=reduction),
          lambda a: tF.poisson_nll_loss(a, torch.tensor(t), log_input, full,
                                        reduction=reduction), [x], second_order=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("vshape", [(3, 4), (3,), (3, 1)])
def test_gaussian_nll(reduction, vshape):
    x, t = _x((3, 4)), _x((3, 4), 1)
    v = np.random.default_rng(2).uniform(0.1, 2, vshape)
    v.reshape(-1)[0] = 1e-8  # clamped at eps, the gradient still passes (as torch)
    check(lambda a, b, c: F.gaussian_nll_loss(a, b, c, full=True, reduction=reduction),
          lambda a, b, c: tF.gaussian_nll_loss(a, b, c, full=True, reduction=reduction),
          [x, t, v], second_order=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,swap", [(2.0, False), (1.0, True), (3.0, False)])
def test_triplet_and_distances(reduction, p, swap):
    a, pos, neg = _x((5, 3)), _x((5, 3), 1), _x((5, 3), 2)
    check(lambda x, y, z: F.triplet_margin_loss(x, y, z, 0.5, p, swap=swap,
                                                reduction=reduction),
          lambda x, y, z: tF.triplet_margin_loss(x, y, z, 0.5, p, swap=swap,
                                                 reduction=reduction), [a, pos, neg])
    check(lambda x, y: F.pairwise_distance(x, y, p), lambda x, y: tF.pairwise_distance(x, y, p),
          [a, pos], second_order=True)
    check(lambda x, y: F.cosine_similarity(x, y), lambda x, y: tF.cosine_similarity(x, y),
          [a, pos], second_order=True)
    check(lambda x, y: F.cosine_similarity(x, y, dim=0),
          lambda x, y: tF.cosine_similarity(x, y, dim=0), [a, pos[:1]])
    check(lambda x: F.pdist(x, p), lambda x: tF.pdist(x, p), [a])


LOSS_MODULES = [
    (nn.KLDivLoss, torch.nn.KLDivLoss, {"reduction": "batchmean"}, 2),
    (nn.MarginRankingLoss, torch.nn.MarginRankingLoss, {"margin": 0.2}, 3),
    (nn.CosineEmbeddingLoss, torch.nn.CosineEmbeddingLoss, {"margin": 0.1}, 3),
    (nn.HingeEmbeddingLoss, torch.nn.HingeEmbeddingLoss, {}, 2),
    (nn.SoftMarginLoss, torch.nn.SoftMarginLoss, {}, 2),
    (nn.PoissonNLLLoss, torch.nn.PoissonNLLLoss, {"full": True}, 2),
    (nn.GaussianNLLLoss, torch.nn.GaussianNLLLoss, {}, 3),
    (nn.TripletMarginLoss, torch.nn.TripletMarginLoss, {"margin": 2.0, "swap": True}, 3),
    (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss, {"ignore_index": 1}, 1),
    (nn.NLLLoss, torch.nn.NLLLoss, {"ignore_index": 0}, 1),
]


@pytest.mark.parametrize("ours,theirs,kw,n", LOSS_MODULES,
                         ids=[m[0].__name__ for m in LOSS_MODULES])
def test_loss_modules(ours, theirs, kw, n):
    m, tm = ours(**kw), theirs(**kw)
    y = np.array([1.0, -1.0, 1.0, 1.0])
    if n == 1:
        t = _labels((4,), 3)
        check(lambda a: m(a, t), lambda a: tm(a, torch.tensor(t)), [_x((4, 3))])
    elif ours in (nn.MarginRankingLoss, nn.CosineEmbeddingLoss):
        s = (4,) if ours is nn.MarginRankingLoss else (4, 3)
        check(lambda a, b: m(a, b, y), lambda a, b: tm(a, b, torch.tensor(y)),
              [_x(s), _x(s, 1)])
    elif ours in (nn.HingeEmbeddingLoss, nn.SoftMarginLoss):
        check(lambda a: m(a, y), lambda a: tm(a, torch.tensor(y)), [_x((4,))])
    elif ours is nn.GaussianNLLLoss:
        check(m, tm, [_x((4, 3)), _x((4, 3), 1), np.full((4, 1), 0.7)])
    elif n == 3:
        check(m, tm, [_x((4, 3)), _x((4, 3), 1), _x((4, 3), 2)])
    else:
        x = np.log(np.random.default_rng(0).dirichlet(np.ones(3), 4))
        check(m, tm, [x, np.random.default_rng(1).dirichlet(np.ones(3), 4)])


def test_torch_loss_module_arguments():
    x = _x((6, 4))
    t = _labels((6,))
    m = nn.CrossEntropyLoss(weight=W, label_smoothing=0.1)
    tm = torch.nn.CrossEntropyLoss(weight=torch.tensor(W), label_smoothing=0.1)
    check(lambda a: m(a, t), lambda a: tm(a, torch.tensor(t)), [x])
    b = nn.BCEWithLogitsLoss(pos_weight=np.array([2.0, 1.0, 1.0, 0.5]))
    tb = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 1.0, 1.0, 0.5],
                                                            dtype=torch.float64))
    q = np.random.default_rng(3).uniform(0, 1, (6, 4))
    check(b, tb, [x, q])
    with pytest.raises(TypeError, match="third positional argument is weight"):
        F.cross_entropy(st.tensor(x), t, "sum")
    with pytest.raises(ValueError, match="label 7 is out of range"):
        F.cross_entropy(st.tensor(x), np.array([0, 1, 2, 3, 7, 0]))
    with pytest.raises(ValueError, match="weight must have shape"):
        F.cross_entropy(st.tensor(x), t, np.ones(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_losses(reduction):
    x, t = _x((5, 4)), _labels((5,))
    q = (np.random.default_rng(1).uniform(size=(5, 4)) > 0.5).astype(np.float64)
    check(lambda a: F.multilabel_soft_margin_loss(a, q, reduction=reduction),
          lambda a: tF.multilabel_soft_margin_loss(a, torch.tensor(q), reduction=reduction),
          [x], second_order=True)
    for p in (1, 2):
        check(lambda a, p=p: F.multi_margin_loss(a, t, p, 0.7, W, reduction=reduction),
              lambda a, p=p: tF.multi_margin_loss(a, torch.tensor(t), p, 0.7,
                                                  torch.tensor(W), reduction=reduction), [x])
