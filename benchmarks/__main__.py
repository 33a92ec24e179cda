"""The benchmark suite: ``python -m benchmarks [--quick] [--synthetic] [--only ...]``.

Sections (``--only`` takes a comma-separated subset):

``training``     seconds per epoch of steepest (fit, manual loop, captured step), PyTorch
                 eager, scikit-learn and the hand-fused NumPy reference on every config of
                 ``common.CONFIGS`` (A and B), ratios, test accuracy
``threads``      the same with 1 and with 2 BLAS threads per library (which default is faster)
``op_overhead``  per-op overhead of forward+backward on tiny arrays vs PyTorch
``optimizers``   one optimiser step on a ~1M-parameter model vs torch.optim
``time_to_acc``  seconds/epochs to 97% and 98% test accuracy on config B
``memory``       peak memory of a 1-epoch run, one subprocess per library
``convnet``      config C (the Keras simple MNIST convnet): steepest vs PyTorch eager, a
                 hand-written NumPy im2col reference and the GEMM-only floor

Writes ``results.json`` and ``table.md`` to ``--out`` (default ``benchmarks/results``);
a full run (not ``--quick``) on real MNIST also copies the table to
``docs/benchmarks_table.md``. ``--quick`` uses a small synthetic set, 1 warm-up and 2
timed epochs, 1 seed for time-to-accuracy, and finishes in well under a minute on a quiet
machine; it checks that everything runs, its numbers are not meant to be quoted.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

SECTIONS = ("training", "threads", "op_overhead", "optimizers", "time_to_acc", "memory",
            "convnet")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
DOCS_TABLE = ROOT / "docs" / "benchmarks_table.md"


def _log(msg: str) -> None:
    print(msg, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="small synthetic data, few epochs: checks that everything runs (CI)")
    p.add_argument("--synthetic", action="store_true",
                   help="train on the synthetic MNIST-shaped set instead of real MNIST")
    p.add_argument("--only", default=",".join(SECTIONS),
                   help=f"comma-separated sections to run (default: all of {','.join(SECTIONS)})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help="directory for results.json and table.md (default benchmarks/results)")
    p.add_argument("--rounds", type=int, default=None,
                   help="timed epochs per library, after 1 warm-up (default 5; quick: 2)")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS/intra-op threads for every library (default: NumPy's BLAS "
                        "count; quick: 1, robust on shared CI runners)")
    p.add_argument("--seeds", type=int, default=None,
                   help="seeds for time-to-accuracy (default 5; quick: 1)")
    p.add_argument("--max-epochs", type=int, default=None,
                   help="epoch limit for time-to-accuracy (default 20; quick: 3)")
    p.add_argument("--tta-lr-decay", type=float, default=1.0,
                   help="time-to-accuracy: multiply the learning rate by this after every "
                        "epoch (default 1: config B as it is)")
    p.add_argument("--no-docs", action="store_true",
                   help="do not copy the table to docs/benchmarks_table.md")
    args = p.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        p.error(f"unknown section(s) {', '.join(bad)}; choose from {', '.join(SECTIONS)}")
    args.only = only
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    if args.rounds < 1:
        p.error("--rounds must be >= 1")
    if args.seeds is None:
        args.seeds = 1 if args.quick else 5
    if args.max_epochs is None:
        args.max_epochs = 3 if args.quick else 20
    if args.threads is None and args.quick:
        args.threads = 1
    return args


def _section(name: str, fn: Any, results: dict[str, Any]) -> None:
    """Run one section; an error is recorded in the results instead of ending the suite."""
    _log(f"\n== {name} ==")
    t0 = time.perf_counter()
    try:
        results[name] = fn()
    except ImportError as exc:
        results[name] = {"error": f"not available: {exc}"}
        _log(f"  skipped: {exc}")
    except Exception as exc:  # noqa: BLE001 - report and go on with the other sections
        results[name] = {"error": f"{type(exc).__name__}: {exc}",
                         "traceback": traceback.format_exc()}
        _log(f"  FAILED: {type(exc).__name__}: {exc}")
    results.setdefault("section_seconds", {})[name] = time.perf_counter() - t0


def run_suite(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np  # noqa: F401 - loads the BLAS that threadpoolctl reports
    import torch  # noqa: F401 - every timing section compares with it

    try:  # loaded before the thread limit is set, so SciPy's BLAS is limited too
        import sklearn.neural_network  # noqa: F401
    except ImportError:
        pass

    from . import common

    threads = common.set_threads(args.threads)
    info = common.machine_info()
    _log("steepest benchmarks" + (" (quick)" if args.quick else ""))
    _log("machine: " + common.machine_line(info))
    _log(f"threads: {threads} for NumPy's BLAS and torch")
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full", "machine": info, "blas_threads": threads,
        "argv": sys.argv[1:], "sections": args.only,
    }
    data = None
    if any(s in args.only for s in ("training", "threads", "time_to_acc")):
        data = common.load_data(args.synthetic, args.quick)
        results["data"] = data.describe()
        _log(f"data: {data.source}")
    else:
        results["data"] = {"source": "synthetic" if args.quick or args.synthetic else "MNIST"}

    if "training" in args.only:
        from . import training

        _section("training", lambda: training.run(data, args.rounds, 1, log=_log), results)
    if "threads" in args.only:
        from . import threads as thr

        thr_configs = ("A",) if args.quick else tuple(common.CONFIGS)
        _section("threads", lambda: thr.run(data, max(1, args.rounds // 2), thr_configs,
                                            restore=threads, log=_log), results)
    if "op_overhead" in args.only:
        def op_overhead() -> dict[str, Any]:
            from . import op_overhead as mod

            try:
                return mod.run(args.quick)
            finally:
                common.set_threads(threads)  # the module sets torch's threads itself

        _section("op_overhead", op_overhead, results)
    if "optimizers" in args.only:
        def optimizers() -> dict[str, Any]:
            from . import optimizers as mod

            try:
                return mod.run(args.quick)
            finally:
                common.set_threads(threads)

        _section("optimizers", optimizers, results)
    if "time_to_acc" in args.only:
        from . import training

        _section("time_to_acc", lambda: training.time_to_accuracy(
            data, seeds=list(range(args.seeds)), max_epochs=args.max_epochs,
            lr_decay=args.tta_lr_decay, log=_log),
            results)
    if "memory" in args.only:
        from . import memory

        configs = ("B",) if args.quick else ("A", "B")
        _section("memory", lambda: memory.run(args.synthetic, args.quick, threads,
                                              configs=configs, log=_log), results)
    if "convnet" in args.only:
        from . import convnet

        _section("convnet", lambda: convnet.run(args.synthetic, args.quick, args.rounds,
                                                threads, log=_log), results)
    return results


# ---------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------


def _x(v: Any) -> str:
    from .common import fmt

    return fmt(v, ".2f") + ("×" if isinstance(v, (int, float)) and v is not None
                            and math.isfinite(v) else "")


def _ok(v: Any) -> bool:
    return isinstance(v, dict) and "error" not in v


def render_markdown(r: dict[str, Any]) -> str:
    from .common import describe_config, fmt, machine_line, md_table
    from .training import LABELS

    out: list[str] = []
    quick = r.get("mode") == "quick"
    out.append("<!-- generated by `python -m benchmarks`; do not edit by hand -->")
    out.append(f"**Machine:** {machine_line(r['machine'])}  ")
    src = r.get("data", {}).get("source", "?")
    out.append(f"**Data:** {src}; **threads:** {r.get('blas_threads')} (NumPy BLAS and torch); "
               f"**mode:** {r['mode']}")
    if quick:
        out.append("\n> Quick mode (CI smoke test): tiny synthetic data, few epochs. "
                   "These numbers are not meaningful; run `python -m benchmarks`.")
    mem = r.get("memory") if _ok(r.get("memory")) else {}

    tr = r.get("training")
    if _ok(tr):
        for cname, res in tr.items():
            libs = res["libraries"]
            out.append(f"\n### Epoch time, config {cname}: {describe_config(cname)}\n")
            out.append(f"Median of {res['rounds']} epochs after {res['warmup']} warm-up, "
                       f"rounds interleaved. Throughput ratio = t(peer) / t(library): "
                       f"above 1 means faster than the peer.\n")
            mrow = mem.get(cname, {}).get("libraries", {}) if mem else {}
            rows = []
            for name, v in libs.items():
                m = mrow.get(name, {})
                t_torch = libs.get("torch", {}).get("median_s")
                t_np = libs.get("numpy", {}).get("median_s")
                rows.append([
                    LABELS.get(name, name), fmt(v["median_s"]), fmt(v["min_s"]),
                    _x(t_torch / v["median_s"]) if t_torch else "—",
                    _x(t_np / v["median_s"]) if t_np else "—",
                    fmt(m.get("peak_rss_mib"), ".0f"), fmt(m.get("incremental_mib"), ".1f"),
                    fmt(v["test_accuracy"], ".4f"), fmt(v["final_train_loss"], ".4f"),
                ])
            out.append(md_table(
                ["library", "s/epoch (median)", "s/epoch (min)", "throughput vs PyTorch",
                 "throughput vs NumPy ref", "peak RSS (MiB)", "RSS over baseline (MiB)",
                 "test accuracy", "last epoch's train loss"], rows))
            sk = libs.get("sklearn", {})
            if sk and not sk.get("same_initial_weights", True):
                out.append("\n(scikit-learn used its own initial weights.)")

    if mem:
        out.append("\n### Peak memory of a 1-epoch run (one process per library)\n")
        rows = []
        for cname, res in mem.items():
            for name, v in res["libraries"].items():
                ratios = res["ratios_to_numpy"]
                rows.append([cname, LABELS.get(name, name), fmt(v["peak_rss_mib"], ".0f"),
                             fmt(v["baseline_rss_mib"], ".0f"), fmt(v["incremental_mib"], ".1f"),
                             fmt(v["traced_peak_mib"], ".1f"),
                             _x(ratios.get(f"{name}_peak_rss_mib_vs_numpy")),
                             _x(ratios.get(f"{name}_incremental_mib_vs_numpy"))])
        out.append(md_table(["config", "library", "peak RSS (MiB)", "baseline RSS (MiB)",
                             "RSS over baseline (MiB)", "tracemalloc peak (MiB)",
                             "peak RSS / NumPy ref", "increment / NumPy ref"], rows))

    th = r.get("threads")
    if _ok(th):
        nb = th.get("numba", {})
        out.append("\n### BLAS threads: 1 vs 2 (epoch seconds, median; interleaved)\n")
        out.append(f"numba: {'available' if nb.get('available') else 'not installed'}"
                   + (f", pool {nb.get('pool')} threads, optimiser kernels on "
                      f"{nb.get('kernel_threads')}" if nb.get("available") else "") + "\n")
        rows = []
        for cname, res in th["configs"].items():
            for name, v in res["libraries"].items():
                rows.append([cname, LABELS.get(name, name)]
                            + [fmt(v["median_s"][str(t)]) for t in th["threads"]]
                            + [fmt(v["ratio_1_over_2"], ".2f"), v["faster"]])
        out.append(md_table(["config", "library"]
                            + [f"{t} thread{'s' if t > 1 else ''} (s)" for t in th["threads"]]
                            + ["t(1) / t(2)", "faster"], rows))

    oo = r.get("op_overhead")
    if _ok(oo):
        out.append("\n### Per-op overhead (forward + backward, 10-op chain on 8 floats)\n")
        out.append(md_table(["steepest (µs/op)", "PyTorch (µs/op)", "NumPy, no autodiff "
                             "(µs/op)", "steepest / PyTorch"],
                            [[fmt(oo.get("steepest"), ".2f"), fmt(oo.get("torch"), ".2f"),
                              fmt(oo.get("numpy"), ".2f"),
                              fmt(oo.get("ratio_steepest_to_torch"), ".2f")]], align="rrrr"))

    op = r.get("optimizers")
    if _ok(op):
        rows, cols = [], []
        for k, v in op.items():
            if isinstance(v, dict):
                cols += [c for c in v if c not in cols]
                rows.append((k, v))
        n = op.get("n_params")
        out.append(f"\n### Optimiser step, {n:,} parameters (ms per step; ratios: "
                   f"steepest / torch)\n" if isinstance(n, int) else
                   "\n### Optimiser step (ms per step)\n")
        out.append(md_table(["optimiser"] + cols,
                            [[k] + [fmt(v.get(c), ".3f") for c in cols] for k, v in rows]))

    ta = r.get("time_to_acc")
    if _ok(ta):
        tg = [f"{t:g}" for t in ta["targets"]]
        out.append(f"\n### Time to test accuracy, config {ta['config']}: {ta['description']}\n")
        out.append(f"Median over {len(ta['seeds'])} seed(s) of the training seconds "
                   f"(evaluation excluded) and epochs until the test accuracy first reaches "
                   f"the target; at most {ta['max_epochs']} epochs.\n")
        head = ["library"]
        for t in tg:
            head += [f"s to {float(t):.0%}", f"epochs to {float(t):.0%}", "seeds reaching"]
        rows = []
        for name, v in ta["libraries"].items():
            row = [LABELS.get(name, name)]
            for t in tg:
                row += [fmt(v["median_seconds_to"][t], ".2f"),
                        fmt(v["median_epochs_to"][t], ".0f"),
                        f"{v['reached'][t]}/{len(ta['seeds'])}"]
            rows.append(row)
        out.append(md_table(head, rows))

    tg_rows = targets(r)
    if tg_rows:
        out.append("\n### Targets (issues 8 and 15)\n")
        out.append(md_table(["target", "measured", "goal", "met"],
                            [[t["target"], t["measured"], t["goal"],
                              "—" if t["met"] is None else ("yes" if t["met"] else "no")]
                             for t in tg_rows], align="lrrl"))
    if _ok(r.get("convnet")):
        from .convnet import render

        out += render(r["convnet"])
    return "\n".join(out) + "\n"


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it is met."""
    rows: list[dict[str, Any]] = []

    def add(target: str, value: float | None, goal: str, ok: bool | None, spec: str = ".2f",
            unit: str = "×") -> None:
        from .common import fmt

        rows.append({"target": target, "value": value,
                     "measured": fmt(value, spec) + (unit if value is not None else ""),
                     "goal": goal, "met": None if value is None else ok})

    tr = r.get("training")
    if _ok(tr):
        for c, res in tr.items():
            q = res["throughput_ratios"]
            v = q.get("steepest_vs_torch")
            add(f"config {c}: steepest throughput / PyTorch's", v, "≥ 1.3×",
                v is not None and v >= 1.3)
            v = q.get("steepest_vs_numpy")
            add(f"config {c}: steepest throughput / NumPy reference's", v, "≥ 1.0×",
                v is not None and v >= 1.0)
            v = q.get("steepest_loop_vs_numpy")
            add(f"config {c}: steepest manual loop / NumPy reference's", v, "≥ 1.0×",
                v is not None and v >= 1.0)
            v = q.get("steepest_compiled_vs_numpy")
            add(f"config {c}: steepest captured step / NumPy reference's", v, "≥ 1.2×",
                v is not None and v >= 1.2)
            v = q.get("steepest_vs_sklearn")
            add(f"config {c}: steepest throughput / scikit-learn's", v, "> 1×",
                v is not None and v > 1.0)
            tf, tc = (res["libraries"].get(n, {}).get("median_s")
                      for n in ("floor", "steepest_compiled"))
            v = tc / tf if tf and tc else None
            add(f"config {c}: captured step time / the gather+GEMM floor's (stretch)", v,
                "≤ 1.3×", v is not None and v <= 1.3)
    oo = r.get("op_overhead")
    if _ok(oo):
        v = oo.get("ratio_steepest_to_torch")
        add("per-op overhead: steepest / PyTorch", v, "≤ 0.5×", v is not None and v <= 0.5)
    op = r.get("optimizers")
    if _ok(op):
        for k, v in op.items():
            if isinstance(v, dict) and v.get("ratio_vs_torch") is not None:
                x = v["ratio_vs_torch"]
                add(f"optimiser step {k}: steepest time / torch's", x, "≤ 1×", x <= 1.0)
    ta = r.get("time_to_acc")
    if _ok(ta) and "steepest" in ta["libraries"] and "torch" in ta["libraries"]:
        for t in ta["targets"]:
            key = f"{t:g}"
            s = ta["libraries"]["steepest"]["median_seconds_to"][key]
            p = ta["libraries"]["torch"]["median_seconds_to"][key]
            v = s / p if s is not None and p else None
            add(f"time to {t:.0%} (config {ta['config']}): steepest / PyTorch", v, "≤ 1×",
                v is not None and v <= 1.0)
    mem = r.get("memory")
    if _ok(mem):
        for c, res in mem.items():
            for lib, how in (("steepest", "fit on a DataLoader"),
                             ("steepest_arrays", "fit on (X, y) arrays")):
                v = res["ratios_to_numpy"].get(f"{lib}_peak_rss_mib_vs_numpy")
                if lib in res["libraries"]:
                    add(f"config {c}: peak RSS of 1 epoch, steepest ({how}) / NumPy "
                        f"reference", v, "≤ 1.2×", v is not None and v <= 1.2)
    return rows


