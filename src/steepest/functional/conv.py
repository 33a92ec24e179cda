"""Convolutions as functions: conv1d, conv2d (and the fused conv2d+ReLU), conv_transpose2d,
unfold/fold (im2col as a public op), dropout2d.

PyTorch's signatures and semantics (NCHW, weight (out, in/groups, kh, kw), ``padding``
an int, a pair, ``'same'`` or ``'valid'``). The checks here raise readable errors naming
the layer and the shapes before any array is touched; the math is in
:mod:`steepest.ops.conv`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops import reshape
from ..ops.conv import Conv2d, ConvInputGrad, Fold, Geom, Unfold
from ..random import generator
from ._common import dtype_of, on_device_of, shape_of
from .layer import Dropout


def pair(v: Any, name: str, where: str, n: int = 2, minimum: int = 1) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints, each >= ``minimum``, as a tuple."""
    vals = (v,) * n if isinstance(v, (int, np.integer)) else tuple(v) if isinstance(
        v, (tuple, list)) else None
    if (vals is None or len(vals) != n or any(isinstance(a, bool) or not isinstance(
            a, (int, np.integer)) or a < minimum for a in vals)):
        raise ValueError(f"{where}: {name} must be an integer >= {minimum} or a sequence of "
                         f"{n} such integers, got {v!r}")
    return tuple(int(a) for a in vals)


def _check_float(x: Any, where: str) -> None:
    dt = dtype_of(x)
    if dt.kind != "f":
        raise TypeError(f"{where}: input must be floating point, got dtype {dt} (shape "
                        f"{shape_of(x)})")


def _padding(padding: Any, k: tuple[int, ...], d: tuple[int, ...], s: tuple[int, ...],
             where: str) -> tuple[int, ...]:
    """(before, after) pairs per spatial axis, flattened: PyTorch's 'same' puts the odd
    extra pixel after."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * (2 * len(k))
        if padding == "same":
            if any(si != 1 for si in s):
                raise ValueError(f"{where}: padding='same' is not supported for strided "
                                 f"convolutions (stride={s})")
            out: list[int] = []
            for ki, di in zip(k, d):
                total = di * (ki - 1)
                out += [total // 2, total - total // 2]
            return tuple(out)
        raise ValueError(f"{where}: padding must be an int, a tuple, 'same' or 'valid', got "
                         f"{padding!r}")
    p = pair(padding, "padding", where, len(k), minimum=0)
    return tuple(v for pi in p for v in (pi, pi))


def _batched(x: Any, nd: int, where: str, layout: str) -> tuple[Any, bool]:
    """Add the batch axis to an unbatched input; refuse other ranks."""
    shape = shape_of(x)
    if len(shape) == nd - 1:
        return reshape(x, (1, *shape)), True
    if len(shape) != nd:
        raise ValueError(f"{where}: expected a {nd - 1}-D (unbatched) or {nd}-D input "
                         f"{layout}, got shape {shape}")
    return x, False


def _unbatch(y: Any) -> Any:
    return reshape(y, shape_of(y)[1:])


def conv_geom(xs: tuple[int, ...], ws: tuple[int, ...], stride: Any, padding: Any,
              dilation: Any, groups: int, where: str) -> Geom:
    """Check a 2-D convolution's shapes and return its geometry."""
    s = pair(stride, "stride", where)
    d = pair(dilation, "dilation", where)
    if len(ws) != 4:
        raise ValueError(f"{where}: weight must be 4-D (out_channels, in_channels/groups, kH, "
                         f"kW), got shape {ws}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive integer, got {groups!r}")
    o, cg, kh, kw = ws
    n, c, h, w = xs
    if c % groups or o % groups:
        raise ValueError(f"{where}: groups={groups} must divide both in_channels={c} and "
                         f"out_channels={o}")
    if cg * groups != c:
        raise ValueError(f"{where}: expected input of shape (N, {cg * groups}, H, W) for "
                         f"weight of shape {ws} and groups={groups}, but got input of shape "
                         f"{xs} ({c} channels)")
    pad = _padding(padding, (kh, kw), d, s, where)
    hp, wp = h + pad[0] + pad[1], w + pad[2] + pad[3]
    ekh, ekw = d[0] * (kh - 1) + 1, d[1] * (kw - 1) + 1
    if hp < ekh or wp < ekw:
        raise ValueError(f"{where}: padded input size per channel ({hp} x {wp}) is smaller "
                         f"than the (dilated) kernel ({ekh} x {ekw}); input shape {xs}, "
                         f"weight shape {ws}")
    return Geom(c, h, w, o, kh, kw, s, d, pad, int(groups))


