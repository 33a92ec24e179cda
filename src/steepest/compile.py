"""The captured training step: ``step = compile_step(model, loss_fn, optimizer)``.

The CPU counterpart of CUDA graphs, ``torch.compile(mode="reduce-overhead")`` or tinygrad's
``TinyJit``: the first call for a given input shape and dtype captures forward, backward
and the optimiser update of ``model`` into a static plan, a list of kernel calls on
buffers allocated once; later calls replay the plan. Nothing of the graph machinery runs
on replay (no Tensor, no graph node, no backward walk, no temporary arrays): every GEMM
writes into its buffer with ``np.matmul(..., out=)``, every elementwise op with ``out=``,
the gradients land directly in the optimiser's flat gradient buffer (one per parameter
group, see :mod:`steepest.optim._flat`) and the update is one vectorised pass over it.
Elementwise chains are fused when numba is installed (bias + ReLU in one pass, the ReLU
mask applied in one pass; the optimisers' own numba kernels for the update).

What is captured, and why it equals eager
    The capture works layer by layer on a :class:`~steepest.nn.Sequential` (nested ones
    are flattened) of known layers: ``Linear`` (fused with a following ``ReLU`` as eager's
    Sequential does), ``ReLU``, ``Tanh``, ``Sigmoid``, ``Dropout``, ``BatchNorm1d`` on
    (N, C) inputs, ``Flatten`` and ``Identity``; the loss is softmax cross-entropy on integer
    labels (``CrossEntropyLoss``, ``F.cross_entropy`` or ``'cross_entropy'``, mean or sum,
    no label smoothing); the optimiser is any elementwise one (SGD, Momentum, Nesterov,
    Adam, AdamW, NAdam, Adagrad, RMSprop, Adadelta) with any hyperparameters, schedulers
    and gradient clipping. Each replayed kernel is the one eager mode runs, on the same
    operands in the same order (dropout masks are drawn from ``steepest.random``'s
    generator exactly as eager draws them), so losses, weights, optimiser state and
    running statistics are **bit-identical** to the eager step; the tests check 50 steps.

Retrace and fallback
    A new input shape or dtype (e.g. the smaller last batch of an epoch) or a change of
    train/eval mode captures a new plan (plans are cached by that key). Anything the
    capture does not know — another layer type or a subclass (its ``forward`` could hold
    data-dependent Python control flow), forward hooks, shared or frozen parameters,
    parameters missing from the optimiser, another loss or a non-elementwise optimiser
    (LBFGS) — makes the step run eagerly instead, with a one-time
    :class:`CompileWarning` saying why.

Buffers are reused: ``step.output`` (the model output of the last call) and the
parameters' ``.grad`` arrays are overwritten by the next call; copy them to keep them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import kernels
from .autograd import keep_ops_silent
from .optim import _flat
from .tensor import Tensor

__all__ = ["CompileWarning", "CompiledStep", "compile_step"]


class CompileWarning(UserWarning):
    """The captured step could not capture something and runs that step eagerly."""


class _Unsupported(Exception):
    """Raised while building a plan: the reason the step falls back to eager mode."""



# -- the captured layers: forward and backward on preallocated buffers -----------------------
# Each mirrors, call for call, what the eager Function of the same layer computes (see the
# module notes); ``need_gx`` is False when nothing before the layer needs a gradient (the
# network input does not require grad), which is when eager skips dx too.


class _Op:
    """One captured layer. ``params`` lists (module attribute, Parameter) pairs."""

    __slots__ = ("need_gx",)
    params: tuple = ()

    def forward(self, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, g: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def set_grads(self, views: list[np.ndarray]) -> None:
        """Where the gradients of ``params`` go (views of the optimiser's flat buffer)."""

    def grads(self) -> tuple[np.ndarray, ...]:
        """The gradient arrays of ``params``, in order."""
        return ()


class _Linear(_Op):
    __slots__ = ("m", "relu", "h", "a", "gx", "gw", "gb", "params", "compiled")

    def __init__(self, m: Any, relu: bool, n: int, dt: np.dtype, need_gx: bool) -> None:
        self.m, self.relu, self.need_gx = m, relu, need_gx
        out, inp = m.out_features, m.in_features
        self.h = np.empty((n, out), dt)
        self.compiled = kernels.compiled_for(dt)
        self.gx = np.empty((n, inp), dt) if need_gx else None
        self.params = (m.weight,) if m.bias is None else (m.weight, m.bias)
        self.a = self.gw = self.gb = None

    def set_grads(self, views):
        self.gw = views[0]
        self.gb = views[1] if len(views) > 1 else None

    def grads(self):
        return (self.gw,) if self.gb is None else (self.gw, self.gb)

    def forward(self, a):
        self.a = a
        h = self.h
        np.matmul(a, self.m.weight.data.T, out=h)
        b = self.m.bias
        if b is not None and self.compiled:  # the buffers' types are known: no checks
            kernels._bias_relu(h, b.data, self.relu)
            return h
        return kernels.bias_relu(h, None if b is None else b.data, self.relu)

    def backward(self, g):
        if self.relu:
            gb = self.gb
            if self.compiled and g.flags.c_contiguous and (gb is None
                                                           or kernels.rowwise(g.shape[1])):
                kernels._relu_grad(g, self.h, g, g[0] if gb is None else gb, gb is not None)
            else:
                kernels.relu_grad(g, self.h, g, gb)
        elif self.gb is not None:
            np.add.reduce(g, axis=0, out=self.gb)  # g.sum(axis=0), minus its wrapper
        gx = None
        if self.need_gx:
            gx = self.gx
            np.matmul(g, self.m.weight.data, out=gx)
        np.matmul(g.T, self.a, out=self.gw)
        return gx


class _ReLU(_Op):
    __slots__ = ("y", "zr")

    def __init__(self, shape: tuple[int, ...], dt: np.dtype, need_gx: bool) -> None:
        from .functional.activation import _zero_row

        self.need_gx = need_gx
        self.y = np.empty(shape, dt)
        self.zr = _zero_row(shape[-1], dt) if shape[-1] <= 65536 else 0

    def forward(self, a):  # one pass from a into y (eager's relu, bit for bit)
        return np.maximum(a, self.zr, out=self.y)

    def backward(self, g):
        return kernels.relu_grad(g, self.y, g)


class _Tanh(_Op):
    __slots__ = ("y", "t")

    def __init__(self, shape: tuple[int, ...], dt: np.dtype, need_gx: bool) -> None:
        self.need_gx = need_gx
        self.y, self.t = np.empty(shape, dt), np.empty(shape, dt)

    def forward(self, a):
        return np.tanh(a, out=self.y)

    def backward(self, g):  # gy * (1 - y*y)
        t = self.t
        np.multiply(self.y, self.y, out=t)
        np.subtract(1.0, t, out=t)
        return np.multiply(g, t, out=g)


class _Sigmoid(_Op):
    __slots__ = ("y", "e", "neg")

    def __init__(self, shape: tuple[int, ...], dt: np.dtype, need_gx: bool) -> None:
        self.need_gx = need_gx
        self.y, self.e = np.empty(shape, dt), np.empty(shape, dt)
        self.neg = np.empty(shape, bool)

    def forward(self, a):  # the stable form of functional.activation._sigmoid_array
        e, r = self.e, self.y
        np.abs(a, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)
        np.add(e, 1.0, out=r)
        np.reciprocal(r, out=r)
        np.less(a, 0, out=self.neg)
        np.multiply(r, e, out=r, where=self.neg)
        return r

    def backward(self, g):  # gy * (y * (1 - y))
        t = self.e
        np.subtract(1.0, self.y, out=t)
        np.multiply(self.y, t, out=t)
        return np.multiply(g, t, out=g)


class _Dropout(_Op):
    __slots__ = ("p", "mask", "keep", "y", "scale")

    def __init__(self, p: float, shape: tuple[int, ...], dt: np.dtype, need_gx: bool) -> None:
        self.need_gx, self.p = need_gx, p
        self.mask = np.zeros(shape, dt)
        self.keep = np.empty(shape, bool)
        self.y = np.empty(shape, dt)
        self.scale = None if p == 1.0 else dt.type(1.0 / (1.0 - p))

    def forward(self, a):
        from .random import generator

        mask = self.mask
        if self.scale is not None:  # p == 1 keeps the zeros (and draws nothing, as eager)
            generator().random(mask.shape, dtype=mask.dtype, out=mask)
            np.greater_equal(mask, self.p, out=self.keep)
            np.multiply(self.keep, self.scale, out=mask)
        return np.multiply(a, mask, out=self.y)

    def backward(self, g):
        return np.multiply(g, self.mask, out=g)


class _BatchNorm(_Op):
    """BatchNorm1d on (N, C) with batch statistics (training mode), as functional.batch_norm."""

    __slots__ = ("m", "n", "mean", "var", "xc", "invstd", "y", "t", "t1", "gm", "gxhat", "tc",
                 "gw", "gb", "params", "affine")

    def __init__(self, m: Any, n: int, dt: np.dtype, need_gx: bool) -> None:
        c = m.num_features
        self.m, self.n, self.need_gx = m, n, need_gx
        self.affine = m.weight is not None
        self.params = (m.weight, m.bias) if self.affine else ()
        row = (1, c)
        self.mean, self.var, self.invstd = np.empty(row, dt), np.empty(row, dt), np.empty(row, dt)
        self.gm, self.gxhat, self.tc = np.empty(row, dt), np.empty(row, dt), np.empty(c, dt)
        self.xc, self.y = np.empty((n, c), dt), np.empty((n, c), dt)
        self.t, self.t1 = np.empty((n, c), dt), np.empty((n, c), dt)
        self.gw = self.gb = None

    def set_grads(self, views):
        self.gw, self.gb = views

    def grads(self):
        return (self.gw, self.gb)

    def forward(self, a):
        m = self.m
        factor = 0.0 if m.momentum is None else m.momentum
        update = m.track_running_stats
        if update:
            m.num_batches_tracked += 1
            if m.momentum is None:
                factor = 1.0 / int(m.num_batches_tracked)
        mean, var, xc, invstd, t = self.mean, self.var, self.xc, self.invstd, self.t
        np.mean(a, axis=(0,), keepdims=True, out=mean)
        np.subtract(a, mean, out=xc)
        np.square(xc, out=t)
        np.mean(t, axis=(0,), keepdims=True, out=var)
        np.add(var, m.eps, out=invstd)
        np.sqrt(invstd, out=invstd)
        np.reciprocal(invstd, out=invstd)
        np.multiply(xc, invstd, out=xc)  # xhat
        y = self.y
        if self.affine:
            np.multiply(xc, m.weight.data.reshape(1, -1), out=y)
            np.add(y, m.bias.data.reshape(1, -1), out=y)
        else:
            np.copyto(y, xc)
        if update:
            mom = float(factor)
            n = self.n
            rm, rv, tc = m.running_mean, m.running_var, self.tc
            np.multiply(rm, 1.0 - mom, out=rm)
            np.multiply(mean.reshape(-1), mom, out=tc)
            np.add(rm, tc, out=rm)
            np.multiply(rv, 1.0 - mom, out=rv)
            np.multiply(var.reshape(-1), mom * n / (n - 1), out=tc)
            np.add(rv, tc, out=rv)
        return y

    def backward(self, gy):
        xhat, invstd, t, t1 = self.xc, self.invstd, self.t, self.t1
        gx = None
        if self.need_gx:
            if self.affine:
                g = t1
                np.multiply(gy, self.m.weight.data.reshape(1, -1), out=g)
            else:
                g = gy
            np.multiply(g, xhat, out=t)
            np.mean(t, axis=(0,), keepdims=True, out=self.gxhat)
            np.mean(g, axis=(0,), keepdims=True, out=self.gm)
            np.subtract(g, self.gm, out=t1)
            np.multiply(xhat, self.gxhat, out=t)
            np.subtract(t1, t, out=t1)
            gx = np.multiply(t1, invstd, out=t1)
        if self.affine:
            np.multiply(gy, xhat, out=t)
            t.sum(axis=(0,), out=self.gw)
            gy.sum(axis=(0,), out=self.gb)
        return gx


class _Reshape(_Op):
    """Flatten (or any reshape) as a view; the backward reshapes back."""

    __slots__ = ("shape", "back")

    def __init__(self, shape: tuple[int, ...], back: tuple[int, ...], need_gx: bool) -> None:
        self.shape, self.back, self.need_gx = shape, back, need_gx

    def forward(self, a):
        return a.reshape(self.shape)

    def backward(self, g):
        return g.reshape(self.back)


# -- building a plan -------------------------------------------------------------------------
def _layers(model: Any) -> list[Any]:
    from .nn import Sequential

    if type(model) is not Sequential:
        raise _Unsupported(f"the model is a {type(model).__name__}, not an nn.Sequential "
                           f"(its forward may hold Python control flow the capture cannot "
                           f"see)")
    out = []
    for m in model:
        out.extend(_layers(m) if type(m) is Sequential else [m])
    return out


def _loss_kind(loss_fn: Any) -> str:
    """'mean' or 'sum' for the softmax cross-entropy the capture knows, else unsupported."""
    from . import functional as F
    from .nn import CrossEntropyLoss

    if loss_fn == "cross_entropy" or loss_fn is F.cross_entropy:
        return "mean"
    if type(loss_fn) is CrossEntropyLoss and not loss_fn._forward_hooks:
        if loss_fn.label_smoothing == 0 and loss_fn.reduction in ("mean", "sum"):
            return loss_fn.reduction
        raise _Unsupported(f"CrossEntropyLoss(reduction={loss_fn.reduction!r}, "
                           f"label_smoothing={loss_fn.label_smoothing}) (only mean or sum "
                           f"without smoothing)")
    raise _Unsupported(f"the loss {getattr(loss_fn, '__name__', type(loss_fn).__name__)} "
                       f"(only softmax cross-entropy on integer labels)")


class _Plan:
    __slots__ = ("ops", "loss", "mean", "where", "groups")

    def __init__(self, ops: list[_Op], loss: kernels.SoftmaxCrossEntropy, mean: bool,
                 where: list[tuple[_Op, list[tuple[int, int]]]]) -> None:
        self.ops, self.loss, self.mean, self.where = ops, loss, mean, where
        self.groups: list[Any] | None = None  # the flat groups the gradients point into


def _build(model: Any, loss_fn: Any, opt: Any, x: np.ndarray, y: np.ndarray) -> _Plan:
    from . import nn

    if not getattr(opt, "_elementwise", False):
        raise _Unsupported(f"the optimiser {type(opt).__name__} (only elementwise ones: "
                           f"SGD, Adam, RMSprop, ...)")
    reduction = _loss_kind(loss_fn)
    if x.ndim < 1 or x.dtype.kind != "f":
        raise _Unsupported(f"an input of shape {x.shape} and dtype {x.dtype}")
    if y.ndim != 1 or y.dtype.kind not in "iu" or len(y) != len(x):
        raise _Unsupported(f"targets of shape {y.shape} and dtype {y.dtype} for inputs of "
                           f"shape {x.shape} (integer labels (N,) expected)")
    layers = _layers(model)
    position: dict[int, tuple[int, int]] = {}
    for gi, group in enumerate(opt.param_groups):
        for j, p in enumerate(group["params"]):
            position[id(p)] = (gi, j)
    dt = x.dtype
    n = x.shape[0]
    shape = tuple(x.shape)
    ops: list[_Op] = []
    where: list[tuple[_Op, list[tuple[int, int]]]] = []
    seen: set[int] = set()
    need_gx = False
    i = 0
    while i < len(layers):
        m = layers[i]
        t = type(m)
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if t is nn.Linear:
            if len(shape) != 2 or shape[1] != m.in_features:
                raise _Unsupported(f"a Linear({m.in_features}, {m.out_features}) on an input "
                                   f"of shape {shape} (2-D inputs only)")
            relu = type(nxt) is nn.ReLU
            op: _Op = _Linear(m, relu, n, dt, need_gx)
            shape = (n, m.out_features)
            i += 2 if relu else 1
        elif t is nn.ReLU:
            op, i = _ReLU(shape, dt, need_gx), i + 1
        elif t is nn.Tanh:
            op, i = _Tanh(shape, dt, need_gx), i + 1
        elif t is nn.Sigmoid:
            op, i = _Sigmoid(shape, dt, need_gx), i + 1
        elif t is nn.Dropout:
            i += 1
            if not m.training or m.p == 0.0:
                continue
            op = _Dropout(m.p, shape, dt, need_gx)
        elif t is nn.BatchNorm1d:
            if len(shape) != 2 or shape[1] != m.num_features or not m.training:
                raise _Unsupported(f"BatchNorm1d({m.num_features}) on shape {shape} in "
                                   f"{'training' if m.training else 'eval'} mode (training "
                                   f"mode on (N, C) only)")
            if n <= 1:
                raise _Unsupported("a batch norm on a batch of one sample")
            op, i = _BatchNorm(m, n, dt, need_gx), i + 1
        elif t is nn.Flatten:
            nd = len(shape)
            s, e = m.start_axis % nd, m.end_axis % nd
            new = (*shape[:s], math.prod(shape[s:e + 1]), *shape[e + 1:])
            op, shape, i = _Reshape(new, shape, need_gx), new, i + 1
        elif t is nn.Identity:
            i += 1
            continue
        else:
            raise _Unsupported(f"the layer {t.__name__} (captured: Linear, ReLU, Tanh, "
                               f"Sigmoid, Dropout, BatchNorm1d, Flatten, Identity)")
        if op.params:
            spots = []
            for p in op.params:
                if id(p) in seen:
                    raise _Unsupported("a parameter used twice (shared weights)")
                seen.add(id(p))
                if not p.requires_grad or id(p) not in position:
                    raise _Unsupported("a parameter that is frozen or not in the optimiser")
                if p.data.dtype != dt:
                    raise _Unsupported(f"parameters of dtype {p.data.dtype} for inputs of "
                                       f"dtype {dt}")
                spots.append(position[id(p)])
            where.append((op, spots))
            need_gx = True
        ops.append(op)
    if len(seen) != len(position):
        raise _Unsupported("optimiser parameters that the model does not use")
    if _flat.plan(opt, force=True, need_grads=False) is None:
        raise _Unsupported("an optimiser whose parameter groups mix dtypes or whose "
                           "per-parameter state differs between parameters")
    if len(shape) != 2:
        raise _Unsupported(f"a model output of shape {shape} (logits (N, C) expected)")
    scale = 1.0 / max(n, 1) if reduction == "mean" else 1.0
    return _Plan(ops, kernels.SoftmaxCrossEntropy(n, shape[1], dt, scale),
                 reduction == "mean", where)


class CompiledStep:
    """A training step captured into a static plan; see :func:`compile_step`.

    Attributes
    ----------
    output : ndarray or None
        The model output of the last call (a reused buffer).
    captures : int
        Plans built so far (one per input shape/dtype/mode seen).
    eager_steps : int
        Steps that ran eagerly (fallback).
    """

    def __init__(self, model: Any, loss_fn: Any, optimizer: Any, *,
                 grad_clip: float | None = None, warn: bool = True) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.warn = warn
        self.grad_clip = None if grad_clip is None else float(grad_clip)
        self._plans: dict[tuple, _Plan | str] = {}
        self._warned: set[str] = set()
        self._modules = [m for _, m in model.named_modules()]
        self._params = list(model.parameters())
        self._clip_params = [p for p in self._params if p.requires_grad]  # as fit
        from .optim import Optimizer

        self._plain_step = type(optimizer).step is Optimizer.step
        self._pending: Any = None
        self.output: np.ndarray | None = None
        self.captures = 0
        self.eager_steps = 0

    def __call__(self, x: Any, y: Any) -> Tensor:
        """Forward, backward and update on the batch (x, y); returns the loss (0-d)."""
        loss = self.forward(x, y)
        self.update()
        return loss

    # -- the two halves (fit checks the loss in between, as its eager loop does) ----------
    def forward(self, x: Any, y: Any) -> Tensor:
        """Run the forward pass and the loss; :meth:`update` then finishes the step."""
        keep_ops_silent()  # as eager ops: overflow shows as inf/nan in the loss, not warnings
        xa = x.data if isinstance(x, Tensor) else np.asarray(x)
        ya = y.data if isinstance(y, Tensor) else np.asarray(y)
        plan = self._plan(xa, ya)
        if isinstance(plan, str):
            return self._eager_forward(xa, y, plan)
        a = xa
        for op in plan.ops:
            a = op.forward(a)
        self.output = a
        value = plan.loss.forward(a, ya)
        if plan.mean:
            value = value / max(len(ya), 1)
        self._pending = plan
        return Tensor._make(np.asarray(value), False, None, 0)

    def update(self) -> None:
        """Backward and optimiser update of the batch given to :meth:`forward`."""
        plan, self._pending = self._pending, None
        if plan is None:
            raise RuntimeError("CompiledStep.update: call forward(x, y) first")
        opt = self.optimizer
        if isinstance(plan, Tensor):  # the eager fallback's loss
            opt.zero_grad()
            plan.backward()
        else:
            groups = _flat.plan(opt, force=True, need_grads=False)
            if groups is None:  # the state diverged between parameters: own arrays
                plan.groups = None
                for op, _ in plan.where:
                    op.set_grads([np.empty_like(p.data) for p in op.params])
            elif groups != plan.groups:  # FlatGroups compare by identity
                plan.groups = groups  # new flat buffers (first call, or rebuilt)
                for op, spots in plan.where:
                    op.set_grads([groups[gi].gviews[j] for gi, j in spots])
            g = plan.loss.grad
            for op in reversed(plan.ops):
                g = op.backward(g)
                if not op.need_gx:
                    break
            for op, _ in plan.where:
                for p, gv in zip(op.params, op.grads()):
                    pg = p.grad
                    if pg is None or pg.data is not gv:
                        p.grad = Tensor._make(gv, False, None, 0)
            if groups is not None and self.grad_clip is None and self._plain_step:
                # what Optimizer.step does on flat buffers, minus re-finding them
                if opt.nonfinite == "ignore" or opt._flat_finite(groups):
                    _flat.update(opt, groups)
                return
        if self.grad_clip is not None:
            from .optim import clip_grad_norm_

            clip_grad_norm_(self._clip_params, self.grad_clip)
        opt.step()

    # -- plans and the fallback -----------------------------------------------------------
    def _plan(self, x: np.ndarray, y: np.ndarray) -> _Plan | str:
        for m in self._modules:
            if m._forward_hooks:
                return f"a forward hook on {type(m).__name__}"
        key = (x.shape, x.dtype.str, y.shape, y.dtype.str,
               tuple([m.training for m in self._modules]),
               tuple([p._requires_grad for p in self._params]),  # frozen mid-training
               tuple([len(g["params"]) for g in self.optimizer.param_groups]))
        plan = self._plans.get(key)
        if plan is None:
            try:
                plan = _build(self.model, self.loss_fn, self.optimizer, x, y)
                self.captures += 1
            except _Unsupported as exc:
                plan = str(exc)
            self._plans[key] = plan
        return plan

    def _eager_forward(self, x: np.ndarray, y: Any, why: str) -> Tensor:
        if self.warn and why not in self._warned:
            self._warned.add(why)
            warnings.warn(f"compile_step: cannot capture {why}; running this step eagerly",
                          CompileWarning, stacklevel=3)
        self.eager_steps += 1
        fn = self.loss_fn
        if isinstance(fn, str):
            from .train.loop import _resolve_loss

            fn = _resolve_loss(fn)
        out = self.model(Tensor(x))
        self.output = out.data
        loss = fn(out, y)
        self._pending = loss
        return loss


def compile_step(model: Any, loss_fn: Callable[..., Any] | str, optimizer: Any, *,
                 grad_clip: float | None = None, warn: bool = True) -> CompiledStep:
    """Capture ``model``'s training step into a replayable plan: ``loss = step(x, y)``.

    ``step(x, y)`` does what ``out = model(Tensor(x)); loss = loss_fn(out, y);
    optimizer.zero_grad(); loss.backward(); [clip_grad_norm_(params, grad_clip)];
    optimizer.step()`` does, with bit-identical results, without building a graph (see
    the module notes for what is captured and what falls back to eager mode; ``warn``:
    say so once per reason, with a :class:`CompileWarning`).
    """
    return CompiledStep(model, loss_fn, optimizer, grad_clip=grad_clip, warn=warn)
