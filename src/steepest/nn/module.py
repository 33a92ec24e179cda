"""Module, Parameter and the containers Sequential and ModuleList.

A :class:`Module` registers the :class:`Parameter` s, sub-modules and buffers assigned to
its attributes, in assignment order (deterministic: no sets). Registered objects are also
stored as ordinary instance attributes, so reading ``self.weight`` in ``forward`` costs a
plain attribute lookup (no ``__getattr__`` detour on the hot path).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor
from .parameter import Parameter

__all__ = ["LoadStateDictError", "Module", "Parameter", "SymmetryWarning", "check_symmetry"]


class SymmetryWarning(UserWarning):
    """A weight matrix has all entries equal, so its units can never become different."""


class LoadStateDictError(RuntimeError):
    """``load_state_dict`` found missing, unexpected or wrongly shaped entries."""

    def __init__(self, message: str, missing_keys: list[str], unexpected_keys: list[str],
                 shape_mismatches: list[tuple[str, tuple, tuple]]) -> None:
        super().__init__(message)
        self.missing_keys = missing_keys
        self.unexpected_keys = unexpected_keys
        self.shape_mismatches = shape_mismatches


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class _HookHandle:
    """Returned by :meth:`Module.register_forward_hook`; ``remove()`` unregisters the hook."""

    __slots__ = ("hooks", "key")
    _next = 0

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.key = _HookHandle._next
        _HookHandle._next += 1

    def remove(self) -> None:
        self.hooks.pop(self.key, None)

    def __enter__(self) -> _HookHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _is_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) or backend.is_device_array(a)


def _is_device_name(a: str) -> bool:
    return a.split(":")[0].strip().lower() in ("cpu", "cuda")


def _fmt_count(n: int) -> str:
    return f"{n:,}"


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _invalid_value(v: Any, target: np.ndarray) -> str:
    """Why ``v`` cannot be copied into ``target`` (dtype kind, finiteness), or ``""``.

    Checked for every entry before anything is copied, so a refused load changes nothing.
    """
    if not isinstance(v, (np.ndarray, np.generic, int, float, list)) or isinstance(v, bool):
        return f"a {type(v).__name__}, not an array"
    a = np.asarray(v)
    if target.dtype.kind == "f":
        if a.dtype.kind != "f":
            return f"dtype {a.dtype}, expected a floating dtype like {target.dtype}"
        with np.errstate(over="ignore", invalid="ignore"):
            if a.size and not np.isfinite(a.astype(target.dtype, copy=False)).all():
                src = "" if np.isfinite(a).all() else " in the file"
                return (f"holds NaN or inf{src or f' once cast to {target.dtype}'}")
        return ""
    if target.dtype.kind in "iu":
        if a.dtype.kind not in "iu":
            return f"dtype {a.dtype}, expected an integer dtype like {target.dtype}"
        info = np.iinfo(target.dtype)
        if a.size and (a.min() < info.min or a.max() > info.max):
            return f"values out of range for {target.dtype}"
        return ""
    if target.dtype.kind == "b" and a.dtype.kind != "b":
        return f"dtype {a.dtype}, expected bool"
    if a.dtype.kind != target.dtype.kind:
        return f"dtype {a.dtype}, expected {target.dtype}"
    return ""


class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign Parameters, sub-modules and
    (through :meth:`register_buffer`) buffers as attributes, and implement ``forward``.
    Calling the module runs ``forward`` (and any forward hooks).
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = {}
        d["training"] = True

    # -- registration ---------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if params is None:
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(
                    f"cannot assign {type(value).__name__} '{name}' before "
                    f"Module.__init__() is called: call super().__init__() first in "
                    f"{type(self).__name__}.__init__"
                )
            object.__setattr__(self, name, value)
            return
        modules, buffers = d["_modules"], d["_buffers"]
        if isinstance(value, Parameter):
            self._unregister(name, "_parameters")
            params[name] = value
        elif isinstance(value, Module):
            self._unregister(name, "_modules")
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                f"of {type(self).__name__} (Parameter or None expected)")
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as sub-module '{name}' "
                                f"of {type(self).__name__} (Module or None expected)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not _is_array(value):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' of "
                                f"{type(self).__name__} (NumPy array or None expected)")
            buffers[name] = value
        object.__setattr__(self, name, value)

    def _unregister(self, name: str, keep: str | None = None) -> None:
        """Remove ``name`` from the registries other than ``keep`` (whose entry is then
        overwritten in place, keeping its position in the order)."""
        d = self.__dict__
        for key in ("_parameters", "_modules", "_buffers"):
            if key != keep:
                d[key].pop(name, None)
        if keep != "_buffers":
            d["_non_persistent"].discard(name)

    def __delattr__(self, name: str) -> None:
        if "_parameters" in self.__dict__:
            self._unregister(name)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or ``None``, a declared but absent parameter) as ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, got "
                            f"{type(param).__name__}")
        self._check_name(name)
        self._unregister(name, "_parameters")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, array: np.ndarray | None,
                        persistent: bool = True) -> None:
        """Register a non-learnable array (e.g. running statistics), saved in the state dict
        unless ``persistent=False``. Updated in place by the module."""
        if array is not None and not _is_array(array):
            if isinstance(array, Tensor):
                array = array.data
            else:
                raise TypeError(f"register_buffer: '{name}' must be a NumPy array or None, "
                                f"got {type(array).__name__}")
        self._check_name(name)
        self._unregister(name, "_buffers")
        self._buffers[name] = array
        self._non_persistent.discard(name)
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, array)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the sub-module ``name`` (for names that are not identifiers)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module, got "
                            f"{type(module).__name__}")
        self._check_name(name)
        self._unregister(name, "_modules")
        self._modules[name] = module
        object.__setattr__(self, name, module)

    register_module = add_module

    def _check_name(self, name: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"call super().__init__() first in {type(self).__name__}."
                                 f"__init__ before registering '{name}'")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"invalid name {name!r}: a non-empty string without '.' expected")

    # -- running --------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                r = hook(self, args, out)
                if r is not None:
                    out = r
        return out

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> _HookHandle:
        """Call ``hook(module, inputs, output)`` after every forward; a non-None return value
        replaces the output. Returns a handle whose ``remove()`` unregisters it."""
        handle = _HookHandle(self._forward_hooks)
        self._forward_hooks[handle.key] = hook
        return handle

    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm on batch statistics) recursively."""
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (dropout off, batch norm on running statistics)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the gradients of all parameters (``grad = None``, as PyTorch's default)."""
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) all parameters."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    # -- traversal ------------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it (depth first, each once), with dotted names."""
        out = []
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:  # iterative: no recursion limit, no generator chain per level
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append((name, m))
            kids = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items()
                    if c is not None]
            stack.extend(reversed(kids))
        return iter(out)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def _module_list(self) -> list[Module]:
        out = []
        seen: set[int] = set()
        stack: list[Module] = [self]
        while stack:
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append(m)
            kids = [c for c in m._modules.values() if c is not None]
            stack.extend(reversed(kids))
        return out

    def named_parameters(self, prefix: str = "", recurse: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs in registration order; shared ones appear once."""
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mp, m in mods:
            for name, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mp}.{name}" if mp else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters in registration order (shared ones once)."""
        out = []
        seen: set[int] = set()
        for m in self._module_list() if recurse else (self,):
            for p in m._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    out.append(p)
        return iter(out)

    def named_buffers(self, prefix: str = "", recurse: bool = True
                      ) -> Iterator[tuple[str, np.ndarray]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mp, m in mods:
            for name, b in m._buffers.items():
                if b is None or id(b) in seen:
                    continue
                seen.add(id(b))
                yield (f"{mp}.{name}" if mp else name), b

    def buffers(self, recurse: bool = True) -> Iterator[np.ndarray]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first) and on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of parameter entries (each shared parameter counted once)."""
        return sum(p.data.size for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Module:
        """Move and/or convert every parameter and buffer, in place (``to("cuda")``,
        ``to(float64)``, ``to("cuda", float64)``), as PyTorch. Parameters stay the same
        objects, so an optimiser built before the move keeps working; its state follows
        on the next step or ``load_state_dict``. Dtype conversion touches floats only."""
        for a in args:
            if isinstance(a, backend.device) or (isinstance(a, str) and _is_device_name(a)):
                device = a
            elif dtype is None:
                dtype = a
            else:
                raise TypeError(f"Module.to: unexpected argument {a!r}")
        dt = None if dtype is None else np.dtype(dtype)
        dev = None if device is None else backend.device(device)

        def convert(a: Any, is_float: bool) -> Any:
            if dev is not None:
                a = backend.to_device(a, dev)
            if dt is not None and is_float and a.dtype != dt:
                a = a.astype(dt)
            return a

        for p in self.parameters():
            new = convert(p.data, True)
            if new is not p.data:
                p.data = new
                if p.grad is not None:
                    g = convert(p.grad.data, True)
                    p.grad = None if g.dtype != new.dtype else Tensor._make(g, False, None, 0)
        for m in self.modules():
            for name, b in list(m._buffers.items()):
                if b is not None:
                    new = convert(b, b.dtype.kind == "f")
                    if new is not b:
                        setattr(m, name, new)
        return self

    def cuda(self, device: Any = None) -> Module:
        """Move every parameter and buffer to the GPU (``cuda:0`` unless told)."""
        return self.to(backend.device("cuda", device) if isinstance(device, int)
                       else device or "cuda")

    def cpu(self) -> Module:
        return self.to("cpu")

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    # -- state ----------------------------------------------------------------------------
    def state_dict(self, prefix: str = "") -> OrderedDict[str, np.ndarray]:
        """Ordered name -> array copy of every parameter and persistent buffer.

        Keys are dotted as in PyTorch (``0.weight``, ``bn.running_mean``): each module's
        parameters, then its buffers, then its sub-modules'.
        """
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        for key, kind, owner, name in self._state_entries(prefix):
            arr = owner._parameters[name].data if kind == "p" else owner._buffers[name]
            out[key] = arr.copy()  # on the module's device, as PyTorch
        return out

    def _state_entries(self, prefix: str = "") -> Iterator[tuple[str, str, Module, str]]:
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, "p", self, name
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                yield prefix + name, "b", self, name
        for name, m in self._modules.items():
            if m is not None:
                yield from m._state_entries(f"{prefix}{name}.")

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy arrays from ``state_dict`` into the parameters and buffers, in place.

        Everything is checked before anything is copied. Wrongly shaped entries always
        raise; with ``strict=True`` (the default) missing or unexpected keys raise too.
        The error, a :class:`LoadStateDictError`, lists every problem.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a dict of arrays, got "
                            f"{type(state_dict).__name__}")
        own = {key: (kind, owner, name) for key, kind, owner, name in self._state_entries()}
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        invalid: list[str] = []
        values: dict[str, np.ndarray] = {}
        for key, (kind, owner, name) in own.items():
            if key not in state_dict:
                continue
            v = state_dict[key]
            target = owner._parameters[name].data if kind == "p" else owner._buffers[name]
            why = _invalid_value(v.data if isinstance(v, Tensor) else v, target)
            if why:
                invalid.append(f"{key} ({why})")
                continue
            v = v.data if isinstance(v, Tensor) else v
            v = v if backend.is_device_array(v) else np.asarray(v)
            if v.shape != target.shape:
                mismatched.append((key, v.shape, target.shape))
            values[key] = v
        if mismatched or invalid or (strict and (missing or unexpected)):
            parts = []
            if missing:
                parts.append(f"missing key(s): {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected key(s): {', '.join(map(str, unexpected))}")
            if mismatched:
                parts.append("shape mismatch(es): " + ", ".join(
                    f"{k} (file {_fmt_shape(a)} vs model {_fmt_shape(b)})"
                    for k, a, b in mismatched))
            if invalid:
                parts.append("invalid value(s): " + ", ".join(invalid))
            raise LoadStateDictError(
                f"error(s) loading state_dict into {type(self).__name__}: " + "; ".join(parts),
                missing, unexpected, mismatched)
        for key, v in values.items():
            kind, owner, name = own[key]
            target = owner._parameters[name].data if kind == "p" else owner._buffers[name]
            # loaded onto the device the module is on, wherever the values come from
            np.copyto(target, backend.to_device(v, backend.device_of(target)),
                      casting="same_kind")
        return IncompatibleKeys(missing, unexpected)

    def load_torch_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy a PyTorch ``state_dict`` (torch tensors, not a file: no pickle) into this
        module; keys and layouts are PyTorch's, so the same architecture matches."""
        from ..torch_interop import from_torch_state_dict

        return self.load_state_dict(from_torch_state_dict(state_dict), strict=strict)

    def save(self, path: Any) -> None:
        """Save ``state_dict()`` with :func:`steepest.save` (safe .npz format)."""
        from ..serialization import save

        save(self.state_dict(), path)

    def load(self, path: Any, strict: bool = True) -> IncompatibleKeys:
        """Load parameters saved by :meth:`save` (or ``steepest.save(state_dict)``)."""
        from ..serialization import load

        return self.load_state_dict(load(path), strict=strict)

    # -- checks ---------------------------------------------------------------------------
    def check_symmetry(self, warn: bool = True) -> list[str]:
        """See :func:`check_symmetry`."""
        return check_symmetry(self, warn)

    # -- display --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of ``repr`` (override in layers)."""
        return ""

    def _own_params_note(self) -> str:
        own = [(n, p) for n, p in self._parameters.items() if p is not None]
        if not own:
            return ""
        count = sum(p.data.size for _, p in own)
        shapes = ", ".join(f"{n} {_fmt_shape(p.data.shape)}" for n, p in own)
        return f"  [{shapes}: {_fmt_count(count)} params]"

    def _repr(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()}"
        kids = [(n, m) for n, m in self._modules.items() if m is not None]
        if not kids:
            return head + ")" + self._own_params_note()
        lines = [head + self._own_params_note()]
        for name, m in kids:
            sub = m._repr().replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        lines.append(")")
        return "\n".join(lines)

    def __repr__(self) -> str:
        text = self._repr()
        if self._modules:
            n = self.num_parameters()
            text += f"  [{_fmt_count(n)} parameters in total]"
        return text

    def summary(self, input_shape: tuple[int, ...] | None = None) -> str:
        """A per-layer table: output shape, parameter shapes and counts, and the total.

        ``input_shape`` is the shape of one sample (without the batch axis). With it (or
        when the first layer is a Linear, whose ``in_features`` gives it) a forward pass
        on zeros, in eval mode and without recording a graph, fills the output-shape column
        (the batch axis is shown as N). Returns the table as a string.
        """
        rows = [(name or type(self).__name__, m) for name, m in self.named_modules()
                if (not any(True for _ in m.children()) and m is not self)
                or any(p is not None for p in m._parameters.values())]
        if not rows:
            rows = [(type(self).__name__, self)]
        outputs: dict[int, str] = {}
        given = input_shape is not None
        if input_shape is None:
            first = next((m for m in self.modules() if hasattr(m, "in_features")), None)
            if first is not None:
                input_shape = (first.in_features,)
        if input_shape is not None:
            outputs = self._trace_shapes(tuple(input_shape), [m for _, m in rows], given)
        header = ("Layer (type)", "Output shape", "Param shapes", "Params")
        table = []
        for name, m in rows:
            own = [(n, p) for n, p in m._parameters.items() if p is not None]
            pshapes = ", ".join(f"{n} {_fmt_shape(p.data.shape)}" for n, p in own) or "-"
            count = sum(p.data.size for _, p in own)
            table.append((f"{name} ({type(m).__name__})", outputs.get(id(m), "-"), pshapes,
                          _fmt_count(count)))
        widths = [max(len(r[i]) for r in [header, *table]) for i in range(4)]

        def fmt(r: tuple[str, ...]) -> str:
            return "  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]),
                              r[2].ljust(widths[2]), r[3].rjust(widths[3])]).rstrip()

        rule = "=" * len(fmt(tuple("x" * w for w in widths)))
        total = self.num_parameters()
        trainable = self.num_parameters(trainable_only=True)
        lines = [f"{type(self).__name__} summary", rule, fmt(header), rule]
        lines += [fmt(r) for r in table]
        lines += [rule, f"Total parameters: {_fmt_count(total)}",
                  f"Trainable parameters: {_fmt_count(trainable)}",
                  f"Non-trainable parameters: {_fmt_count(total - trainable)}"]
        return "\n".join(lines)

    def _trace_shapes(self, input_shape: tuple[int, ...], mods: list[Module], warn: bool
                      ) -> dict[int, str]:
        shapes: dict[int, str] = {}

        def record(m: Module, args: tuple, out: Any) -> None:
            outs = out if isinstance(out, (tuple, list)) else (out,)
            shapes[id(m)] = ", ".join(
                _fmt_shape(("N", *np.shape(getattr(o, "data", o))[1:])).replace("'", "")
                for o in outs)

        dtype = next((p.data.dtype for p in self.parameters()), np.dtype(np.float32))
        modes = [(m, m.training) for m in self.modules()]
        handles = [m.register_forward_hook(record) for m in mods]
        try:
            self.eval()
            with no_grad():
                self(Tensor(np.zeros((2, *input_shape), dtype=dtype)))
        except Exception as exc:  # the table still lists parameters without output shapes
            if not warn:  # the input shape was only guessed from the first Linear
                return {}
            warnings.warn(f"summary: forward pass on input shape (N, "
                          f"{', '.join(map(str, input_shape))}) failed ({exc}); output shapes "
                          f"are left out", stacklevel=3)
            return {}
        finally:
            for h in handles:
                h.remove()
            for m, mode in modes:
                m.__dict__["training"] = mode
        return shapes


def check_symmetry(model: Module, warn: bool = True) -> list[str]:
    """Names of the weight tensors (2 or more axes) whose entries are all equal.

    Such a layer cannot learn distinct features: every unit computes the same output and
    receives the same gradient, so gradient descent keeps them identical (symmetry is
    never broken). Zero-initialised biases are fine and are not reported. With ``warn``
    a :class:`SymmetryWarning` names each offending tensor. Training loops call this
    before the first step.
    """
    bad = []
    for name, p in model.named_parameters():
        a = p.data
        if a.ndim >= 2 and a.size > 1 and a.shape[0] > 1 and bool((a == a.flat[0]).all()):
            bad.append(name)
            if warn:
                warnings.warn(
                    f"weight '{name}' (shape {_fmt_shape(a.shape)}) has all entries equal to "
                    f"{a.flat[0].item()!r}: its units compute the same function and get the same "
                    f"gradient, so training cannot make them differ (symmetry is never "
                    f"broken). Initialise it randomly, e.g. with "
                    f"steepest.nn.init.kaiming_uniform_ or xavier_uniform_.",
                    SymmetryWarning, stacklevel=2)
    return bad
