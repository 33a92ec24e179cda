"""The ``steepest experiment`` sub-command (hooked into ``steepest.cli``).

    steepest experiment --list
    steepest experiment NAME [--out DIR] [--quick] [--seed N] [--threads N]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``experiment`` sub-command to an argparse ``subparsers`` object."""
    from . import list_experiments

    listing = "\n".join(f"  {name:24s} {desc}" for name, desc in list_experiments())
    p = subparsers.add_parser(
        "experiment",
        help="run a classic experiment (figures + results.json)",
        description="Run one of the classic experiments of the notes and book 1 ch. 6. "
                    "Each writes PNG figures and results.json into --out.",
        epilog=f"experiments:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", nargs="?", help="experiment name (see --list)")
    p.add_argument("--list", action="store_true", help="list the experiments and exit")
    p.add_argument("--out", default=None,
                   help="output directory (default: runs/experiments/NAME)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the results of an earlier run in --out")
    p.add_argument("--quick", action="store_true",
                   help="a small version that runs in seconds (small data, few steps)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads during the run (default 1; 0 keeps the library's "
                        "setting)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Execute the parsed ``experiment`` command; returns the process exit code."""
    from . import list_experiments, run_experiment, summarize

    if getattr(args, "list", False):
        for name, desc in list_experiments():
            print(f"{name:24s} {desc}")
        return 0
    if not args.name:
        print("steepest experiment: give an experiment NAME or --list", file=sys.stderr)
        return 2
    if args.seed is not None and args.seed < 0:
        print("steepest experiment: --seed must be >= 0", file=sys.stderr)
        return 2
    if args.threads is not None and args.threads < 0:
        print("steepest experiment: --threads must be >= 0", file=sys.stderr)
        return 2
    if args.out and not getattr(args, "overwrite", False):
        from pathlib import Path

        if (Path(args.out) / "results.json").exists():
            print(f"steepest experiment: {args.out!r} already holds an experiment's results; "
                  f"choose another --out or pass --overwrite to replace them", file=sys.stderr)
            return 2
    t0 = time.perf_counter()
    try:
        results = run_experiment(args.name, args.out, quick=args.quick, seed=args.seed,
                                 threads=args.threads)
    except ValueError as exc:
        if str(exc).startswith("unknown experiment"):
            print(f"steepest experiment: {exc}", file=sys.stderr)
            return 2
        raise
    from pathlib import Path

    out = Path(args.out) if args.out else Path("runs") / "experiments" / results.get(
        "experiment", args.name)
    print(f"{results.get('experiment', args.name)}{' (quick)' if args.quick else ''}: "
          f"done in {time.perf_counter() - t0:.1f} s")
    for line in summarize(args.name, results):
        print(f"  {line}")
    print(f"  files in {out}: {', '.join(results.get('files', []))}, results.json")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m steepest.experiments.cli``), same options."""
    parser = argparse.ArgumentParser(prog="steepest")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    args = parser.parse_args(["experiment", *(sys.argv[1:] if argv is None else argv)])
    return run(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