def _conv2d(x: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any,
            groups: int, relu: bool, where: str) -> Any:
    _check_float(x, where)
    x, unbatched = _batched(x, 4, where, "(N, C, H, W)")
    ws = shape_of(weight)
    gm = conv_geom(shape_of(x), ws, stride, padding, dilation, groups, where)
    if bias is not None and shape_of(bias) != (ws[0],):
        raise ValueError(f"{where}: bias shape {shape_of(bias)} does not match "
                         f"out_channels={ws[0]}")
    fn = Conv2d(gm, relu)
    y = fn(x, weight) if bias is None else fn(x, weight, bias)
    return _unbatch(y) if unbatched else y


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Any:
    """2-D convolution (cross-correlation, as in PyTorch) of (N, C, H, W) by
    (O, C/groups, kH, kW): one im2col copy and one GEMM; groups=C is depthwise."""
    return _conv2d(input, weight, bias, stride, padding, dilation, groups, False, "conv2d")


def conv2d_relu(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
                padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Any:
    """``relu(conv2d(...))`` as one node (what ``Sequential`` runs for Conv2d → ReLU); the
    values and gradients equal the two separate ops."""
    return _conv2d(input, weight, bias, stride, padding, dilation, groups, True,
                   "conv2d_relu")


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1, *,
           _where: str = "conv1d") -> Any:
    """1-D convolution of (N, C, L) by (O, C/groups, k): a conv2d over a unit height."""
    where = _where
    _check_float(input, where)
    x, unbatched = _batched(input, 3, where, "(N, C, L)")
    ws = shape_of(weight)
    if len(ws) != 3:
        raise ValueError(f"{where}: weight must be 3-D (out_channels, in_channels/groups, k), "
                         f"got shape {ws}")
    xs = shape_of(x)
    s = (1, pair(stride, "stride", where, 1)[0])
    d = (1, pair(dilation, "dilation", where, 1)[0])
    p = padding if isinstance(padding, str) else (0, pair(padding, "padding", where, 1, 0)[0])
    x4 = reshape(x, (xs[0], xs[1], 1, xs[2]))
    w4 = reshape(weight, (ws[0], ws[1], 1, ws[2]))
    y = _conv2d(x4, w4, bias, s, p, d, groups, False, where)
    ys = shape_of(y)
    y = reshape(y, (ys[0], ys[1], ys[3]))
    return _unbatch(y) if unbatched else y


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1, *, _where: str = "conv_transpose2d") -> Any:
    """Transposed convolution (the gradient of conv2d w.r.t. its input): weight is
    (in_channels, out_channels/groups, kH, kW) and the output side is
    (H - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1."""
    where = _where
    _check_float(input, where)
    x, unbatched = _batched(input, 4, where, "(N, C, H, W)")
    xs, ws = shape_of(x), shape_of(weight)
    if len(ws) != 4:
        raise ValueError(f"{where}: weight must be 4-D (in_channels, out_channels/groups, "
                         f"kH, kW), got shape {ws}")
    s = pair(stride, "stride", where)
    d = pair(dilation, "dilation", where)
    p = pair(padding, "padding", where, minimum=0)
    op = pair(output_padding, "output_padding", where, minimum=0)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive integer, got {groups!r}")
    cin, cog, kh, kw = ws
    if xs[1] != cin or cin % groups:
        raise ValueError(f"{where}: expected input of shape (N, {cin}, H, W) for weight of "
                         f"shape {ws} and groups={groups} (groups must divide {cin}), got "
                         f"input of shape {xs}")
    for a in range(2):
        if op[a] >= s[a] and op[a] >= d[a]:
            raise ValueError(f"{where}: output_padding {op} must be smaller than either "
                             f"stride {s} or dilation {d}")
    oh = (xs[2] - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1
    ow = (xs[3] - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"{where}: output size ({oh} x {ow}) is not positive for input shape "
                         f"{xs}, weight shape {ws}, stride {s}, padding {p}")
    gm = Geom(cog * groups, oh, ow, cin, kh, kw, s, d, (p[0], p[0], p[1], p[1]), int(groups))
    y = ConvInputGrad(gm)(x, weight)
    if bias is not None:
        if shape_of(bias) != (cog * groups,):
            raise ValueError(f"{where}: bias shape {shape_of(bias)} does not match "
                             f"out_channels={cog * groups}")
        y = y + reshape(bias, (1, cog * groups, 1, 1))
    return _unbatch(y) if unbatched else y


def _fold_geom(c: int, size: tuple[int, int], kernel_size: Any, dilation: Any, padding: Any,
               stride: Any, where: str) -> Geom:
    k = pair(kernel_size, "kernel_size", where)
    d = pair(dilation, "dilation", where)
    p = pair(padding, "padding", where, minimum=0)
    s = pair(stride, "stride", where)
    gm = Geom(c, size[0], size[1], c, k[0], k[1], s, d, (p[0], p[0], p[1], p[1]), 1)
    if gm.oh < 1 or gm.ow < 1:
        raise ValueError(f"{where}: kernel {k} (dilation {d}) does not fit the padded input "
                         f"of size {size} with padding {p}")
    return gm


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Any:
    """im2col: (N, C, H, W) -> (N, C·kH·kW, L) sliding blocks, PyTorch's ``F.unfold``."""
    _check_float(input, "unfold")
    xs = shape_of(input)
    if len(xs) != 4:
        raise ValueError(f"unfold: expected a 4-D input (N, C, H, W), got shape {xs}")
    return Unfold(_fold_geom(xs[1], xs[2:], kernel_size, dilation, padding, stride,
                             "unfold"))(input)


def fold(input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
         padding: Any = 0, stride: Any = 1) -> Any:
    """col2im: (N, C·kH·kW, L) blocks summed back into (N, C, H, W), PyTorch's ``F.fold``
    (the adjoint of :func:`unfold`; overlapping blocks add up)."""
    _check_float(input, "fold")
    xs = shape_of(input)
    size = pair(output_size, "output_size", "fold")
    k = pair(kernel_size, "kernel_size", "fold")
    if len(xs) != 3 or xs[1] % (k[0] * k[1]):
        raise ValueError(f"fold: expected a 3-D input (N, C·{k[0]}·{k[1]}, L), got shape {xs}")
    gm = _fold_geom(xs[1] // (k[0] * k[1]), size, k, dilation, padding, stride, "fold")
    if gm.oh * gm.ow != xs[2]:
        raise ValueError(f"fold: input has {xs[2]} blocks but output_size {size} with kernel "
                         f"{k} gives {gm.oh} x {gm.ow} = {gm.oh * gm.ow}")
    return Fold(gm)(input)


def dropout2d(input: Any, p: float = 0.5, training: bool = True) -> Any:  # noqa: A002
    """Channel dropout: zero whole feature maps of (N, C, H, W) (or unbatched (C, H, W))
    with probability ``p`` and scale the kept ones by 1/(1 - p), as ``F.dropout2d``."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: p must be in [0, 1], got {p}")
    shape = shape_of(input)
    if len(shape) not in (3, 4):
        raise ValueError(f"dropout2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                         f"got shape {shape}")
    if not training or p == 0.0:
        return input
    _check_float(input, "dropout2d")
    dt = dtype_of(input)
    mshape = (*shape[:-2], 1, 1)
    if p == 1.0:
        mask = np.zeros(mshape, dtype=dt)
    else:
        mask = generator().random(mshape, dtype=dt)
        np.multiply(mask >= p, dt.type(1.0 / (1.0 - p)), out=mask)
    return Dropout(on_device_of(mask, input))(input)
