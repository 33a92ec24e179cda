"""``steepest tune``: run a search described by a TOML file, printing a live table.

    steepest tune --config search.toml [--executor ray --address HOST:PORT] [--resume]

Writes into ``--out`` (default ``tune-<config name>``): ``results.jsonl`` (every trial, as
it finishes; ``--resume`` continues it), ``results.csv``, ``best.json``, ``scores.png``,
``curves.png`` and, with ``--final-test``, ``final.json`` (the best config retrained on
train+validation and scored once on the test set). User errors print one line on stderr
and exit with status 2; Ctrl-C exits with 130 (finished trials are kept).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run", "main"]


def _configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--config", required=True, metavar="FILE",
                   help="the search file (TOML: [search], [space], [fixed], [early_stop])")
    p.add_argument("--executor", choices=("local", "ray"), default=None,
                   help="run trials in local worker processes (default) or on Ray")
    p.add_argument("--address", default=None,
                   help="Ray cluster address (with --executor ray; default: a local Ray)")
    p.add_argument("--n-jobs", type=int, default=None, metavar="N",
                   help="trials at a time (default: the number of cores; 1 = in-process)")
    p.add_argument("--resume", action="store_true",
                   help="continue the search in --out, skipping finished trials")
    p.add_argument("--overwrite", action="store_true",
                   help="start over even if --out already holds results")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: tune-<config name>)")
    p.add_argument("--final-test", action="store_true",
                   help="retrain the best config on train+validation, score it once on test")
    p.add_argument("--no-plot", action="store_true", help="do not draw the figures")
    p.add_argument("--tensorboard", nargs="?", const="", default=None, metavar="DIR",
                   help="write one TensorBoard run per trial (HParams view; default DIR: "
                        "OUT/tensorboard)")
    p.add_argument("--quiet", action="store_true", help="no live table")
    return p


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``tune`` sub-command to an ``argparse`` sub-parsers object."""
    p = subparsers.add_parser(
        "tune", help="hyperparameter search (random, grid, coarse-to-fine) from a TOML file",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    return _configure(p)


def _error(msg: str) -> int:
    print(f"steepest tune: error: {msg}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Run ``steepest tune``; returns the exit status."""
    from .config import load_config
    from .driver import search
    from .results import ResultsMismatch
    from .space import SpaceError

    out = Path(args.out) if args.out else Path(f"tune-{Path(args.config).stem}")
    try:
        kwargs = load_config(args.config)
        if args.executor is not None:
            kwargs["executor"] = args.executor
        if args.address is not None:
            kwargs["address"] = args.address
            if args.executor is None:
                kwargs["executor"] = "ray"
        if args.n_jobs is not None:
            kwargs["n_jobs"] = args.n_jobs
        if args.resume and args.overwrite:
            return _error("--resume and --overwrite exclude each other")
        if args.resume and not (out / "results.jsonl").exists():
            return _error(f"--resume: {out / 'results.jsonl'} does not exist")
        result = search(**kwargs, results=out / "results.jsonl", resume=args.resume,
                        overwrite=args.overwrite, progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished trials are saved in {out / 'results.jsonl'}; "
              f"continue with --resume", file=sys.stderr)
        return 130
    except (SpaceError, ResultsMismatch, ImportError, TypeError) as exc:
        return _error(str(exc))
    result.table().to_csv(out / "results.csv")
    if args.tensorboard is not None:
        from ..train.tensorboard import write_trials

        try:
            write_trials(result.records, args.tensorboard or out / "tensorboard")
        except ImportError as exc:
            return _error(str(exc))
    best = result.best
    if best is None:
        print(f"steepest tune: no trial finished with a score ({result.status_counts()})",
              file=sys.stderr)
        return 1
    (out / "best.json").write_text(json.dumps(
        {"trial": best["trial"], "metric": result.metric, "score": best["score"],
         "score_std": best.get("score_std"), "config": best["config"]}, indent=2) + "\n",
        encoding="utf-8")
    if not args.no_plot:
        try:
            paths = result.plot(str(out))
            if not args.quiet:
                print("figures: " + ", ".join(str(p) for p in paths))
        except ImportError:
            print("steepest tune: matplotlib is not installed; no figures "
                  "(pip install 'steepest[viz]')", file=sys.stderr)
    if args.final_test:
        try:
            final = result.retrain_best()
        except (SpaceError, ImportError) as exc:
            return _error(str(exc))
        except KeyboardInterrupt:
            print("\ninterrupted during the final test", file=sys.stderr)
            return 130
        final.pop("history", None)
        (out / "final.json").write_text(json.dumps(final, indent=2, default=str) + "\n",
                                        encoding="utf-8")
        scores = ", ".join(f"{k}={v:.4g}" for k, v in final.items()
                           if k.startswith("test_") and isinstance(v, float))
        print(f"final test (best config retrained on train+validation): {scores}")
    if not args.quiet:
        print(f"results: {out / 'results.jsonl'} ({result.summary()})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m steepest.tune --config search.toml`` (the same as ``steepest tune``)."""
    parser = _configure(argparse.ArgumentParser(
        prog="steepest tune", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter))
    return run(parser.parse_args(argv))
