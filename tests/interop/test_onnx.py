"""ONNX export checked by onnx.checker and run by onnxruntime on another batch size."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import steepest as st  # noqa: E402
from steepest import functional as F  # noqa: E402
from steepest import nn  # noqa: E402
from steepest.onnx import UnsupportedOperatorError, export, register_module  # noqa: E402


def _run(path, x):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def _roundtrip(model, tmp_path, shape=(5,), example_batch=4, batch=7, dtype=np.float32,
               tol=1e-5, **kw):
    rng = np.random.default_rng(0)
    example = rng.standard_normal((example_batch, *shape)).astype(dtype)
    path = tmp_path / "m.onnx"
    proto = export(model, example, path, **kw)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    x = rng.standard_normal((batch, *shape)).astype(dtype) * 2
    model.eval()
    with st.no_grad():
        expected = model(st.tensor(x)).data
    got = _run(path, x)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    return proto


ACTIVATIONS = [nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.GELU(),
               nn.GELU("tanh"), nn.Softplus(), nn.Softplus(beta=2.0, threshold=3.0),
               nn.Softmax(-1), nn.LogSoftmax(1), nn.Identity()]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: repr(a))
def test_activations(act, tmp_path):
    st.manual_seed(0)
    _roundtrip(nn.Sequential(nn.Linear(5, 6), act, nn.Linear(6, 3)), tmp_path)


def _trained_bn(model, n_in):
    model.train()
    model(st.tensor(np.random.default_rng(3).standard_normal((32, n_in)).astype(np.float32)
                    * 3 + 1))
    return model


@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"track_running_stats": False}])
def test_mlp_with_batch_norm_dropout_flatten(kw, tmp_path):
    st.manual_seed(1)
    m = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.BatchNorm1d(16, **kw), nn.ReLU(),
                      nn.Dropout(0.5), nn.Linear(16, 4), nn.LogSoftmax())
    _trained_bn(nn.Sequential(*list(m)[1:]), 12)
    proto = _roundtrip(m, tmp_path, shape=(3, 4))
    ops = [n.op_type for n in proto.graph.node]
    assert "Dropout" not in ops and ops.count("Gemm") == 2
    if "track_running_stats" not in kw:
        assert "BatchNormalization" in ops
    names = {i.name for i in proto.graph.initializer}
    assert {"1.weight", "1.bias", "5.weight"} <= names
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"


def test_float64_and_fixed_batch(tmp_path):
    st.manual_seed(2)
    m = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.Tanh(),
                      nn.Linear(4, 2, dtype=np.float64))
    proto = _roundtrip(m, tmp_path, shape=(3,), example_batch=6, batch=6, dtype=np.float64,
                       tol=1e-12, dynamic_batch=False)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 6


class Residual(nn.Module):
    """A custom module: traced through its forward (no converter of its own)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 6)
        self.b = nn.Linear(6, 6)
        self.scale = nn.Parameter(np.full(6, 0.5, dtype=np.float32))

    def forward(self, x):
        h = F.relu(self.a(x))
        y = x + self.b(h) * self.scale - 1.0
        z = st.concatenate([y[:, :3] * 2.0, (y[:, 3:] ** 2) / 3.0], axis=1)
        return F.softmax(z.exp().sqrt() + z.sum(axis=1, keepdims=True).mean(axis=1,
                                                                            keepdims=True))


def test_custom_module_traced_through_forward(tmp_path):
    st.manual_seed(3)
    _roundtrip(nn.Sequential(nn.Linear(4, 6), Residual(), nn.Linear(6, 2)), tmp_path,
               shape=(4,))


def test_linear_on_3d_input_and_reshape(tmp_path):
    st.manual_seed(4)

    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 3)

        def forward(self, x):
            return self.lin(x).reshape(x.shape[0], -1).transpose(1, 0).T

    _roundtrip(Seq(), tmp_path, shape=(5, 4))


