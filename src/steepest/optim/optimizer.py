"""The optimiser base: parameter groups, per-parameter state, state_dict, non-finite guard.

Semantics follow ``torch.optim.Optimizer`` so that identical hyperparameters give identical
trajectories, with three deliberate differences:

* ``state`` is keyed by the parameter's *position* (0, 1, ... over all groups in order),
  never by ``id()``: positions survive a save/load and a process restart.
* hyperparameters are checked when a group is added (constructor *and*
  ``add_param_group``), with a ``ValueError`` naming the optimiser and the value;
  duplicate parameters, non-leaf tensors and tensors that do not require grad are refused.
* before updating anything, ``step()`` checks that every gradient is finite and has the
  parameter's shape and dtype. A non-finite gradient raises
  :class:`NonFiniteGradientError` naming the parameter (``nonfinite="raise"``, the default),
  or skips the whole step (``nonfinite="skip"``, counted in ``skipped_steps``);
  ``nonfinite="ignore"`` turns the check off (PyTorch's behaviour).

Subclasses implement ``_update(group, params, grads, states)`` on raw arrays, updating
``p.data`` in place (``out=`` / in-place ufuncs): other code holds references to the arrays,
so ``p.data`` is never rebound. Hyperparameters are Python floats so float32 stays float32.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import kernels
from ..autograd import enable_grad
from ..backend import check_same_device, device_of, is_device_array, to_device
from ..tensor import Tensor
from . import _flat

__all__ = ["NonFiniteGradientError", "Optimizer", "required"]

_NONFINITE = ("raise", "skip", "ignore")


class _Required:
    """Marker for a hyperparameter without a default (each group must give it)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class NonFiniteGradientError(FloatingPointError, ValueError):
    """A gradient contains NaN or inf; the step was refused and no weight was changed."""


