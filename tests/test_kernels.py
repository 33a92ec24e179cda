"""steepest.kernels: every compiled kernel is bit-identical to the NumPy sequence it
replaces, and eager mode and the captured step give the same bits with the kernels on or
off. Compared bitwise (``==`` would hide -0.0 against 0.0 and NaN against NaN) on edge
values (NaN, ±inf, ±0, ties, denormals, huge and tiny magnitudes) and edge shapes (one
row, one column, one or two classes, 1000 classes)."""

import zlib

import numpy as np
import pytest
import torch

import steepest as st
import steepest.functional as F
from steepest import kernels, nn, optim
from steepest.models import mlp
from tests.oracle import check
from tests.test_compile import _run, _same

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="needs numba")
DTYPES = (np.float32, np.float64)
SHAPES = [(1, 1), (1, 7), (1, 100), (7, 1), (8, 1), (100, 1), (2, 3), (16, 33), (64, 10),
          (257, 5)]
KINDS = ("normal", "wide", "edge", "zeros", "ties", "denormal")


@pytest.fixture
def off(monkeypatch):
    """Call ``off()`` to switch the compiled kernels off for the rest of the test."""
    return lambda: monkeypatch.setattr(kernels, "AVAILABLE", False)


def _values(rng, shape, dt, kind):
    dt = np.dtype(dt)
    fi = np.finfo(dt)
    x = rng.standard_normal(shape)
    if kind == "wide":  # magnitudes 1e-30 .. 1e30, both signs
        x = np.sign(x) * 10.0 ** rng.uniform(-30, 30, shape)
    elif kind == "edge":
        edge = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, fi.smallest_subnormal,
                         -fi.smallest_subnormal, fi.max, -fi.max, 1.0, -1.0], dt)
        pick = rng.random(shape) < 0.5
        x = np.where(pick, edge[rng.integers(0, len(edge), shape)], x.astype(dt))
    elif kind == "zeros":
        x = np.where(rng.random(shape) < 0.5, -0.0, 0.0)
    elif kind == "ties":  # few distinct values: ties everywhere, signed zeros included
        x = np.array([-1.0, -0.0, 0.0, 1.0])[rng.integers(0, 4, shape)]
    elif kind == "denormal":
        x = x * float(fi.smallest_subnormal) * 1000
    return np.ascontiguousarray(x.astype(dt))


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.reshape(-1).view(f"u{a.dtype.itemsize}")


