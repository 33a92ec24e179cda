"""``steepest export RUN_DIR model.onnx``: a trained run's model as an ONNX file.

The run's input scaling (``--standardize``) is part of the exported graph, so the ONNX
model takes raw features, like ``steepest predict``; its output is the logits (classes)
or the predicted values.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="export a trained model to ONNX",
                       description="Write the model of a run folder (or model.npz) as an "
                       "ONNX file, checked by onnx.checker. Needs: pip install "
                       "'steepest[onnx]'.")
    p.add_argument("model", help="run folder or model.npz")
    p.add_argument("output", help="the .onnx file to write")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default: 17)")
    p.add_argument("--static-batch", action="store_true",
                   help="fix the batch size to 1 instead of a dynamic 'batch' axis")


def run(args: argparse.Namespace) -> int:
    from .. import nn
    from ..pipeline import load_model, model_n_in
    from ..tensor import Tensor
    from . import export

    model, cfg, scaler, task = load_model(args.model)
    n_in = model_n_in(model)
    dtype = np.dtype(cfg.dtype)
    if scaler is not None:
        shift = Tensor(np.asarray(scaler.mean_, dtype=dtype))
        scale = Tensor(np.asarray(scaler.scale_, dtype=dtype))

        class Scaled(nn.Module):
            def __init__(self, inner: nn.Module) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, x: Any) -> Any:
                return self.inner((x - shift) / scale)

        model = Scaled(model)
    batch = 1 if args.static_batch else 2
    export(model, np.zeros((batch, n_in), dtype=dtype), args.output, opset=args.opset,
           dynamic_batch=not args.static_batch)
    print(f"wrote {args.output}: input ({'batch' if not args.static_batch else 1}, {n_in}) "
          f"{dtype}, output {'logits' if task == 'classification' else 'values'} "
          f"(opset {args.opset})")
    return 0
