"""Module: registration, traversal, modes, state dicts, repr/summary, symmetry check."""

import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import steepest as st
from steepest import nn


def mlp(hidden=15):
    return nn.Sequential(nn.Linear(784, hidden), nn.Sigmoid(), nn.Linear(hidden, 10))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.drop = nn.Dropout(0.5)
        self.scale = nn.Parameter(np.ones(1, np.float32))
        self.fc2 = nn.Linear(8, 2)
        self.register_buffer("steps", np.zeros((), np.int64))
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc2(self.drop(nn.functional.relu(self.bn(self.fc1(x))))) * self.scale


def test_registration_and_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight",
                     "fc2.bias"]
    assert [n for n, _ in net.named_children()] == ["fc1", "bn", "drop", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "bn", "drop", "fc2"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "bn.running_mean",
                                                   "bn.running_var", "bn.num_batches_tracked"]
    assert net.note == "plain attribute"
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert net.num_parameters() == 4 * 8 + 8 + 8 + 8 + 1 + 8 * 2 + 2
    # re-assigning keeps the position; None keeps the slot; deleting unregisters
    net.fc1 = nn.Linear(4, 8)
    assert [n for n, _ in net.named_children()][0] == "fc1"
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="Parameter or None"):
        net.scale = np.ones(1)
    del net.fc2
    assert "fc2" not in dict(net.named_children())


def test_shared_parameters_counted_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert seq.num_parameters() == 12
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_forgetting_super_init_is_explained():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_train_eval_zero_grad_and_call():
    net = Net()
    assert net.training and net.bn.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    x = st.Tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    net(x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_and_to_dtype():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Dropout", "Linear", "Net"]
    net.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear) else None)
    assert (net.fc1.bias.data == 0).all()
    net.double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert net.bn.running_mean.dtype == np.float64
    assert net.bn.num_batches_tracked.dtype == np.int64
    y = net(st.Tensor(np.ones((3, 4))))
    assert y.dtype == np.float64


def test_sequential_and_modulelist():
    seq = mlp()
    assert len(seq) == 3 and isinstance(seq[1], nn.Sigmoid)
    assert isinstance(seq[-1], nn.Linear)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert head(st.Tensor(np.zeros((2, 784), np.float32))).shape == (2, 15)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    seq.append(nn.Softmax())
    assert len(seq) == 4
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.Linear(2, 1))
    ml[0] = nn.Identity()
    assert list(dict(ml.named_children())) == ["0", "1", "2", "3"]
    assert isinstance(ml[0], nn.Identity)
    assert list(ml.state_dict())[0] == "1.weight"


def test_parameter():
    p = nn.Parameter(np.arange(3))
    assert p.dtype == np.float32 and p.requires_grad and isinstance(p, st.Tensor)
    a = np.zeros(2)
    q = nn.Parameter(a)
    assert q.data is a
    assert repr(q).startswith("Parameter containing:")
    assert not nn.Parameter(np.ones(2), requires_grad=False).requires_grad


def test_repr_shows_shapes_and_counts():
    text = repr(mlp())
    assert "(0): Linear(in_features=784, out_features=15, bias=True)" in text
    assert "weight (15, 784), bias (15,): 11,775 params" in text
    assert "(1): Sigmoid()" in text
    assert "11,935 parameters in total" in text
    nested = repr(Net())
    assert "(bn): BatchNorm1d(8, eps=1e-05, momentum=0.1" in nested
    assert "scale (1,)" in nested


def test_summary_784_15_10():
    text = mlp().summary()
    assert "Total parameters: 11,935" in text
    assert "Trainable parameters: 11,935" in text
    lines = text.splitlines()
    row = next(line for line in lines if line.startswith("0 (Linear)"))
    assert "(N, 15)" in row and "weight (15, 784), bias (15,)" in row and "11,775" in row
    assert "(N, 10)" in next(line for line in lines if line.startswith("2 (Linear)"))


def test_summary_with_input_shape_keeps_modes_and_stats():
    net = Net()
    net.fc2.requires_grad_(False)
    text = net.summary(input_shape=(4,))
    assert "(N, 8)" in text and "(N, 2)" in text
    assert "Non-trainable parameters: 18" in text
    assert net.training and int(net.bn.num_batches_tracked) == 0
    row = next(line for line in text.splitlines() if line.startswith("Net (Net)"))
    assert "scale (1,)" in row


def test_forward_hook():
    lin = nn.Linear(2, 3)
    seen = []
    h = lin.register_forward_hook(lambda m, args, out: seen.append(out.shape))
    lin(st.Tensor(np.ones((4, 2), np.float32)))
    h.remove()
    lin(st.Tensor(np.ones((4, 2), np.float32)))
    assert seen == [(4, 3)]
    with lin.register_forward_hook(lambda m, a, out: out * 0.0):
        assert (lin(st.Tensor(np.ones((1, 2), np.float32))).data == 0).all()


def test_state_dict_copies_and_loads_in_place():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias",
                        "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
                        "fc2.weight", "fc2.bias"]
    sd["fc1.weight"][...] = 7.0  # a copy: the model is untouched
    assert not (a.fc1.weight.data == 7.0).all()
    w = b.fc1.weight.data
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.fc1.weight.data is w  # in place
    for (k, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(x, y, err_msg=k)
        assert x.dtype == y.dtype


def test_load_state_dict_errors_list_every_problem():
    net = Net()
    sd = net.state_dict()
    del sd["fc1.bias"]
    sd["extra.weight"] = np.zeros(2)
    sd["fc2.weight"] = np.zeros((3, 3), np.float32)
    before = net.fc1.weight.data.copy()
    sd["fc1.weight"] = np.zeros_like(before)
    with pytest.raises(nn.LoadStateDictError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "missing key(s): fc1.bias" in msg
    assert "unexpected key(s): extra.weight" in msg
    assert "fc2.weight (file (3, 3) vs model (2, 8))" in msg
    np.testing.assert_array_equal(net.fc1.weight.data, before)  # nothing copied
    sd["fc2.weight"] = net.fc2.weight.data.copy()
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra.weight"]
    assert (net.fc1.weight.data == 0).all()


def test_load_pytorch_state_dict_gives_same_outputs():
    tm = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                             torch.nn.Linear(4, 3))
    tm.train()
    tm(torch.randn(8, 5))  # move the running stats
    tm.eval()
    m = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 3)).eval()
    m.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    np.testing.assert_allclose(m(st.Tensor(x)).data, tm(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_check_symmetry_warns_for_constant_weights():
    model = mlp()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.check_symmetry(model) == []
    nn.init.zeros_(model[0].weight)
    nn.init.zeros_(model[0].bias)  # zero biases are fine
    with pytest.warns(nn.SymmetryWarning, match=r"'0.weight' \(shape \(15, 784\)\)"):
        assert nn.check_symmetry(model) == ["0.weight"]
    nn.init.constant_(model[2].weight, 0.5)
    assert model.check_symmetry(warn=False) == ["0.weight", "2.weight"]