def assert_bits(a, b, what="", nan_payload=False):
    """Equal bit for bit (so -0.0 != 0.0), NaN at the same places. Which of two NaNs an
    operation returns (sign and payload) is left open by IEEE 754 and differs even between
    NumPy's own loops (``h + b`` keeps b's NaN when b is broadcast, h's otherwise), so NaN
    bits are only compared with ``nan_payload`` (where one NaN is all there is)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, f"{what}: {a.shape} {a.dtype} vs " \
        f"{b.shape} {b.dtype}"
    ba, bb = _bits(a), _bits(b)
    if not nan_payload:
        nan = np.isnan(a.reshape(-1))
        assert np.array_equal(nan, np.isnan(b.reshape(-1))), f"{what}: NaN at other places"
        ba, bb = ba[~nan], bb[~nan]
        a, b = a.reshape(-1)[~nan], b.reshape(-1)[~nan]
    bad = np.flatnonzero(ba != bb)
    if bad.size:
        i = bad[0]
        raise AssertionError(f"{what}: {bad.size} of {a.size} elements differ, first at "
                             f"{np.unravel_index(i, a.shape)}: {a.flat[i]!r} (compiled) vs "
                             f"{b.flat[i]!r} (NumPy)")


# -- bias + ReLU ---------------------------------------------------------------------------
@needs_numba
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_bias_relu_matches_numpy(dt, kind):
    rng = np.random.default_rng(zlib.crc32(kind.encode()))
    with np.errstate(all="ignore"):
        for shape in SHAPES:
            h = _values(rng, shape, dt, kind)
            b = _values(rng, shape[1:], dt, kind)
            for bias, relu in ((b, True), (b, False), (None, True)):
                got = kernels.bias_relu(h.copy(), bias, relu)
                want = kernels._numpy_bias_relu(h.copy(), bias, relu)
                assert_bits(got, want, f"{shape} bias={bias is not None} relu={relu}")


@needs_numba
@pytest.mark.parametrize("dt", DTYPES)
def test_relu_of_negative_zero_and_nan_is_numpys(dt):
    """np.maximum(-0.0, 0.0) is +0.0 (NumPy returns the second operand on a tie); NaNs
    (either sign) pass through unchanged."""
    h = np.full((3, 4), -0.0, dt)
    for b in (None, np.full(4, -0.0, dt)):
        got = kernels.bias_relu(h.copy(), b, True)
        assert_bits(got, np.maximum(h, 0), f"bias={b is not None}")
        assert not np.signbit(got).any()
    h = np.array([[np.nan, -np.nan, -np.inf, np.inf, -0.0, 0.0]], dt)
    assert_bits(kernels.bias_relu(h.copy(), None, True), np.maximum(h, 0), nan_payload=True)


@pytest.mark.parametrize("dt", (np.float16, np.int32))
def test_other_dtypes_take_numpys_path(dt, monkeypatch):
    """numba has no float16 arithmetic: those arrays (and integers) run NumPy's sequence,
    eager float16 layers included (they raised NotImplementedError with numba)."""
    h = (np.arange(12).reshape(3, 4) - 5).astype(dt)
    b = np.arange(4).astype(dt) - 2
    assert_bits(kernels.bias_relu(h.copy(), b, True), np.maximum(h + b, 0))
    gb = np.empty(4, dt)
    assert_bits(kernels.relu_grad(h, h, gb=gb), h * (h > 0))
    assert_bits(gb, (h * (h > 0)).sum(axis=0, dtype=dt))
    if dt is not np.float16:
        return
    rng = np.random.default_rng(11)
    x, w, bias = (rng.standard_normal(s).astype(dt) for s in ((4, 3), (2, 3), (2,)))
    t = np.array([0, 1, 1, 0])
    runs = []
    for avail in (True, False):
        monkeypatch.setattr(kernels, "AVAILABLE", avail)
        ts = [st.tensor(a, requires_grad=True) for a in (x, w, bias)]
        loss = F.cross_entropy(F.linear_relu(*ts), t)
        loss.backward()
        assert loss.dtype == np.float16
        runs.append([np.array(loss.data)] + [np.array(a.grad.data) for a in ts])
    for a, c in zip(*runs):
        assert_bits(a, c)


# -- ReLU backward with the bias gradient --------------------------------------------------
@needs_numba
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_relu_grad_and_bias_grad_match_numpy(dt, kind, monkeypatch):
    rng = np.random.default_rng(zlib.crc32(kind.encode()) + 1)
    with np.errstate(all="ignore"):
        for shape in SHAPES:
            g = _values(rng, shape, dt, kind)
            y = _values(rng, shape, dt, "edge" if kind == "normal" else kind)
            y.flags.writeable = False  # saved outputs may be read-only
            runs = []
            for avail in (True, False):
                monkeypatch.setattr(kernels, "AVAILABLE", avail)
                gb = np.empty(shape[1], dt)
                out = kernels.relu_grad(g, y, gb=gb)
                inplace = g.copy()
                same = kernels.relu_grad(inplace, y, inplace)
                assert same is inplace
                runs.append((out, gb, inplace))
            monkeypatch.setattr(kernels, "AVAILABLE", True)
            for what, a, b in zip(("masked", "bias grad", "in place"), *runs):
                assert_bits(a, b, f"{shape} {what}")
            assert_bits(runs[1][0], g * (y > 0), f"{shape} reference")


@needs_numba
@pytest.mark.parametrize("dt", DTYPES)
def test_bias_grad_of_one_row_and_one_column(dt, off):
    """The two reductions that are not a plain row-by-row loop in NumPy: a sum of one row
    starts from +0.0 (so -0.0 becomes 0.0), and a single column is summed pairwise."""
    one_row = np.array([[-1.0, 2.0, -3.0]], dt), np.array([[-1.0, -1.0, 1.0]], dt)
    col = np.random.default_rng(5).standard_normal((1000, 1)).astype(dt)
    cases = [one_row, (col, np.ones_like(col))]
    got = []
    for g, y in cases:
        gb = np.empty(g.shape[1], dt)
        kernels.relu_grad(g, y, gb=gb)
        got.append(gb)
    off()
    for (g, y), a in zip(cases, got):
        assert_bits(a, (g * (y > 0)).sum(axis=0))


# -- softmax cross-entropy -----------------------------------------------------------------
XENT_SHAPES = [(1, 1), (1, 2), (1, 10), (1, 1000), (2, 1), (5, 2), (3, 1000), (64, 10),
               (100, 2), (33, 7)]
LABEL_DTYPES = (np.int64, np.int32, np.uint8)


def _xent(x, t, scale):
    """SoftmaxCrossEntropy's outputs: summed loss, per-sample losses, gradient, shifted
    logit at the label, sum of exponentials."""
    loss = kernels.SoftmaxCrossEntropy(x.shape[0], x.shape[1], x.dtype, scale)
    total = loss.forward(x, t)
    return (np.asarray(total), loss.loss.copy(), np.ascontiguousarray(loss.grad),
            loss.picked.copy(), loss.s.copy())


def _logits(rng, shape, dt, kind):
    if kind == "big":  # ±1000: exp under/overflows without the shift
        return rng.uniform(-1000, 1000, shape).astype(dt)
    if kind == "equal":  # all-equal rows
        return np.repeat(rng.standard_normal((shape[0], 1)), shape[1], 1).astype(dt)
    return _values(rng, shape, dt, kind)


@needs_numba
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("kind", ("normal", "big", "equal", "ties", "zeros", "edge", "wide",
                                  "denormal"))
def test_softmax_cross_entropy_matches_numpy(dt, kind, monkeypatch):
    rng = np.random.default_rng(zlib.crc32(kind.encode()) + 2)
    names = ("loss", "losses", "grad", "picked", "sum of exp")
    with np.errstate(all="ignore"):
        for i, (n, c) in enumerate(XENT_SHAPES):
            x = _logits(rng, (n, c), dt, kind)
            t = rng.integers(0, c, n).astype(LABEL_DTYPES[i % 3])
            for scale in (1.0 / n, 1.0):
                runs = []
                for avail in (True, False):
                    monkeypatch.setattr(kernels, "AVAILABLE", avail)
                    runs.append(_xent(x, t, scale))
                monkeypatch.setattr(kernels, "AVAILABLE", True)
                for what, a, b in zip(names, *runs):
                    assert_bits(a, b, f"({n}, {c}) {t.dtype} scale={scale:g}: {what}")


@needs_numba
@pytest.mark.parametrize("dt", DTYPES)
def test_softmax_xent_max_ties_signed_zeros_and_nan(dt, off):
    """NumPy's max keeps the last of tied values (so the sign of a zero maximum is the
    last zero's) and NaN wins wherever it is."""
    rows = [[-0.0, 0.0], [0.0, -0.0], [0.0, -0.0, 0.0, -0.0], [-0.0, -1.0, 0.0, -0.0],
            [np.nan, 1.0], [1.0, np.nan], [np.inf, 1.0], [-np.inf, -np.inf],
            [np.inf, np.nan]]
    x = np.array([r + [-5.0] * (4 - len(r)) for r in rows], dt)
    t = np.array([0, 1, 3, 0, 1, 0, 0, 1, 0], np.int64)
    n = len(x)
    with np.errstate(all="ignore"):
        got = _xent(x, t, 1.0 / n)
        z, picked, s = np.empty_like(x), np.empty(n, dt), np.empty(n, dt)
        assert kernels.softmax_xent(x, t, z, picked, s)
        off()
        want = _xent(x, t, 1.0 / n)
    for what, a, b in zip(("loss", "losses", "grad", "picked", "sum"), got, want):
        assert_bits(a, b, what, nan_payload=True)
    assert_bits(picked, want[3], "softmax_xent picked", nan_payload=True)
    assert_bits(s, want[4], "softmax_xent sum", nan_payload=True)


