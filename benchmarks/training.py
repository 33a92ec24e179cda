"""Epoch time and accuracy of a full training run: steepest vs PyTorch, scikit-learn and the
hand-fused NumPy reference, on the same data, side by side.

Competitors (all float32, all with the same number of BLAS/intra-op threads):

``steepest``       ``steepest.train.fit(model, CrossEntropyLoss(), opt, loader, epochs=1,
                   progress=False)``: what a user writes; the headline number.
``steepest_loop``  a minimal manual loop: ``model(Tensor(xb))``, ``F.cross_entropy``,
                   ``zero_grad``, ``backward``, ``step`` (shows fit's own overhead).
``steepest_compiled``  the captured step, ``steepest.compile_step(model, loss, opt)``,
                   called once per batch (no graph building; bit-identical results).
``torch``          PyTorch eager, the same manual loop; batches by ``index_select`` on
                   tensors that share memory with the NumPy arrays (not torch's
                   per-sample ``DataLoader``, which would be much slower).
``numpy``          :class:`benchmarks.reference.ReferenceMLP`, the hand-fused NumPy loop.
``sklearn``        ``MLPClassifier.partial_fit`` once per epoch (it shuffles by itself).
``floor``          not a trainer: per batch only the two gathers and the matrix products of
                   a step (forward, dW for every layer, dx for all but the first), in the
                   fastest layout measured (weights column-major, as ``nn.Linear``'s);
                   what no NumPy implementation of these configs can go below.

Every competitor starts from steepest's He-initialised weights (copied), and in epoch
``k`` all but scikit-learn visit the samples in the same order (steepest's DataLoader
permutation for seed ``seed + k``); every one computes the loss value of every batch, as
``fit`` does. Epochs are timed round-robin (one epoch of each competitor per round) so
machine noise falls on all of them alike; the first round is a warm-up.
"""

from __future__ import annotations

import math
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .common import CONFIGS, Data, describe_config, interleaved, permutation, summary
from .reference import ReferenceMLP

LIBRARIES = ("steepest", "steepest_loop", "steepest_compiled", "torch", "numpy", "sklearn",
             "floor")
LABELS = {
    "steepest": "steepest (fit)",
    "steepest_loop": "steepest (manual loop)",
    "steepest_arrays": "steepest (fit on arrays)",
    "steepest_compiled": "steepest (captured step)",
    "torch": "PyTorch eager",
    "numpy": "NumPy reference (hand-fused)",
    "sklearn": "scikit-learn MLPClassifier",
    "floor": "floor: the batch gathers and matrix products alone",
}


