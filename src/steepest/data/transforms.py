"""Feature scaling, one-hot encoding and small array transforms.

Scalers are fitted on the training split only and then applied unchanged to validation
and test data (fitting on everything leaks test statistics into training). They keep the
input's floating dtype: statistics are accumulated in float64 for accuracy but cast to the
input's dtype before use, because under NumPy 2 a float64 array or scalar combined with a
float32 array silently promotes the result to float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .dataset import as_array

__all__ = [
    "StandardScaler",
    "MinMaxScaler",
    "one_hot",
    "Compose",
    "Flatten",
    "ToFloat",
]


def _float_input(X: Any, where: str) -> np.ndarray:
    """X as an array of a floating dtype (integers become float32), checked for NaN/inf."""
    a = as_array(X, where)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{where}: expected a numeric array, got dtype {a.dtype}")
    if a.ndim == 0:
        raise ValueError(f"{where}: expected an array with a sample axis, got a 0-d scalar")
    if a.dtype.kind == "f":
        if not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a))[0]
            value = a[tuple(bad)]
            raise ValueError(
                f"{where}: input contains {value} at index {tuple(int(i) for i in bad)}; "
                f"remove or impute non-finite values before scaling"
            )
    else:
        a = a.astype(np.float32)
    return a


class _Scaler:
    """Shared fit/transform plumbing; subclasses compute ``_shift`` and ``_scale``.

    ``transform(X) = (X - shift) / scale`` with per-feature ``shift`` and ``scale``
    (a feature is everything after the first axis).
    """

    _state_keys: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._shift: np.ndarray | None = None
        self._scale: np.ndarray | None = None
        self.n_samples_seen_: int = 0

    # ------------------------------------------------------------ internals
    def _compute(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _name(self) -> str:
        return type(self).__name__

    def _check_fitted(self, where: str) -> tuple[np.ndarray, np.ndarray]:
        if self._shift is None or self._scale is None:
            raise RuntimeError(f"{self._name()}.{where}: not fitted yet; call fit(X_train) first")
        return self._shift, self._scale

    def _prepared(self, X: Any, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        shift, scale = self._check_fitted(where)
        a = _float_input(X, f"{self._name()}.{where}")
        if a.shape[1:] != shift.shape:
            raise ValueError(
                f"{self._name()}.{where}: expected samples of shape {shift.shape} (as in fit), "
                f"got array of shape {a.shape}"
            )
        return a, shift.astype(a.dtype, copy=False), scale.astype(a.dtype, copy=False)

    # ----------------------------------------------------------------- API
    def fit(self, X: Any) -> _Scaler:
        """Learn the per-feature statistics of ``X`` (training data only). Returns self."""
        a = _float_input(X, f"{self._name()}.fit")
        if a.shape[0] == 0:
            raise ValueError(f"{self._name()}.fit: cannot fit on an empty array {a.shape}")
        self._shift, self._scale = self._compute(a)
        self.n_samples_seen_ = int(a.shape[0])
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Scale ``X`` with the fitted statistics; the result keeps X's floating dtype."""
        a, shift, scale = self._prepared(X, "transform")
        out = np.subtract(a, shift)
        np.divide(out, scale, out=out)
        return out

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform` (e.g. to report predictions in original units)."""
        a, shift, scale = self._prepared(X, "inverse_transform")
        out = np.multiply(a, scale)
        np.add(out, shift, out=out)
        return out

    __call__ = transform

    def state_dict(self) -> dict[str, Any]:
        """Fitted statistics and settings as plain data, to save with a model."""
        shift, scale = self._check_fitted("state_dict")
        state: dict[str, Any] = {k: getattr(self, k) for k in self._state_keys}
        state.update(shift=shift.copy(), scale=scale.copy(), n_samples_seen=self.n_samples_seen_)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (settings and statistics)."""
        missing = [k for k in ("shift", "scale", *self._state_keys) if k not in state]
        if missing:
            raise KeyError(f"{self._name()}.load_state_dict: state is missing {missing}")
        shift = np.array(state["shift"], dtype=np.float64)
        scale = np.array(state["scale"], dtype=np.float64)
        if shift.shape != scale.shape:
            raise ValueError(
                f"{self._name()}.load_state_dict: shift {shift.shape} and scale {scale.shape} "
                f"shapes differ"
            )
        if not (np.isfinite(scale).all() and (scale != 0).all()):
            raise ValueError(f"{self._name()}.load_state_dict: scale must be finite and non-zero")
        for k in self._state_keys:
            setattr(self, k, state[k])
        self._shift, self._scale = shift, scale
        self.n_samples_seen_ = int(state.get("n_samples_seen", 0))


def _safe_scale(scale: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Replace zero (or round-off sized) scales by 1 so constant features pass through."""
    tiny = 10.0 * np.finfo(np.float64).eps * np.maximum(np.abs(ref), 1.0)
    return np.where(scale <= tiny, 1.0, scale)


class StandardScaler(_Scaler):
    """Standardise features to zero mean and unit variance: ``(X - mean) / std``.

    Constant features get ``std = 1`` (they map to 0 instead of NaN). ``mean_`` and
    ``scale_`` hold the fitted statistics (float64; cast to the input dtype when applied).
    """

    _state_keys = ("with_mean", "with_std")

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        super().__init__()
        self.with_mean = bool(with_mean)
        self.with_std = bool(with_std)

    def _compute(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = np.mean(a, axis=0, dtype=np.float64)
        if self.with_std:
            var = np.var(a, axis=0, dtype=np.float64)
            scale = _safe_scale(np.sqrt(var), mean)
        else:
            scale = np.ones_like(mean)
        shift = mean if self.with_mean else np.zeros_like(mean)
        return shift, scale

    @property
    def mean_(self) -> np.ndarray:
        return self._check_fitted("mean_")[0]

    @property
    def scale_(self) -> np.ndarray:
        return self._check_fitted("scale_")[1]

    def __repr__(self) -> str:
        return f"StandardScaler(with_mean={self.with_mean}, with_std={self.with_std})"


class MinMaxScaler(_Scaler):
    """Rescale each feature linearly so the training min/max map to ``feature_range``.

    Constant features map to the lower end of the range. Values outside the training range
    map outside ``feature_range`` (no clipping), so test data is never silently altered.
    """

    _state_keys = ("feature_range",)

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__()
        try:
            lo, hi = (float(v) for v in feature_range)
        except (TypeError, ValueError):
            raise ValueError(
                f"MinMaxScaler: feature_range must be a pair (min, max), got {feature_range!r}"
            ) from None
        if not lo < hi:
            raise ValueError(f"MinMaxScaler: feature_range min must be < max, got {(lo, hi)}")
        self.feature_range = (lo, hi)

    def _compute(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.feature_range
        dmin = np.min(a, axis=0).astype(np.float64)
        dmax = np.max(a, axis=0).astype(np.float64)
        self.data_min_, self.data_max_ = dmin, dmax
        # transform: (X - dmin) / s + lo, written as (X - shift) / scale.
        scale = _safe_scale(dmax - dmin, dmin) / (hi - lo)
        shift = dmin - lo * scale
        return shift, scale

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.update(data_min=self.data_min_.copy(), data_max=self.data_max_.copy())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        lo, hi = (float(v) for v in self.feature_range)
        self.feature_range = (lo, hi)
        shift, scale = self._check_fitted("load_state_dict")
        dmin = state.get("data_min", shift + lo * scale)
        self.data_min_ = np.array(dmin, dtype=np.float64)
        self.data_max_ = np.array(state.get("data_max", self.data_min_), dtype=np.float64)

    def __repr__(self) -> str:
        return f"MinMaxScaler(feature_range={self.feature_range})"


def one_hot(labels: Any, num_classes: int | None = None, dtype: Any = np.float32) -> np.ndarray:
    """One-hot encode integer class labels: shape ``labels.shape + (num_classes,)``.

    ``num_classes`` defaults to ``max(labels) + 1``; pass it explicitly for batches that
    may miss the highest class. Labels outside ``[0, num_classes)`` raise ValueError.
    """
    y = as_array(labels, "one_hot")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            bad = y[~np.isfinite(y) | (y != np.round(y))].flat[0]
            raise ValueError(f"one_hot: labels must be integers, got {bad.item()!r}")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iub":
        raise TypeError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    if num_classes is None:
        if y.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from empty labels; pass it")
        num_classes = int(y.max()) + 1
    elif (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, (int, np.integer))
        or (num_classes < 1)
    ):
        raise ValueError(f"one_hot: num_classes must be a positive integer, got {num_classes!r}")
    num_classes = int(num_classes)
    if y.size:
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= num_classes:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"one_hot: label {bad} is out of range [0, {num_classes}) for "
                f"num_classes={num_classes}"
            )
    flat = y.reshape(-1).astype(np.intp, copy=False)
    out = np.zeros((flat.shape[0], num_classes), dtype=dtype)
    out[np.arange(flat.shape[0]), flat] = 1
    return out.reshape(*y.shape, num_classes)


class Compose:
    """Chain array transforms: ``Compose([ToFloat(), Flatten()])(X)``."""

    def __init__(self, transforms: Sequence[Callable[[np.ndarray], np.ndarray]]) -> None:
        for t in transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")
        self.transforms = list(transforms)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        for t in self.transforms:
            X = t(X)
        return X

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


class Flatten:
    """Flatten every axis from ``start_dim`` on: ``(N, 28, 28) -> (N, 784)``."""

    def __init__(self, start_dim: int = 1) -> None:
        self.start_dim = int(start_dim)

    def __call__(self, X: Any) -> np.ndarray:
        a = as_array(X, "Flatten")
        if not 0 <= self.start_dim <= a.ndim:
            raise ValueError(f"Flatten: start_dim={self.start_dim} is invalid for shape {a.shape}")
        return a.reshape(*a.shape[: self.start_dim], -1)

    def __repr__(self) -> str:
        return f"Flatten(start_dim={self.start_dim})"


class ToFloat:
    """Cast to a float dtype and multiply by ``scale`` (default 1/255: uint8 pixels to [0, 1])."""

    def __init__(self, scale: float = 1.0 / 255.0, dtype: Any = np.float32) -> None:
        self.scale = float(scale)  # a Python float keeps float32 float32 under NumPy 2
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"ToFloat: dtype must be a floating type, got {self.dtype}")

    def __call__(self, X: Any) -> np.ndarray:
        out = as_array(X, "ToFloat").astype(self.dtype)
        if self.scale != 1.0:
            out *= self.scale
        return out

    def __repr__(self) -> str:
        return f"ToFloat(scale={self.scale!r}, dtype={self.dtype})"
