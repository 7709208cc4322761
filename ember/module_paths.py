"""torch's module paths over ember's own modules: ``register(package, "dataset", target)``
makes ``import ember.<package>.dataset`` and ``from ember.<package>.dataset import X`` work,
where ``target`` is an existing module (the path becomes another name for it) or a dict of
names (a small module holding them is made). One implementation, two paths, as
``ember.utils.data`` is ``ember.data``."""

from __future__ import annotations

import sys
import types


def register(package, name: str, target, *, attribute: bool = True):
    """Register ``package.name`` (``package`` a module) as ``target``; ``attribute``: also set
    it as the package's attribute (False where torch's attribute is another object, as
    ``torch.autograd.gradcheck`` is the function while ``torch.autograd.gradcheck`` the
    module path is its file). Returns the module."""
    full = f"{package.__name__}.{name}"
    if isinstance(target, dict):
        module = types.ModuleType(full, f"torch's {full.replace('ember', 'torch', 1)}.")
        for key, value in target.items():
            setattr(module, key, value)
        module.__all__ = list(target)
    else:
        module = target
    sys.modules[full] = module
    if attribute:
        setattr(package, name, module)
    return module
