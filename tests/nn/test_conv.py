"""Convolutions (conv1d, conv2d, conv_transpose2d, unfold/fold) against PyTorch: forward,
gradients and second derivatives on random geometries drawn with a fixed seed."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import steepest as st
import steepest.functional as F
from tests.oracle import check


def _randn(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _conv_configs(n, seed):
    """Random valid conv2d geometries: non-square kernels, kernels as large as the padded
    input, odd sizes, strides, dilations, groups (depthwise included), 'same'/'valid'."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        g = int(rng.choice([1, 1, 2, 3]))
        depthwise = rng.random() < 0.2
        c = g * int(rng.integers(1, 3)) if not depthwise else g
        o = g * int(rng.integers(1, 3)) if not depthwise else 2 * g
        h, w = (int(v) for v in rng.integers(1, 9, 2))
        kh, kw = (int(v) for v in rng.integers(1, 5, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        mode = rng.choice(["int", "pair", "same", "valid"])
        if mode == "same":
            s = (1, 1)
            pad = "same"
            ph = pw = 0
        elif mode == "valid":
            pad, ph, pw = "valid", 0, 0
        else:
            ph, pw = (int(v) for v in rng.integers(0, 3, 2))
            pad = (ph, pw) if mode == "pair" else ph
            pw = pw if mode == "pair" else ph
        if pad != "same" and (h + 2 * ph < d[0] * (kh - 1) + 1 or
                              w + 2 * pw < d[1] * (kw - 1) + 1):
            continue
        out.append(dict(n=int(rng.integers(1, 3)), c=c, o=o, h=h, w=w, k=(kh, kw),
                        kw=dict(stride=s, padding=pad, dilation=d, groups=g)))
    # hand-picked: kernel equal to the input, 1x1, tiling stride, depthwise 3x3
    out += [dict(n=2, c=2, o=3, h=5, w=4, k=(5, 4), kw=dict()),
            dict(n=2, c=3, o=4, h=5, w=5, k=(1, 1), kw=dict()),
            dict(n=1, c=2, o=2, h=6, w=6, k=(2, 3), kw=dict(stride=(2, 3))),
            dict(n=2, c=4, o=4, h=7, w=5, k=(3, 3), kw=dict(groups=4, padding=1))]
    return out


CONFIGS = _conv_configs(16, seed=14)
# torch warns that it copies for 'same' with even kernels; not our concern here
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


@pytest.mark.parametrize("i", range(len(CONFIGS)))
def test_conv2d_random_geometry(i):
    cf = CONFIGS[i]
    g = cf["kw"].get("groups", 1)
    x = _randn(cf["n"], cf["c"], cf["h"], cf["w"], seed=i)
    w = _randn(cf["o"], cf["c"] // g, *cf["k"], seed=100 + i)
    b = _randn(cf["o"], seed=200 + i)
    kw = cf["kw"]
    check(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: tF.conv2d(x, w, b, **kw),
          [x, w, b], second_order=True)
    f32 = [a.astype(np.float32) for a in (x, w)]
    check(lambda x, w: F.conv2d(x, w, **kw), lambda x, w: tF.conv2d(x, w, **kw), f32)


@pytest.mark.parametrize("i", [0, 3, 7, 12])
def test_conv2d_relu_fused_equals_separate(i):
    cf = CONFIGS[i]
    g = cf["kw"].get("groups", 1)
    x = _randn(cf["n"], cf["c"], cf["h"], cf["w"], seed=i)
    w = _randn(cf["o"], cf["c"] // g, *cf["k"], seed=100 + i)
    b = _randn(cf["o"], seed=200 + i)
    kw = cf["kw"]
    check(lambda x, w, b: F.conv2d_relu(x, w, b, **kw),
          lambda x, w, b: tF.relu(tF.conv2d(x, w, b, **kw)), [x, w, b], second_order=True)


def test_conv2d_float32_stays_float32_and_unbatched():
    x = st.Tensor(_randn(3, 6, 5, dtype=np.float32), requires_grad=True)
    w = st.Tensor(_randn(4, 3, 3, 3, dtype=np.float32), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    assert y.shape == (4, 6, 5) and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(dilation=2),
                                dict(groups=2, padding="same"), dict(padding="valid")])
def test_conv1d(kw):
    x, w, b = _randn(2, 4, 9), _randn(6, 4 // kw.get("groups", 1), 3, seed=1), _randn(6)
    check(lambda x, w, b: F.conv1d(x, w, b, **kw), lambda x, w, b: tF.conv1d(x, w, b, **kw),
          [x, w, b], second_order=True)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2), dict(stride=2, padding=1,
                                                              output_padding=1),
                                dict(stride=(3, 2), output_padding=(2, 1), dilation=(1, 2)),
                                dict(groups=2, dilation=2, padding=(1, 0))])
def test_conv_transpose2d(kw):
    g = kw.get("groups", 1)
    x, w, b = _randn(2, 4, 5, 4), _randn(4, 3, 3, 2, seed=1), _randn(3 * g, seed=2)
    check(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
          lambda x, w, b: tF.conv_transpose2d(x, w, b, **kw), [x, w, b], second_order=True)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(1, 2),
                                                          padding=1, stride=2)])
