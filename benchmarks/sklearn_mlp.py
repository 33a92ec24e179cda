"""steepest.sklearn.MLPClassifier/MLPRegressor against scikit-learn's own, side by side.

``python -m benchmarks.sklearn_mlp [--quick]``: the same hyperparameters (scikit-learn's
defaults: one hidden layer of 100 ReLU units, Adam lr 1e-3, batch min(200, n), alpha 1e-4,
max_iter 200, tol/n_iter_no_change stopping) on digits, breast cancer (classification,
test accuracy) and diabetes (regression, test R²), standardised inputs, 75/25 split,
several seeds. Both run in this process one after the other per seed, so their ratio is
comparable even on a busy machine. steepest's estimators run small GEMMs on one BLAS
thread; scikit-learn is timed as installed and again limited to one BLAS thread
(threadpoolctl), since on busy cores BLAS threads can cost more than they give.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

import numpy as np


def _datasets() -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

    dig = load_digits(return_X_y=True)
    bc = load_breast_cancer(return_X_y=True)
    dia = load_diabetes(return_X_y=True)
    return {"digits": (*dig, "clf"), "breast_cancer": (*bc, "clf"),
            "diabetes (R²)": (dia[0], dia[1] / dia[1].std(), "reg")}


def _fit_score(cls: Any, kw: dict[str, Any], data: tuple, one_thread: bool = False
               ) -> tuple[float, float, int]:
    from threadpoolctl import threadpool_limits

    xtr, xte, ytr, yte = data
    with warnings.catch_warnings(), threadpool_limits(1 if one_thread else None):
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        m = cls(**kw).fit(xtr, ytr)
        dt = time.perf_counter() - t0
    return m.score(xte, yte), dt, m.n_iter_


def run(quick: bool = False) -> list[dict[str, Any]]:
    from sklearn import neural_network as sk
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from steepest import sklearn as ours

    seeds = [0] if quick else [0, 1, 2]
    max_iter = 50 if quick else 200
    rows = []
    for name, (X, y, task) in _datasets().items():
        res: dict[str, list] = {"steepest": [], "sklearn": [], "sklearn_1t": []}
        for seed in seeds:
            xtr, xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed)
            sc = StandardScaler().fit(xtr)
            data = (sc.transform(xtr), sc.transform(xte), ytr, yte)
            kw = {"random_state": seed, "max_iter": max_iter}
            pair = ((ours.MLPClassifier, sk.MLPClassifier) if task == "clf"
                    else (ours.MLPRegressor, sk.MLPRegressor))
            for lib, cls in zip(("steepest", "sklearn"), pair):
                res[lib].append(_fit_score(cls, kw, data))
            res["sklearn_1t"].append(_fit_score(pair[1], kw, data, one_thread=True))
        row: dict[str, Any] = {"dataset": name}
        for lib in ("steepest", "sklearn", "sklearn_1t"):
            a = np.asarray(res[lib], dtype=float)
            row[f"{lib}_score"] = float(a[:, 0].mean())
            row[f"{lib}_fit_s"] = float(a[:, 1].mean())
            row[f"{lib}_iters"] = float(a[:, 2].mean())
        row["time_ratio"] = row["sklearn_fit_s"] / max(row["steepest_fit_s"], 1e-12)
        row["time_ratio_1t"] = row["sklearn_1t_fit_s"] / max(row["steepest_fit_s"], 1e-12)
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| data set | steepest score | sklearn score | epochs (st / sk) "
            "| steepest fit (s) | sklearn fit (s) | sklearn 1 thread (s) "
            "| sklearn / steepest time (1 thread) |")
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['steepest_score']:.4f} | {r['sklearn_score']:.4f} "
                     f"| {r['steepest_iters']:.0f} / {r['sklearn_iters']:.0f} "
                     f"| {r['steepest_fit_s']:.2f} | {r['sklearn_fit_s']:.2f} "
                     f"| {r['sklearn_1t_fit_s']:.2f} "
                     f"| {r['time_ratio']:.2f}x ({r['time_ratio_1t']:.2f}x) |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 seed, max_iter 50 (a smoke run)")
    args = p.parse_args(argv)
    print(table(run(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