def _to_python(value: Any) -> Any:
    """NumPy scalars and 0-d arrays (as a file round trip may give) become Python scalars."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    if isinstance(value, list):
        return [_to_python(v) for v in value]
    return value


def _copy_value(value: Any) -> Any:
    """Copy state for a state_dict: arrays copied, tuples as lists (plain data only)."""
    if isinstance(value, np.ndarray) or is_device_array(value):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return [_copy_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy_value(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


class Optimizer:
    """Base class of every optimiser.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dicts
        The tensors to optimise, or parameter groups: dicts with a ``"params"`` entry and
        any hyperparameters that override ``defaults`` for that group.
    defaults : dict
        Hyperparameters used by groups that do not set them.
    nonfinite : {"raise", "skip", "ignore"}
        What ``step()`` does when a gradient contains NaN or inf (see the module notes).

    Attributes
    ----------
    param_groups : list of dict
        One dict per group: ``"params"`` (list of Tensors) and the hyperparameters.
        Schedulers change ``group["lr"]``.
    state : dict[int, dict]
        Per-parameter state keyed by the parameter's position over all groups.
    skipped_steps : int
        Number of steps skipped because of non-finite gradients (``nonfinite="skip"``).
    """

    #: names of per-parameter state entries that are arrays shaped like the parameter
    _array_state: tuple[str, ...] = ()
    #: the method works on one flat vector of all parameters: no parameter groups
    _single_group = False
    #: ``_update`` is elementwise (the same arithmetic on every element), so it may run once
    #: over one flat buffer per group (see :mod:`steepest.optim._flat`)
    _elementwise = False
    #: use the flat buffers when ``_elementwise`` (set False to keep per-tensor updates)
    flat = True

    def __init__(self, params: Any, defaults: dict[str, Any], *,
                 nonfinite: str = "raise") -> None:
        if nonfinite not in _NONFINITE:
            raise ValueError(f"{self._name}: nonfinite must be one of {_NONFINITE}, "
                             f"got {nonfinite!r}")
        self.defaults = dict(defaults)
        self.nonfinite = nonfinite
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        self.skipped_steps = 0
        self._scratch: dict[tuple[int, str], np.ndarray] = {}
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params should be an iterable of Tensors or dicts, "
                            f"got a single Tensor; wrap it in a list")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: params must be an ordered collection (list), not "
                            f"a set: the order of a set changes between runs")
        if isinstance(params, dict):
            params = [params]
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"  group {i}: {len(group['params'])} params")
            for k in sorted(group):
                if k not in ("params", "param_names"):
                    lines.append(f"    {k}: {group[k]!r}")
        return "\n".join(lines + [")"])

    # -- parameter groups ----------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (e.g. unfrozen layers) with its own hyperparameters."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}: a param group must be a dict, got "
                            f"{type(param_group).__name__}")
        gi = len(self.param_groups)
        if self._single_group and gi:
            raise ValueError(f"{self._name}: parameter groups are not supported (one group "
                             f"only)")
        group = dict(param_group)
        if "params" not in group:
            raise ValueError(f"{self._name}: param group {gi} has no 'params' entry")
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{self._name}: params must be an ordered collection (list), not "
                            f"a set: the order of a set changes between runs")
        params = list(params)
        if not params:
            raise ValueError(f"{self._name}: param group {gi} has an empty parameter list")
        names = []
        tensors = []
        for p in params:
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names.append(p[0])
                p = p[1]
            tensors.append(p)
        if names and len(names) != len(tensors):
            raise ValueError(f"{self._name}: param group {gi}: either every parameter is "
                             f"named (name, tensor) or none is")
        if names:
            group["param_names"] = names
        existing = {id(p): (i, j) for i, g in enumerate(self.param_groups)
                    for j, p in enumerate(g["params"])}
        seen: dict[int, int] = {}
        for j, p in enumerate(tensors):
            where = f"param group {gi}, parameter {j}"
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: {where}: can only optimise Tensors, got "
                                f"{type(p).__name__}")
            if p.creator is not None:
                raise ValueError(f"{self._name}: {where} (shape {p.shape}) is not a leaf "
                                 f"tensor (it was computed by {p.creator.name}); optimise "
                                 f"the leaves it came from")
            if not p.requires_grad:
                raise ValueError(f"{self._name}: {where} (shape {p.shape}) does not require "
                                 f"grad; create it with requires_grad=True")
            if id(p) in seen:
                raise ValueError(f"{self._name}: {where} (shape {p.shape}) is the same "
                                 f"tensor as parameter {seen[id(p)]} of the group; each "
                                 f"parameter may appear only once")
            if id(p) in existing:
                i, k = existing[id(p)]
                raise ValueError(f"{self._name}: {where} (shape {p.shape}) already appears "
                                 f"in param group {i} (parameter {k}); some parameters "
                                 f"appear in more than one group")
            seen[id(p)] = j
        group["params"] = tensors
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{self._name}: param group {gi} did not give a value for "
                                 f"the required hyperparameter {key!r}")
            group.setdefault(key, default)
        self._validate(group, f"{self._name}: " if gi == 0 else
                       f"{self._name}: param group {gi}: ")
        self.param_groups.append(group)

    def _validate(self, group: dict[str, Any], prefix: str) -> None:
        """Check a group's hyperparameters (subclasses extend); raise ValueError."""
        _check_lr(group["lr"], prefix)

    # -- gradients -----------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients: ``.grad = None`` (default), or fresh zero arrays.

        Zeros are new arrays rather than an in-place fill: gradient arrays may be shared.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad = None if set_to_none else Tensor._make(
                        np.zeros_like(p.data), False, None, 0)

    def _describe(self, gi: int, j: int, p: Tensor) -> str:
        group = self.param_groups[gi]
        name = ""
        if "param_names" in group:
            name = f" {group['param_names'][j]!r}"
        elif p.name:
            name = f" {p.name!r}"
        return f"parameter{name} (group {gi}, index {j}, shape {p.shape})"

    def _check_grads(self) -> bool:
        """Validate every gradient; False when the step must be skipped."""
        with np.errstate(over="ignore", invalid="ignore"):  # once per step, not per tensor
            return self._check_grads_unguarded()

    def _check_grads_unguarded(self) -> bool:
        check = self.nonfinite != "ignore"
        on_device = []  # device gradients: one finiteness test (one sync) for all of them
        for gi, group in enumerate(self.param_groups):
            for j, p in enumerate(group["params"]):
                g = p.grad
                if g is None:
                    continue
                ga = g.data if isinstance(g, Tensor) else g
                if type(ga) is not type(p.data):
                    check_same_device(f"{self._name}.step", p.data, ga)
                if not _is_array(ga) or ga.shape != p.data.shape:
                    raise ValueError(
                        f"{self._name}: the gradient of {self._describe(gi, j, p)} has shape "
                        f"{np.shape(ga)}; it must have the parameter's shape")
                if ga.dtype != p.data.dtype:
                    raise TypeError(
                        f"{self._name}: the gradient of {self._describe(gi, j, p)} has dtype "
                        f"{ga.dtype} but the parameter has dtype {p.data.dtype}")
                if check and type(ga) is not np.ndarray and ga.dtype.kind == "f":
                    on_device.append((gi, j, p, ga))
                elif check and not _all_finite(ga):
                    return self._nonfinite(gi, j, p, ga)
        if on_device and not math.isfinite(float(sum(
                np.dot(ga.reshape(-1), ga.reshape(-1)) for *_, ga in on_device))):
            for gi, j, p, ga in on_device:
                if not bool(np.isfinite(ga).all()):
                    return self._nonfinite(gi, j, p, ga)
        return True

    def _nonfinite(self, gi: int, j: int, p: Tensor, ga: Any) -> bool:
        """Skip the step (False) or raise, naming the parameter with a non-finite grad."""
        if self.nonfinite == "skip":
            self.skipped_steps += 1
            return False
        bad = "NaN" if bool(np.isnan(ga).any()) else "inf"
        raise NonFiniteGradientError(
            f"{self._name}.step: the gradient of {self._describe(gi, j, p)} "
            f"contains {bad}; no parameter was changed. Find the cause with "
            f"steepest.detect_anomaly(), clip gradients, or pass "
            f"nonfinite='skip' to skip such steps")

    # -- the step ------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return the closure's loss, if any.

        ``closure`` re-evaluates the model and calls ``backward`` (it is run with grad
        enabled before the update).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        if self._elementwise and self.flat:
            groups = _flat.plan(self)
            if groups is not None:  # one flat buffer per group: a few vectorised calls
                _flat.gather(self, groups)
                if self.nonfinite == "ignore" or self._flat_finite(groups):
                    _flat.update(self, groups)
                return loss
            self.__dict__["_flat_groups"] = []  # the plain path below changes the state
        if not self._check_grads():
            return loss
        index = 0
        for group in self.param_groups:
            params, grads, states = [], [], []
            for p in group["params"]:
                g = p.grad
                if g is not None:
                    params.append(p.data)
                    grads.append(g.data if isinstance(g, Tensor) else g)
                    st = self.state.get(index)
                    if st is None:
                        st = self.state[index] = {}
                    states.append(st)
                index += 1
            if params:
                try:
                    self._update(group, params, grads, states)
                except TypeError:
                    self._check_state_devices(params, states)
                    raise
        return loss

    def _flat_finite(self, groups: list[Any]) -> bool:
        """One finiteness test per group on its flat gradient; on doubt the per-tensor check
        names the culprit (and raises, or counts the skipped step)."""
        for fg in groups:
            ok = kernels.all_finite(fg.grad)  # compiled: one pass, no warnings to silence
            if ok is None:
                with np.errstate(over="ignore", invalid="ignore"):
                    ok = _all_finite(fg.grad)
            if not ok:
                with np.errstate(over="ignore", invalid="ignore"):
                    return self._check_grads_unguarded()
        return True

    def _check_state_devices(self, params: list[Any], states: list[dict[str, Any]]) -> None:
        """Name the problem when a parameter moved device after its state was created."""
        for p, st in zip(params, states):
            for name, v in st.items():
                if hasattr(v, "shape") and type(v) is not type(p):
                    raise RuntimeError(
                        f"{self._name}.step: state {name!r} is on {device_of(v)} but its "
                        f"parameter is on {device_of(p)}; create the optimiser after "
                        f"model.to(device), or move its state with "
                        f"optimizer.load_state_dict(optimizer.state_dict())")

    def _update(self, group: dict[str, Any], params: list[np.ndarray],
                grads: list[np.ndarray], states: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _work(self, k: int, like: np.ndarray) -> np.ndarray:
        """Scratch array ``k`` shaped like ``like``: reused across steps and parameters."""
        key = (k, like.dtype.str, type(like))
        buf = self._scratch.get(key)
        n = like.size
        if buf is None or buf.size < n:
            buf = np.empty_like(like, shape=(max(n, 1),))
            self._scratch[key] = buf
        return buf[:n].reshape(like.shape)

    # -- state_dict ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state as plain data (arrays copied), for checkpoints.

        ``{"state": {position: {name: array or number}}, "param_groups": [{hyperparameters,
        "params": [position, ...]}]}``; tuples (``betas``) are stored as lists.
        """
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: _copy_value(v) for k, v in group.items() if k != "params"}
            packed["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(packed)
        state = {int(i): {k: _copy_value(v) for k, v in s.items()}
                 for i, s in sorted(self.state.items()) if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict` (arrays are copied, not shared).

        The groups must have the same number of parameters as the saved ones; the saved
        hyperparameters (including ``lr``) replace the current ones. Everything is checked
        first (the constructor's rules for hyperparameters; shapes, floating dtypes,
        finiteness and non-negative second moments for the state), so a refused load
        changes nothing.
        """
        name = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict \
                or "state" not in state_dict:
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups' (from "
                             f"state_dict())")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, (list, tuple)) or not all(
                isinstance(g, dict) and isinstance(g.get("params"), (list, tuple, np.ndarray))
                for g in saved_groups):
            raise ValueError(f"{name}: 'param_groups' must be a list of dicts, each with a "
                             f"'params' list")
        if not isinstance(state_dict["state"], dict):
            raise ValueError(f"{name}: 'state' must be a dict keyed by parameter position")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the state dict has {len(saved_groups)} "
                f"parameter groups but the optimiser has {len(self.param_groups)}")
        id_map: dict[int, tuple[Tensor, int]] = {}
        start = 0
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            saved_params = list(saved["params"])
            if len(saved_params) != len(group["params"]):
                raise ValueError(
                    f"{name}: param group {gi} has "
                    f"{len(group['params'])} parameters but the saved group has "
                    f"{len(saved_params)}")
            for j, (k, p) in enumerate(zip(saved_params, group["params"])):
                id_map[_position(k, name)] = (p, start + j)
            start += len(group["params"])
        new_state: dict[int, dict[str, Any]] = {}
        for k, s in state_dict["state"].items():
            k = _position(k, name)
            if k not in id_map:
                raise ValueError(f"{name}: state for parameter {k}, "
                                 f"which no saved group lists")
            if not isinstance(s, dict):
                raise ValueError(f"{name}: the state of parameter {k} is not a dict")
            p, pos = id_map[k]
            new_state[pos] = {str(n): self._load_value(str(n), v, p, f"{name}: parameter {k}: ")
                              for n, v in s.items()}
        new_groups = []
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            own = set(group) - {"params", "param_names"}
            theirs = set(saved) - {"params", "param_names", "initial_lr"}
            if own - set(saved) or theirs - own - {"initial_lr"}:
                raise ValueError(
                    f"{name}: param group {gi} was saved by a different optimiser (missing "
                    f"{sorted(own - set(saved))}, unexpected {sorted(theirs - own)}); this is "
                    f"{self._name} with {sorted(own)}")
            g = {}
            for key, v in saved.items():
                if key == "params":
                    continue
                v = v.tolist() if isinstance(v, np.ndarray) else copy.deepcopy(_to_python(v))
                if isinstance(group.get(key), tuple) and isinstance(v, list):
                    v = tuple(v)
                if isinstance(group.get(key), (bool, int, float)) and not isinstance(
                        v, (bool, int, float)) and v is not None:
                    raise ValueError(f"{name}: param group {gi}: {key} is "
                                     f"{type(v).__name__} {str(v)[:40]!r}, expected a number")
                g[key] = v
            g["params"] = group["params"]
            if "param_names" in group and "param_names" not in g:
                g["param_names"] = group["param_names"]
            if "initial_lr" in g:
                _check_lr(g["initial_lr"], f"{name}: param group {gi}: initial_")
            self._validate(g, f"{name}: param group {gi}: ")  # the constructor's rules
            new_groups.append(g)
        self.param_groups[:] = new_groups
        self.state = new_state

    #: state entries that are running averages of squares: never negative
    _nonneg_state = ("exp_avg_sq", "max_exp_avg_sq", "sum", "square_avg", "acc_delta")

    def _load_value(self, name: str, value: Any, p: Tensor, prefix: str = "") -> Any:
        if name in self._array_state:
            a = value.data if isinstance(value, Tensor) else value
            if is_device_array(a):
                kind = a.dtype.kind
            else:
                kind = np.asarray(a).dtype.kind if isinstance(a, (np.ndarray, list, float)) else ""
            if kind != "f":
                raise ValueError(f"{prefix}state {name!r} must be a floating array, got "
                                 f"{getattr(a, 'dtype', type(a).__name__)}")
            with np.errstate(over="ignore", invalid="ignore"):
                if is_device_array(a):
                    arr = a.astype(p.data.dtype, copy=True)
                else:
                    arr = np.array(a, dtype=p.data.dtype, copy=True)
            arr = to_device(arr, device_of(p.data))  # state joins its parameter's device
            if arr.shape != p.data.shape:
                raise ValueError(
                    f"{prefix}state {name!r} has shape {arr.shape} but "
                    f"its parameter has shape {p.data.shape}")
            if not np.isfinite(arr).all():
                raise ValueError(f"{prefix}state {name!r} holds NaN or inf (in {p.data.dtype})")
            if name in self._nonneg_state and (arr < 0).any():
                raise ValueError(f"{prefix}state {name!r} (a running average of squares) holds "
                                 f"negative values")
            return arr
        value = _load_generic(value)
        if name == "step" and (isinstance(value, bool) or not isinstance(value, (int, float))
                               or not math.isfinite(value) or value < 0):
            raise ValueError(f"{prefix}state 'step' must be a finite number >= 0, got "
                             f"{str(value)[:40]!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{prefix}state {name!r} is {value}")
        return value


