"""The hand-fused NumPy reference: an MLP training loop with no framework at all.

This is "the NumPy limit" the benchmarks compare steepest with: the same float32 math as
steepest and PyTorch (y = x Wᵀ + b, ReLU, softmax cross-entropy with mean reduction,
PyTorch's SGD and Adam), written the way one would by hand for speed:

* one fancy-index gather per array per batch (``np.take`` into a preallocated buffer);
* forward: ``np.matmul(..., out=)`` into preallocated activations, bias and ReLU in place;
* softmax-cross-entropy fused: the gradient of the logits is (softmax − onehot)/N, built in
  the softmax's own buffer;
* backward: dW = gᵀx, db = Σg, dx = gW (not for the input layer), the ReLU mask applied
  in place; every gradient lands in a preallocated buffer;
* updates in place with ``out=`` (SGD: two calls per parameter; Adam: torch's formula,
  ε after the bias-corrected square root).

Weights use PyTorch's / steepest's (out_features, in_features) layout so that initial
weights can be copied between the libraries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


class ReferenceMLP:
    """A ReLU MLP trained by a hand-written NumPy loop.

    Parameters
    ----------
    weights, biases
        Initial parameters, ``weights[i]`` of shape (out, in) (copied).
    optimizer
        ``"sgd"`` (plain, no momentum) or ``"adam"`` (β = 0.9, 0.999, ε = 1e-8).
    lr
        Learning rate.
    """

    def __init__(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                 optimizer: str = "sgd", lr: float = 0.1) -> None:
        if optimizer not in ("sgd", "adam"):
            raise ValueError(f"ReferenceMLP: optimizer must be 'sgd' or 'adam', got {optimizer!r}")
        self.W = [np.array(w, dtype=np.float32, copy=True) for w in weights]
        self.b = [np.array(b, dtype=np.float32, copy=True) for b in biases]
        self.params = [p for pair in zip(self.W, self.b) for p in pair]
        self.grads = [np.empty_like(p) for p in self.params]
        self.optimizer, self.lr = optimizer, float(lr)
        if optimizer == "adam":
            self.m = [np.zeros_like(p) for p in self.params]
            self.v = [np.zeros_like(p) for p in self.params]
            self.tmp = [np.empty_like(p) for p in self.params]
            self.t = 0
        self._bs = 0

    def _buffers(self, bs: int, n_in: int) -> None:
        """(Re)allocate the per-batch buffers for batches of ``bs`` samples."""
        self._bs = bs
        self.xb = np.empty((bs, n_in), np.float32)
        self.yb = np.empty(bs, np.intp)
        self.h = [np.empty((bs, w.shape[0]), np.float32) for w in self.W]  # layer outputs
        self.gh = [np.empty((bs, w.shape[1]), np.float32) for w in self.W[1:]]  # d inputs
        self.rows = np.arange(bs)

    def train_epoch(self, X: np.ndarray, y: np.ndarray, order: np.ndarray,
                    batch_size: int) -> float:
        """One epoch over ``X[order]`` in mini-batches; returns the mean training loss."""
        n = len(order)
        if self._bs != batch_size:
            self._buffers(batch_size, X.shape[1])
        total = 0.0
        for s in range(0, n, batch_size):
            idx = order[s:s + batch_size]
            total += self.step(X, y, idx) * len(idx)
        return total / n

    def step(self, X: np.ndarray, y: np.ndarray, idx: np.ndarray) -> float:
        """Forward, backward and update on the batch ``X[idx]``; returns its mean loss."""
        m = len(idx)
        xb = self.xb[:m]
        yb = self.yb[:m]
        np.take(X, idx, axis=0, out=xb, mode="clip")  # 'clip': no hidden out buffer
        np.take(y, idx, out=yb, mode="clip")
        W, b, L = self.W, self.b, len(self.W)
        hs = [h[:m] for h in self.h]
        # forward
        a = xb
        for i in range(L):
            h = hs[i]
            np.matmul(a, W[i].T, out=h)
            h += b[i]
            if i < L - 1:
                np.maximum(h, 0, out=h)
            a = h
        # fused softmax cross-entropy: logits -> probabilities in place -> gradient
        z = hs[-1]
        z -= z.max(axis=1, keepdims=True)
        rows = self.rows[:m]
        zy = z[rows, yb]  # log-probability of the label is zy - log(sum(exp z))
        np.exp(z, out=z)
        s = z.sum(axis=1, keepdims=True)
        loss = float(np.log(s).sum() - zy.sum()) / m
        z /= s
        z[rows, yb] -= 1.0
        z *= 1.0 / m
        # backward
        g = z
        grads = self.grads
        for i in range(L - 1, -1, -1):
            a = xb if i == 0 else hs[i - 1]
            np.matmul(g.T, a, out=grads[2 * i])
            np.sum(g, axis=0, out=grads[2 * i + 1])
            if i > 0:
                gh = self.gh[i - 1][:m]
                np.matmul(g, W[i], out=gh)
                gh *= a > 0  # ReLU mask from the layer's output
                g = gh
        self._update()
        return loss

    def _update(self) -> None:
        lr = self.lr
        if self.optimizer == "sgd":
            for p, g in zip(self.params, self.grads):
                g *= lr
                p -= g
            return
        self.t += 1
        t = self.t
        b1, b2, eps = 0.9, 0.999, 1e-8
        step_size = lr / (1.0 - b1 ** t)
        bc2_sqrt = math.sqrt(1.0 - b2 ** t)
        for p, g, m, v, tmp in zip(self.params, self.grads, self.m, self.v, self.tmp):
            # m ← β₁m + (1−β₁)g ; v ← β₂v + (1−β₂)g²
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            # p ← p − step_size · m / (√v / √(1−β₂ᵗ) + ε)
            np.sqrt(v, out=tmp)
            tmp *= 1.0 / bc2_sqrt
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            p -= tmp

    def predict(self, X: np.ndarray, batch_size: int = 2000) -> np.ndarray:
        """Predicted class of every row of ``X``."""
        out = np.empty(len(X), np.intp)
        for s in range(0, len(X), batch_size):
            a = X[s:s + batch_size]
            for i, (w, b) in enumerate(zip(self.W, self.b)):
                a = a @ w.T
                a += b
                if i < len(self.W) - 1:
                    np.maximum(a, 0, out=a)
            out[s:s + batch_size] = a.argmax(axis=1)
        return out

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        return float((self.predict(X) == y).mean())