def print_summary(r: dict[str, Any]) -> None:
    from .common import fmt

    tr = r.get("training")
    if _ok(tr):
        _log("\nseconds per epoch (median) and throughput ratios of steepest (fit):")
        for c, res in tr.items():
            libs = res["libraries"]
            _log(f"  config {c} ({res['description']}): " + ", ".join(
                f"{n} {v['median_s']:.3f}s acc {v['test_accuracy']:.4f}"
                for n, v in libs.items()))
            q = res["throughput_ratios"]
            _log("    steepest vs torch " + _x(q.get("steepest_vs_torch")) + ", vs numpy "
                 + _x(q.get("steepest_vs_numpy")) + ", vs sklearn "
                 + _x(q.get("steepest_vs_sklearn")) + "; captured step vs torch "
                 + _x(q.get("steepest_compiled_vs_torch")) + ", vs numpy "
                 + _x(q.get("steepest_compiled_vs_numpy")))
    rows = targets(r)
    if rows:
        _log("\ntargets:")
        for t in rows:
            met = "—" if t["met"] is None else ("met" if t["met"] else "NOT met")
            _log(f"  {t['target']}: {t['measured']} (goal {t['goal']}) {met}")
    _log("\nsection times: " + ", ".join(f"{k} {fmt(v, '.1f')}s"
                                          for k, v in r.get("section_seconds", {}).items()))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from .common import MissingMNIST

    t0 = time.perf_counter()
    try:
        results = run_suite(args)
    except MissingMNIST as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    results["targets"] = targets(results)
    results["total_seconds"] = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n",
                                           encoding="utf-8")
    table = render_markdown(results)
    (args.out / "table.md").write_text(table, encoding="utf-8")
    print_summary(results)
    _log(f"\nwrote {args.out / 'results.json'} and {args.out / 'table.md'}")
    real = not args.quick and not args.synthetic
    if real and not args.no_docs and set(args.only) == set(SECTIONS):
        shutil.copyfile(args.out / "table.md", DOCS_TABLE)
        _log(f"copied the table to {DOCS_TABLE}")
    _log(f"total {results['total_seconds']:.1f}s")
    return results


if __name__ == "__main__":
    main()