def _position(k: Any, where: str) -> int:
    k = _to_python(k)
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"{where}: parameter positions must be integers >= 0, got "
                         f"{str(k)[:40]!r}")
    return k


def _load_generic(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return value.copy()
    if isinstance(value, (list, tuple)):
        return [_load_generic(v) for v in value]
    return _to_python(value)


def _is_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) or is_device_array(a)


def _all_finite(a: np.ndarray) -> bool:
    """Cheap finiteness test: one BLAS dot (NaN/inf propagate), exact check only on doubt."""
    if a.dtype.kind != "f":
        return True
    flat = a.reshape(-1, order="A")  # no copy for C- or Fortran-ordered gradients
    s = float(np.dot(flat, flat))  # the caller silences overflow warnings
    if math.isfinite(s):
        return True
    return bool(np.isfinite(a).all())  # the dot may overflow for finite huge values


# -- hyperparameter checks (shared by the optimisers) ---------------------------------------
def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _check_lr(lr: Any, prefix: str) -> None:
    v = _num(lr)
    if v is None or not math.isfinite(v) or v < 0:
        raise ValueError(f"{prefix}invalid learning rate lr={lr!r}; expected a finite "
                         f"number >= 0")


def _check_nonneg(name: str, value: Any, prefix: str) -> None:
    v = _num(value)
    if v is None or not math.isfinite(v) or v < 0:
        raise ValueError(f"{prefix}invalid {name}={value!r}; expected a finite number >= 0")


