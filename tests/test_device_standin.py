"""The device path, end to end, on the CPU stand-in for CuPy (CI) or a real GPU.

Every test runs on the device the ``dev`` fixture gives: the stand-in by default, the GPU
with ``STEEPEST_TEST_DEVICE=cuda`` (skipped without CuPy). Ops, losses and layers go
through the torch oracle on the device; optimisers, a ``fit`` and a checkpoint round trip
are compared with the same run on the CPU: bit-equal on the stand-in (the same NumPy code
runs), within float32 tolerance on a GPU (other kernels, other rounding).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import steepest as st
import steepest.functional as F
from steepest import backend, nn, optim
from tests import oracle
from tests.oracle import check, host

REAL_GPU = oracle.DEVICE == "cuda"


@pytest.fixture
def dev():
    with oracle.on_device("cuda" if REAL_GPU else "standin"):
        yield "cuda"


def same(a, b, rtol=1e-5, atol=1e-6):
    """Bit-equal on the stand-in; float32-close on a real GPU."""
    a, b = host(a), host(b)
    if REAL_GPU:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(a, b)


def r(*shape, dtype=np.float64, seed=0, positive=False):
    a = np.random.default_rng(seed + 7 * sum(shape)).standard_normal(shape)
    return (np.abs(a) + 0.5 if positive else a).astype(dtype)


# -- ops through the oracle, on the device ------------------------------------------------
OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, 2, False),
    "mul_bcast": (lambda a, b: a * b[0], lambda a, b: a * b[0], 2, False),
    "div": (lambda a, b: a / b, lambda a, b: a / b, 2, True),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, 2, True),
    "maximum": (st.maximum, torch.maximum, 2, False),
    "matmul": (lambda a, b: a @ b.T, lambda a, b: a @ b.T, 2, False),
    "exp_log": (lambda x: st.log(st.exp(x) + 1.0), lambda x: torch.log(torch.exp(x) + 1.0),
                1, False),
    "sqrt": (st.sqrt, torch.sqrt, 1, True),
    "clip": (lambda x: x.clip(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5), 1, False),
    "where": (lambda x: st.where(x > 0, x * 2, x * x),
              lambda x: torch.where(x > 0, x * 2, x * x), 1, False),
    "scalar_ops": (lambda x: (1.0 - x) / 3.0 + 2.0 ** x, lambda x: (1.0 - x) / 3.0 + 2.0 ** x,
                   1, False),
    "sum_dim": (lambda x: x.sum(1), lambda x: x.sum(1), 1, False),
    "mean": (lambda x: x.mean(), lambda x: x.mean(), 1, False),
    "var": (lambda x: x.var(0), lambda x: x.var(0), 1, False),
    "amax": (lambda x: x.amax(1), lambda x: x.amax(1), 1, False),
    "max_dim": (lambda x: x.max(1).values, lambda x: x.max(1).values, 1, False),
    "prod": (lambda x: x.prod(1), lambda x: x.prod(1), 1, False),
    "logsumexp": (lambda x: st.logsumexp(x, 1), lambda x: torch.logsumexp(x, 1), 1, False),
    "norm": (lambda x: st.norm(x), lambda x: torch.linalg.norm(x), 1, False),
    "reshape_T": (lambda x: x.reshape(4, 3).T * 1.0, lambda x: x.reshape(4, 3).T * 1.0, 1,
                  False),
    "getitem": (lambda x: x[1:, ::2], lambda x: x[1:, ::2], 1, False),
    "getitem_array": (lambda x: x[np.array([0, 2, 0])], lambda x: x[[0, 2, 0]], 1, False),
    "getitem_mask": (lambda x: x[x > 0], lambda x: x[x > 0], 1, False),
    "cat_stack": (lambda a, b: st.stack([st.cat([a, b]), st.cat([b, a])]),
                  lambda a, b: torch.stack([torch.cat([a, b]), torch.cat([b, a])]), 2, False),
    "split": (lambda x: x.split(2, 1)[1] * 2.0, lambda x: x.split(2, 1)[1] * 2.0, 1, False),
    "softmax": (lambda x: F.softmax(x, 1), lambda x: tF.softmax(x, 1), 1, False),
    "log_softmax": (lambda x: F.log_softmax(x, 1), lambda x: tF.log_softmax(x, 1), 1, False),
    "relu": (F.relu, tF.relu, 1, False),
    "gelu": (F.gelu, tF.gelu, 1, False),
    "sigmoid_tanh": (lambda x: F.sigmoid(x) * F.tanh(x),
                     lambda x: torch.sigmoid(x) * torch.tanh(x), 1, False),
    "softplus": (F.softplus, tF.softplus, 1, False),
    "elu_leaky": (lambda x: F.elu(x) + F.leaky_relu(x), lambda x: tF.elu(x) + tF.leaky_relu(x),
                  1, False),
    "linear": (lambda x, w: F.linear(x, w), lambda x, w: tF.linear(x, w), 2, False),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(OPS))
def test_ops_match_torch_on_the_device(dev, name, dtype):
    f_st, f_t, n, pos = OPS[name]
    xs = [r(3, 4, dtype=dtype, seed=i, positive=pos) for i in range(n)]
    check(f_st, f_t, xs, second_order=dtype == np.float64 and name != "prod", device=dev)


LABELS = np.array([0, 2, 1, 1, 3])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["cross_entropy", "cross_entropy_smooth", "nll", "mse",
                                  "l1", "huber", "bce_logits", "bce", "cross_entropy_probs"])
def test_losses_match_torch_on_the_device(dev, name, reduction):
    labels = oracle.to_dev(LABELS, dev)
    q = np.random.default_rng(1).dirichlet(np.ones(4), size=5)
    cases = {
        "cross_entropy": (lambda a: F.cross_entropy(a, labels, reduction=reduction),
                          lambda a: tF.cross_entropy(a, torch.tensor(LABELS),
                                                     reduction=reduction)),
        "cross_entropy_smooth": (
            lambda a: F.cross_entropy(a, labels, reduction=reduction, label_smoothing=0.1),
            lambda a: tF.cross_entropy(a, torch.tensor(LABELS), reduction=reduction,
                                       label_smoothing=0.1)),
        "nll": (lambda a: F.nll_loss(F.log_softmax(a, 1), labels, reduction=reduction),
                lambda a: tF.nll_loss(tF.log_softmax(a, 1), torch.tensor(LABELS),
                                      reduction=reduction)),
        "cross_entropy_probs": (lambda a, b: F.cross_entropy(a, b, reduction=reduction),
                                lambda a, b: tF.cross_entropy(a, b, reduction=reduction)),
        "mse": (lambda a, b: F.mse_loss(a, b, reduction=reduction),
                lambda a, b: tF.mse_loss(a, b, reduction=reduction)),
        "l1": (lambda a, b: F.l1_loss(a, b, reduction=reduction),
               lambda a, b: tF.l1_loss(a, b, reduction=reduction)),
        "huber": (lambda a, b: F.huber_loss(a, b, reduction=reduction),
                  lambda a, b: tF.huber_loss(a, b, reduction=reduction)),
        "bce_logits": (lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
                       lambda a, b: tF.binary_cross_entropy_with_logits(a, b,
                                                                       reduction=reduction)),
        "bce": (lambda a, b: F.binary_cross_entropy(F.sigmoid(a), b, reduction=reduction),
                lambda a, b: tF.binary_cross_entropy(torch.sigmoid(a), b,
                                                     reduction=reduction)),
    }
    f_st, f_t = cases[name]
    x = r(5, 4, seed=3)
    two = f_st.__code__.co_argcount == 2
    target = q if name == "cross_entropy_probs" else np.abs(np.tanh(r(5, 4, seed=4)))
    check(f_st, f_t, [x, target] if two else [x], second_order=True, device=dev)


def _modules():
    return {
        "linear": (lambda: nn.Linear(4, 3), lambda: torch.nn.Linear(4, 3)),
        "mlp": (lambda: nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)),
                lambda: torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(),
                                            torch.nn.Linear(6, 3))),
        "batchnorm": (lambda: nn.BatchNorm1d(4), lambda: torch.nn.BatchNorm1d(4)),
    }


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("name", ["linear", "mlp", "batchnorm"])
def test_layers_match_torch_after_module_to(dev, name, train):
    make_st, make_t = _modules()[name]
    st.manual_seed(0)
    ours, theirs = make_st().double(), make_t().double()
    with torch.no_grad():
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            tp.copy_(torch.tensor(p.data))
    ours.to(dev).train(train)
    theirs.train(train)
    assert all(p.device.type == "cuda" for p in ours.parameters())
    assert all(backend.is_device_array(b) for b in ours.buffers())
    check(ours, theirs, [r(6, 4, seed=5)], device=dev)
    for (k, b), tb in zip(ours.named_buffers(), theirs.buffers()):
        np.testing.assert_allclose(host(b), tb.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


# -- optimisers, training, checkpoints: the device run equals the CPU run ------------------
OPTIMISERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "momentum_nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True,
                                              weight_decay=1e-3),
    "adam": lambda ps: optim.Adam(ps, lr=1e-2),
    "adam_amsgrad": lambda ps: optim.Adam(ps, lr=1e-2, amsgrad=True, weight_decay=1e-2),
    "adamw": lambda ps: optim.AdamW(ps, lr=1e-2),
    "nadam": lambda ps: optim.NAdam(ps, lr=1e-2),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=1e-2, momentum=0.9, centered=True),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=1e-1),
    "adadelta": lambda ps: optim.Adadelta(ps, lr=1.0),
}


def _mlp(seed=0, dropout=0.0):
    st.manual_seed(seed)
    layers = [nn.Linear(8, 16), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(16, 3))


def _data(n=40):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 8)).astype(np.float32), rng.integers(0, 3, n)


def _train(device, make_opt, steps=5, dropout=0.0):
    model = _mlp(dropout=dropout)
    if device is not None:
        model.to(device)
    opt = make_opt(list(model.parameters()))
    x, y = _data()
    xt, yt = st.tensor(x, device=device), st.tensor(y, device=device)
    st.manual_seed(1)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
    return model, opt, float(loss)


@pytest.mark.parametrize("name", list(OPTIMISERS))
def test_optimiser_steps_on_the_device_equal_the_cpu(dev, name):
    cpu_model, cpu_opt, cpu_loss = _train(None, OPTIMISERS[name])
    model, opt, loss = _train(dev, OPTIMISERS[name])
    for (k, a), b in zip(model.state_dict().items(), cpu_model.state_dict().values()):
        assert backend.is_device_array(a), k
        same(a, b)
    for s_dev, s_cpu in zip(opt.state.values(), cpu_opt.state.values()):
        for k, v in s_dev.items():
            if hasattr(v, "shape"):
                assert backend.is_device_array(v), k
                same(v, s_cpu[k])
    assert loss == pytest.approx(cpu_loss, rel=0 if not REAL_GPU else 1e-5)


def test_dropout_masks_are_the_same_on_every_device(dev):
    cpu_model, _, cpu_loss = _train(None, OPTIMISERS["sgd"], dropout=0.5)
    model, _, loss = _train(dev, OPTIMISERS["sgd"], dropout=0.5)
    assert loss == pytest.approx(cpu_loss, rel=0 if not REAL_GPU else 1e-5)
    same(model[0].weight, cpu_model[0].weight)


def test_fit_on_the_device_equals_fit_on_the_cpu(dev, tmp_path):
    x, y = _data(64)
    runs = {}
    for where in (None, dev):
        model = _mlp()
        opt = optim.Adam(model.parameters(), lr=1e-2)
        hist = st.train.fit(model, "cross_entropy", opt, (x, y), (x[:16], y[:16]), epochs=3,
                            batch_size=16, metrics=["accuracy"], seed=0, progress=False,
                            device=where, checkpoint=tmp_path / f"{where}.ckpt")
        runs[where] = (model, hist)
    (cpu_model, cpu_hist), (model, hist) = runs[None], runs[dev]
    assert model[0].weight.device.type == "cuda"
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(hist[key], cpu_hist[key], rtol=0 if not REAL_GPU else 1e-5)
    for a, b in zip(model.parameters(), cpu_model.parameters()):
        same(a, b)
    pred = st.train.predict(model, x)
    assert type(pred) is np.ndarray
    same(pred, st.train.predict(cpu_model, x))


def test_checkpoint_saved_on_the_device_loads_anywhere(dev, tmp_path):
    model, opt, _ = _train(dev, OPTIMISERS["adam"])
    st.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "c.npz")
    state = st.load(tmp_path / "c.npz")  # host arrays in the file
    assert all(type(v) is np.ndarray for v in state["model"].values())
    # onto the CPU ...
    cpu = _mlp(seed=5)
    cpu_opt = optim.Adam(cpu.parameters(), lr=1e-2)
    cpu.load_state_dict(state["model"])
    cpu_opt.load_state_dict(state["optimizer"])
    # ... and onto the device, through map_location
    on_dev = st.load(tmp_path / "c.npz", map_location=dev)
    assert all(backend.is_device_array(v) for v in on_dev["model"].values())
    gpu = _mlp(seed=6).to(dev)
    gpu_opt = optim.Adam(gpu.parameters(), lr=1e-2)
    gpu.load_state_dict(state["model"])  # host arrays into device parameters: copied there
    gpu_opt.load_state_dict(state["optimizer"])
    for a, b, c in zip(cpu.parameters(), gpu.parameters(), model.parameters()):
        assert backend.is_device_array(b.data)
        same(a, c)
        same(b, c)
    assert all(backend.is_device_array(v) for s in gpu_opt.state.values() for v in s.values()
               if hasattr(v, "shape"))
    x, y = _data()
    for m, o in ((cpu, cpu_opt), (gpu, gpu_opt)):  # both continue identically
        o.zero_grad()
        F.cross_entropy(m(st.tensor(x, device=m[0].weight.device)),
                        st.tensor(y, device=m[0].weight.device)).backward()
        o.step()
    for a, b in zip(cpu.parameters(), gpu.parameters()):
        same(b, a)


def test_module_to_moves_and_comes_back(dev):
    model = _mlp()
    before = [p.data.copy() for p in model.parameters()]
    params = list(model.parameters())
    model.to(dev)
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert all(p.device.type == "cuda" and p.is_cuda for p in params)
    model.cpu()
    for p, b in zip(model.parameters(), before):
        assert type(p.data) is np.ndarray
        np.testing.assert_array_equal(p.data, b)
    model.to(dev, np.float64)
    assert all(p.dtype == np.float64 and p.is_cuda for p in model.parameters())


def test_optimiser_state_left_behind_is_named(dev):
    model = _mlp()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    x, y = _data()
    F.cross_entropy(model(st.tensor(x)), st.tensor(y)).backward()
    opt.step()
    model.to(dev)
    opt.zero_grad()
    F.cross_entropy(model(st.tensor(x, device=dev)), st.tensor(y, device=dev)).backward()
    with pytest.raises(RuntimeError, match=r"state 'exp_avg' is on cpu but its parameter is on"):
        opt.step()
    opt.load_state_dict(opt.state_dict())  # the documented way to move it
    opt.step()


def test_tensor_to_is_differentiable_and_explicit(dev):
    x = st.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    y = x.to(dev)
    assert y.device == st.device("cuda:0") and y.is_cuda and not y.is_leaf
    assert x.to("cpu") is x and y.cuda() is y and y.cpu().device == "cpu"
    (y * y).sum().backward()
    assert type(x.grad.data) is np.ndarray
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)
    with pytest.raises(TypeError, match=r"numpy: cannot convert a cuda:0 tensor.*\.cpu\(\)"):
        y.numpy()
    with pytest.raises(TypeError, match="cuda:0 tensor"):
        np.asarray(y)
    assert y.tolist() == x.tolist() and float(y.sum()) == float(x.sum())
    t = st.tensor(np.arange(3), device=dev)
    assert t.is_cuda and t.dtype == np.int64


@pytest.mark.parametrize("op", ["add", "matmul", "linear", "cross_entropy"])
def test_mixing_devices_names_the_op_and_both_devices(dev, op):
    a = st.tensor(np.ones((2, 2), np.float32))
    b = a.to(dev)
    calls = {"add": lambda: a + b, "matmul": lambda: b @ a,
             "linear": lambda: F.linear(a, b),
             "cross_entropy": lambda: F.cross_entropy(b, np.array([0, 1]))}
    with pytest.raises(RuntimeError, match=r"expected all tensors on the same device, "
                                           r"found (cpu and cuda:0|cuda:0 and cpu)"):
        calls[op]()


def test_mixing_devices_in_the_optimiser_and_batch_norm(dev):
    p = nn.Parameter(np.ones(3, np.float32))
    opt = optim.SGD([p], lr=0.1)
    p.grad = st.tensor(np.ones(3, np.float32)).to(dev)
    with pytest.raises(RuntimeError, match=r"SGD.step: expected all tensors on the same"):
        opt.step()
    x = st.tensor(np.ones((4, 3), np.float32), device=dev)
    with pytest.raises(RuntimeError, match="batch_norm: expected all tensors"):
        F.batch_norm(x, np.zeros(3, np.float32), np.ones(3, np.float32))


def test_gradcheck_runs_on_the_device(dev):
    x = st.tensor(r(3, 4), device=dev)
    w = st.tensor(r(4, 2, seed=1), device=dev)
    assert st.gradcheck(lambda a, b: F.log_softmax(F.gelu(a @ b), 1), [x, w])


def test_data_loader_delivers_batches_on_the_device(dev):
    x, y = _data(10)
    loader = st.data.DataLoader((x, y), batch_size=4, shuffle=True, seed=0, device=dev)
    plain = st.data.DataLoader((x, y), batch_size=4, shuffle=True, seed=0)
    for (xb, yb), (hx, hy) in zip(loader, plain):
        assert backend.is_device_array(xb) and backend.is_device_array(yb)
        np.testing.assert_array_equal(host(xb), hx)
        np.testing.assert_array_equal(host(yb), hy)


def test_cuda_namespace_with_the_device(dev):
    assert st.cuda.is_available() and st.cuda.device_count() >= 1
    st.cuda.synchronize()
    st.cuda.synchronize("cuda:0")


def test_without_cupy_a_cuda_request_says_what_to_install(monkeypatch):
    if REAL_GPU:
        pytest.skip("CuPy is installed here")
    import builtins

    real_import = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy":
            raise ImportError("no cupy")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    old = backend.set_cuda_module(None)
    try:
        assert not st.cuda.is_available() and st.cuda.device_count() == 0
        for call in (lambda: st.tensor([1.0]).to("cuda"), lambda: _mlp().to("cuda"),
                     lambda: st.tensor([1.0], device="cuda"),
                     lambda: st.data.DataLoader((np.ones((2, 1)),), device="cuda")):
            with pytest.raises(RuntimeError, match=r'CuPy is not installed; install it with '
                                                   r'pip install "steepest\[gpu\]"'):
                call()
    finally:
        backend.set_cuda_module(old)


@pytest.mark.gpu
def test_real_gpu_arrays_are_cupy():
    """Only on a machine with CuPy and a GPU (``pytest -m gpu``)."""
    if not st.cuda.is_available():
        pytest.skip("needs CuPy and an NVIDIA GPU")
    import cupy

    t = st.tensor([1.0, 2.0], device="cuda")
    assert isinstance(t.data, cupy.ndarray) and t.device == "cuda:0"
    assert float((t * t).sum()) == 5.0


@pytest.mark.parametrize("mode", ["raise", "skip"])
def test_nonfinite_device_gradients_are_refused(dev, mode):
    p = nn.Parameter(backend.to_device(np.ones(3, np.float32), dev))
    q = nn.Parameter(backend.to_device(np.ones(2, np.float32), dev))
    opt = optim.SGD([p, q], lr=0.1, nonfinite=mode)
    p.grad = st.tensor(np.ones(3, np.float32), device=dev)
    q.grad = st.tensor(np.array([1.0, np.nan], np.float32), device=dev)
    if mode == "raise":
        with pytest.raises(FloatingPointError, match=r"index 1, shape \(2,\)\) contains NaN"):
            opt.step()
    else:
        opt.step()
        assert opt.skipped_steps == 1
    same(p, np.ones(3, np.float32))


def test_cli_train_on_the_device_gives_the_cpu_result(dev, tmp_path, capsys):
    import json

    from steepest.cli import main

    common = ["train", "--dataset", "spirals", "--hidden", "16", "--epochs", "2", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "cpu")]) == 0
    assert main([*common, "--out", str(tmp_path / "dev"), "--device", dev]) == 0
    cpu, gpu = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("cpu", "dev"))
    for key in ("test_loss", "test_accuracy"):
        assert gpu[key] == pytest.approx(cpu[key], rel=0 if not REAL_GPU else 1e-5)
    assert main([*common, "--out", str(tmp_path / "bad"), "--device", "tpu"]) == 2
    assert "--device tpu: device: steepest runs on 'cpu' and 'cuda'" in capsys.readouterr().err


def test_repr_of_a_device_tensor_names_the_device(dev):
    t = st.tensor([1.5, 2.0], device=dev, requires_grad=True)
    assert repr(t) == "tensor([1.5, 2. ], device='cuda:0', requires_grad=True)"
    assert repr(t * 2.0).startswith("tensor([3., 4.], device='cuda:0', grad_fn=mul")


def test_the_shared_fixture_follows_the_environment(test_device):
    x = st.tensor([1.0, 2.0], device=test_device)
    assert x.device.type == st.device(test_device).type == ("cpu" if oracle.DEVICE is None
                                                            else "cuda")


def test_scalar_backward_alternating_host_and_device(dev):
    """The implicit root gradient (ones) is cached per device kind: a host backward first
    must not hand a host array to a device graph, nor the reverse."""
    for where in ("cpu", dev, "cpu", dev):
        x = st.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
        (x.to(where) ** 2).sum().backward()
        assert type(x.grad.data) is np.ndarray
        np.testing.assert_array_equal(x.grad.data, 2 * x.data)


# -- vocabulary and convolution ops through the oracle, on the device ----------------------
IGN = np.array([0, -100, 2, 1, -100, 3])
IDX = np.array([[0, 2, 1, 0], [3, 1, 1, 2], [2, 0, 3, 3]])
CLS_W = np.array([0.5, 1.0, 2.0, 1.5])
VOCAB = {
    "ce_ignore_weight": (lambda a, t, w: F.cross_entropy(a, t, weight=w, label_smoothing=0.1),
                         lambda a, t, w: tF.cross_entropy(a, t, weight=w, label_smoothing=0.1),
                         [(6, 4), IGN, CLS_W]),
    "nll_ignore": (lambda a, t: F.nll_loss(F.log_softmax(a, 1), t),
                   lambda a, t: tF.nll_loss(tF.log_softmax(a, 1), t), [(6, 4), IGN]),
    "poisson_kl": (lambda a, t: F.poisson_nll_loss(a, t, full=True)
                   + F.kl_div(a, t, reduction="batchmean"),
                   lambda a, t: tF.poisson_nll_loss(a, t, full=True)
                   + tF.kl_div(a, t, reduction="batchmean"),
                   [(3, 4), np.abs(r(3, 4, seed=9)) + 0.5]),
    "gather_scatter_add": (lambda a: st.scatter_add(a * 1.0, 0, IDX % 3, st.gather(a, 1, IDX)),
                           lambda a: torch.scatter_add(a * 1.0, 0, torch.tensor(IDX % 3),
                                                       torch.gather(a, 1, torch.tensor(IDX))),
                           [(3, 4)]),
    "index_select_embedding": (lambda a: st.index_select(a, 1, np.array([3, 0, 3, 1]))
                               + F.embedding(np.array([2, 0, 1]), a),
                               lambda a: torch.index_select(a, 1, torch.tensor([3, 0, 3, 1]))
                               + tF.embedding(torch.tensor([2, 0, 1]), a), [(3, 4)]),
    "pad_flip_roll": (lambda a: st.roll(st.flip(F.pad(a, (1, 2), mode="reflect"), [0]), 2, 1),
                      lambda a: torch.roll(torch.flip(tF.pad(a, (1, 2), mode="reflect"), [0]),
                                           2, 1), [(3, 4)]),
    "scans": (lambda a: st.cumsum(a, 1) + st.cumprod(a, 0) + st.logcumsumexp(a, 1),
              lambda a: torch.cumsum(a, 1) + torch.cumprod(a, 0) + torch.logcumsumexp(a, 1),
              [(3, 4)]),
    "sort_topk": (lambda a: st.sort(a, 1).values[:, :2] + st.topk(a, 2).values,
                  lambda a: torch.sort(a, 1).values[:, :2] + torch.topk(a, 2).values,
                  [(3, 4)]),
    "trig_norm": (lambda a: st.linalg.vector_norm(st.sin(a) * st.atan2(a, a + 2.0), 3, 1),
                  lambda a: torch.linalg.vector_norm(torch.sin(a) * torch.atan2(a, a + 2.0), 3,
                                                     1), [(3, 4)]),
    "einsum_tril_kron": (lambda a: st.einsum("ii->i", st.tril(a[:, :3]))
                         + st.kron(a[0, :3], a[1, :3])[:3]
                         + st.linalg.matrix_power(a[:, :3], 0)[0],
                         lambda a: torch.einsum("ii->i", torch.tril(a[:, :3]))
                         + torch.kron(a[0, :3], a[1, :3])[:3]
                         + torch.linalg.matrix_power(a[:, :3], 0)[0], [(3, 4)]),
    "glu_normalize_prelu": (lambda a, w: F.glu(F.normalize(a), 1) + F.prelu(a, w)[:, :2],
                            lambda a, w: tF.glu(tF.normalize(a), 1) + tF.prelu(a, w)[:, :2],
                            [(3, 4), (4,)]),
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
               lambda x, w, b: tF.conv2d(x, w, b, stride=2, padding=1, groups=2),
               [(2, 4, 5, 5), (6, 2, 3, 3), (6,)]),
    "pools": (lambda x: F.max_pool2d(x, 2, padding=1).sum() + F.avg_pool2d(x, 3, 1, 1).sum()
              + F.adaptive_avg_pool2d(x, 3).sum() + F.adaptive_max_pool2d(x, 2).sum(),
              lambda x: tF.max_pool2d(x, 2, padding=1).sum() + tF.avg_pool2d(x, 3, 1, 1).sum()
              + tF.adaptive_avg_pool2d(x, 3).sum() + tF.adaptive_max_pool2d(x, 2).sum(),
              [(2, 3, 5, 5)]),
    "unfold_interpolate": (lambda x: F.unfold(x, 2, padding=1).sum(1)[:, :24]
                           + F.interpolate(x, size=(6, 4), mode="bilinear").reshape(2, -1),
                           lambda x: tF.unfold(x, 2, padding=1).sum(1)[:, :24]
                           + tF.interpolate(x, size=(6, 4), mode="bilinear").reshape(2, -1),
                           [(2, 1, 5, 5)]),
}


@pytest.mark.parametrize("name", list(VOCAB))
def test_vocabulary_and_conv_ops_match_torch_on_the_device(dev, name):
    """Constant operands (labels, class weights) are moved to the device with the inputs;
    host index arrays given straight to an op join the input's device."""
    f_st, f_t, specs = VOCAB[name]
    consts = [s for s in specs if isinstance(s, np.ndarray)]
    shapes = [s for s in specs if not isinstance(s, np.ndarray)]
    xs = [r(*s, seed=i) for i, s in enumerate(shapes)]
    on_dev = [oracle.to_dev(c, dev) for c in consts]
    on_torch = [torch.tensor(c) for c in consts]
    check(lambda *a: f_st(*a, *on_dev), lambda *a: f_t(*a, *on_torch), xs, device=dev)
