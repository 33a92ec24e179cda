"""The ``steepest`` command. Thin: it parses arguments and calls the library.

    steepest train [--config FILE.toml] [flags]     train (MNIST MLP by default)
    steepest evaluate RUN_DIR                        score a saved model on its test set
    steepest predict RUN_DIR INPUTS.npy [--out F]    predict classes/values for inputs
    steepest experiment NAME | --list                the classic experiments
    steepest tune --config search.toml               hyperparameter search
    steepest export RUN_DIR model.onnx               the trained model as ONNX

User errors (bad flags or files, refused runs, diverged training) print one line to stderr
and exit with code 2; Ctrl-C exits with 130. A traceback is shown only for a bug in
steepest, or for any error with ``--debug`` (anywhere on the command line).
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
  steepest train --model cnn --out runs/cnn        # MNIST CNN, 5 epochs, >= 99.2%
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
    "model": (str, "mlp (layer widths from --hidden) or cnn (models.DEFAULT_CNN, or the "
                   "[[layers]] tables of --config)"),
    "input-shape": (str, "one sample's shape C,H,W for --model cnn (default: a square "
                         "1-channel image)"),
}
#: epochs of ``steepest train --model cnn`` unless --epochs or the config sets them
CNN_EPOCHS = 5
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
    p.add_argument("--threads", type=_threads_arg, default="auto",
                   help="BLAS threads: a number, 0 for the library's default, or auto (the "
                        "default: the cores other processes leave free)")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoint.ckpt with the settings the run started "
                        "with (only --epochs and --data-dir may change)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run in OUT")
    p.add_argument("--no-progress", action="store_true",
                   help="no live progress bar (one line per epoch is still printed)")
    p.add_argument("--quiet", action="store_true", help="print only the result")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over the ranks of 'mpiexec -n N' (--batch-size is per "
                        "rank; needs pip install \"steepest[mpi]\")")
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                   help="the captured step (steepest.compile_step: same results, no graph "
                        "building per step): by default used where it applies; --compile "
                        "warns where it does not, --no-compile always runs eagerly")
    p.add_argument("--tensorboard", nargs="?", const="", default=None, metavar="DIR",
                   help="write TensorBoard logs (default DIR: OUT/tensorboard); needs "
                        "pip install 'steepest[tensorboard]'")
    p.add_argument("--device", default=None,
                   help="train on this device: cpu (default) or cuda[:N] (needs "
                        "pip install \"steepest[gpu]\")")


def _threads_arg(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0 or auto, got {text!r}")
    return n


def _fmt_value(v: Any) -> Any:
    """Metrics with one number of decimals (4) in what train and evaluate print."""
    return round(v, 4) if isinstance(v, float) else v


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _run_train(args: argparse.Namespace) -> int:
    from .config import (
        RESUME_MAY_CHANGE,
        explicit_warnings,
        load_toml,
        make_config,
        resume_conflicts,
    )
    from .pipeline import model_summary, recorded_config, train_from_config
    from .train import ProgressBar

    if args.device is not None:  # refuse an unusable device before loading anything
        from . import backend

        try:
            if backend.device(args.device).type == "cuda":
                backend.get_cuda_module()
        except (RuntimeError, ValueError, TypeError) as exc:
            raise UserError(f"--device {args.device}: {exc}") from None
    session = getattr(args, "dist_session", None)
    if args.distributed and session is None:
        return _run_distributed(args)
    given: dict[str, Any] = {}
    if args.config:
        given.update(load_toml(args.config))
    for flag in [*TRAIN_FLAGS, *BOOL_FLAGS]:
        v = getattr(args, flag.replace("-", "_"))
        if v is not None:
            given[flag.replace("-", "_")] = v
    if args.resume and args.overwrite:
        raise UserError("--resume and --overwrite exclude each other")
    values = dict(given)
    if values.get("model") == "cnn" and "epochs" not in values and not args.resume:
        values["epochs"] = CNN_EPOCHS  # a CNN epoch costs more and converges faster
    if args.resume:
        if "out" not in given:
            raise UserError("--resume needs --out DIR, the folder of the interrupted run")
        recorded = recorded_config(given["out"])
        if recorded is not None:
            conflicts = resume_conflicts(recorded, given)
            if conflicts:
                raise UserError(
                    f"--resume continues the run in {given['out']!r} with the settings it "
                    f"started with, but these differ: {'; '.join(conflicts)}. Drop them, or "
                    f"start a new run with another --out (on resume only "
                    f"{', '.join('--' + k.replace('_', '-') for k in RESUME_MAY_CHANGE)} "
                    f"may change)")
            values = {**recorded, **given}
    elif "out" not in values:
        values["out"] = _fresh_run_dir(Path("runs"), str(values.get("dataset", "mnist")))
        if session is not None:  # every rank writes into rank 0's choice
            from .distributed import broadcast_bytes

            values["out"] = broadcast_bytes(values["out"].encode()).decode()
    cfg = make_config(values)
    problems = explicit_warnings(given, cfg)
    if problems:
        raise UserError("; ".join(problems))
    log = (lambda *a, **k: None) if args.quiet else print
    log(f"steepest train: {cfg.dataset}, {model_summary(cfg)}, {_plural(cfg.epochs, 'epoch')}, "
        f"batch {cfg.batch_size} -> {cfg.out}")
    if cfg.dataset in ("mnist", "fashion-mnist") and not args.quiet:
        from .data.datasets.mnist import data_source

        print(f"data: {data_source(cfg.dataset, cfg.data_dir)}", file=sys.stderr)
    progress: Any = False if args.quiet else (ProgressBar(live=False) if args.no_progress
                                              else True)
    extra: list[Any] = []
    if args.tensorboard is not None:
        from .train import TensorBoard

        extra.append(TensorBoard(args.tensorboard or Path(cfg.out) / "tensorboard",
                                 hparams=json.loads(cfg.to_json()), example_input="auto"))
    result = train_from_config(cfg, resume=args.resume, overwrite=args.overwrite,
                               progress=progress, log=log, threads=args.threads,
                               distributed=session is not None,
                               compile="auto" if args.compile is None else args.compile,
                               callbacks=extra,
                               device=args.device)
    if result.get("interrupted"):
        print(f"interrupted; resume with: steepest train --out {cfg.out} --resume",
              file=sys.stderr)
        return 130
    shown = {k: _fmt_value(v) for k, v in result.items()}
    print("result: " + json.dumps(shown))
    return 0


def _run_distributed(args: argparse.Namespace) -> int:
    """``train --distributed``: the same run on every MPI rank; only rank 0 prints and
    writes, and an error on any rank ends every rank with one line from rank 0."""
    import contextlib
    import traceback

    from .config import ConfigError
    from .distributed import DistributedError, init
    from .train import TrainingDiverged

    try:
        args.dist_session = session = init()
    except DistributedError as exc:
        raise UserError(str(exc)) from None
    try:
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(
                sys.stdout if session.is_root else null):
            return _run_train(args)
    except Exception as exc:
        if session.size == 1:
            raise
        plain = (UserError, ConfigError, FileNotFoundError, TrainingDiverged, ValueError,
                 TypeError, DistributedError)
        if not isinstance(exc, plain):
            traceback.print_exc()
        where = "" if session.is_root else f" on {session.who}"
        session.fail(f"steepest train: error{where}: {exc}",
                     1 if isinstance(exc, TrainingDiverged) else 2)


def _fresh_run_dir(root: Any, dataset: str) -> str:
    """runs/NAME, or runs/NAME-2, -3, ... so that a default run never meets an old one."""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in dataset.rsplit("/", 1)[-1])
    candidate, k = root / name, 2
    while candidate.exists():
        candidate, k = root / f"{name}-{k}", k + 1
    return str(candidate)


def _add_arch(p: Any) -> None:
    """Flags that describe a model saved as a bare state_dict (steepest.save(...))."""
    p.add_argument("--hidden", help="for a bare state_dict file: the hidden widths it must "
                                    "have, e.g. 256,256 (read from the weights otherwise)")
    p.add_argument("--activation", help="for a bare state_dict file: the activation "
                                        "(default relu)")


def _arch(args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    from .config import _coerce

    arch = {k: v for k, v in extra.items() if v is not None}
    if args.hidden:
        arch["hidden"] = _coerce("hidden", args.hidden)
    if args.activation:
        arch["activation"] = args.activation.lower()
    return arch


def _add_evaluate(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="score a saved model on a test set",
                       description="Score a model saved by 'steepest train' or "
                       "steepest.save_model(...); a bare steepest.save(model.state_dict()) "
                       "of an mlp() is read too, with --dataset and --activation.")
    p.add_argument("model", help="run folder or model file")
    p.add_argument("--dataset", help="data set to score on (default: the training one)")
    p.add_argument("--data-dir")
    p.add_argument("--confusion", action="store_true", help="print the confusion matrix")
    _add_arch(p)


def format_confusion(cm: list[list[int]], labels: list[str] | None = None) -> list[str]:
    """A confusion matrix as text with labelled rows (true) and columns (predicted)."""
    labels = labels or [str(i) for i in range(len(cm))]
    width = max(5, *(len(str(v)) + 1 for row in cm for v in row), *(len(x) + 1 for x in labels))
    first = max(len("true \\ pred"), *(len(x) for x in labels))
    lines = ["confusion matrix (rows: true class, columns: predicted class):",
             "true \\ pred".ljust(first) + "".join(x.rjust(width) for x in labels)]
    for label, row in zip(labels, cm):
        lines.append(label.rjust(first) + "".join(str(v).rjust(width) for v in row))
    return lines


def _run_evaluate(args: argparse.Namespace) -> int:
    from .pipeline import evaluate_saved

    res = evaluate_saved(args.model, args.dataset, args.data_dir,
                         arch=_arch(args, dataset=args.dataset))
    cm = res.pop("confusion_matrix", None)
    print(json.dumps({k: _fmt_value(v) for k, v in res.items()}))
    if cm is not None and args.confusion:
        for line in format_confusion(cm):
            print(line)
    return 0


def _add_predict(sub: Any) -> None:
    p = sub.add_parser("predict", help="predict with a saved model",
                       description="Predict classes (or values) for inputs. Image models "
                       "expect pixels in [0, 1]; 0..255 pixels are accepted as integers "
                       "(uint8) or with --pixel-scale 255.")
    p.add_argument("model", help="run folder or model file")
    p.add_argument("inputs", help=".npy file of inputs (N, features) or (N, 28, 28), or a "
                                  ".npz holding one array (or one named x)")
    p.add_argument("--out", help="write predictions to this .npy file (default: print)")
    p.add_argument("--pixel-scale", choices=("auto", "1", "255"), default="auto",
                   help="image inputs: 1 = pixels in [0, 1], 255 = pixels in 0..255, auto "
                        "(default) = 255 for integer arrays, else 1")
    p.add_argument("--task", choices=("classification", "regression"),
                   help="for a bare state_dict file (default classification)")
    _add_arch(p)


def read_inputs(path: str) -> np.ndarray:
    """The array in a .npy file, or the single (or ``x``) array of a .npz file."""
    from .serialization import load

    if not os.path.exists(path):
        raise UserError(f"inputs file {path!r} does not exist")
    try:
        obj = load(path)
    except ValueError as exc:
        raise UserError(f"cannot read {path!r} as a .npy/.npz array: {exc}") from None
    if isinstance(obj, np.ndarray):
        return obj
    if isinstance(obj, dict):
        arrays = {k: v for k, v in obj.items() if isinstance(v, np.ndarray)}
        for key in ("x", "inputs", "x_test"):
            if key in arrays:
                return arrays[key]
        if len(arrays) == 1:
            return next(iter(arrays.values()))
        raise UserError(f"{path!r} holds arrays {sorted(arrays)[:10]}; give a .npy file or a "
                        f".npz with one array (or one named x)")
    raise UserError(f"{path!r} does not hold an array of inputs")


def _run_predict(args: argparse.Namespace) -> int:
    from .pipeline import predict_saved

    x = read_inputs(args.inputs)
    pred = predict_saved(args.model, x, arch=_arch(args, task=args.task),
                         pixel_scale=args.pixel_scale)
    if args.out:
        from .atomic import atomic_open

        with atomic_open(args.out) as f:
            np.save(f, pred)
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


PLUGINS = {"experiment": "steepest.experiments.cli", "tune": "steepest.tune.cli",
           "verify": "steepest.verify", "export": "steepest.onnx.cli"}


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


def _user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that report a user's mistake (bad flags, files or settings, refused
    runs, diverged training), shown as one line; anything else is a bug in steepest."""
    from .config import ConfigError
    from .nn.module import LoadStateDictError
    from .runlock import RunLockedError
    from .train import TrainingDiverged

    return (UserError, ConfigError, ValueError, TypeError, OSError, LoadStateDictError,
            RunLockedError, TrainingDiverged, MemoryError)