def _check_unit(name: str, value: Any, prefix: str, closed: bool = False) -> None:
    """0 <= value < 1 (or <= 1 when ``closed``)."""
    v = _num(value)
    ok = v is not None and 0.0 <= v and (v <= 1.0 if closed else v < 1.0)
    if not ok:
        rng = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"{prefix}invalid {name}={value!r}; expected a number in {rng}")


def _check_betas(betas: Any, prefix: str) -> None:
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"{prefix}betas must be a pair (beta1, beta2), got {betas!r}") from None
    _check_unit("beta1", b1, prefix)
    _check_unit("beta2", b2, prefix)


# -- array helpers shared by the update rules (in place, on raw arrays) ---------------------
def _effective_grad(opt: Optimizer, p: np.ndarray, g: np.ndarray, weight_decay: float,
                    maximize: bool) -> np.ndarray:
    """g (negated when maximising) plus the L2 term weight_decay·p, in scratch 0 if needed.

    Returns ``g`` itself when there is nothing to add: callers must not write into it.
    """
    if weight_decay != 0:
        d = opt._work(0, p)
        np.multiply(p, weight_decay, out=d)
        if maximize:
            np.subtract(d, g, out=d)
        else:
            np.add(d, g, out=d)
        return d
    if maximize:
        d = opt._work(0, p)
        np.negative(g, out=d)
        return d
    return g


def _lerp_(m: np.ndarray, d: np.ndarray, w: float, t: np.ndarray) -> None:
    """m ← m + w·(d − m), like torch's lerp_ (t is scratch)."""
    np.subtract(d, m, out=t)
    np.multiply(t, w, out=t)
    np.add(m, t, out=m)


def _ema_sq_(v: np.ndarray, d: np.ndarray, beta: float, t: np.ndarray) -> None:
    """v ← β·v + (1 − β)·d² (t is scratch)."""
    np.multiply(d, d, out=t)
    np.multiply(t, 1.0 - beta, out=t)
    np.multiply(v, beta, out=v)
    np.add(v, t, out=v)