@pytest.mark.parametrize("compiled", (True, False))
@pytest.mark.parametrize("tdt", (np.int64, np.int32, np.uint8, np.int8, np.uint64))
def test_out_of_range_labels_raise_naming_the_label(compiled, tdt, monkeypatch):
    if compiled and not kernels.AVAILABLE:
        pytest.skip("needs numba")
    monkeypatch.setattr(kernels, "AVAILABLE", compiled)
    n, c = 6, 5
    x = np.random.default_rng(0).standard_normal((n, c)).astype(np.float32)
    loss = kernels.SoftmaxCrossEntropy(n, c, x.dtype, 1.0 / n)
    bad = [c, c + 3] + ([-1, -7] if np.dtype(tdt).kind == "i" else [255 if tdt is np.uint8
                                                                     else 2**64 - 1])
    for label in bad:
        t = np.zeros(n, tdt)
        t[n // 2] = label
        with pytest.raises(ValueError, match=rf"cross_entropy: label {label} is out of "
                                             rf"range for {c} classes"):
            loss.forward(x, t)
        z, picked, s = np.empty_like(x), np.empty(n, x.dtype), np.empty(n, x.dtype)
        with pytest.raises(ValueError, match=rf"cross_entropy: label {label} "):
            kernels.softmax_xent(x, t, z, picked, s) or loss._numpy(x, t)
        with pytest.raises(ValueError, match=rf"cross_entropy: label {label} "):
            F.cross_entropy(st.tensor(x), t)
    # good labels after a bad one: the buffers are fine again
    t = np.arange(n, dtype=tdt) % c
    assert np.isfinite(loss.forward(x, t))
    for shape in ((n, 1), (n + 1,), (n - 1,), ()):
        with pytest.raises(ValueError, match=r"cross_entropy: integer target must have "
                                             rf"shape \({n},\)"):
            loss.forward(x, np.zeros(shape, tdt))


# -- eager mode: kernels on vs off ---------------------------------------------------------
def _eager_linear_relu(x, w, b, gy, seq):
    xt = st.tensor(x, requires_grad=True)
    if seq:
        model = nn.Sequential(nn.Linear(w.shape[1], w.shape[0], dtype=w.dtype), nn.ReLU())
        model[0].weight.data[...] = w
        model[0].bias.data[...] = b
        y = model(xt)
        assert y.creator.name == "linear_relu"
        wt, bt = model[0].weight, model[0].bias
    else:
        wt, bt = st.tensor(w, requires_grad=True), st.tensor(b, requires_grad=True)
        y = F.linear_relu(xt, wt, bt)
    (y * st.tensor(gy)).sum().backward()
    return tuple(np.array(getattr(a, "data", a)) for a in (y, xt.grad, wt.grad, bt.grad))


@needs_numba
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("seq", (False, True), ids=("linear_relu", "Sequential"))
def test_eager_linear_relu_kernels_on_equals_off(dt, seq, monkeypatch):
    rng = np.random.default_rng(7)
    names = ("output", "grad x", "grad weight", "grad bias")
    for n, d, m in ((1, 4, 3), (1, 5, 1), (50, 6, 1), (32, 12, 24), (3, 2, 100)):
        x = rng.standard_normal((n, d)).astype(dt)
        x[0] = 0.0
        w = rng.standard_normal((m, d)).astype(dt)
        b = np.where(rng.random(m) < 0.3, -0.0, rng.standard_normal(m)).astype(dt)
        gy = -np.abs(rng.standard_normal((n, m))).astype(dt)  # masked: -0.0 in the grad
        runs = []
        for avail in (True, False):
            monkeypatch.setattr(kernels, "AVAILABLE", avail)
            runs.append(_eager_linear_relu(x, w, b, gy, seq))
        monkeypatch.setattr(kernels, "AVAILABLE", True)
        for what, a, c in zip(names, *runs):
            assert_bits(a, c, f"({n}, {d}) -> {m}: {what}")


@needs_numba
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("reduction", ("mean", "sum", "none"))
def test_eager_cross_entropy_kernels_on_equals_off(dt, reduction, monkeypatch):
    rng = np.random.default_rng(8)
    for i, (n, c) in enumerate(XENT_SHAPES):
        x = (rng.standard_normal((n, c)) * (1000 if i % 2 else 3)).astype(dt)
        t = rng.integers(0, c, n).astype(LABEL_DTYPES[i % 3])
        gy = st.tensor(rng.standard_normal(n).astype(dt) if reduction == "none" else dt(1))
        runs = []
        for avail in (True, False):
            monkeypatch.setattr(kernels, "AVAILABLE", avail)
            xt = st.tensor(x, requires_grad=True)
            loss = F.cross_entropy(xt, t, reduction=reduction)
            (loss * gy).sum().backward()
            runs.append((np.array(loss.data), np.array(getattr(xt.grad, "data", xt.grad))))
        monkeypatch.setattr(kernels, "AVAILABLE", True)
        for what, a, b in zip(("loss", "grad"), *runs):
            assert_bits(a, b, f"({n}, {c}) {reduction}: {what}")


@pytest.mark.parametrize("dt", DTYPES)
def test_edge_shapes_match_torch(dt):
    """One row, one output feature, one class: the shapes where the kernels' reductions
    are special, against torch (the ops' full oracle tests live in tests/nn)."""
    rng = np.random.default_rng(9)
    x, w, b = (rng.standard_normal(s).astype(dt) for s in ((1, 4), (1, 4), (1,)))
    check(F.linear_relu, lambda x, w, b: torch.relu(torch.nn.functional.linear(x, w, b)),
          [x, w, b])
    for n, c in ((1, 10), (4, 1)):
        logits = rng.standard_normal((n, c)).astype(dt) * 3
        t = rng.integers(0, c, n)
        check(F.cross_entropy, torch.nn.functional.cross_entropy, [logits, t])


# -- the captured step ---------------------------------------------------------------------
def _train(compiled, kw):
    """10 Adam steps of a dropout MLP, eager or captured (``_run`` of test_compile)."""
    kw = dict(kw)
    st.manual_seed(3)
    model = mlp([12, 1, 5], dtype=kw.get("dtype", np.float32)) if kw.pop("narrow", 0) else None
    out = _run(compiled, {"dropout": 0.2}, lambda p: optim.Adam(p, lr=1e-2), steps=10,
               model=model, **kw)
    assert not compiled or (out[3].captures >= 1 and out[3].eager_steps == 0)
    return out


TRAIN = {"b16": dict(), "b1": dict(bs=1), "float64": dict(dtype=np.float64),
         "narrow": dict(narrow=1)}  # narrow: a one-unit ReLU layer (one-column bias grad)


@pytest.mark.parametrize("case", sorted(TRAIN))
def test_captured_step_equals_eager_with_kernels_off(case, off):
    off()
    _same(_train(False, TRAIN[case]), _train(True, TRAIN[case]))


@needs_numba
@pytest.mark.parametrize("case", sorted(TRAIN))
def test_training_with_kernels_on_equals_off(case, monkeypatch):
    """Eager and captured with the kernels on give the bits of eager with them off."""
    monkeypatch.setattr(kernels, "AVAILABLE", False)
    ref = _train(False, TRAIN[case])
    monkeypatch.setattr(kernels, "AVAILABLE", True)
    _same(ref, _train(True, TRAIN[case]))
    _same(ref, _train(False, TRAIN[case]))


@needs_numba
@pytest.mark.parametrize("dt", DTYPES)
def test_gradients_behind_cross_entropy_kernels_on_equals_off(dt, monkeypatch):
    """The layer before the loss sees the same gradient bits (layout included)."""
    rng = np.random.default_rng(10)
    n, d, c = 16, 24, 5
    x, w, b = (rng.standard_normal(s).astype(dt) for s in ((n, d), (c, d), (c,)))
    t = rng.integers(0, c, n)
    runs = []
    for avail in (True, False):
        monkeypatch.setattr(kernels, "AVAILABLE", avail)
        ts = [st.tensor(a, requires_grad=True) for a in (x, w, b)]
        F.cross_entropy(F.linear(*ts), t).backward()
        runs.append([np.array(getattr(a.grad, "data", a.grad)) for a in ts])
    for what, a, c in zip(("grad x", "grad weight", "grad bias"), *runs):
        assert_bits(a, c, what)


def test_float16_gradients_are_checked_on_numpy():
    """numba has no float16: the finiteness check hands such arrays back to NumPy, so an
    optimiser step on float16 parameters works (it raised NotImplementedError)."""
    assert kernels.all_finite(np.ones(3, np.float16)) is None
    p = st.nn.Parameter(np.ones(4, np.float16))
    opt = st.optim.SGD([p], lr=0.5)
    p.grad = st.Tensor(np.ones(4, np.float16))
    opt.step()
    assert p.data.dtype == np.float16 and np.array_equal(p.data, np.full(4, 0.5, np.float16))
    p.grad = st.Tensor(np.array([1, np.inf, 1, 1], np.float16))
    with pytest.raises(st.optim.optimizer.NonFiniteGradientError):
        opt.step()


@pytest.mark.parametrize("make", [lambda ps: optim.Adam(ps, lr=0.5),
                                  lambda ps: optim.SGD(ps, lr=0.5, momentum=0.9)])
def test_large_float16_parameters_take_numpys_update(make):
    """Above the fused optimisers' size threshold float16 stays on NumPy (numba has no
    float16; it raised NotImplementedError)."""
    n = 1 << 17
    p = st.nn.Parameter(np.ones(n, np.float16))
    opt = make([p])
    for _ in range(2):
        p.grad = st.Tensor(np.full(n, 0.25, np.float16))
        opt.step()
    assert p.data.dtype == np.float16 and np.isfinite(p.data).all() and (p.data < 1).all()
