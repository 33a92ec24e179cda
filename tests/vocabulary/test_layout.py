"""Shape and layout ops against torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF

import steepest as st
import steepest.functional as F
from tests.oracle import check

DTYPES = [np.float64, np.float32]


def _x(shape=(2, 3, 4), seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode,pad", [
    ("constant", (1, 2)), ("constant", (1, 0, 2, 1)), ("constant", (-1, 1, 0, 2)),
    ("reflect", (2, 1)), ("reflect", (1, 3, 2, 0)), ("replicate", (3, 1, 1, 2)),
    ("circular", (2, 1, 1, 1)),
])
def test_pad(mode, pad, dtype):
    x = _x(dtype=dtype)
    check(lambda a: F.pad(a, pad, mode), lambda a: tF.pad(a, pad, mode), [x],
          second_order=True)


def test_pad_value_and_errors():
    x = _x()
    check(lambda a: F.pad(a, (1, 1), value=2.5), lambda a: tF.pad(a, (1, 1), value=2.5), [x])
    with pytest.raises(ValueError, match="reflect padding"):
        F.pad(st.tensor(x), (4, 0), "reflect")
    with pytest.raises(ValueError, match="mode must be"):
        F.pad(st.tensor(x), (1, 0), "wrap")


CASES = {
    "flip": (lambda a: st.flip(a, (0, 2)), lambda a: torch.flip(a, (0, 2))),
    "flip_method": (lambda a: a.flip(1), lambda a: a.flip(1)),
    "fliplr": (st.fliplr, torch.fliplr),
    "roll": (lambda a: st.roll(a, 1, 2), lambda a: torch.roll(a, 1, 2)),
    "roll_multi": (lambda a: st.roll(a, (1, -2), (0, 2)), lambda a: torch.roll(a, (1, -2),
                                                                               (0, 2))),
    "roll_flat": (lambda a: st.roll(a, 5), lambda a: torch.roll(a, 5)),
    "repeat": (lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3)),
    "repeat_lead": (lambda a: a.repeat(2, 1, 1, 2), lambda a: a.repeat(2, 1, 1, 2)),
    "tile": (lambda a: st.tile(a, (2, 1)), lambda a: torch.tile(a, (2, 1))),
    "repeat_interleave": (lambda a: st.repeat_interleave(a, 2, 1),
                          lambda a: torch.repeat_interleave(a, 2, 1)),
    "repeat_interleave_t": (lambda a: a.repeat_interleave(np.array([1, 0, 3]), 1),
                            lambda a: a.repeat_interleave(torch.tensor([1, 0, 3]), 1)),
    "repeat_interleave_flat": (lambda a: st.repeat_interleave(a, 2),
                               lambda a: torch.repeat_interleave(a, 2)),
    "expand": (lambda a: a[:, :1].expand(3, 2, -1, 4), lambda a: a[:, :1].expand(3, 2, -1, 4)),
    "expand_as": (lambda a: a[:1].expand_as(a), lambda a: a[:1].expand_as(a)),
    "unflatten": (lambda a: st.unflatten(a, 2, (2, -1)), lambda a: torch.unflatten(a, 2,
                                                                                 (2, -1))),
    "narrow": (lambda a: st.narrow(a, 2, 1, 2), lambda a: torch.narrow(a, 2, 1, 2)),
    "movedim": (lambda a: st.movedim(a, 0, -1), lambda a: torch.movedim(a, 0, -1)),
    "movedim2": (lambda a: st.movedim(a, (0, 1), (2, 0)), lambda a: torch.movedim(a, (0, 1),
                                                                                 (2, 0))),
    "tril": (lambda a: st.tril(a, -1), lambda a: torch.tril(a, -1)),
    "triu": (lambda a: a.triu(1), lambda a: a.triu(1)),
    "diagonal": (lambda a: st.diagonal(a, 1, 1, 2), lambda a: torch.diagonal(a, 1, 1, 2)),
    "diagonal_neg": (lambda a: a.diagonal(-1, 2, 0), lambda a: a.diagonal(-1, 2, 0)),
    "diag_embed": (lambda a: st.diag_embed(a, 1), lambda a: torch.diag_embed(a, 1)),
    "diag_embed_dims": (lambda a: st.diag_embed(a, -1, 0, 2),
                        lambda a: torch.diag_embed(a, -1, 0, 2)),
    "diag2d": (lambda a: st.diag(a[0], 1), lambda a: torch.diag(a[0], 1)),
    "diag1d": (lambda a: st.diag(a[0, 0], -2), lambda a: torch.diag(a[0, 0], -2)),
    "split": (lambda a: a.split(3, 2)[1] * 2, lambda a: a.split(3, 2)[1] * 2),
    "split_sizes": (lambda a: st.cat(a.split([1, 3], 2)[::-1], 2),
                    lambda a: torch.cat(a.split([1, 3], 2)[::-1], 2)),
    "view_as": (lambda a: a.view_as(a.reshape(4, 6)), lambda a: a.view_as(a.reshape(4, 6))),
    "hstack": (lambda a: st.hstack([a, a]), lambda a: torch.hstack([a, a])),
    "vstack": (lambda a: st.vstack([a[0, 0], a[1, 1]]), lambda a: torch.vstack([a[0, 0],
                                                                             a[1, 1]])),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_layout(name, dtype):
    ours, theirs = CASES[name]
    check(ours, theirs, [_x(dtype=dtype)], second_order=True)


def test_meshgrid():
    a, b = np.arange(3.0), np.arange(4.0) * 2
    for ind in ("ij", "xy"):
        check(lambda x, y, i=ind: st.stack(st.meshgrid(x, y, indexing=i)),
              lambda x, y, i=ind: torch.stack(torch.meshgrid(x, y, indexing=i)), [a, b])


def test_gradcheck_layout():
    x = _x((2, 3, 4))
    for fn in (lambda a: F.pad(a, (2, 1, 1, 1), "reflect"), lambda a: st.roll(a, 1, 1),
               lambda a: st.diag_embed(a, 1), lambda a: a.repeat(2, 1, 1),
               lambda a: st.repeat_interleave(a, np.array([2, 0, 1]), 1)):
        assert st.gradcheck(fn, [x])


def test_layout_errors():
    x = st.tensor(_x())
    with pytest.raises(ValueError, match="expand: dim 1"):
        x.expand(2, 5, 4)
    with pytest.raises(ValueError, match="unflatten: sizes"):
        x.unflatten(2, (3, 2))
    with pytest.raises(IndexError, match="narrow"):
        x.narrow(0, 1, 5)
    with pytest.raises(ValueError, match="split: .*sizes"):
        x.split([1, 1], 2)


def test_unbind_permute_unsqueeze():
    x = _x()
    check(lambda a: st.stack(st.unbind(a, 1)[::-1], 0), lambda a: torch.stack(
        torch.unbind(a, 1)[::-1], 0), [x])
    check(lambda a: st.permute(a, (2, 0, 1)), lambda a: torch.permute(a, (2, 0, 1)), [x])
    check(lambda a: st.unsqueeze(a, -1), lambda a: torch.unsqueeze(a, -1), [x])
