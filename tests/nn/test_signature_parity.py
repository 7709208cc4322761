"""Constructor arguments in torch's order, so torch code that passes them positionally
(``nn.Linear(4, 3, True, None, torch.float64)``) means the same thing in ember."""

import inspect

import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from ember import nn  # noqa: E402

# RNNCellBase takes its chunk count from the subclass: it differs by design (documented there)
BY_DESIGN = {"RNNCellBase"}


def _positional(cls) -> list[str]:
    params = inspect.signature(cls.__init__).parameters.values()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in params if p.kind in kinds and p.name != "self"]


def _shared_module_classes() -> list[str]:
    names = []
    for name in sorted(dir(torch.nn)):
        theirs, ours = getattr(torch.nn, name), getattr(nn, name, None)
        if not (inspect.isclass(theirs) and issubclass(theirs, torch.nn.Module)):
            continue
        if inspect.isclass(ours) and name not in BY_DESIGN:
            names.append(name)
    return names


SHARED = _shared_module_classes()


def test_many_classes_are_compared():
    assert len(SHARED) > 100


@pytest.mark.parametrize("name", SHARED)
def test_positional_arguments_in_torchs_order(name):
    theirs = _positional(getattr(torch.nn, name))
    ours = _positional(getattr(nn, name))
    assert ours[: len(theirs)] == theirs, f"nn.{name}: torch {theirs}, ember {ours}"


@pytest.mark.parametrize(
    "make",
    [
        lambda m, f64: m.Linear(4, 3, True, None, f64),
        lambda m, f64: m.Conv2d(2, 3, 3, 1, 0, 1, 1, True, "zeros", None, f64),
        lambda m, f64: m.BatchNorm1d(3, 1e-5, 0.1, True, True, None, f64),
        lambda m, f64: m.LayerNorm(3, 1e-5, True, True, None, f64),
        lambda m, f64: m.GroupNorm(1, 3, 1e-5, True, None, f64),
        lambda m, f64: m.Bilinear(2, 3, 4, True, None, f64),
        lambda m, f64: m.MultiheadAttention(
            4, 2, 0.0, True, False, False, None, None, False, None, f64
        ),  # fmt: skip
    ],
)
def test_dtype_passed_positionally_after_device(make):
    theirs = make(torch.nn, torch.float64)
    ours = make(nn, ember.float64)
    assert all(p.dtype == torch.float64 for p in theirs.parameters())
    assert all(p.dtype == ember.float64 for p in ours.parameters())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
