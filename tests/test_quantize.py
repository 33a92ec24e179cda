"""steepest.quantize: symmetric int8 weights, calibrated activations, exact integer GEMM."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
from steepest import nn
from steepest.models import mlp
from steepest.quantize import QuantizedLinear, load_quantized, quantize, quantize_weight
from steepest.train import predict


def _model(sizes=(20, 16, 5), batch_norm=False, seed=0):
    st.manual_seed(seed)
    m = mlp(list(sizes), batch_norm=batch_norm)
    if batch_norm:  # give the running statistics something to fold
        m.train()
        for _ in range(5):
            m(st.Tensor(np.random.default_rng(1).normal(size=(64, sizes[0])).astype(
                np.float32) * 2 + 1))
    m.eval()
    return m


def _x(n=200, d=20, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


@pytest.mark.parametrize("scheme", ["per_channel", "per_tensor"])
@pytest.mark.parametrize("bits", [8, 4, 2])
def test_weight_codes_and_rounding_error(scheme, bits):
    w = np.random.default_rng(0).normal(size=(6, 9)) * np.arange(1, 7)[:, None]
    q, s = quantize_weight(w, bits, scheme)
    qmax = 2 ** (bits - 1) - 1
    assert q.dtype == np.int8 and s.dtype == np.float32 and s.shape == (6,)
    assert np.abs(q).max() == qmax  # the range is used up to its end
    err = np.abs(w - q * s[:, None].astype(np.float64))
    assert (err <= s[:, None] / 2 + 1e-6).all()  # round to nearest
    if scheme == "per_tensor":
        assert np.all(s == s[0])
    else:
        np.testing.assert_allclose(s, np.abs(w).max(axis=1) / qmax, rtol=1e-6)


def test_per_channel_error_not_above_per_tensor():
    w = np.random.default_rng(0).normal(size=(32, 50)) * np.geomspace(0.01, 1, 32)[:, None]
    errs = {}
    for scheme in ("per_channel", "per_tensor"):
        q, s = quantize_weight(w, 4, scheme)
        errs[scheme] = np.mean((w - q * s[:, None]) ** 2)
    assert errs["per_channel"] < 0.5 * errs["per_tensor"]


def test_int8_model_close_to_float_and_int32_path_identical():
    m = _model()
    x = _x()
    q = quantize(m, x)
    q32 = quantize(m, x, accumulate="int32")
    ref = predict(m, x)
    out = predict(q, x)
    assert out.dtype == np.float32
    assert np.abs(out - ref).max() < 0.03 * np.abs(ref).max()
    np.testing.assert_array_equal(out, predict(q32, x))


def test_wide_layer_uses_exact_float64_gemm():
    st.manual_seed(0)
    m = mlp([2000, 4])
    m.eval()
    x = _x(50, 2000)
    q = quantize(m, x)
    layer = next(iter(q.children()))
    assert layer._float_dtype == np.float64  # 127 * 127 * 2000 > 2^24
    np.testing.assert_array_equal(predict(q, x), predict(quantize(m, x, accumulate="int32"), x))


def test_batch_norm_is_folded_and_dropout_dropped():
    m = _model(batch_norm=True)
    x = _x()
    q = quantize(m, x)
    kinds = [type(c).__name__ for c in q.children()]
    assert kinds == ["QuantizedLinear", "ReLU", "QuantizedLinear"]
    ref = predict(m, x)
    assert np.abs(predict(q, x) - ref).max() < 0.05 * np.abs(ref).max()
    d = mlp([20, 16, 5], dropout=0.5)
    assert [type(c).__name__ for c in quantize(d, x).children()] == kinds


def test_percentile_calibration_gives_a_smaller_input_scale():
    m = _model()
    x = _x()
    x[0, 0] = 50.0  # one outlier
    a = next(iter(quantize(m, x).children()))
    b = next(iter(quantize(m, x, calibration="percentile", percentile=99.0).children()))
    assert float(b.input_scale) < 0.2 * float(a.input_scale)


def test_save_load_round_trip_and_size(tmp_path):
    m = _model((784, 100, 10))
    x = _x(100, 784)
    q = quantize(m, x)
    q.save(tmp_path / "q.npz")
    st.save(m.state_dict(), tmp_path / "f.npz")
    ratio = (tmp_path / "f.npz").stat().st_size / (tmp_path / "q.npz").stat().st_size
    assert 3.5 <= ratio <= 4.1
    r = load_quantized(tmp_path / "q.npz")
    assert isinstance(next(iter(r.children())), QuantizedLinear)
    np.testing.assert_array_equal(predict(r, x), predict(q, x))
    assert r.state_dict()["0.weight_q"].dtype == np.int8


def test_load_refuses_tampered_files(tmp_path):
    q = quantize(_model(), _x())
    state = q.state_dict()
    state["0.weight_q"] = state["0.weight_q"].astype(np.float32)
    st.save({"format": "steepest-quantized-v1",
             "spec": [{"kind": "QuantizedLinear", "name": "0"}], "state": state},
            tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="expected int8/float32/int32"):
        load_quantized(tmp_path / "bad.npz")
    st.save({"format": "something else"}, tmp_path / "other.npz")
    with pytest.raises(ValueError, match="not a steepest quantized model"):
        load_quantized(tmp_path / "other.npz")


def test_bad_arguments_are_named():
    m, x = _model(), _x()
    with pytest.raises(ValueError, match="bits must be an integer from 2 to 8"):
        quantize(m, x, bits=9)
    with pytest.raises(ValueError, match="scheme must be one of"):
        quantize(m, x, scheme="per_row")
    with pytest.raises(ValueError, match="calibration_data contains NaN"):
        quantize(m, np.full((4, 20), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"layer 1 \(Softmax\) is not supported"):
        quantize(nn.Sequential(nn.Linear(20, 3), nn.Softmax()), x)
