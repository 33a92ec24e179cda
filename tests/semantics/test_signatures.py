"""Torch-named methods and functions have torch's signatures, return types and values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import steepest as st
import steepest.functional as F
from steepest import nn
from tests.oracle import check


def r(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def test_transpose_swaps_two_dims_and_permute_reorders():
    x = st.tensor(np.zeros((2, 3), np.float32))
    assert x.transpose(0, 1).shape == (3, 2)
    check(lambda t: t.transpose(0, 2), lambda t: t.transpose(0, 2), [r(2, 3, 4)])
    check(lambda t: t.transpose(-1, 1), lambda t: t.transpose(-1, 1), [r(2, 3, 4)])
    check(lambda t: t.permute(2, 0, 1), lambda t: t.permute(2, 0, 1), [r(2, 3, 4)])
    check(lambda t: st.permute(t, (1, 0)), lambda t: torch.permute(t, (1, 0)), [r(2, 3)])
    check(lambda t: st.transpose(t, 0, 1), lambda t: torch.transpose(t, 0, 1), [r(2, 3)])
    check(lambda t: t.T, lambda t: t.T, [r(2, 3)])
    check(lambda t: t.mT, lambda t: t.mT, [r(4, 2, 3)])
    with pytest.raises(TypeError, match="permute"):
        st.tensor(np.zeros((2, 3, 4))).transpose(2, 0, 1)
    with pytest.raises(TypeError, match="permute"):
        st.tensor(np.zeros((2, 3))).transpose((1, 0))
    with pytest.raises(TypeError, match="permute"):
        st.transpose(st.tensor(np.zeros((2, 3))), (1, 0))


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_return_values_and_indices(name, keepdim):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]])
    ours = getattr(st.tensor(x), name)(1, keepdim=keepdim)
    theirs = getattr(torch.tensor(x), name)(1, keepdim=keepdim)
    v, i = ours
    assert ours.values is v and ours.indices is i
    np.testing.assert_array_equal(i.numpy(), theirs.indices.numpy())
    assert i.dtype == np.int64
    check(lambda t: getattr(t, name)(1, keepdim=keepdim).values,
          lambda t: getattr(t, name)(1, keepdim=keepdim).values, [x], second_order=True)
    check(lambda t: getattr(t, name)(dim=0).values, lambda t: getattr(t, name)(dim=0).values,
          [x])
    check(lambda t: getattr(st, name)(t, 1).values, lambda t: getattr(torch, name)(t, 1).values,
          [x])


def test_max_without_dim_and_elementwise():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]])
    check(lambda t: t.max(), lambda t: t.max(), [x])   # ties share the gradient
    check(lambda t: t.min(), lambda t: t.min(), [x])
    check(lambda a, b: st.max(a, b), lambda a, b: torch.max(a, b), [r(3), r(3, seed=1)])
    check(lambda t: t.amax((0, 1)), lambda t: t.amax((0, 1)), [x])
    check(lambda t: t.amin(1, keepdim=True), lambda t: t.amin(1, keepdim=True), [x])
    with pytest.raises(TypeError, match="amax"):
        st.tensor(x).max((0, 1))


REDUCTIONS = ["sum", "mean", "prod", "var", "std", "logsumexp", "norm"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False),
                                         ((0, 2), True)])
def test_reductions_take_dim_and_keepdim(name, dim, keepdim):
    if name == "prod" and isinstance(dim, tuple):
        pytest.skip("torch.prod takes one dim")
    if name == "logsumexp" and dim is None:
        pytest.skip("torch.logsumexp needs a dim")
    x = r(2, 3, 4)

    def f(t):
        if dim is None and not keepdim:
            return getattr(t, name)()
        return getattr(t, name)(dim=dim, keepdim=keepdim)

    check(f, f, [x], second_order=name not in ("prod",))


def test_numpy_aliases_axis_keepdims():
    x = r(2, 3)
    check(lambda t: t.sum(axis=1, keepdims=True), lambda t: t.sum(1, keepdim=True), [x])
    check(lambda t: t.var(axis=0, ddof=0), lambda t: t.var(0, correction=0), [x])
    check(lambda t: st.mean(t, axis=-1), lambda t: torch.mean(t, -1), [x])
    with pytest.raises(TypeError, match="both"):
        st.tensor(x).sum(dim=0, axis=0)


def test_var_std_default_is_unbiased_like_torch():
    x = r(5)
    check(lambda t: t.var(), lambda t: t.var(), [x])
    check(lambda t: t.std(unbiased=False), lambda t: t.std(unbiased=False), [x])
    check(lambda t: t.std(0, correction=2), lambda t: t.std(0, correction=2), [x])


def test_prod_with_zeros_and_norms():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [1.0, 2.0, -1.0]])
    check(lambda t: t.prod(1), lambda t: t.prod(1), [x])
    check(lambda t: t.prod(), lambda t: t.prod(), [x])
    for p in (1, 2, 3.0, math.inf):
        check(lambda t, p=p: t.norm(p, 1), lambda t, p=p: t.norm(p, 1), [x])
    check(lambda t: t.norm(), lambda t: t.norm(), [np.zeros(3)])   # gradient 0 at 0


def test_argmax_argmin_any_all():
    x = np.array([[1.0, 5.0, 5.0], [0.0, -1.0, 2.0]])
    for name in ("argmax", "argmin"):
        for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}):
            ours = getattr(st.tensor(x), name)(**kw)
            theirs = getattr(torch.tensor(x), name)(**kw)
            assert ours.shape == tuple(theirs.shape) and ours.dtype == np.int64
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    b = x > 0.5
    for name in ("any", "all"):
        for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}):
            ours = getattr(st.tensor(b), name)(**kw)
            theirs = getattr(torch.tensor(b), name)(**kw)
            assert isinstance(ours, st.Tensor) and ours.dtype == np.bool_
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_softmax_dim_everywhere():
    x = r(2, 3, 4)
    for d in (0, 1, -1):
        check(lambda t, d=d: F.softmax(t, dim=d), lambda t, d=d: torch.softmax(t, dim=d), [x],
              second_order=True)
        check(lambda t, d=d: F.log_softmax(t, d), lambda t, d=d: torch.log_softmax(t, d), [x])
        check(lambda t, d=d: t.softmax(d), lambda t, d=d: t.softmax(d), [x])
    check(lambda t: nn.Softmax(dim=1)(t), lambda t: torch.nn.Softmax(dim=1)(t), [x])
    check(lambda t: nn.LogSoftmax(dim=0)(t), lambda t: torch.nn.LogSoftmax(dim=0)(t), [x])
    check(lambda t: F.softmax(t, axis=1), lambda t: torch.softmax(t, 1), [x])


def test_stack_cat_split_chunk_squeeze_unsqueeze_flatten():
    a, b = r(2, 3), r(2, 3, seed=1)
    check(lambda x, y: st.stack([x, y], dim=1), lambda x, y: torch.stack([x, y], dim=1), [a, b])
    check(lambda x, y: st.stack([x, y], -1), lambda x, y: torch.stack([x, y], -1), [a, b])
    check(lambda x, y: st.cat([x, y], dim=1), lambda x, y: torch.cat([x, y], dim=1), [a, b])
    x = r(5, 4)
    for arg in (2, [1, 4], 5):
        check(lambda t, arg=arg: st.cat(st.split(t, arg)[::-1]),
              lambda t, arg=arg: torch.cat(torch.split(t, arg)[::-1]), [x])
        check(lambda t, arg=arg: st.cat(t.split(arg, dim=0)[::-1]),
              lambda t, arg=arg: torch.cat(t.split(arg, dim=0)[::-1]), [x])
    for k in (1, 2, 3, 4):
        ours, theirs = st.tensor(x).chunk(k, 1), torch.tensor(x).chunk(k, 1)
        assert [o.shape for o in ours] == [tuple(t.shape) for t in theirs]
    y = r(1, 3, 1, 2)
    for args in ((), (0,), (2,), (1,), (-2,), ((0, 2),)):
        check(lambda t, args=args: t.squeeze(*args), lambda t, args=args: t.squeeze(*args), [y])
    for d in (0, 2, -1, 4):
        check(lambda t, d=d: t.unsqueeze(d), lambda t, d=d: t.unsqueeze(d), [y])
    for s, e in ((0, -1), (1, 2), (2, 3), (0, 0), (-2, -1)):
        check(lambda t, e=e, s=s: t.flatten(s, e), lambda t, e=e, s=s: t.flatten(s, e), [y])
        check(lambda t, e=e, s=s: nn.Flatten(s, e)(t),
              lambda t, e=e, s=s: torch.nn.Flatten(s, e)(t), [y])
    check(lambda t: nn.Flatten()(t), lambda t: torch.nn.Flatten()(t), [y])


def test_size_numel_dim_ndim_format_grad_fn():
    x = st.tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.size == 6 and x.numel() == 6 and x.dim() == 2 and x.ndim == 2
    with pytest.raises(IndexError, match="size: dim 2"):
        x.size(2)
    assert x.grad_fn is None
    y = (x * 2).sum()
    assert y.grad_fn is y.creator and "Backward" in repr(y.grad_fn)
    assert f"{st.tensor(3.14159):.3f}" == "3.142"
    assert f"{st.tensor([2.5]):.1f}" == "2.5"
    assert "tensor" in f"{x}"


def test_conversions_devices_clone_contiguous():
    x = st.tensor([[1.5, -2.0], [3.0, 4.0]], requires_grad=True)
    t = torch.tensor([[1.5, -2.0], [3.0, 4.0]])
    for name in ("long", "int", "float", "double", "bool", "half"):
        ours, theirs = getattr(x, name)(), getattr(t, name)()
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert not x.long().requires_grad
    assert x.to("cpu") is x and x.cpu() is x and x.to(st.float64).dtype == np.float64
    assert x.to("cpu", st.float64).dtype == np.float64 and x.to(dtype="float64").dtype == "f8"
    assert x.to(st.tensor([1], dtype="int64")).dtype == np.int64
    assert str(x.device) == "cpu" and x.device == "cpu" and x.device.type == "cpu"
    assert x.type() == "steepest.FloatTensor" and x.type(st.float64).dtype == np.float64
    with pytest.raises(RuntimeError, match="'cpu' and 'cuda'"):
        x.to("mps")
    if not st.cuda.is_available():  # the device path itself: tests/test_device_standin.py
        for dev in ("cuda", "cuda:0"):
            with pytest.raises(RuntimeError, match="CuPy is not installed"):
                x.to(dev)
        with pytest.raises(RuntimeError, match="CuPy is not installed"):
            x.cuda()
    check(lambda a: a.clone() * 2, lambda a: a.clone() * 2, [r(3)])
    c = st.tensor(np.zeros((3, 4))).T
    assert not c.is_contiguous() and c.contiguous().is_contiguous()
    check(lambda a: a.T.contiguous(), lambda a: a.T.contiguous(), [r(3, 2)])
    y = st.tensor([1.0])
    assert y.clone().data is not y.data


def test_batchnorm_and_dropout_arguments_are_checked():
    for bad, err in ((2.5, TypeError), (-1, ValueError), (0, ValueError), ("3", TypeError),
                     (True, TypeError)):
        with pytest.raises(err, match="num_features"):
            nn.BatchNorm1d(bad)
    with pytest.raises(ValueError, match="eps"):
        nn.BatchNorm1d(3, eps=0.0)
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=-0.1)
    with pytest.raises(TypeError, match="eps"):
        nn.BatchNorm1d(3, eps="1e-5")
    for bad, err in (("0.5", TypeError), (1.5, ValueError), (-0.1, ValueError),
                     (None, TypeError)):
        with pytest.raises(err, match="Dropout: p"):
            nn.Dropout(bad)
    assert nn.BatchNorm1d(3, momentum=None).momentum is None
