"""CNN modules against PyTorch: initialisation, state_dict keys, BatchNorm2d, Dropout2d, a
whole small CNN with copied weights (loss and every gradient), and the CNN builder."""

import math

import numpy as np
import pytest
import torch

import steepest as st
import steepest.functional as F
from steepest import nn
from steepest.models import cnn
from tests.oracle import check, compare


def _randn(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _pair():
    """The same small CNN in both libraries (every module kind of the issue)."""
    ours = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, (2, 3), stride=1, dilation=(1, 2), groups=2), nn.ReLU(),
        nn.AvgPool2d(2, ceil_mode=True), nn.ConvTranspose2d(6, 3, 2, stride=2),
        nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(12, 5))
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, (2, 3), stride=1, dilation=(1, 2), groups=2), torch.nn.ReLU(),
        torch.nn.AvgPool2d(2, ceil_mode=True), torch.nn.ConvTranspose2d(6, 3, 2, stride=2),
        torch.nn.AdaptiveAvgPool2d((2, 2)), torch.nn.Flatten(), torch.nn.Linear(12, 5))
    return ours, theirs


def test_state_dict_keys_and_shapes_equal_torch_and_round_trip():
    ours, theirs = _pair()
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        assert tuple(sd[k].shape) == tuple(tsd[k].shape), k
    # torch -> steepest
    ours.load_state_dict({k: v.numpy().copy() for k, v in tsd.items()})
    for k in sd:
        np.testing.assert_array_equal(ours.state_dict()[k], tsd[k].numpy())
    # steepest -> torch
    st.manual_seed(3)
    fresh, _ = _pair()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in fresh.state_dict().items()})
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(theirs.state_dict()[k].numpy(), v)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_small_cnn_with_copied_weights_equals_torch(dtype):
    """Same weights, same batch: equal logits, loss and gradients, then equal running stats."""
    ours, theirs = _pair()
    theirs = theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    ours.to(dtype)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = _randn(3, 2, 9, 10, dtype=dtype)
    y = np.array([0, 3, 4])
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    loss = F.cross_entropy(ours(x), y)
    tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    compare(loss, tloss, "loss", **tol)
    loss.backward()
    tloss.backward()
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname
        compare(p.grad, tp.grad, f"grad of {name}", **tol)
    for k, v in theirs.state_dict().items():
        compare(ours.state_dict()[k], v, f"buffer {k}", **tol)
    ours.eval()
    theirs.eval()
    compare(ours(x), theirs(torch.tensor(x)), "eval logits", **tol)


def test_hessian_vector_product_through_a_cnn():
    """create_graph through conv, batch norm, relu, max/avg pool and linear."""
    ours, theirs = _pair()
    theirs = theirs.double()
    ours.double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    w_ours = [p for p in ours.parameters()]
    w_theirs = list(theirs.parameters())
    x = _randn(2, 2, 9, 10)
    g = st.grad(F.cross_entropy(ours(x), np.array([1, 2])), w_ours, create_graph=True)
    tg = torch.autograd.grad(torch.nn.functional.cross_entropy(
        theirs(torch.tensor(x)), torch.tensor([1, 2])), w_theirs, create_graph=True)
    v = [_randn(*p.shape, seed=i) for i, p in enumerate(w_ours)]
    hv = st.grad(st.stack([(a * b).sum() for a, b in zip(g, v)]).sum(), w_ours)
    thv = torch.autograd.grad(sum((a * torch.tensor(b)).sum() for a, b in zip(tg, v)),
                              w_theirs)
    for i, (a, b) in enumerate(zip(hv, thv)):
        compare(a, b, f"hvp {i}", rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("cls,args,fan_in", [
    (nn.Conv2d, (6, 4, (3, 2)), 6 * 6), (nn.Conv2d, (6, 4, 3, 1, 0, 1, 2), 3 * 9),
    (nn.Conv1d, (5, 4, 3), 15), (nn.ConvTranspose2d, (6, 4, 3), 4 * 9)])
def test_default_init_is_torch_kaiming_uniform(cls, args, fan_in):
    st.manual_seed(0)
    m = cls(*args)
    bound = 1.0 / math.sqrt(fan_in)  # kaiming_uniform_(a=√5) gives exactly 1/√fan_in
    assert np.abs(m.weight.data).max() <= bound and np.abs(m.bias.data).max() <= bound
    assert np.abs(m.weight.data).max() > 0.5 * bound
    tm = {nn.Conv2d: torch.nn.Conv2d, nn.Conv1d: torch.nn.Conv1d,
          nn.ConvTranspose2d: torch.nn.ConvTranspose2d}[cls](*args)
    assert tuple(tm.weight.shape) == m.weight.shape
    assert m.weight.dtype == np.float32


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm2d_matches_torch(momentum):
    bn, tbn = nn.BatchNorm2d(3, momentum=momentum), torch.nn.BatchNorm2d(3, momentum=momentum)
    for step in range(3):
        x = _randn(4, 3, 5, 2, seed=step, dtype=np.float32) * (step + 1)
        check(bn, tbn, [x])
    for k, v in tbn.state_dict().items():
        compare(bn.state_dict()[k], v, k, rtol=1e-5, atol=1e-6)
    bn.eval()
    tbn.eval()
    check(bn, tbn, [_randn(2, 3, 4, 4, seed=9, dtype=np.float32)])
    check(lambda x: F.batch_norm(x, None, None, training=True),
          lambda x: torch.nn.functional.batch_norm(x, None, None, training=True),
          [_randn(3, 2, 3, 3)], second_order=True)


def test_dropout2d_drops_whole_channels():
    st.manual_seed(0)
    m = nn.Dropout2d(0.5)
    y = m(st.Tensor(np.ones((8, 16, 3, 3), np.float32))).data
    per_channel = y.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2.0).all(axis=2))
    assert 0.2 < (per_channel[:, :, 0] == 0).mean() < 0.8
    m.eval()
    x = np.ones((2, 3, 2, 2), np.float32)
    assert m(x) is x


