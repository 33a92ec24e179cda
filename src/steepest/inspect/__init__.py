"""Insight tools: what a network computes and how it learns.

* :func:`feature_importance` / :func:`plot_feature_importance`: which inputs matter
  (mean |∂y/∂x| or permutation importance).
* :func:`backprop_trace`: the backward walk step by step on a small graph (table, frames,
  animated GIF).
* :func:`draw_graph`: the computational graph behind a tensor (DOT text; SVG/PNG with
  Graphviz).
* :func:`activation_stats`, :func:`record_activations`, :func:`activation_histograms`:
  per-layer activation distributions (initialisation diagnostics).
* :class:`GradientNormRecorder`, :func:`layer_grad_norms`, :func:`numerical_gradient`:
  gradient diagnostics (vanishing/exploding gradients, backprop vs finite differences).
* :func:`random_direction`, :func:`loss_along`, :func:`loss_surface`: loss-landscape
  slices around trained weights.

Plotting functions return matplotlib ``Figure`` objects and never change the user's
matplotlib backend.
"""

from .activations import activation_histograms, activation_stats, record_activations
from .backprop import BackpropTrace, backprop_trace
from .gradients import GradientNormRecorder, layer_grad_norms, numerical_gradient
from .graph import GraphvizNotFoundError, draw_graph, to_dot
from .importance import feature_importance, plot_feature_importance
from .landscape import (
    direction_between,
    evaluate_loss,
    loss_along,
    loss_surface,
    random_direction,
)

__all__ = [
    "BackpropTrace", "backprop_trace",
    "GradientNormRecorder", "GraphvizNotFoundError", "activation_histograms",
    "activation_stats", "direction_between", "draw_graph", "evaluate_loss",
    "feature_importance", "layer_grad_norms", "loss_along", "loss_surface",
    "numerical_gradient", "plot_feature_importance", "random_direction",
    "record_activations", "to_dot",
]
