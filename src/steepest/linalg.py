"""``torch.linalg`` names: norm, vector_norm, matrix_norm, det, inv, solve (the ops live in
:mod:`steepest.ops.linalg`, forward and backward side by side)."""

from .ops.layout import cross
from .ops.linalg import det, inv, matmul, matrix_norm, matrix_power, slogdet, solve, vector_norm
from .ops.linalg import linalg_norm as norm

__all__ = ["cross", "det", "inv", "matmul", "matrix_norm", "matrix_power", "norm", "slogdet",
           "solve", "vector_norm"]
