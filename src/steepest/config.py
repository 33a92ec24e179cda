"""The training configuration: every hyperparameter of a ``steepest train`` run.

A run is described by one flat table of values (from defaults, a TOML file and command-line
flags, in that order of precedence). The config actually used is saved with the model, as
the notes advise, so a result can always be traced back to its settings.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .suggest import did_you_mean, unknown

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(ValueError):
    """A user error in the configuration (unknown key, bad value)."""


OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam",
              "adamw", "nadam")
SCHEDULES = ("none", "cosine", "step", "exponential", "plateau", "warmup-cosine")


@dataclass
class TrainConfig:
    """Defaults train a 784-256-256-10 ReLU MLP on MNIST to about 98% test accuracy."""

    dataset: str = "mnist"
    data_dir: str | None = None
    val_fraction: float = 0.1
    standardize: bool = False
    hidden: list[int] = field(default_factory=lambda: [256, 256])
    activation: str = "relu"
    init: str = "he"
    dropout: float = 0.1
    batch_norm: bool = False
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    weight_decay: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    elastic_net: float = 0.0
    l1_ratio: float = 0.5
    epochs: int = 15
    batch_size: int = 128
    schedule: str = "cosine"
    step_size: int = 5
    gamma: float = 0.5
    warmup_epochs: int = 1
    grad_clip: float | None = None
    early_stopping: int | None = None
    seed: int = 0
    out: str = "runs/mnist"
    dtype: str = "float32"
    # convolutional networks: model = "cnn" uses models.DEFAULT_CNN unless `layers` lists
    # layer tables ([[layers]] type = "conv2d" ...); input_shape (C, H, W) of one sample,
    # empty = a square single-channel image inferred from the feature count
    model: str = "mlp"
    layers: list[dict[str, Any]] = field(default_factory=list)
    input_shape: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _suggest(key: str) -> str:
    return did_you_mean(key, FIELDS, cutoff=0.5) or f"; valid keys: {', '.join(FIELDS)}"


def _coerce(key: str, value: Any) -> Any:
    """Check a value's type against the field's default and convert where it is safe."""
    default = getattr(TrainConfig(), key)
    if value is None:
        return None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"config key {key!r} must be true or false, got {value!r}")
        return value
    if isinstance(default, int) or key in ("early_stopping",):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key {key!r} must be an integer, got {value!r}")
        return value
    if isinstance(default, float) or key in ("grad_clip",):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config key {key!r} must be a number, got {value!r}")
        return float(value)
    if key == "layers":
        from .models import check_layer_specs

        try:
            check_layer_specs(value)
        except ValueError as exc:
            raise ConfigError(f"config key 'layers': {exc}") from None
        return [dict(v) for v in value]
    if isinstance(default, list):
        if isinstance(value, str):
            value = [v for v in value.replace(" ", "").split(",") if v]
        if not isinstance(value, list):
            raise ConfigError(f"config key {key!r} must be a list, got {value!r}")
        kind = int if key in ("hidden", "input_shape") else float
        try:
            return [kind(v) for v in value]
        except (TypeError, ValueError):
            raise ConfigError(f"config key {key!r}: cannot read {value!r} as a list of "
                              f"{kind.__name__}s") from None
    if not isinstance(value, str):
        raise ConfigError(f"config key {key!r} must be a string, got {value!r}")
    return value


def make_config(values: dict[str, Any]) -> TrainConfig:
    """Build and validate a config from a flat dict (unknown keys get a suggestion)."""
    cfg = TrainConfig()
    for key, value in values.items():
        k = key.replace("-", "_")
        if k not in FIELDS:
            raise ConfigError(f"unknown config key {key!r}{_suggest(k)}")
        setattr(cfg, k, _coerce(k, value))
    validate(cfg)
    return cfg


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML config; a ``[train]`` table or top-level keys are both accepted."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(p)!r} is not valid TOML: {exc}") from None
    if "train" in data and isinstance(data["train"], dict):
        extra = {k: v for k, v in data.items() if k != "train"}
        data = {**data["train"], **extra}
    for k, v in data.items():
        if isinstance(v, dict):
            raise ConfigError(f"config file {str(p)!r}: unexpected table [{k}]{_suggest(k)}")
    return data


def validate(cfg: TrainConfig) -> None:
    def choice(key: str, options: tuple[str, ...]) -> None:
        value = getattr(cfg, key)
        if value not in options:
            raise ConfigError(unknown(key, value, options))

    choice("optimizer", OPTIMIZERS)
    choice("schedule", SCHEDULES)
    choice("dtype", ("float32", "float64"))
    choice("model", ("mlp", "cnn"))
    if (cfg.layers or cfg.input_shape) and cfg.model != "cnn":
        raise ConfigError("layers and input_shape describe a CNN: set model = \"cnn\" (or "
                          "--model cnn) to use them")
    if cfg.lr <= 0 or cfg.lr != cfg.lr:
        raise ConfigError(f"lr must be positive, got {cfg.lr}")
    if cfg.epochs < 0:
        raise ConfigError(f"epochs must be >= 0, got {cfg.epochs}")
    if cfg.batch_size <= 0:
        raise ConfigError(f"batch_size must be a positive integer, got {cfg.batch_size}")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {cfg.dropout}")
    if not 0.0 <= cfg.val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be in [0, 1), got {cfg.val_fraction}")
    for key in ("weight_decay", "l1", "l2", "elastic_net"):
        if getattr(cfg, key) < 0:
            raise ConfigError(f"{key} must be >= 0, got {getattr(cfg, key)}")
    if any(h <= 0 for h in cfg.hidden):
        raise ConfigError(f"hidden layer sizes must be positive, got {cfg.hidden}")
    if cfg.early_stopping is not None and cfg.early_stopping < 0:
        raise ConfigError(f"early_stopping (patience) must be >= 0, got {cfg.early_stopping}")