def test_unsupported_op_names_it(tmp_path):
    class UsesAbsMax(nn.Module):
        def forward(self, x):
            return st.where(x.data > 0, x, x * 0.1)

    with pytest.raises(UnsupportedOperatorError, match="where"):
        export(UsesAbsMax(), np.ones((3, 2), np.float32), tmp_path / "m.onnx")

    from steepest.autograd import Function

    class Mystery(Function):
        def forward(self, x):
            return x * 2

    class UsesMystery(nn.Module):
        def forward(self, x):
            return Mystery()(x)

    with pytest.raises(UnsupportedOperatorError, match="mystery.*register_function"):
        export(UsesMystery(), np.ones((3, 2), np.float32), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_register_module_converter(tmp_path):
    class Doubler(nn.Module):
        def forward(self, x):
            return x * 2.0 + 0.0

    @register_module(Doubler)
    def _convert(ctx, m, inputs, args, out):
        return ctx.node("Add", [inputs[0], inputs[0]], hint="double")

    try:
        proto = _roundtrip(nn.Sequential(nn.Linear(5, 3), Doubler()), tmp_path)
        assert "Add" in [n.op_type for n in proto.graph.node]
        assert "Mul" not in [n.op_type for n in proto.graph.node]
    finally:
        from steepest.onnx.exporter import MODULE_CONVERTERS

        MODULE_CONVERTERS.pop("Doubler")


# -- layer converters registered by name (Conv, pools, LayerNorm, Embedding) ----------------
# The layers themselves live in other modules; here each converter is checked against a
# stand-in module of the same name that carries PyTorch's attributes and computes its
# output with torch, so onnxruntime is compared with torch's own result.

torch = pytest.importorskip("torch")


def _stub(torch_module):
    class Stub(nn.Module):
        def __init__(self):
            super().__init__()
            self.t = torch_module.eval()
            for k, v in vars(torch_module).items():
                if not k.startswith("_") and k != "training":
                    object.__setattr__(self, k, v)
            for k, p in torch_module.named_parameters(recurse=False):
                setattr(self, k, nn.Parameter(p.detach().numpy()))
            for k in ("weight", "bias"):
                if not hasattr(self, k):
                    object.__setattr__(self, k, None)

        def forward(self, x):
            with torch.no_grad():
                y = self.t(torch.from_numpy(x.data)).numpy()
            return st.Tensor(y)

    Stub.__name__ = type(torch_module).__name__
    return Stub()


LAYERS = [
    (lambda: torch.nn.Conv2d(3, 4, 3, padding=1, stride=2, groups=1), (3, 9, 9)),
    (lambda: torch.nn.Conv2d(4, 4, 3, padding="same", dilation=2, groups=2), (4, 8, 8)),
    (lambda: torch.nn.Conv1d(2, 3, 5, padding=2, bias=False), (2, 11)),
    (lambda: torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
     (3, 5, 5)),
    (lambda: torch.nn.MaxPool2d(3, stride=2, padding=1), (2, 9, 9)),
    (lambda: torch.nn.MaxPool2d(2, ceil_mode=True), (2, 7, 7)),
    (lambda: torch.nn.AvgPool2d(2), (2, 8, 8)),
    (lambda: torch.nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False), (2, 6, 6)),
    (lambda: torch.nn.AdaptiveAvgPool2d(1), (3, 5, 5)),
    (lambda: torch.nn.AdaptiveAvgPool2d((2, 3)), (3, 4, 6)),
    (lambda: torch.nn.AdaptiveMaxPool2d(1), (3, 5, 5)),
    (lambda: torch.nn.LayerNorm(6), (4, 6)),
    (lambda: torch.nn.LayerNorm((4, 6), elementwise_affine=False), (4, 6)),
]


@pytest.mark.parametrize("make,shape", LAYERS, ids=lambda v: "" if isinstance(v, tuple)
                         else repr(v()))
def test_layer_converters_match_torch(make, shape, tmp_path):
    torch.manual_seed(0)
    layer = make()
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(-1, 1)
    proto = _roundtrip(_stub(layer), tmp_path, shape=shape, example_batch=2, batch=5)
    assert len(proto.graph.node) <= 2  # one ONNX op per layer (plus a Cast at most)


def test_embedding_converter(tmp_path):
    torch.manual_seed(0)
    m = _stub(torch.nn.Embedding(10, 4))
    idx = np.array([[1, 2, 3], [0, 9, 4]], dtype=np.int64)
    export(m, idx, tmp_path / "e.onnx")
    x = np.random.default_rng(0).integers(0, 10, (6, 3))
    np.testing.assert_allclose(_run(tmp_path / "e.onnx", x), m(st.Tensor(x)).data, rtol=1e-6)


@pytest.mark.parametrize("opset", [13, 18, 21])
def test_other_opsets(opset, tmp_path):
    class Reduce(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            h = self.lin(x)
            return (h.sum(axis=1, keepdims=True) + h.mean(axis=1, keepdims=True)
                    - h.amax(dim=1, keepdim=True) * h.amin(dim=1, keepdim=True))

    st.manual_seed(5)
    proto = _roundtrip(Reduce(), tmp_path, shape=(4,), opset=opset)
    assert proto.opset_import[0].version == opset