def test_unfold_fold(kw):
    x = _randn(2, 3, 6, 7)
    check(lambda x: F.unfold(x, **kw), lambda x: tF.unfold(x, **kw), [x], second_order=True)
    cols = tF.unfold(torch.tensor(x), **kw).numpy()
    check(lambda c: F.fold(c, (6, 7), **kw), lambda c: tF.fold(c, (6, 7), **kw), [cols],
          second_order=True)


def test_conv_gradcheck_small():
    x, w, b = _randn(1, 2, 4, 3), _randn(2, 1, 2, 2, seed=1), _randn(2, seed=2)
    assert st.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1,
                                                 groups=2), [x, w, b])
    assert st.gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1),
                        [x, _randn(2, 2, 2, 3, seed=3)])


def test_conv_hessian_vector_product_through_two_layers():
    """A double backward through conv → tanh → conv (an HVP w.r.t. the first weight)."""
    x, w1, w2 = _randn(2, 2, 6, 6), _randn(3, 2, 3, 3, seed=1), _randn(2, 3, 2, 2, seed=2)

    def net(tanh, conv, x, w1, w2):
        return conv(tanh(conv(x, w1, padding=1)), w2, stride=2)

    check(lambda x, w1, w2: net(F.tanh, F.conv2d, x, w1, w2),
          lambda x, w1, w2: net(torch.tanh, tF.conv2d, x, w1, w2), [x, w1, w2],
          second_order=True)


# -- bad input ------------------------------------------------------------------------------


