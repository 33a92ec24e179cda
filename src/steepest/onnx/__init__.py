"""ONNX export: ``steepest.onnx.export(model, example_input, "model.onnx")``.

The forward is traced once on the example input and each recorded step is mapped to ONNX
operators by a converter registered per module type or per autograd node type; see
:mod:`steepest.onnx.exporter` for how to add one. Needs ``pip install "steepest[onnx]"``.
"""

from .exporter import (
    ExportContext,
    UnsupportedOperatorError,
    export,
    register_function,
    register_module,
)

__all__ = ["ExportContext", "UnsupportedOperatorError", "export", "register_function",
           "register_module"]
