"""torch.autograd's API beyond ``grad``, attached to ``ember.autograd`` (the engine module sits
below ``tensor.py`` and cannot import these itself): ``Function`` (custom ops with a ctx),
``functional`` (jacobian, hessian, vjp, jvp, hvp, vhp), ``gradcheck``, ``gradgradcheck`` and
``detect_anomaly``. ``ember.autograd.functional`` is also registered as a module, so
``from ember.autograd.functional import jacobian`` reads as it does in torch."""

from __future__ import annotations

import sys

from . import autograd, autograd_function, autograd_functional

autograd.functional = autograd_functional
sys.modules["ember.autograd.functional"] = autograd_functional
autograd.Function = autograd_function.Function
autograd.function = autograd_function  # torch.autograd.function.once_differentiable, FunctionCtx
sys.modules["ember.autograd.function"] = autograd_function

# torch.autograd.gradcheck and gradgradcheck (finite-difference checks, ember/gradcheck.py)
from .gradcheck import gradcheck, gradgradcheck  # noqa: E402

autograd.gradcheck = gradcheck
autograd.gradgradcheck = gradgradcheck

# torch.autograd.detect_anomaly / set_detect_anomaly / is_anomaly_enabled: torch's signatures
# over ember.detect_anomaly (diagnose/anomaly.py), already imported by ember/__init__.py
from .diagnose import anomaly  # noqa: E402

autograd.detect_anomaly = anomaly.autograd_detect_anomaly
autograd.set_detect_anomaly = anomaly.set_detect_anomaly
autograd.is_anomaly_enabled = anomaly.is_anomaly_enabled
