"""The ONNX exporter: trace the forward once, then convert each recorded step.

Tracing runs the model (eval mode) on the example input with the graph recorded. Every
module whose type has a registered *module converter* (Linear, BatchNorm1d, Flatten, ...)
is recorded as one step through a forward hook, so its inside is not looked at; between
such modules the recorded autograd nodes (``Function`` objects: add, matmul, relu, ...)
are converted one by one by their *function converters*. Parameters become named
initializers (their ``state_dict`` names), other constants anonymous ones.

Adding an op is one registered function (see :func:`register_module` and
:func:`register_function`); a converter receives an :class:`ExportContext`, the module or
node, the ONNX names of its inputs and the traced tensors, and returns its output name(s).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import enable_grad
from ..tensor import Tensor

__all__ = [
    "ExportContext", "UnsupportedOperatorError", "export", "register_function",
    "register_module",
]

ModuleConverter = Callable[..., Any]
FunctionConverter = Callable[..., Any]

#: module class name -> converter(ctx, module, input_names, args, output)
MODULE_CONVERTERS: dict[str, ModuleConverter] = {}
#: Function class name -> converter(ctx, node, input_names, inputs, outputs)
FUNCTION_CONVERTERS: dict[str, FunctionConverter] = {}


class UnsupportedOperatorError(NotImplementedError):
    """The model uses an operation that has no ONNX converter yet."""


def _key(cls_or_name: type | str) -> str:
    return cls_or_name if isinstance(cls_or_name, str) else cls_or_name.__name__


def register_module(*types: type | str) -> Callable[[ModuleConverter], ModuleConverter]:
    """Decorator: ``fn(ctx, module, inputs, args, output)`` converts these module types.

    ``inputs`` are the ONNX names of the module's Tensor arguments, ``args`` the traced
    arguments, ``output`` the traced output. Return the output's ONNX name (a list for a
    tuple output). Types are matched by class name along the MRO, so a subclass of a
    registered layer is converted like it unless it has its own converter.
    """
    def deco(fn: ModuleConverter) -> ModuleConverter:
        for t in types:
            MODULE_CONVERTERS[_key(t)] = fn
        return fn

    return deco


def register_function(*types: type | str) -> Callable[[FunctionConverter], FunctionConverter]:
    """Decorator: ``fn(ctx, node, inputs, xs, ys)`` converts autograd nodes of these types.

    ``node`` is the recorded Function (its attributes, e.g. ``axis``, are its arguments),
    ``inputs`` the ONNX names of its inputs, ``xs`` the traced input Tensors, ``ys`` the
    traced output Tensors (a list). Return the output name (or list of names).
    """
    def deco(fn: FunctionConverter) -> FunctionConverter:
        for t in types:
            FUNCTION_CONVERTERS[_key(t)] = fn
        return fn

    return deco


def _lookup(table: dict[str, Any], cls: type) -> Any:
    for c in cls.__mro__:
        fn = table.get(c.__name__)
        if fn is not None:
            return fn
    return None


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError('ONNX export needs the onnx package: pip install "steepest[onnx]"'
                          ) from None
    return onnx


class ExportContext:
    """What converters build with: nodes, initializers, fresh names, the batch rule."""

    def __init__(self, opset: int, dynamic_batch: bool, batch: int) -> None:
        self.onnx = _onnx()
        self.opset = opset
        self.dynamic_batch = dynamic_batch
        self.batch = batch
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._names: set[str] = set()
        self._consts: dict[tuple, str] = {}
        self._value: Callable[[Tensor], str] | None = None
        self.module_names: dict[int, str] = {}

    def module_name(self, m: Any) -> str:
        """The dotted name of a sub-module (as in ``state_dict`` keys), for initializers."""
        return self.module_names.get(id(m), type(m).__name__)

    def value(self, t: Tensor) -> str:
        """The ONNX name of a traced tensor or a parameter (its named initializer, made
        once): how module converters refer to their weights, e.g. ``ctx.value(m.weight)``."""
        assert self._value is not None
        return self._value(t)

    def fresh(self, hint: str) -> str:
        """A new unique value name starting with ``hint``."""
        base = "".join(c if c.isalnum() or c in "._" else "_" for c in hint) or "v"
        name, k = base, 1
        while name in self._names:
            name, k = f"{base}_{k}", k + 1
        self._names.add(name)
        return name

    def node(self, op_type: str, inputs: list[str], n_outputs: int = 1, *, hint: str = "",
             domain: str = "", **attrs: Any) -> Any:
        """Append one ONNX node; returns its output name (a list when ``n_outputs > 1``)."""
        outs = [self.fresh(f"{hint or op_type.lower()}") for _ in range(n_outputs)]
        self.nodes.append(self.onnx.helper.make_node(
            op_type, inputs, outs, name=self.fresh(f"{op_type}_node"), domain=domain,
            **attrs))
        return outs[0] if n_outputs == 1 else outs

    def initializer(self, array: Any, name: str) -> str:
        """A named initializer holding ``array`` (e.g. a parameter)."""
        name = self.fresh(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def constant(self, value: Any, dtype: Any = None) -> str:
        """An anonymous initializer (shared between equal small constants)."""
        a = np.asarray(value, dtype=dtype)
        key = (a.dtype.str, a.shape, a.tobytes()) if a.size <= 64 else None
        if key is not None and key in self._consts:
            return self._consts[key]
        name = self.initializer(a, "const")
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values: Any) -> str:
        """An int64 1-D constant (shapes, axes, starts/ends)."""
        return self.constant(np.asarray(list(values), dtype=np.int64).reshape(-1))

    def scalar(self, value: float, like: Tensor | np.ndarray) -> str:
        """A 0-d constant in the dtype of ``like`` (keeps float32 graphs float32)."""
        dt = getattr(like, "dtype", np.float32)
        return self.constant(np.asarray(value, dtype=dt if np.dtype(dt).kind == "f"
                                        else np.float32))

    def is_batch(self, shape: tuple[int, ...]) -> bool:
        """Whether axis 0 of a traced tensor of this shape is the (dynamic) batch axis."""
        return self.dynamic_batch and len(shape) > 0 and shape[0] == self.batch

    def shape_for(self, target: tuple[int, ...], source: tuple[int, ...]) -> list[int]:
        """A Reshape target that keeps a dynamic batch: axis 0 copied from the input (0)
        when both traced shapes start with the batch size."""
        target = list(target)
        if target and self.is_batch(tuple(source)) and target[0] == source[0]:
            target[0] = 0
        return target

    def reduce(self, op: str, x: str, axes: Any, keepdims: bool) -> str:
        """Reduce{Sum,Mean,Max,Min} over ``axes`` (None: all), across opsets (axes became an
        input in opset 13 for ReduceSum, 18 for the others)."""
        kd = int(bool(keepdims))
        as_input = self.opset >= (13 if op == "ReduceSum" else 18)
        if axes is None:
            return self.node(op, [x], keepdims=kd)
        axes = [int(a) for a in (axes if isinstance(axes, (tuple, list)) else (axes,))]
        if as_input:
            return self.node(op, [x, self.ints(axes)], keepdims=kd)
        return self.node(op, [x], axes=axes, keepdims=kd)


def _value_info(onnx: Any, name: str, arr: np.ndarray, batch_dim: bool) -> Any:
    dims: list[Any] = list(arr.shape)
    if batch_dim and dims:
        dims[0] = "batch"
    elem = onnx.helper.np_dtype_to_tensor_dtype(arr.dtype)
    return onnx.helper.make_tensor_value_info(name, elem, dims)


def _trace(model: Any, x: Tensor) -> tuple[Any, dict[int, tuple]]:
    """Run the model once, recording registered modules (by output id) and the graph."""
    from ..nn.module import Module

    records: dict[int, tuple] = {}
    handles = []
    marked: list[Tensor] = []  # outputs given requires_grad for the trace, reset after

    def hook(m: Any, args: tuple, out: Any) -> None:
        for i, o in enumerate(out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(o, Tensor) and not any(o is a for a in args):
                records[id(o)] = (m, args, out, i)  # innermost first: the outermost wins
                if o.creator is None and o.dtype.kind == "f" and not o.requires_grad:
                    # an inference-only layer (QuantizedLinear) returns a fresh
                    # Tensor with no graph: mark it so the ops after it are recorded too
                    o.requires_grad = True
                    marked.append(o)

    if isinstance(model, Module):
        for m in model.modules():
            if _lookup(MODULE_CONVERTERS, type(m)) is not None:
                handles.append(m.register_forward_hook(hook))
        modes = [(m, m.training) for m in model.modules()]
        model.eval()
    else:
        modes = []
    try:
        with enable_grad():
            out = model(x)
    finally:
        for h in handles:
            h.remove()
        for o in marked:
            o.requires_grad = False
        for m, mode in modes:
            m.__dict__["training"] = mode
    return out, records


class _Converter:
    def __init__(self, ctx: ExportContext, x: Tensor, records: dict[int, tuple],
                 names: dict[int, str]) -> None:
        self.ctx, self.x, self.records, self.param_names = ctx, x, records, names
        self.done: dict[int, str] = {id(x): "input"}
        self.keep: list[Any] = []  # traced objects stay alive while their ids are keys
        ctx._value = self.name_of

    def _inputs_of(self, t: Tensor) -> tuple[str, Any, list[Tensor]]:
        rec = self.records.get(id(t))
        if rec is not None:
            m, args, _, _ = rec
            return "module", rec, [a for a in args if isinstance(a, Tensor)]
        f = t.creator
        if f is None:
            return "leaf", None, []
        return "function", f, list(f.inputs or ())

    def name_of(self, root: Tensor) -> str:
        """ONNX name of a traced tensor, converting what produced it first (iteratively)."""
        stack = [root]
        waiting: set[int] = set()  # tensors whose inputs are being converted
        while stack:
            t = stack[-1]
            if id(t) in self.done:
                stack.pop()
                continue
            kind, what, deps = self._inputs_of(t)
            todo = [d for d in deps if id(d) not in self.done]
            if todo:
                if id(t) in waiting or any(id(d) in waiting for d in todo):
                    raise RuntimeError(f"onnx.export: the traced graph has a cycle at a "
                                       f"tensor of shape {t.data.shape}")
                waiting.add(id(t))
                stack.extend(reversed(todo))
                continue
            stack.pop()
            waiting.discard(id(t))
            if not self._emit(t, kind, what, deps):  # the module converter declined
                del self.records[id(t)]
                stack.append(t)
        return self.done[id(root)]

    def _emit(self, t: Tensor, kind: str, what: Any, deps: list[Tensor]) -> bool:
        ctx = self.ctx
        self.keep.append(t)
        if kind == "leaf":
            pname = self.param_names.get(id(t))
            self.done[id(t)] = (ctx.initializer(t.data, pname) if pname is not None
                                else ctx.constant(t.data))
            return True
        ins = [self.done[id(d)] for d in deps]
        if kind == "module":
            m, args, out, _ = what
            fn = _lookup(MODULE_CONVERTERS, type(m))
            result = fn(ctx, m, ins, args, out)
            if result is None:  # e.g. BatchNorm without running statistics
                return False
            outs = list(out) if isinstance(out, (tuple, list)) else [out]
        else:
            f = what
            fn = _lookup(FUNCTION_CONVERTERS, type(f))
            if fn is None:
                shapes = ", ".join(str(d.data.shape) for d in deps)
                raise UnsupportedOperatorError(
                    f"onnx.export: no ONNX converter for the operation {f.name!r} "
                    f"({type(f).__module__}.{type(f).__name__}, input shapes {shapes}); "
                    f"register one with steepest.onnx.register_function("
                    f"{type(f).__name__!r})")
            outs = [r() for r in f.outputs] if f.n_outputs != 1 else [f.outputs[0]()]
            result = fn(ctx, f, ins, deps, outs)
        names = result if isinstance(result, (list, tuple)) else [result]
        for o, n in zip(outs, names):
            if isinstance(o, Tensor):
                self.done[id(o)] = n
                self.keep.append(o)
        return True


def export(model: Any, example_input: Any, path: str | os.PathLike | None = None, *,
           opset: int = 17, dynamic_batch: bool = True, input_name: str = "input",
           output_name: str = "output", check: bool = True) -> Any:
    """Export ``model`` to ONNX by tracing its forward on ``example_input``.

    Parameters
    ----------
    model : nn.Module (or a callable of one Tensor)
    example_input : array or Tensor with a batch axis first
    path : where to write the ``.onnx`` file (atomically); None only returns the model
    opset : ONNX opset version (default 17)
    dynamic_batch : mark axis 0 of the input and output as a symbolic ``batch`` dim
    check : run ``onnx.checker.check_model`` on the result

    Returns the ``onnx.ModelProto``. Raises :class:`UnsupportedOperatorError` naming the
    first operation without a converter.
    """
    onnx = _onnx()
    from . import converters, layers, quantized  # noqa: F401  (the built-in converters)

    arr = np.asarray(example_input.data if isinstance(example_input, Tensor)
                     else example_input)
    if arr.ndim == 0:
        raise ValueError("onnx.export: example_input needs a batch axis (got a 0-d array)")
    arr = np.array(arr, copy=True)
    x = Tensor(arr, requires_grad=arr.dtype.kind == "f")
    out, records = _trace(model, x)
    if not isinstance(out, Tensor):
        raise TypeError(f"onnx.export: the model must return one Tensor, got "
                        f"{type(out).__name__}")
    names = {id(p): n for n, p in getattr(model, "named_parameters", lambda: [])()}
    ctx = ExportContext(int(opset), bool(dynamic_batch), int(arr.shape[0]))
    ctx._names.add("input")
    if hasattr(model, "named_modules"):
        ctx.module_names = {id(m): n for n, m in model.named_modules()}
    conv = _Converter(ctx, x, records, names)
    result = conv.name_of(out)
    if result == "input" or result in {i.name for i in ctx.initializers}:
        result = ctx.node("Identity", [result])
    # rename the final value to output_name and the input to input_name
    for n in ctx.nodes:
        n.input[:] = [input_name if v == "input" else v for v in n.input]
        n.output[:] = [output_name if v == result else v for v in n.output]
    out_arr = out.data
    graph = onnx.helper.make_graph(
        ctx.nodes, type(model).__name__,
        [_value_info(onnx, input_name, arr, dynamic_batch)],
        [_value_info(onnx, output_name, out_arr, ctx.is_batch(out_arr.shape))],
        initializer=ctx.initializers)
    proto = onnx.helper.make_model(
        graph, producer_name="steepest", producer_version=_version(),
        opset_imports=[onnx.helper.make_opsetid("", int(opset))])
    # the oldest IR version that carries this opset, so older runtimes load the file too
    proto.ir_version = min(proto.ir_version, 8 if opset <= 17 else 9 if opset <= 20 else 10)
    if check:
        onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        from ..atomic import atomic_write_bytes

        atomic_write_bytes(path, proto.SerializeToString())
    return proto


def _version() -> str:
    from .. import __version__

    return __version__