def initial_weights(sizes: Sequence[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """steepest's default MLP initialisation (He normal, zero biases) for ``seed``."""
    import steepest
    from steepest.models import mlp

    steepest.manual_seed(seed)
    model = mlp(sizes, activation="relu", init="he")
    lin = [m for m in model if hasattr(m, "weight")]
    return [(m.weight.data.copy(), m.bias.data.copy()) for m in lin]


class Competitor:
    """One library training one model; ``train_epoch(k)`` runs epoch ``k``."""

    name = ""

    def __init__(self, config: dict[str, Any], data: Data, weights: list, seed: int) -> None:
        self.cfg, self.data, self.seed = config, data, seed
        self.bs = int(config["batch_size"])
        self.last_loss = math.nan

    def order(self, k: int) -> np.ndarray:
        return permutation(len(self.data.x_train), self.seed + k)

    def train_epoch(self, k: int) -> None:
        raise NotImplementedError

    def set_lr(self, lr: float) -> None:
        """Change the learning rate between epochs (torch and steepest optimisers)."""
        for group in self.opt.param_groups:
            group["lr"] = lr

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError


def _steepest_model(sizes: Sequence[int], weights: list) -> Any:
    from steepest.models import mlp

    model = mlp(sizes, activation="relu", init="default")
    lin = [m for m in model if hasattr(m, "weight")]
    for m, (w, b) in zip(lin, weights):
        m.weight.data[...] = w
        m.bias.data[...] = b
    return model


def _steepest_optimizer(cfg: dict[str, Any], params: Any) -> Any:
    import steepest.optim as so

    if cfg["optimizer"] == "sgd":
        return so.SGD(params, lr=cfg["lr"])
    return so.Adam(params, lr=cfg["lr"])


class SteepestFit(Competitor):
    name = "steepest"

    def __init__(self, config, data, weights, seed) -> None:
        super().__init__(config, data, weights, seed)
        from steepest.data import TensorDataset
        from steepest.nn import CrossEntropyLoss

        self.model = _steepest_model(config["sizes"], weights)
        self.opt = _steepest_optimizer(config, self.model.parameters())
        self.loss = CrossEntropyLoss()
        self.dataset = TensorDataset(data.x_train, data.y_train)

    def train_epoch(self, k: int) -> None:
        from steepest.data import DataLoader
        from steepest.train import fit

        # A loader, not (X, y): fit validates raw arrays (a full isfinite scan) on every
        # call, which a multi-epoch fit pays once; here fit is called once per epoch.
        loader = DataLoader(self.dataset, batch_size=self.bs, shuffle=True, seed=self.seed + k)
        hist = fit(self.model, self.loss, self.opt, loader, epochs=1, progress=False)
        self.last_loss = hist["loss"][-1]

    def accuracy(self, x, y) -> float:
        from steepest.train import predict

        return float((predict(self.model, x).argmax(axis=1) == y).mean())


class SteepestFitArrays(SteepestFit):
    """``fit(model, loss, opt, (X, y), batch_size=..., seed=...)``: the arrays form, which
    validates the inputs on every call (used by the memory benchmark, where the run is one
    fit call, as a user would make it)."""

    name = "steepest_arrays"

    def train_epoch(self, k: int) -> None:
        from steepest.train import fit

        hist = fit(self.model, self.loss, self.opt, (self.data.x_train, self.data.y_train),
                   epochs=1, batch_size=self.bs, seed=self.seed + k, progress=False)
        self.last_loss = hist["loss"][-1]


class SteepestLoop(SteepestFit):
    name = "steepest_loop"

    def train_epoch(self, k: int) -> None:
        import steepest.functional as F
        from steepest import Tensor

        x, y = self.data.x_train, self.data.y_train
        order = self.order(k)
        model, opt, bs = self.model, self.opt, self.bs
        total = 0.0
        for s in range(0, len(order), bs):
            idx = order[s:s + bs]
            xb, yb = np.take(x, idx, axis=0), np.take(y, idx)
            loss = F.cross_entropy(model(Tensor(xb)), yb)
            total += float(loss.data) * len(idx)
            opt.zero_grad()
            loss.backward()
            opt.step()
        self.last_loss = total / len(order)


class SteepestCompiled(SteepestFit):
    """``steepest.compile_step(model, loss, opt)`` called once per batch of the same
    permutation (the captured step: no graph, preallocated buffers)."""

    name = "steepest_compiled"

    def __init__(self, config, data, weights, seed) -> None:
        super().__init__(config, data, weights, seed)
        from steepest.compile import compile_step

        self.step = compile_step(self.model, self.loss, self.opt)

    def train_epoch(self, k: int) -> None:
        x, y = self.data.x_train, self.data.y_train
        order = self.order(k)
        step, bs = self.step, self.bs
        total = 0.0
        for s in range(0, len(order), bs):
            idx = order[s:s + bs]
            total += float(step(np.take(x, idx, axis=0), np.take(y, idx)).data) * len(idx)
        self.last_loss = total / len(order)


class TorchEager(Competitor):
    name = "torch"

    def __init__(self, config, data, weights, seed) -> None:
        super().__init__(config, data, weights, seed)
        import torch

        layers: list[Any] = []
        for i, (w, b) in enumerate(weights):
            lin = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if i < len(weights) - 1:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        if config["optimizer"] == "sgd":
            self.opt = torch.optim.SGD(self.model.parameters(), lr=config["lr"])
        else:
            self.opt = torch.optim.Adam(self.model.parameters(), lr=config["lr"])
        self.x = torch.from_numpy(data.x_train)  # shares memory, no copy
        self.y = torch.from_numpy(data.y_train)

    def train_epoch(self, k: int) -> None:
        import torch
        import torch.nn.functional as F

        order = torch.from_numpy(self.order(k))
        model, opt, bs, x, y = self.model, self.opt, self.bs, self.x, self.y
        total = 0.0
        for s in range(0, len(order), bs):
            idx = order[s:s + bs]
            xb, yb = torch.index_select(x, 0, idx), torch.index_select(y, 0, idx)
            loss = F.cross_entropy(model(xb), yb)
            total += loss.item() * len(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        self.last_loss = total / len(order)

    def accuracy(self, x, y) -> float:
        import torch

        with torch.no_grad():
            pred = self.model(torch.from_numpy(x)).argmax(dim=1).numpy()
        return float((pred == y).mean())


class NumpyReference(Competitor):
    name = "numpy"

    def __init__(self, config, data, weights, seed) -> None:
        super().__init__(config, data, weights, seed)
        self.net = ReferenceMLP([w for w, _ in weights], [b for _, b in weights],
                                config["optimizer"], config["lr"])

    def set_lr(self, lr: float) -> None:
        self.net.lr = float(lr)

    def train_epoch(self, k: int) -> None:
        self.last_loss = self.net.train_epoch(self.data.x_train, self.data.y_train,
                                              self.order(k), self.bs)

    def accuracy(self, x, y) -> float:
        return self.net.accuracy(x, y)


class SklearnMLP(Competitor):
    name = "sklearn"

    def __init__(self, config, data, weights, seed) -> None:
        super().__init__(config, data, weights, seed)
        from sklearn.neural_network import MLPClassifier

        hidden = tuple(config["sizes"][1:-1])
        common = dict(hidden_layer_sizes=hidden, activation="relu", alpha=0.0,
                      batch_size=self.bs, learning_rate_init=config["lr"], shuffle=True,
                      random_state=seed)
        if config["optimizer"] == "sgd":
            clf = MLPClassifier(solver="sgd", learning_rate="constant", momentum=0.0,
                                nesterovs_momentum=False, **common)
        else:
            clf = MLPClassifier(solver="adam", **common)
        self.clf = clf
        self.classes = np.arange(config["sizes"][-1])
        self.same_init = self._adopt(weights)

    def _adopt(self, weights: list) -> bool:
        """Start from the shared initial weights: initialise sklearn's arrays with a
        one-sample partial_fit, overwrite them in place (its optimiser holds references),
        and drop the optimiser so the first epoch starts with fresh state. Private API:
        on failure sklearn keeps its own (Glorot) init."""
        x, y = self.data.x_train[:1], self.data.y_train[:1]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.clf.partial_fit(x, y, classes=self.classes)
            for c, i, (w, b) in zip(self.clf.coefs_, self.clf.intercepts_, weights):
                c[...] = w.T
                i[...] = b
            del self.clf._optimizer
            return True
        except Exception:  # noqa: BLE001 - sklearn internals changed: keep its init
            return False

    def set_lr(self, lr: float) -> None:
        raise NotImplementedError("scikit-learn's MLPClassifier has no learning-rate schedule "
                                  "that matches the others")

    def train_epoch(self, k: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.clf.partial_fit(self.data.x_train, self.data.y_train, classes=self.classes)
        self.last_loss = float(self.clf.loss_)

    def accuracy(self, x, y) -> float:
        return float((self.clf.predict(x) == y).mean())


class GemmFloor(Competitor):
    name = "floor"

    def __init__(self, config, data, weights, seed) -> None:
        super().__init__(config, data, weights, seed)
        rng = np.random.default_rng(seed)
        bs = self.bs
        self.w = [np.asfortranarray(w) for w, _ in weights]  # (out, in), column-major
        self.h = [np.empty((bs, w.shape[0]), np.float32) for w in self.w]
        self.g = [rng.standard_normal((bs, w.shape[0])).astype(np.float32) * 0.01
                  for w in self.w]
        self.gw = [np.empty_like(w) for w in self.w]  # as the flat buffer's F-order views
        self.gx = [np.empty((bs, w.shape[1]), np.float32) for w in self.w]
        self.xb = np.empty((bs, data.x_train.shape[1]), np.float32)
        self.yb = np.empty(bs, data.y_train.dtype)

    def set_lr(self, lr: float) -> None:
        pass

    def train_epoch(self, k: int) -> None:
        x, y, order, bs = self.data.x_train, self.data.y_train, self.order(k), self.bs
        w, h, g, gw, gx = self.w, self.h, self.g, self.gw, self.gx
        for s in range(0, len(order), bs):
            idx = order[s:s + bs]
            m = len(idx)
            xb = self.xb[:m]
            np.take(x, idx, axis=0, out=xb, mode="clip")
            np.take(y, idx, out=self.yb[:m], mode="clip")
            a = xb
            for i in range(len(w)):
                np.matmul(a, w[i].T, out=h[i][:m])
                a = h[i][:m]
            for i in range(len(w) - 1, -1, -1):
                np.matmul(g[i][:m].T, xb if i == 0 else h[i - 1][:m], out=gw[i])
                if i:
                    np.matmul(g[i][:m], w[i], out=gx[i][:m])
        self.last_loss = math.nan

    def accuracy(self, x, y) -> float:
        return math.nan


COMPETITORS: dict[str, type[Competitor]] = {
    c.name: c for c in (SteepestFit, SteepestFitArrays, SteepestLoop, SteepestCompiled, TorchEager,
                        NumpyReference, SklearnMLP, GemmFloor)
}


def make(name: str, config: dict[str, Any], data: Data, seed: int,
         weights: list | None = None) -> Competitor:
    if weights is None:
        weights = initial_weights(config["sizes"], seed)
    return COMPETITORS[name](config, data, weights, seed)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else a / b


def run_config(cname: str, data: Data, rounds: int, warmup: int = 1,
               libraries: Sequence[str] = LIBRARIES, seed: int = 0,
               log: Callable[[str], None] = print) -> dict[str, Any]:
    """Time ``rounds`` epochs (after ``warmup``) of every library on config ``cname``."""
    cfg = CONFIGS[cname]
    weights = initial_weights(cfg["sizes"], seed)
    comps = {name: make(name, cfg, data, seed, weights) for name in libraries}
    log(f"  config {cname}: {describe_config(cname)}")
    t = interleaved({n: c.train_epoch for n, c in comps.items()}, rounds, warmup, log=log)
    libs: dict[str, Any] = {}
    for name, comp in comps.items():
        s = summary(t.samples[name])
        t0 = time.perf_counter()
        acc = comp.accuracy(data.x_test, data.y_test)
        libs[name] = {
            "label": LABELS[name],
            "epoch_s": t.samples[name],
            "median_s": s["median"], "min_s": s["min"], "max_s": s["max"],
            "epochs_trained": warmup + rounds,
            "final_train_loss": float(comp.last_loss),
            "test_accuracy": acc,
            "eval_s": time.perf_counter() - t0,
        }
        if name == "sklearn":
            libs[name]["same_initial_weights"] = comp.same_init
    # Throughput relative to a peer: t_peer / t_lib (> 1: lib is faster than the peer).
    ratios: dict[str, Any] = {}
    for name in libs:
        for peer in ("torch", "numpy", "sklearn"):
            if peer in libs and peer != name:
                ratios[f"{name}_vs_{peer}"] = _ratio(libs[peer]["median_s"],
                                                     libs[name]["median_s"])
                ratios[f"{name}_vs_{peer}_paired"] = t.paired_ratio(peer, name)
    return {"config": dict(cfg), "description": describe_config(cname), "rounds": rounds,
            "warmup": warmup, "libraries": libs, "throughput_ratios": ratios}


def run(data: Data, rounds: int, warmup: int = 1, libraries: Sequence[str] = LIBRARIES,
        configs: Sequence[str] = tuple(CONFIGS), seed: int = 0,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every config of ``common.CONFIGS`` (a new entry there, e.g. config C, joins here)."""
    return {c: run_config(c, data, rounds, warmup, libraries, seed, log) for c in configs}


# ---------------------------------------------------------------------------------------
# time to accuracy
# ---------------------------------------------------------------------------------------


def time_to_accuracy(data: Data, seeds: Sequence[int], targets: Sequence[float] = (0.97, 0.98),
                     max_epochs: int = 20, config: str = "B",
                     libraries: Sequence[str] = ("steepest", "torch"), lr_decay: float = 1.0,
                     log: Callable[[str], None] = print) -> dict[str, Any]:
    """Training seconds (evaluation excluded) and epochs until the test accuracy first
    reaches each target, per seed, for libraries trained with the same recipe, the same
    initial weights and the same data order; epochs interleaved across libraries.

    ``lr_decay`` < 1 multiplies the learning rate by that factor after every epoch (epoch
    ``k`` uses ``lr · lr_decay**k``), the same schedule for every library.
    """
    cfg = CONFIGS[config]
    targets = sorted(float(t) for t in targets)
    per_seed: dict[str, list[dict[str, Any]]] = {name: [] for name in libraries}
    for seed in seeds:
        weights = initial_weights(cfg["sizes"], seed)
        comps = {n: make(n, cfg, data, seed, weights) for n in libraries}
        clock = {n: 0.0 for n in libraries}
        curves: dict[str, list[float]] = {n: [] for n in libraries}
        hit: dict[str, dict[float, tuple[int, float]]] = {n: {} for n in libraries}
        for k in range(max_epochs):
            active = [n for n in libraries if len(hit[n]) < len(targets)]
            if not active:
                break
            for n in active:
                if lr_decay != 1.0:
                    comps[n].set_lr(cfg["lr"] * lr_decay ** k)
                t0 = time.perf_counter()
                comps[n].train_epoch(k)
                clock[n] += time.perf_counter() - t0
                acc = comps[n].accuracy(data.x_test, data.y_test)
                curves[n].append(acc)
                for tg in targets:
                    if tg not in hit[n] and acc >= tg:
                        hit[n][tg] = (k + 1, clock[n])
        for n in libraries:
            per_seed[n].append({
                "seed": seed, "test_accuracy": curves[n],
                "epochs_to": {f"{tg:g}": hit[n].get(tg, (None, None))[0] for tg in targets},
                "seconds_to": {f"{tg:g}": hit[n].get(tg, (None, None))[1] for tg in targets},
            })
        log(f"    seed {seed}: " + "; ".join(
            f"{n} " + ", ".join(f"{tg:g}: " + (f"{hit[n][tg][1]:.2f}s/{hit[n][tg][0]}ep"
                                               if tg in hit[n] else "not reached")
                                for tg in targets) for n in libraries))

    def med(xs: list[Any]) -> float | None:
        vals = [math.inf if x is None else x for x in xs]
        m = statistics.median(vals)
        return None if math.isinf(m) else m

    desc = describe_config(config) + (f", lr × {lr_decay:g} per epoch" if lr_decay != 1 else "")
    out: dict[str, Any] = {"config": config, "description": desc, "lr_decay": lr_decay,
                           "seeds": list(seeds), "max_epochs": max_epochs,
                           "targets": targets, "libraries": {}}
    for n in libraries:
        runs = per_seed[n]
        out["libraries"][n] = {
            "label": LABELS[n], "runs": runs,
            "median_seconds_to": {f"{tg:g}": med([r["seconds_to"][f"{tg:g}"] for r in runs])
                                  for tg in targets},
            "median_epochs_to": {f"{tg:g}": med([r["epochs_to"][f"{tg:g}"] for r in runs])
                                 for tg in targets},
            "reached": {f"{tg:g}": sum(r["seconds_to"][f"{tg:g}"] is not None for r in runs)
                        for tg in targets},
        }
    return out