def test_conv_errors_name_the_layer_and_shapes():
    conv = st.nn.Conv2d(3, 8, 3)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*3 channels.*\(2, 1, 8, 8\)"):
        conv(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*smaller than the.*kernel"):
        conv(np.zeros((2, 3, 2, 8), np.float32))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*4-D input.*\(3, 8\)"):
        conv(np.zeros((3, 8), np.float32))
    with pytest.raises(ValueError, match="groups=2 must divide in_channels=3"):
        st.nn.Conv2d(3, 8, 3, groups=2)
    with pytest.raises(ValueError, match=r"conv2d: groups=2 must divide.*in_channels=3"):
        F.conv2d(np.zeros((1, 3, 4, 4), np.float32), np.zeros((4, 1, 2, 2), np.float32),
                 groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(np.zeros((1, 1, 4, 4), np.float32), np.zeros((1, 1, 3, 3), np.float32),
                 stride=2, padding="same")
    with pytest.raises(TypeError, match="conv2d: input must be floating point"):
        F.conv2d(np.zeros((1, 1, 4, 4), np.int64), np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match="ConvTranspose2d.*output_padding"):
        st.nn.ConvTranspose2d(2, 2, 3, stride=1, output_padding=1)(
            np.zeros((1, 2, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"Conv1d\(2, 4.*2 channels.*\(1, 3, 9\)"):
        st.nn.Conv1d(2, 4, 3)(np.zeros((1, 3, 9), np.float32))


# -- the chunked im2col workspace -------------------------------------------------------------


@pytest.mark.parametrize("ws", [1, 4 * 8 * 7 * 9 * 4 * 2])  # one sample a chunk; 2+2+1
@pytest.mark.parametrize("c,o,k,kw", [(4, 6, 3, dict(padding=1)),
                                      (4, 6, 3, dict(stride=2, dilation=(1, 2))),
                                      (4, 6, 3, dict(groups=2, padding=(0, 1))),
                                      (4, 6, (2, 3), dict(stride=(2, 3))),
                                      (4, 6, 1, dict()),
                                      (4, 4, 3, dict(groups=4, padding=1))])
def test_conv2d_workspace_chunks_match_torch(monkeypatch, ws, c, o, k, kw):
    """A workspace smaller than the batch's patches: the forward, dW, dx and the second
    derivatives are assembled chunk by chunk (an uneven last chunk included)."""
    from steepest.ops import conv as ops_conv

    monkeypatch.setattr(ops_conv, "WORKSPACE_BYTES", ws)
    k = (k, k) if isinstance(k, int) else k
    g = kw.get("groups", 1)
    x, w, b = _randn(5, c, 8, 9), _randn(o, c // g, *k, seed=1), _randn(o, seed=2)
    check(lambda x, w, b: F.conv2d_relu(x, w, b, **kw),
          lambda x, w, b: tF.relu(tF.conv2d(x, w, b, **kw)), [x, w, b], second_order=True)
    check(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: tF.conv2d(x, w, b, **kw),
          [a.astype(np.float32) for a in (x, w, b)])


def test_conv_transpose2d_workspace_chunks_match_torch(monkeypatch):
    from steepest.ops import conv as ops_conv

    monkeypatch.setattr(ops_conv, "WORKSPACE_BYTES", 1)
    x, w = _randn(3, 4, 5, 4), _randn(4, 3, 3, 2, seed=1)
    kw = dict(stride=2, padding=1, output_padding=1)
    check(lambda x, w: F.conv_transpose2d(x, w, **kw),
          lambda x, w: tF.conv_transpose2d(x, w, **kw), [x, w], second_order=True)


def test_conv2d_keeps_no_patch_matrix():
    """Memory: neither the graph nor a training step's peak holds the whole batch's im2col
    patches (7.2 MB here; the workspace is capped at WORKSPACE_BYTES)."""
    import tracemalloc

    from steepest.ops import conv as ops_conv

    x = st.Tensor(_randn(64, 16, 16, 16, dtype=np.float32), requires_grad=True)
    conv = st.nn.Conv2d(16, 16, 3)
    patches, out = 64 * 14 * 14 * 16 * 9 * 4, 64 * 16 * 14 * 14 * 4
    assert ops_conv.WORKSPACE_BYTES < patches / 1.5
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        y = conv(x)
        held = tracemalloc.get_traced_memory()[0] - base
        y.sum().backward()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert held < out + patches / 8, (held, out)
    # output, its gradient, dx and one workspace; the patches would add 7.2 MB
    assert peak < 2 * out + x.data.nbytes + ops_conv.WORKSPACE_BYTES + patches / 8, peak


def test_conv2d_empty_batch_matches_torch():
    x, w, b = _randn(0, 4, 6, 6), _randn(3, 4, 3, 3, seed=1), _randn(3, seed=2)
    check(lambda x, w, b: F.conv2d_relu(x, w, b, padding=1),
          lambda x, w, b: tF.relu(tF.conv2d(x, w, b, padding=1)), [x, w, b])
