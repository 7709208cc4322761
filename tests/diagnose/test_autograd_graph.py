"""autograd_graph: the ops behind a result, by depth, with the leaves named from the model;
as text and as a PNG; shared tensors appear once; deep recurrences walk without recursion."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.diagnose import autograd_graph


def _mlp_loss():
    m = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    loss = F.cross_entropy(m(ember.randn(5, 4)), ember.tensor([0, 1, 0, 1, 1]))
    return m, loss


def test_an_mlp_graph_names_its_ops_shapes_and_parameters():
    m, loss = _mlp_loss()
    g = autograd_graph(loss, m)
    assert str(g) == "\n".join(
        [
            "CrossEntropy ()",
            "  Linear (5, 2)",
            "    Tanh (5, 8)",
            "      Linear (5, 8)",
            "        0.weight (8, 4)",
            "        0.bias (8,)",
            "    2.weight (2, 8)",
            "    2.bias (2,)",
        ]
    )
    assert sorted(n.label for n in g.leaves()) == sorted(dict(m.named_parameters()))
    assert len(g.ops()) == 4 and len(g.edges) == 7
    depth = {n.label: n.depth for n in g.nodes.values()}
    assert depth["CrossEntropy"] == 0 and depth["Tanh"] == 2 and depth["0.weight"] == 4
    loss.backward()  # the structure stays after backward
    assert str(autograd_graph(loss, m)) == str(g)


def test_a_tensor_used_twice_is_one_node_whose_gradients_add():
    w = ember.randn(3, requires_grad=True)
    y = (w * w).sum() + w.sum()
    g = autograd_graph(y, {"w": w})
    assert [n.label for n in g.leaves()] == ["w"]
    assert sum(1 for a, _ in g.edges if g.nodes[a].label == "w") == 3  # three uses
    assert str(g).count("w (3,) (see above)") == 2
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * w.detach().numpy() + 1, rtol=1e-6)


def test_a_long_recurrence_walks_without_recursion():
    h, w = ember.zeros(2), ember.randn(2, requires_grad=True)
    for _ in range(3000):
        h = (h + w).tanh()
    g = autograd_graph(h.sum())
    assert len(g.ops()) == 6001 and max(n.depth for n in g.nodes.values()) == 6001


def test_the_figure_is_a_png(tmp_path):
    m, loss = _mlp_loss()
    path = autograd_graph(loss, m).save_png(tmp_path / "graph.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_errors_say_what_came():
    with pytest.raises(ValueError, match="no grad_fn"):
        autograd_graph(ember.randn(2, requires_grad=True))
    with pytest.raises(TypeError, match="expects an ember Tensor, got ndarray"):
        autograd_graph(np.ones(2))