def test_sequential_fuses_conv_relu_with_equal_results():
    st.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU())
    x = st.Tensor(_randn(2, 2, 5, 5, dtype=np.float32), requires_grad=True)
    y = seq(x)
    assert y.creator.name == "conv2d_relu"
    ref = F.relu(F.conv2d(x, seq[0].weight, seq[0].bias))
    compare(y, ref, "fused", 0, 1e-6)
    g1 = st.grad(y.sum(), [x, seq[0].weight])
    g2 = st.grad(ref.sum(), [x, seq[0].weight])
    for a, b in zip(g1, g2):
        compare(a, b, "fused grad", 1e-6, 1e-6)


def test_pool_modules_and_unfold_match_torch():
    x = np.round(_randn(2, 3, 7, 6) * 2)
    pairs = [(nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
             (nn.AvgPool2d(2, count_include_pad=False, padding=1),
              torch.nn.AvgPool2d(2, count_include_pad=False, padding=1)),
             (nn.AdaptiveMaxPool2d(3), torch.nn.AdaptiveMaxPool2d(3)),
             (nn.AdaptiveAvgPool2d((4, 3)), torch.nn.AdaptiveAvgPool2d((4, 3))),
             (nn.Unfold(2, padding=1), torch.nn.Unfold(2, padding=1)),
             (nn.Upsample(scale_factor=2, mode="bilinear"),
              torch.nn.Upsample(scale_factor=2, mode="bilinear"))]
    for ours, theirs in pairs:
        check(ours, theirs, [x])
    x1 = x[:, :, 0]
    check(nn.MaxPool1d(2), torch.nn.MaxPool1d(2), [x1])
    check(nn.AvgPool1d(3, 2), torch.nn.AvgPool1d(3, 2), [x1])


def test_cnn_builder_traces_shapes_and_summary():
    st.manual_seed(0)
    m = cnn((1, 12, 12), 4, [{"type": "conv2d", "out_channels": 5, "kernel_size": 3,
                              "padding": 1},
                             {"type": "batchnorm2d"}, {"type": "relu"},
                             {"type": "maxpool2d", "kernel_size": 2}])
    assert int(m[2].num_batches_tracked) == 0 and np.all(m[2].running_var == 1)
    y = m(np.zeros((3, 144), np.float32))
    assert y.shape == (3, 4)
    text = m.summary((144,))
    assert "(N, 5, 6, 6)" in text and "(N, 180)" in text and "Total parameters: 784" in text
    with pytest.raises(ValueError, match="layer type"):
        cnn((1, 8, 8), 2, [{"type": "conv3d"}])
    with pytest.raises(ValueError, match=r"layers\[0\] \(conv2d\).*does not fit"):
        cnn((1, 2, 2), 2, [{"type": "conv2d", "out_channels": 2, "kernel_size": 5}])


def test_module_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected input of shape \(N, 3, H, W\)"
                                         r", got \(2, 4, 5, 5\)"):
        nn.BatchNorm2d(3)(np.zeros((2, 4, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(2, 3.*2 channels.*\(1, 5, 4, 4\)"):
        nn.ConvTranspose2d(2, 3, 2)(np.zeros((1, 5, 4, 4), np.float32))
    with pytest.raises(ValueError, match="padding_mode 'reflect' is not supported"):
        nn.Conv2d(1, 1, 3, padding_mode="reflect")
