"""ember.onnx.export of the piecewise activations (hardtanh, ReLU6, Hardsigmoid, Hardswish,
PReLU, Softplus, Mish, Threshold, Hardshrink, Softshrink): ops of their own
(ops/activations_piecewise.py), converted by ember/onnx/ops_activations.py, checked against
onnxruntime on inputs on both sides of every kink, at two batch sizes."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
import ember.nn.functional as F  # noqa: E402
from ember.onnx.trace import flatten  # noqa: E402
from tests.test_onnx_export import BATCH, export_session, max_error  # noqa: E402

RTOL = 4e-7  # float32: the graph computes what ember computes, up to a rounding or two


def rel_error(model, sess, x) -> float:
    """max |onnxruntime − ember| / max(1, |ember|): values reach ±30, where one ulp is 2e-6."""
    got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
    with ember.no_grad():
        want = flatten(model(x))[0].numpy()
    assert got.shape == want.shape and got.dtype == want.dtype
    return float((np.abs(got - want) / np.maximum(1.0, np.abs(want))).max())


def wide(*shape, seed=0):
    """Values from about −30 to 30 and the kinks themselves (0, ±0.5, ±3, 6, 20 …)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 8
    kinks = np.array([0.0, 0.5, -0.5, 3.0, -3.0, 6.0, -1.0, 1.0, 20.0, 25.0, -2.0, 2.5, 0.1])
    flat = x.reshape(-1)
    flat[: kinks.size] = kinks[: flat.size]
    return ember.tensor(x.astype(np.float32))


class Functional(nn.Module):
    """The functional forms inside a model's own forward, in-place ones included."""

    def forward(self, x):
        y = F.relu6(x.clone(), inplace=True) + F.hardswish(x) * F.hardsigmoid(x)
        return y + F.softplus(x, beta=0.5, threshold=3.0) - F.hardtanh(x, -0.5, 2.0)


class Clone(nn.Module):
    """An op before an in-place activation: the exporter's inputs are leaves that require
    grad while it traces, and an in-place op on such a leaf is refused (as torch's)."""

    def forward(self, x):
        return x.clone()


class PReLUConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.PReLU(4, init=0.1)
        self.shared = nn.PReLU()

    def forward(self, x):
        return self.shared(self.act(self.conv(x)) * 8)


ACTIVATIONS = [
    nn.PReLU(),
    nn.ReLU6(),
    nn.Sequential(Clone(), nn.ReLU6(inplace=True)),
    nn.Sequential(Clone(), nn.Hardswish(inplace=True), nn.Hardsigmoid(inplace=True)),
    nn.Hardsigmoid(),
    nn.Hardswish(),
    nn.Hardtanh(-2.0, 3.0),
    nn.Softplus(),
    nn.Softplus(beta=2.0, threshold=5.0),
    nn.Mish(),
    nn.Threshold(0.1, 2.0),
    nn.Hardshrink(),
    nn.Softshrink(0.5),
    nn.LeakyReLU(0.2),
    nn.ELU(0.5),
    nn.SELU(),
    nn.CELU(0.7),
    nn.SiLU(),
    nn.GELU(),
    nn.LogSigmoid(),
    Functional(),
]


def _prelu_weights(model):
    for m in model.modules():
        if isinstance(m, nn.PReLU):  # a slope that is not the initial one, one per channel
            m.weight.array[...] = np.linspace(-0.5, 0.75, m.weight.numel())


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda a: repr(a).replace(" ", ""))
def test_activation_matches_onnxruntime(tmp_path, act):
    model = nn.Sequential(act).eval()
    _prelu_weights(model)
    _, sess = export_session(
        model, wide(2, 5, 7), tmp_path / "a.onnx", input_names=["x"], output_names=["y"],
        dynamic_axes=BATCH,
    )  # fmt: skip
    assert rel_error(model, sess, wide(2, 5, 7, seed=1)) <= RTOL
    assert rel_error(model, sess, wide(6, 5, 7, seed=2)) <= RTOL  # another batch size


def test_prelu_per_channel_after_conv(tmp_path):
    model = PReLUConv().eval()
    _prelu_weights(model)
    proto, sess = export_session(
        model, ember.randn(2, 3, 5, 5), tmp_path / "p.onnx", input_names=["x"],
        output_names=["y"], dynamic_axes=BATCH,
    )  # fmt: skip
    assert sum(n.op_type == "PRelu" for n in proto.graph.node) == 2
    assert {"act.weight", "shared.weight"} <= {i.name for i in proto.graph.initializer}
    # the convolution's rounding, times 8: values up to ~30, where one ulp is 2e-6
    assert max_error(model, sess, ember.randn(2, 3, 5, 5)) <= 2e-6
    assert max_error(model, sess, ember.randn(5, 3, 5, 5)) <= 2e-6


def test_graph_is_right_beyond_the_traced_values(tmp_path):
    """Traced on small values only (no mask changes between the two runs), the graph must
    still be right where the comparisons flip: the mask is not baked in."""
    model = nn.Sequential(nn.Hardswish(), nn.Softplus(beta=1.0, threshold=1.0)).eval()
    _, sess = export_session(
        model, ember.randn(3, 4) * 0.1, tmp_path / "h.onnx", input_names=["x"],
        output_names=["y"], dynamic_axes=BATCH,
    )  # fmt: skip
    assert rel_error(model, sess, wide(3, 4)) <= RTOL


PIECEWISE = ["Hardtanh", "Hardsigmoid", "Hardswish", "Softplus", "Mish", "Threshold",
             "Hardshrink", "Softshrink", "PReLU"]  # fmt: skip


def test_activation_ops_are_listed_and_traced_as_ops(tmp_path):
    """Each activation is one op, listed and traced as such: its nodes come from the op's
    constants (no call of the Python function is watched for them any more)."""
    ops = ember.onnx.supported_ops()
    assert set(PIECEWISE) <= set(ops)
    assert not {"hardtanh", "prelu", "hardswish", "softplus"} & set(ops)
    model = nn.Sequential(nn.Hardtanh(-2.0, 3.0), nn.Softshrink(0.25)).eval()
    proto, _ = export_session(model, wide(2, 5), tmp_path / "t.onnx", input_names=["x"])
    types = [n.op_type for n in proto.graph.node]
    assert types[0] == "Clip" and types.count("Where") == 2 and "Sub" in types


class InplaceOnView(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        F.relu6(y[:, :2], inplace=True)  # written back into y: a SetItem
        return y


def test_inplace_activation_on_a_view_exports(tmp_path):
    """The activation converts, and writing it back into the viewed tensor (SetItem) is a
    ScatterElements at the slice's places (ember/onnx/ops_setitem.py), for any batch."""
    model = InplaceOnView().eval()
    x = ember.randn(3, 4) * 6
    proto, sess = export_session(
        model, (x,), tmp_path / "v.onnx", input_names=["x"], output_names=["y"], dynamic_axes=BATCH
    )
    assert "ScatterElements" in {n.op_type for n in proto.graph.node}
    for b in (3, 1, 7):
        assert rel_error(model, sess, ember.randn(b, 4) * 6) <= RTOL