def _suggest_flag(parser: argparse.ArgumentParser, command: str | None, flag: str) -> str:
    """'; did you mean --lr?' for an unknown long flag (``--learning-rate``)."""
    from .config import suggest_key
    from .suggest import did_you_mean

    name = flag.split("=", 1)[0]
    sub = None
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            sub = action.choices[command]
    options = [o for a in (sub or parser)._actions for o in a.option_strings
               if o.startswith("--")]
    key = suggest_key(name.lstrip("-"))
    if key and "--" + key.replace("_", "-") in options:
        return f"; did you mean --{key.replace('_', '-')}?"
    return did_you_mean(name, options, cutoff=0.5)


def main(argv: list[str] | None = None) -> int:
    """The ``steepest`` command; returns the exit code (0 ok, 2 user error, 130 Ctrl-C)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    command = "steepest"
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        command = f"steepest {args.command}" if args.command else "steepest"
        if extra:
            flag = next((a for a in extra if a.startswith("-")), extra[0])
            print(f"{command}: error: unrecognized argument {flag!r}"
                  f"{_suggest_flag(parser, args.command, flag) if flag.startswith('--') else ''}"
                  f" (see {command} --help)", file=sys.stderr)
            return 2
        if args.command is None:
            parser.print_help()
            return 2
        runner = RUNNERS.get(args.command) or _plugins()[args.command].run
        return runner(args)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"\n{command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug or not isinstance(exc, _user_errors()):
            raise
        text = str(exc) or type(exc).__name__
        if isinstance(exc, MemoryError):
            text = f"out of memory ({text})"
        print(f"{command}: error: {text}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
