"""The training configuration: every hyperparameter of a ``steepest train`` run.

A run is described by one flat table of values (from defaults, a TOML file and command-line
flags, in that order of precedence). The config actually used is saved with the model, as
the notes advise, so a result can always be traced back to its settings.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .suggest import unknown

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

#: names other libraries use for our keys: suggested, never silently accepted
ALIASES = {
    "learning_rate": "lr", "learningrate": "lr", "eta": "lr", "wd": "weight_decay",
    "decay": "weight_decay", "n_epochs": "epochs", "num_epochs": "epochs",
    "max_epochs": "epochs", "epoch": "epochs", "batch": "batch_size", "bs": "batch_size",
    "optim": "optimizer", "opt": "optimizer", "optimiser": "optimizer", "act": "activation",
    "hidden_sizes": "hidden", "hidden_layers": "hidden", "layers": "hidden",
    "widths": "hidden", "hidden_dims": "hidden", "units": "hidden", "bn": "batch_norm",
    "batchnorm": "batch_norm", "random_seed": "seed", "clip": "grad_clip",
    "gradient_clip": "grad_clip", "clip_grad_norm": "grad_clip", "patience": "early_stopping",
    "scheduler": "schedule", "lr_schedule": "schedule", "output": "out", "output_dir": "out",
    "out_dir": "out", "data": "dataset", "validation_split": "val_fraction",
    "val_split": "val_fraction", "dropout_rate": "dropout", "weight_init": "init",
    "initialization": "init", "initialisation": "init", "beta": "betas",
}

#: settings that may differ from the recorded ones when a run is resumed
RESUME_MAY_CHANGE = ("epochs", "data_dir", "out")

#: keys whose values are names: matched ignoring case ("Relu" is relu)
CHOICE_KEYS = ("optimizer", "schedule", "activation", "init", "dtype")


def suggest_key(key: str, extra: tuple[str, ...] = ()) -> str | None:
    """The config key a misspelt or foreign name (``learning_rat``, ``Batch-Size``) most
    likely means, matching our keys and the common aliases, ignoring case."""
    from .suggest import closest

    k = key.lower().replace("-", "_")
    hit = ALIASES.get(k) or closest(k, [*FIELDS, *extra, *ALIASES], cutoff=0.6)
    return ALIASES.get(hit, hit) if hit else None


def _suggest(key: str, extra: tuple[str, ...] = ()) -> str:
    hit = suggest_key(key, extra)
    return f"; did you mean {hit!r}?" if hit else f"; valid keys: {', '.join(FIELDS)}"


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
            parts = value.replace(" ", "").split(",")
            if "" in parts:
                raise ConfigError(f"config key {key!r}: empty entry in {value!r} (write the "
                                  f"values separated by single commas, e.g. 256,256)")
            value = parts
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
    if key in CHOICE_KEYS:
        value = value.lower()
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
    if not p.exists():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    if not p.is_file() or p.stat().st_size > 1 << 20:
        raise ConfigError(f"config file {str(p)!r} is not a regular file of at most 1 MiB")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise ConfigError(f"config file {str(p)!r} is not valid TOML: {why}") from None
    if "train" in data and isinstance(data["train"], dict):
        extra = {k: v for k, v in data.items() if k != "train"}
        data = {**data["train"], **extra}
    for k, v in data.items():
        if isinstance(v, dict):
            raise ConfigError(f"config file {str(p)!r}: unexpected table [{k}]"
                              f"{_suggest(k, extra=('train',))}")
        if k.replace("-", "_") not in FIELDS:
            raise ConfigError(f"config file {str(p)!r}: unknown config key {k!r}{_suggest(k)}")
    return data


def validate(cfg: TrainConfig) -> None:
    """Check every setting, so that a run is refused before it creates or touches a file."""
    from .models import ACTIVATIONS, INITS

    def choice(key: str, options: Any) -> None:
        value = getattr(cfg, key)
        if value not in options:
            raise ConfigError(unknown(key, value, options))

    choice("optimizer", OPTIMIZERS)
    choice("schedule", SCHEDULES)
    choice("dtype", ("float32", "float64"))
    choice("activation", ACTIVATIONS)
    choice("init", INITS)
    for key in FIELDS:  # NaN passes every comparison below: refuse it here
        v = getattr(cfg, key)
        if isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"{key} must be a finite number, got {v}")
    if not cfg.dataset:
        raise ConfigError("dataset must not be empty")
    choice("model", ("mlp", "cnn"))
    if (cfg.layers or cfg.input_shape) and cfg.model != "cnn":
        raise ConfigError("layers and input_shape describe a CNN: set model = \"cnn\" (or "
                          "--model cnn) to use them")
    if cfg.lr <= 0:
        raise ConfigError(f"lr must be positive, got {cfg.lr}")
    if cfg.epochs < 1:
        raise ConfigError(f"epochs must be >= 1, got {cfg.epochs} (an untrained model is "
                          f"not a run)")
    if cfg.batch_size <= 0:
        raise ConfigError(f"batch_size must be a positive integer, got {cfg.batch_size}")
    if cfg.seed < 0:
        raise ConfigError(f"seed must be >= 0, got {cfg.seed}")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {cfg.dropout}")
    if not 0.0 <= cfg.val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be in [0, 1), got {cfg.val_fraction}")
    if not 0.0 <= cfg.momentum < 1.0:
        raise ConfigError(f"momentum must be in [0, 1), got {cfg.momentum} (1 or more never "
                          f"forgets old gradients and diverges)")
    if len(cfg.betas) != 2 or not all(0.0 <= b < 1.0 for b in cfg.betas):
        raise ConfigError(f"betas must be two numbers in [0, 1), got {cfg.betas}")
    if not 0.0 <= cfg.l1_ratio <= 1.0:
        raise ConfigError(f"l1_ratio must be in [0, 1], got {cfg.l1_ratio}")
    for key in ("weight_decay", "l1", "l2", "elastic_net"):
        if getattr(cfg, key) < 0:
            raise ConfigError(f"{key} must be >= 0, got {getattr(cfg, key)}")
    if not cfg.hidden:
        raise ConfigError("hidden must list at least one layer width, e.g. 256,256")
    if any(h <= 0 for h in cfg.hidden):
        raise ConfigError(f"hidden layer sizes must be positive, got {cfg.hidden}")
    if cfg.step_size < 1:
        raise ConfigError(f"step_size must be >= 1, got {cfg.step_size}")
    if cfg.warmup_epochs < 0:
        raise ConfigError(f"warmup_epochs must be >= 0, got {cfg.warmup_epochs}")
    if not 0.0 < cfg.gamma <= 1.0 or (cfg.schedule == "plateau" and cfg.gamma == 1.0):
        raise ConfigError(f"gamma must be in (0, 1{')' if cfg.schedule == 'plateau' else ']'}"
                          f", got {cfg.gamma}")
    if cfg.grad_clip is not None and not cfg.grad_clip > 0:
        raise ConfigError(f"grad_clip must be > 0, got {cfg.grad_clip}")
    if cfg.early_stopping is not None and cfg.early_stopping < 0:
        raise ConfigError(f"early_stopping (patience) must be >= 0, got {cfg.early_stopping}")


def explicit_warnings(values: dict[str, Any], cfg: TrainConfig) -> list[str]:
    """Settings given explicitly that the chosen method ignores (refused by the CLI)."""
    problems = []
    if "momentum" in values and cfg.optimizer not in ("momentum", "nesterov"):
        problems.append(f"momentum has no effect with optimizer {cfg.optimizer!r}; use "
                        f"--optimizer momentum or nesterov (sgd is plain SGD)")
    if "betas" in values and cfg.optimizer not in ("adam", "adamw", "nadam"):
        problems.append(f"betas have no effect with optimizer {cfg.optimizer!r}")
    if "l1_ratio" in values and not cfg.elastic_net:
        problems.append("l1_ratio has no effect without elastic_net > 0")
    for key, needs in (("step_size", ("step",)), ("warmup_epochs", ("warmup-cosine",)),
                       ("gamma", ("step", "exponential", "plateau"))):
        if key in values and cfg.schedule not in needs:
            problems.append(f"{key} has no effect with schedule {cfg.schedule!r}")
    return problems


def resume_conflicts(recorded: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """The given settings that differ from those a run was started with (``key: recorded
    -> given``), except those that may change on resume (:data:`RESUME_MAY_CHANGE`)."""
    old = make_config(recorded).to_dict()
    new = make_config({**recorded, **given}).to_dict()
    keys = {k.replace("-", "_") for k in given}
    return [f"{k}: {old[k]!r} -> {new[k]!r}" for k in FIELDS
            if k in keys and k not in RESUME_MAY_CHANGE and old[k] != new[k]]
