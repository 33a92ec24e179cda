"""The ``steepest`` command. Thin: it parses arguments and calls the library.

    steepest train [--config FILE.toml] [flags]     train (MNIST MLP by default)
    steepest evaluate RUN_DIR                        score a saved model on its test set
    steepest predict RUN_DIR INPUTS.npy [--out F]    predict classes/values for inputs
    steepest experiment NAME | --list                the classic experiments
    steepest tune --config search.toml               hyperparameter search

User errors print one line to stderr and exit with code 2 (no traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

EPILOG_TRAIN = """examples:
  steepest train                                   # MNIST, 784-256-256-10, Adam, ~98%
  steepest train --hidden 100 --optimizer sgd --lr 0.1 --epochs 10 --out runs/sgd
  steepest train --dataset spirals --hidden 64,64 --epochs 50 --schedule none
  steepest train --config examples/train.toml --seed 3
  steepest train --out runs/mnist --resume         # continue after Ctrl-C
"""

# flag name -> (type, help); every TrainConfig field can be set on the command line
TRAIN_FLAGS: dict[str, tuple[Any, str]] = {
    "dataset": (str, "mnist, fashion-mnist, mnist-small, spirals, moons, sine, mnist-like, "
                     "or a .npz file with x_train/y_train/x_test/y_test"),
    "data-dir": (str, "where data sets are cached (default: $STEEPEST_DATA or "
                      "~/.cache/steepest)"),
    "val-fraction": (float, "fraction of the training set held out for validation"),
    "hidden": (str, "hidden layer widths, comma separated, e.g. 256,256"),
    "activation": (str, "relu, sigmoid, tanh, leaky_relu, elu, gelu, softplus"),
    "init": (str, "weight init: he, xavier, lecun, normal, default, zeros"),
    "dropout": (float, "dropout probability after each hidden layer (inverted dropout)"),
    "optimizer": (str, "sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw, "
                       "nadam"),
    "lr": (float, "learning rate"),
    "momentum": (float, "momentum for sgd-momentum/nesterov"),
    "weight-decay": (float, "weight decay passed to the optimiser (decoupled for adamw)"),
    "l1": (float, "L1 penalty strength added to the loss (weights only)"),
    "l2": (float, "L2 penalty strength added to the loss (½Σw², weights only)"),
    "elastic-net": (float, "elastic-net penalty strength (mix set by --l1-ratio)"),
    "l1-ratio": (float, "elastic-net mix: 1 = lasso, 0 = ridge"),
    "epochs": (int, "number of epochs"),
    "batch-size": (int, "mini-batch size"),
    "schedule": (str, "lr schedule: none, cosine, step, exponential, plateau, warmup-cosine"),
    "step-size": (int, "epochs between decays for --schedule step"),
    "gamma": (float, "decay factor for step/exponential/plateau schedules"),
    "warmup-epochs": (int, "warm-up epochs for --schedule warmup-cosine"),
    "grad-clip": (float, "clip the global gradient norm to this value"),
    "early-stopping": (int, "stop after this many epochs without validation improvement "
                            "and restore the best weights"),
    "seed": (int, "random seed (weights, shuffling, dropout)"),
    "out": (str, "output folder; an existing run there is never replaced without "
                  "--overwrite (default: a new runs/DATASET[-N])"),
    "dtype": (str, "float32 or float64"),
}
BOOL_FLAGS = {"batch-norm": "batch normalisation after each hidden Linear",
              "standardize": "standardise features with training-set statistics"}


class UserError(Exception):
    """An error in what the user asked for: reported in one line, exit code 2."""


def _add_train(sub: Any) -> None:
    p = sub.add_parser("train", help="train a network (MNIST MLP by default)",
                       description="Train a multilayer perceptron. Settings come from the "
                       "defaults, then --config FILE.toml, then flags. The run folder gets "
                       "model.npz, config.json, history.csv, curves.png and metrics.json.",
                       epilog=EPILOG_TRAIN, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="TOML file with any of the settings below")
    from .config import TrainConfig

    defaults = TrainConfig()
    for flag, (kind, text) in TRAIN_FLAGS.items():
        d = getattr(defaults, flag.replace("-", "_"))
        shown = ",".join(map(str, d)) if isinstance(d, list) else d
        suffix = "" if flag == "out" else f" (default: {shown})"
        p.add_argument(f"--{flag}", type=kind, default=None, help=f"{text}{suffix}")
    for flag, text in BOOL_FLAGS.items():
        p.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=None,
                       help=text)
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.ckpt")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run in OUT")
    p.add_argument("--no-progress", action="store_true",
                   help="no live progress bar (one line per epoch is still printed)")
    p.add_argument("--quiet", action="store_true", help="print only the result")
    p.add_argument("--device", default=None,
                   help="train on this device: cpu (default) or cuda[:N] (needs "
                        "pip install \"steepest[gpu]\")")


def _run_train(args: argparse.Namespace) -> int:
    from .atomic import atomic_write_text
    from .config import load_toml, make_config
    from .pipeline import model_summary, train_from_config
    from .train import ProgressBar

    if args.device is not None:  # refuse an unusable device before loading anything
        from . import backend

        try:
            if backend.device(args.device).type == "cuda":
                backend.get_cuda_module()
        except (RuntimeError, ValueError, TypeError) as exc:
            raise UserError(f"--device {args.device}: {exc}") from None
    values: dict[str, Any] = {}
    if args.config:
        values.update(load_toml(args.config))
    for flag in [*TRAIN_FLAGS, *BOOL_FLAGS]:
        v = getattr(args, flag.replace("-", "_"))
        if v is not None:
            values[flag.replace("-", "_")] = v
    if args.resume and not args.config and "out" in values:
        saved = os.path.join(values["out"], "config.partial.json")
        if os.path.exists(saved):
            with open(saved, encoding="utf-8") as f:
                values = {**json.load(f), **values}
    if "out" not in values and not args.resume:
        values["out"] = _fresh_run_dir(Path("runs"), str(values.get("dataset", "mnist")))
    cfg = make_config(values)
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    if not args.resume:
        atomic_write_text(Path(cfg.out) / "config.partial.json", cfg.to_json())
    print(f"steepest train: {cfg.dataset}, {model_summary(cfg)}, {cfg.epochs} epochs, "
          f"batch {cfg.batch_size} -> {cfg.out}")
    progress: Any = False if args.quiet else (ProgressBar(live=False) if args.no_progress
                                              else True)
    result = train_from_config(cfg, resume=args.resume, overwrite=args.overwrite,
                               progress=progress, log=(lambda *a: None) if args.quiet else print,
                               device=args.device)
    if result.get("interrupted"):
        print(f"interrupted; resume with: steepest train --out {cfg.out} --resume",
              file=sys.stderr)
        return 130
    (Path(cfg.out) / "config.partial.json").unlink(missing_ok=True)
    shown = {k: (round(v, 5) if isinstance(v, float) else v) for k, v in result.items()}
    print("result: " + json.dumps(shown))
    return 0


def _fresh_run_dir(root: Any, dataset: str) -> str:
    """runs/NAME, or runs/NAME-2, -3, ... so that a default run never meets an old one."""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in dataset.rsplit("/", 1)[-1])
    candidate, k = root / name, 2
    while candidate.exists():
        candidate, k = root / f"{name}-{k}", k + 1
    return str(candidate)


def _add_evaluate(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="score a saved model on a test set")
    p.add_argument("model", help="run folder or model.npz")
    p.add_argument("--dataset", help="data set to score on (default: the training one)")
    p.add_argument("--data-dir")
    p.add_argument("--confusion", action="store_true", help="print the confusion matrix")


def _run_evaluate(args: argparse.Namespace) -> int:
    from .pipeline import evaluate_saved

    res = evaluate_saved(args.model, args.dataset, args.data_dir)
    cm = res.pop("confusion_matrix", None)
    print(json.dumps({k: round(v, 6) for k, v in res.items()}))
    if cm is not None and args.confusion:
        print("confusion matrix (rows: true class, columns: predicted):")
        for row in cm:
            print(" ".join(f"{v:5d}" for v in row))
    return 0


def _add_predict(sub: Any) -> None:
    p = sub.add_parser("predict", help="predict with a saved model")
    p.add_argument("model", help="run folder or model.npz")
    p.add_argument("inputs", help=".npy file of inputs (N, features) or (N, 28, 28)")
    p.add_argument("--out", help="write predictions to this .npy file (default: print)")


def _run_predict(args: argparse.Namespace) -> int:
    from .pipeline import predict_saved

    try:
        x = np.load(args.inputs, allow_pickle=False)
    except FileNotFoundError:
        raise UserError(f"inputs file {args.inputs!r} does not exist") from None
    except ValueError as exc:
        raise UserError(f"cannot read {args.inputs!r} as a .npy array: {exc}") from None
    pred = predict_saved(args.model, x)
    if args.out:
        np.save(args.out, pred)
        print(f"wrote {len(pred)} predictions to {args.out}")
    else:
        np.savetxt(sys.stdout, pred, fmt="%d" if pred.dtype.kind in "iu" else "%.6g")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="steepest", description="Neural-network training from scratch on NumPy.",
        epilog="Run 'steepest COMMAND --help' for the options of each command.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_train(sub)
    _add_evaluate(sub)
    _add_predict(sub)
    for mod in _plugins().values():
        mod.add_parser(sub)
    return parser


def _version() -> str:
    from . import __version__

    return f"steepest {__version__}"


PLUGINS = {"experiment": "steepest.experiments.cli", "tune": "steepest.tune.cli"}


def _plugins() -> dict[str, Any]:
    """Sub-commands that live with their feature: each module has add_parser and run."""
    import importlib

    mods = {}
    for command, name in PLUGINS.items():
        try:
            mods[command] = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not exc.name.startswith("steepest"):
                raise
    return mods


RUNNERS = {"train": _run_train, "evaluate": _run_evaluate, "predict": _run_predict}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from .config import ConfigError
    from .train import TrainingDiverged

    runner = RUNNERS.get(args.command) or _plugins()[args.command].run
    try:
        return runner(args)
    except (UserError, ConfigError, FileNotFoundError, TrainingDiverged) as exc:
        print(f"steepest {args.command}: error: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, TrainingDiverged) else 2
    except (ValueError, TypeError) as exc:
        # our own checks raise these with messages naming the problem; show them plainly
        if "--debug" in sys.argv:
            raise
        print(f"steepest {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aborted", file=sys.stderr)
        return 130



if __name__ == "__main__":
    sys.exit(main())
