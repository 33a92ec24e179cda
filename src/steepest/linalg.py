"""``torch.linalg`` names: norm, vector_norm, matrix_norm, det, inv, solve (the ops live in
:mod:`steepest.ops.linalg`, forward and backward side by side)."""

from .ops.linalg import det, inv, matmul, matrix_norm, solve, vector_norm
from .ops.linalg import linalg_norm as norm

__all__ = ["det", "inv", "matmul", "matrix_norm", "norm", "solve", "vector_norm"]
