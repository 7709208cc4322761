"""Model registry: ``ember train NAME`` finds a model builder here by name.

Each model module decorates a builder ``fn(**options) -> Module`` with
``@register_model("name", task="classification"|"language")``.
"""

from __future__ import annotations

MODELS: dict[str, dict] = {}


def register_model(name: str, task: str = "classification", description: str = ""):
    def deco(fn):
        MODELS[name] = {"builder": fn, "task": task, "description": description or fn.__doc__}
        return fn

    return deco


def get_model(name: str) -> dict:
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    return MODELS[name]
