"""ember.diagnose: see the mechanisms — activation and gradient health, anomaly detection,
common-mistake warnings, and the run report.

    activation_health(model, x)       per layer: dead ReLUs, saturated σ/tanh, mean/std, entropy
    gradient_health(model)            per parameter: gradient norm, update ratio, flags
    DiagnosticsCallback(every=N)      records both during training into diagnostics.jsonl
    detect_anomaly(model=None)        the first op (and layer) that made a NaN or Inf
    autograd_graph(loss, model=None)  the ops backward will run, as text or a figure
    gradient_through_time(model, fn)  ‖∂L/∂h_t‖ at every step of every recurrent layer
    EmberWarning, check_attention_mask, reset_warnings   common-mistake warnings

The report (``ember.diagnose.report``) and the figure helpers (``ember.diagnose.figures``)
import matplotlib, so they are imported on their own, not from here.
"""

from ..mistakes import EmberWarning, check_attention_mask, reset_warnings, warn_once
from .activations import ActivationHealth, LayerHealth, activation_health, capture_activations
from .anomaly import detect_anomaly
from .callback import DiagnosticsCallback
from .gradients import GradientHealth, ParamHealth, gradient_health
from .graph import AutogradGraph, autograd_graph
from .through_time import gradient_through_time

__all__ = [
    "ActivationHealth",
    "AutogradGraph",
    "DiagnosticsCallback",
    "EmberWarning",
    "GradientHealth",
    "LayerHealth",
    "ParamHealth",
    "activation_health",
    "autograd_graph",
    "capture_activations",
    "check_attention_mask",
    "detect_anomaly",
    "gradient_health",
    "gradient_through_time",
    "reset_warnings",
    "warn_once",
]
