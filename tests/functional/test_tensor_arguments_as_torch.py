"""A list, a NumPy array or a number where torch wants a Tensor is torch's TypeError naming the
function and the argument ("dropout(): argument 'input' (position 1) must be Tensor, not
list"), raised at the call; ember used to fail later with an AttributeError about the list's
missing ``.array`` or ``.dtype`` (dropout, pdist, gumbel_softmax, the top-level in-place forms
such as ``torch.sin_``/``torch.relu_``, the dropout_ family, poisson, and the activations of F
with their in-place forms)."""

import numpy as np
import pytest

import ember
import ember.functional as F

CALLS = {
    "dropout": lambda lib, f, x: f.dropout(x),
    "pdist": lambda lib, f, x: f.pdist(x),
    "gumbel_softmax": lambda lib, f, x: f.gumbel_softmax(x),
    "sin_": lambda lib, f, x: lib.sin_(x),
    "zero_": lambda lib, f, x: lib.zero_(x),
    "relu_": lambda lib, f, x: lib.relu_(x),
    "selu_": lambda lib, f, x: lib.selu_(x),
    "dropout_": lambda lib, f, x: lib.dropout_(x, 0.5, True),
    "alpha_dropout_": lambda lib, f, x: lib.alpha_dropout_(x, 0.5, True),
    "poisson": lambda lib, f, x: lib.poisson(x),
}
ACTIVATIONS = (
    "relu gelu leaky_relu silu elu celu hardshrink hardsigmoid hardswish hardtanh logsigmoid"
    " mish relu6 selu softplus softshrink rrelu feature_alpha_dropout alpha_dropout relu_ elu_"
    " hardtanh_ leaky_relu_ rrelu_ selu_ celu_"
).split()
for _name in ACTIVATIONS:
    CALLS[f"F.{_name}"] = lambda lib, f, x, _name=_name: getattr(f, _name)(x)
NOT_TENSORS = {
    "list": [[1.0, 2.0], [3.0, 4.0]],
    "ndarray": np.ones((2, 2)),
    "float": 2.0,
}


@pytest.mark.parametrize("what", sorted(NOT_TENSORS))
@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_non_tensor_input_is_torchs_type_error(torch, call, what):
    value = NOT_TENSORS[what]
    messages = []
    for lib, f in ((torch, torch.nn.functional), (ember, F)):
        with pytest.raises(TypeError, match="must be Tensor, not") as e:
            CALLS[call](lib, f, value)
        messages.append(str(e.value))
    if call != "gumbel_softmax":  # torch's names empty_like, the op its Python code calls
        assert messages[1] == messages[0]
    assert messages[1].endswith(
        "list" if what == "list" else what.replace("ndarray", "numpy.ndarray")
    )


def test_a_tensor_input_still_works():
    x = ember.ones(2, 2)
    assert ember.sin_(x) is x and ember.relu_(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert F.pdist(x).shape == (1,)
