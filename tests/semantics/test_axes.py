"""Axis checking: out-of-range, float and string axes are refused with IndexError/TypeError
naming the op, the axis and the rank; boolean masks must match; shape targets must fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
import steepest.functional as F
from steepest import nn

X = np.zeros((2, 3), np.float32)

OUT_OF_RANGE = [
    ("sum", lambda x: x.sum(2)),
    ("sum", lambda x: x.sum((0, -3))),
    ("mean", lambda x: x.mean(dim=-3)),
    ("var", lambda x: x.var(5)),
    ("std", lambda x: x.std(2)),
    ("prod", lambda x: x.prod(2)),
    ("amax", lambda x: x.amax(2)),
    ("max", lambda x: x.max(2)),
    ("min", lambda x: x.min(-3)),
    ("argmax", lambda x: x.argmax(2)),
    ("argmin", lambda x: x.argmin(-3)),
    ("any", lambda x: x.any(2)),
    ("all", lambda x: x.all(2)),
    ("norm", lambda x: x.norm(dim=2)),
    ("logsumexp", lambda x: x.logsumexp(2)),
    ("softmax", lambda x: F.softmax(x, 2)),
    ("log_softmax", lambda x: F.log_softmax(x, -3)),
    ("squeeze", lambda x: x.squeeze(2)),
    ("unsqueeze", lambda x: x.unsqueeze(3)),
    ("transpose", lambda x: x.transpose(0, 2)),
    ("permute", lambda x: x.permute(0, 2)),
    ("flatten", lambda x: x.flatten(0, 2)),
    ("cat", lambda x: st.cat([x, x], 2)),
    ("stack", lambda x: st.stack([x, x], 3)),
    ("split", lambda x: st.split(x, 1, 2)),
    ("chunk", lambda x: x.chunk(2, -3)),
    ("size", lambda x: x.size(2)),
]


@pytest.mark.parametrize("op,fn", OUT_OF_RANGE, ids=[f"{o}-{i}" for i, (o, _) in
                                                     enumerate(OUT_OF_RANGE)])
def test_out_of_range_dims_raise_index_error_naming_op_dim_and_rank(op, fn):
    with pytest.raises(IndexError, match=rf"{op}: dim -?\d+ is out of range for a 2-d tensor"):
        fn(st.tensor(X))


@pytest.mark.parametrize("bad", [1.0, "0", True, None.__class__])
def test_float_string_and_bool_dims_are_refused(bad):
    x = st.tensor(X)
    for fn in (lambda: x.sum(bad), lambda: x.mean(bad), lambda: x.squeeze(bad),
               lambda: x.unsqueeze(bad), lambda: F.softmax(x, bad), lambda: x.argmax(bad),
               lambda: st.cat([x, x], bad), lambda: x.transpose(0, bad)):
        with pytest.raises(TypeError):
            fn()


def test_boolean_mask_length_must_match():
    x = st.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    with pytest.raises(IndexError, match=r"boolean mask of shape \(3,\) does not match"):
        x[np.array([True, False, True])]
    with pytest.raises(IndexError, match="boolean mask"):
        x[:, np.array([True, False])]
    with pytest.raises(IndexError, match="boolean mask"):
        x[st.tensor([True])]
    with pytest.raises(IndexError, match="boolean mask"):
        x[np.array([True, False, True])] = 0.0
    ok = x[np.array([False, True])]
    np.testing.assert_array_equal(ok.numpy(), [[3, 4, 5]])
    np.testing.assert_array_equal(x[:, [True, False, True]].numpy(), [[0, 2], [3, 5]])
    with pytest.raises(IndexError):
        x[np.array([0.5])]
    with pytest.raises(IndexError):
        torch.zeros(2, 3)[torch.tensor([True, False, True])]


def test_sum_to_and_broadcast_targets_must_be_compatible():
    x = st.tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="sum_to"):
        x.sum_to((4,))
    with pytest.raises(ValueError, match="sum_to"):
        x.sum_to((2, 3, 1))
    with pytest.raises(ValueError, match="broadcast_to"):
        x.broadcast_to((3, 3))
    with pytest.raises(ValueError, match="broadcast_to"):
        x.broadcast_to((3,))
    assert x.sum_to((1, 3)).shape == (1, 3) and x.sum_to((3,)).shape == (3,)


def test_split_sections_and_flatten_order_are_checked():
    x = st.tensor(np.zeros((5, 2), np.float32))
    with pytest.raises(ValueError, match="add up to 5"):
        st.split(x, [2, 2])
    with pytest.raises(ValueError, match="positive"):
        st.split(x, 0)
    with pytest.raises(ValueError, match="start_dim"):
        x.flatten(1, 0)
    with pytest.raises(ValueError, match="repeat"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match="appears more than once"):
        x.sum((0, 0))
    with pytest.raises(IndexError, match="Flatten|flatten"):
        nn.Flatten(1, 3)(x)
