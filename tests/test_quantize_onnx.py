"""QDQ ONNX export of quantized models, checked by onnx.checker and run by onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest

import steepest as st
from steepest import nn
from steepest.models import mlp
from steepest.quantize import QuantizedLinear, quantize
from steepest.train import predict

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from steepest.onnx import export  # noqa: E402  (needs onnx)


def _session(proto, optimize: bool = True):
    so = ort.SessionOptions()
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                   else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    return ort.InferenceSession(proto.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])


def _budget(q, ref: np.ndarray) -> tuple[float, float]:
    """(float tolerance, worst case) for onnxruntime against steepest's quantized output.

    The integer parts are exact in both, but onnxruntime may run a layer as a float Gemm on
    dequantized values (or fuse it into an integer kernel), so sums round differently:
    ~1e-5 of the output scale. Where such a difference moves a hidden value across a
    rounding boundary of the next QuantizeLinear, one activation code changes by one, which
    moves the output by at most s_x·max|W| of that layer (and propagates): the worst case
    allowed here is two such steps on the last layer, for rare elements only.
    """
    last = [m for m in q.children() if isinstance(m, QuantizedLinear)][-1]
    step = float(last.input_scale) * float(np.abs(last.dequantized_weight()).max())
    tol = 1e-5 * float(np.abs(ref).max())
    return tol, tol + 2 * step


def _assert_close(q, out: np.ndarray, ref: np.ndarray) -> None:
    tol, worst = _budget(q, ref)
    d = np.abs(out.astype(np.float64) - ref)
    assert out.shape == ref.shape and out.dtype == np.float32
    assert np.mean(d <= tol) >= 0.99, (d.max(), tol)
    assert d.max() <= worst, (d.max(), worst)


def _model(sizes=(20, 16, 12, 5), batch_norm=False, seed=0):
    st.manual_seed(seed)
    m = mlp(list(sizes), batch_norm=batch_norm)
    if batch_norm:
        m.train()
        for _ in range(3):
            m(st.Tensor(np.random.default_rng(1).normal(size=(64, sizes[0])).astype(
                np.float32) * 2 + 1))
    m.eval()
    return m


def _x(n, d=20, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


@pytest.mark.parametrize("scheme", ["per_channel", "per_tensor"])
@pytest.mark.parametrize("bits,activation_bits", [(8, 8), (4, 4)])
@pytest.mark.parametrize("optimize", [True, False])
def test_qdq_matches_steepest_on_another_batch(scheme, bits, activation_bits, optimize):
    m = _model(batch_norm=True)
    q = quantize(m, _x(200), scheme, bits, activation_bits=activation_bits)
    proto = export(q, _x(3, seed=1))  # checked with onnx.checker (full_check) inside
    onnx.checker.check_model(proto, full_check=True)
    x = _x(37, seed=2) * 1.5  # beyond the calibrated range too: the Clip must match
    out = _session(proto, optimize).run(None, {"input": x})[0]
    _assert_close(q, out, predict(q, x).astype(np.float64))


def test_qdq_graph_structure():
    m = _model()
    q = quantize(m, _x(100), "per_channel")
    proto = export(q, _x(4), opset=13)
    g = proto.graph
    assert proto.opset_import[0].version == 13
    assert g.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert g.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    ops = [n.op_type for n in g.node]
    assert ops.count("QuantizeLinear") == 3 and ops.count("DequantizeLinear") == 9
    assert "MatMulInteger" not in ops and ops.count("Gemm") == 3
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in g.initializer}
    lins = [(n, c) for n, c in q.named_children() if isinstance(c, QuantizedLinear)]
    for name, lin in lins:
        np.testing.assert_array_equal(inits[f"{name}.weight_q"], lin.weight_q)
        assert inits[f"{name}.weight_q"].dtype == np.int8
        np.testing.assert_array_equal(inits[f"{name}.weight_scale"], lin.weight_scale)
        assert inits[f"{name}.weight_zero_point"].dtype == np.int8
        assert not inits[f"{name}.weight_zero_point"].any()
        assert inits[f"{name}.bias_q"].dtype == np.int32
        assert inits[f"{name}.input_zero_point"].dtype == np.int8
        assert inits[f"{name}.input_zero_point"] == 0
        assert inits[f"{name}.input_scale"] == lin.input_scale
    # the weight DequantizeLinear is per axis (axis 0, one scale per output row)
    wdq = [n for n in g.node if n.op_type == "DequantizeLinear" and n.input[0].endswith(
        "weight_q")]
    assert len(wdq) == 3
    assert all(a.name == "axis" and a.i == 0 for n in wdq for a in n.attribute)
    assert all(len(n.attribute) == 1 for n in wdq)


def test_per_tensor_uses_one_scale():
    q = quantize(_model(), _x(100), "per_tensor")
    proto = export(q, _x(2))
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    scales = [v for k, v in inits.items() if k.endswith("weight_scale")]
    assert len(scales) == 3 and all(s.shape == () for s in scales)


def test_flatten_first_and_saved_file(tmp_path):
    st.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.Dropout(0.5),
                      nn.Linear(8, 3))
    m.eval()
    x = np.random.default_rng(0).normal(size=(50, 3, 4)).astype(np.float32)
    q = quantize(m, x)
    path = tmp_path / "q.onnx"
    export(q, x[:5], path)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    xt = np.random.default_rng(1).normal(size=(11, 3, 4)).astype(np.float32)
    out = _session(proto).run(None, {"input": xt})[0]
    _assert_close(q, out, predict(q, xt).astype(np.float64))


def test_old_opset_refused():
    q = quantize(_model(), _x(50))
    with pytest.raises(ValueError, match="opset >= 13"):
        export(q, _x(2), opset=12)


def test_mnist_small_accuracy_float_vs_qdq():
    from steepest import optim
    from steepest.data.datasets import mnist_small
    from steepest.experiments import _common as C

    xtr, ytr = mnist_small("train")
    xte, yte = mnist_small("test")
    C.seed_all(0)
    model = mlp([784, 64, 10], "relu", "he")
    C.train_steps(model, optim.Adam(model.parameters(), lr=1e-3), xtr, ytr, 150, 64, seed=0)
    model.eval()
    q = quantize(model, xtr[:500])
    sess = _session(export(q, xte[:8]))
    out = sess.run(None, {"input": xte})[0]  # 500 images in one batch (exported with 8)
    ref = predict(q, xte)
    agree = np.mean(out.argmax(axis=1) == ref.argmax(axis=1))
    float_acc = np.mean(predict(model, xte).argmax(axis=1) == yte)
    qdq_acc = np.mean(out.argmax(axis=1) == yte)
    assert agree >= 0.995, agree
    assert float_acc > 0.8 and abs(qdq_acc - float_acc) <= 0.01, (float_acc, qdq_acc)
