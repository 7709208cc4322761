"""torch's module paths under optim, utils.data, nn.utils and autograd reach ember's objects:
every file torch has there imports from ember at the same path (but those listed as missing,
with why), and the names its ``__all__`` lists resolve."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import torch

import ember

MISSING = {
    "torch.optim.sparse_adam": "no sparse gradients in ember",
    "torch.utils.data.datapipes": "torchdata's deprecated DataPipes",
    "torch.utils.data.graph": "DataPipe graphs",
    "torch.utils.data.graph_settings": "DataPipe graphs",
    "torch.utils.data.backward_compatibility": "a DataPipe shim",
    "torch.autograd.profiler_legacy": "torch's legacy profiler",
    "torch.autograd.profiler_util": "torch's profiler internals",
}
#: names a file's __all__ lists that ember does not have, with why
NAMES_MISSING = {
    "enforce_grad_layout_policy": "a layout policy switch (ember's grads take backward's layout)",
    "emit_nvtx": "NVIDIA's profiler ranges",
    "emit_itt": "Intel's profiler ranges",
    "VariableMeta": "Variable's metaclass (ember's Variable is a function)",
    "BackwardCFunction": "the C++ engine's node class",
    "get_numerical_jacobian": "deprecated in torch (torch.autograd.functional.jacobian)",
    "get_analytical_jacobian": "deprecated in torch (torch.autograd.functional.jacobian)",
    "get_numerical_jacobian_wrt_specific_input": "deprecated in torch with the two above",
    "FunctionMeta": "the metaclass of torch's Function (ember's needs none)",
    "load_nvprof": "reads NVIDIA profiler files",
    "parse_nvprof_trace": "reads NVIDIA profiler files",
    "EnforceUnique": "torch's profiler internals",
    "KinetoStepTracker": "torch's profiler internals",
    "MemRecordsAcc": "torch's profiler internals",
    "NestedIOFunction": "a legacy Function form",
    "GradientEdge": "autograd.grad over graph edges (ember takes tensors)",
    "get_gradient_edge": "autograd.grad over graph edges (ember takes tensors)",
    "region_activation_memory_budget": "torch.compile's memory budget",
    "set_warn_on_accumulate_grad_stream_mismatch": "CUDA stream bookkeeping",
    "set_override_stale_capture_stream": "CUDA graph capture bookkeeping",
    "SpectralNormLoadStateDictPreHook": "internals of the hook-based spectral_norm",
    "SpectralNormStateDictHook": "internals of the hook-based spectral_norm",
    # torch's functional optimizer forms (adam(params, grads, exp_avgs, …)): ember's
    # optimizers keep their state inside
    **{f: "a functional optimizer form" for f in ("adadelta", "adagrad", "adam", "adamax",
       "adamw", "asgd", "nadam", "radam", "rmsprop", "rprop", "sgd")},
}  # fmt: skip


def _paths():
    for package in (torch.optim, torch.utils.data, torch.nn.utils, torch.autograd):
        for info in pkgutil.iter_modules(package.__path__):
            name = f"{package.__name__}.{info.name}"
            if not info.name.startswith("_") and name not in MISSING:
                yield name


@pytest.mark.parametrize("path", list(_paths()))
def test_torchs_file_path_imports_in_ember(path):
    mine = importlib.import_module("ember" + path[len("torch") :])
    theirs = importlib.import_module(path)
    for name in getattr(theirs, "__all__", ()):
        if name not in NAMES_MISSING:
            assert hasattr(mine, name), f"{mine.__name__}.{name}"


def test_attributes_that_torch_keeps_as_functions():
    assert callable(ember.autograd.gradcheck) and callable(ember.nn.utils.weight_norm)
    from ember.autograd.gradcheck import gradcheck
    from ember.utils.data.dataloader import DataLoader

    assert gradcheck is ember.gradcheck and DataLoader is ember.utils.data.DataLoader


def test_allow_mutation_on_saved_tensors_gives_torchs_gradient():
    """Inside torch's block a saved tensor changed in place keeps its saved value for backward;
    ember always works that way."""
    out = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with lib.autograd.graph.allow_mutation_on_saved_tensors():
            h = x * 2.0
            y = h * h
            h.mul_(10.0)
            y.sum().backward()
        out.append(x.grad.numpy().tolist())
    assert out[0] == out[1] == [8.0, 16.0, 24.0]
    y = ember.ones(2, requires_grad=True) * 3
    assert isinstance(y.grad_fn, ember.autograd.graph.Node)
