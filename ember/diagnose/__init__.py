"""ember.diagnose: see the mechanisms — activation and gradient health, anomaly detection,
common-mistake warnings, and the run report.

    activation_health(model, x)       per layer: dead ReLUs, saturated σ/tanh, mean/std, entropy
    gradient_health(model)            per parameter: gradient norm, update ratio, flags
    DiagnosticsCallback(every=N)      records both during training into diagnostics.jsonl
    detect_anomaly(model=None)        the first op (and layer) that made a NaN or Inf
    autograd_graph(loss, model=None)  the ops backward will run, as text or a figure
    gradient_through_time(model, fn)  ‖∂L/∂h_t‖ at every step of every recurrent layer
    EmberWarning, check_attention_mask, reset_warnings   common-mistake warnings

Figures (matplotlib Figures on their own Agg canvas, or PNGs), imported on first use so that
``import ember.diagnose`` does not import matplotlib:

    feature_map_figures(model, x)                {"input", each conv layer, "filters": Figure}
    save_feature_maps(model, x, out_dir)         the same figures as PNGs
    attention_map_figures(model, tokens)         {"layer0", "layer1", …, "overview": Figure}
    draw_attention_maps(model, tokens, out_dir)  the same figures as PNGs
    gate_heatmaps(gates)                         an LSTM's gates over time, one Figure

The report (``ember.diagnose.report``) and the other figure helpers
(``ember.diagnose.figures``) are imported on their own.
"""

from importlib import import_module

from ..mistakes import EmberWarning, check_attention_mask, reset_warnings, warn_once
from .activations import ActivationHealth, LayerHealth, activation_health, capture_activations
from .anomaly import detect_anomaly
from .callback import DiagnosticsCallback
from .gradients import GradientHealth, ParamHealth, gradient_health
from .graph import AutogradGraph, autograd_graph
from .through_time import gradient_through_time

#: name -> the submodule that holds it; these import matplotlib, so only when first asked for
_WITH_MATPLOTLIB = {
    "attention_map_figures": "attention_maps",
    "draw_attention_maps": "attention_maps",
    "feature_map_figures": "feature_maps",
    "gate_heatmaps": "figures",
    "save_feature_maps": "feature_maps",
}


def __getattr__(name: str):
    if name in _WITH_MATPLOTLIB:
        value = getattr(import_module(f".{_WITH_MATPLOTLIB[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ActivationHealth",
    "AutogradGraph",
    "DiagnosticsCallback",
    "EmberWarning",
    "GradientHealth",
    "LayerHealth",
    "ParamHealth",
    "activation_health",
    "attention_map_figures",
    "autograd_graph",
    "capture_activations",
    "check_attention_mask",
    "detect_anomaly",
    "draw_attention_maps",
    "feature_map_figures",
    "gate_heatmaps",
    "gradient_health",
    "gradient_through_time",
    "reset_warnings",
    "save_feature_maps",
    "warn_once",
]
