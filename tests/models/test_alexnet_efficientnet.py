"""AlexNet and EfficientNet: torchvision's layouts (re-written in plain torch here, as
torchvision is not installed) load into ember with equal outputs and gradients; the published
parameter counts; torchvision's initialisation; the blocks; the small variants learn."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.optim
from ember.models.alexnet import AlexNet, alexnet, alexnet_small
from ember.models.blocks import SqueezeExcitation, StochasticDepth, stochastic_depth
from ember.models.efficientnet import (
    B0_SETTING,
    MBConvConfig,
    efficientnet,
    efficientnet_b0,
    efficientnet_b1,
    efficientnet_small,
)
from ember.models.registry import MODELS
from tests.models.cnn_reference import randomise_bn

TORCHVISION_WIDTHS = (64, 192, 384, 256, 256)


def _torch_alexnet(torch, num_classes=1000, dropout=0.5, lrn=False, widths=TORCHVISION_WIDTHS,
                   hidden=4096):  # fmt: skip
    """torchvision.models.AlexNet, with ``widths``/``hidden`` to shrink it and LRN to add it."""
    tnn = torch.nn
    c1, c2, c3, c4, c5 = widths

    def relu_lrn():
        if not lrn:
            return tnn.ReLU(inplace=True)
        return tnn.Sequential(tnn.ReLU(), tnn.LocalResponseNorm(5, 1e-4, 0.75, 2.0))

    class TAlexNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(
                tnn.Conv2d(3, c1, kernel_size=11, stride=4, padding=2), relu_lrn(),
                tnn.MaxPool2d(kernel_size=3, stride=2),
                tnn.Conv2d(c1, c2, kernel_size=5, padding=2), relu_lrn(),
                tnn.MaxPool2d(kernel_size=3, stride=2),
                tnn.Conv2d(c2, c3, kernel_size=3, padding=1), tnn.ReLU(inplace=True),
                tnn.Conv2d(c3, c4, kernel_size=3, padding=1), tnn.ReLU(inplace=True),
                tnn.Conv2d(c4, c5, kernel_size=3, padding=1), tnn.ReLU(inplace=True),
                tnn.MaxPool2d(kernel_size=3, stride=2),
            )  # fmt: skip
            self.avgpool = tnn.AdaptiveAvgPool2d((6, 6))
            self.classifier = tnn.Sequential(
                tnn.Dropout(p=dropout), tnn.Linear(c5 * 6 * 6, hidden), tnn.ReLU(inplace=True),
                tnn.Dropout(p=dropout), tnn.Linear(hidden, hidden), tnn.ReLU(inplace=True),
                tnn.Linear(hidden, num_classes),
            )  # fmt: skip

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    return TAlexNet()


def _torch_efficientnet(torch, width, depth, num_classes=1000, dropout=0.2, sd_prob=0.2):
    """torchvision.models.EfficientNet (B0 table, MBConv, SqueezeExcitation, StochasticDepth
    in 'row' mode, Conv2dNormActivation) and its initialisation, written out in torch.nn."""
    import copy
    import math

    tnn = torch.nn

    def make_div(v, d=8):
        new_v = max(d, int(v + d / 2) // d * d)
        return new_v + d if new_v < 0.9 * v else new_v

    def cna(cin, cout, k, stride=1, groups=1, act=True):
        layers = [tnn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                  tnn.BatchNorm2d(cout)]  # fmt: skip
        return tnn.Sequential(*layers, *([tnn.SiLU(inplace=True)] if act else []))

    class TSE(tnn.Module):
        def __init__(self, c, cs):
            super().__init__()
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.fc1, self.fc2 = tnn.Conv2d(c, cs, 1), tnn.Conv2d(cs, c, 1)
            self.activation, self.scale_activation = tnn.SiLU(inplace=True), tnn.Sigmoid()

        def forward(self, x):
            s = self.fc2(self.activation(self.fc1(self.avgpool(x))))
            return self.scale_activation(s) * x

    class TStochasticDepth(tnn.Module):
        def __init__(self, p):
            super().__init__()
            self.p = p

        def forward(self, x):
            if not self.training or self.p == 0.0:
                return x
            keep = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype).bernoulli_(1 - self.p)
            return x * keep / (1 - self.p)

    class TMBConv(tnn.Module):
        def __init__(self, cnf, p):
            super().__init__()
            t, k, s, cin, cout, _ = cnf
            self.use_res_connect = s == 1 and cin == cout
            cexp = make_div(cin * t)
            layers = [cna(cin, cexp, 1)] if cexp != cin else []
            layers += [cna(cexp, cexp, k, s, cexp), TSE(cexp, max(1, cin // 4))]
            layers.append(cna(cexp, cout, 1, act=False))
            self.block = tnn.Sequential(*layers)
            self.stochastic_depth = TStochasticDepth(p)

        def forward(self, x):
            y = self.block(x)
            if self.use_res_connect:
                y = self.stochastic_depth(y)
                y += x
            return y

    class TEfficientNet(tnn.Module):
        def __init__(self):
            super().__init__()
            setting = [[t, k, s, make_div(ci * width), make_div(co * width), math.ceil(n * depth)]
                       for t, k, s, ci, co, n in B0_SETTING]  # fmt: skip
            layers = [cna(3, setting[0][3], 3, 2)]
            total, block_id = sum(c[5] for c in setting), 0
            for cnf in setting:
                stage = []
                for _ in range(cnf[5]):
                    cnf = copy.copy(cnf)
                    if stage:
                        cnf[3], cnf[2] = cnf[4], 1
                    stage.append(TMBConv(cnf, sd_prob * float(block_id) / total))
                    block_id += 1
                layers.append(tnn.Sequential(*stage))
            c_last = setting[-1][4]
            layers.append(cna(c_last, 4 * c_last, 1))
            self.features = tnn.Sequential(*layers)
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.classifier = tnn.Sequential(
                tnn.Dropout(p=dropout, inplace=True), tnn.Linear(4 * c_last, num_classes)
            )

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    return TEfficientNet()


def _load(torch, ours, theirs):
    """The same keys in the same order with the same shapes; the torch weights load."""
    tstate = theirs.state_dict()
    assert list(ours.state_dict()) == list(tstate)
    for k, t in ours.state_dict().items():
        assert tuple(t.shape) == tuple(tstate[k].shape), k
    result = ours.load_state_dict(tstate)
    assert not result.missing_keys and not result.unexpected_keys


def _compare_eval(torch, ours, theirs, size, rtol=1e-4):
    x = np.random.default_rng(1).standard_normal((2, 3, size, size)).astype(np.float32)
    ours.eval(), theirs.eval()
    with ember.no_grad():
        y = ours(ember.Tensor(x)).array
    with torch.no_grad():
        ty = theirs(torch.tensor(x)).numpy()
    assert y.dtype == np.float32 and y.shape == ty.shape
    np.testing.assert_allclose(y, ty, rtol=rtol, atol=rtol * float(np.abs(ty).max()))


def _compare_train(torch, ours, theirs, size):
    """Train mode in float64: outputs, the input's and every parameter's gradient, BN stats."""
    ours.double().train(), theirs.double().train()
    x = np.random.default_rng(2).standard_normal((2, 3, size, size))
    ex, tx = ember.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = ours(ex), theirs(tx)
    np.testing.assert_allclose(ey.array, ty.detach().numpy(), rtol=1e-9, atol=1e-9)
    w = np.random.default_rng(3).standard_normal(ey.shape)
    (ey * ember.Tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), rtol=1e-7, atol=1e-9)
    tgrads = {k: p.grad.numpy() for k, p in theirs.named_parameters()}
    for k, p in ours.named_parameters():
        floor = 1e-10 * float(np.abs(tgrads[k]).max())  # BN over few values: large, cancelling
        np.testing.assert_allclose(p.grad.array, tgrads[k], rtol=1e-7, atol=max(1e-10, floor),
                                   err_msg=k)  # fmt: skip
    tstate = theirs.state_dict()
    for k, t in ours.state_dict().items():
        np.testing.assert_allclose(t.array, tstate[k].numpy(), rtol=1e-9, atol=1e-12, err_msg=k)


def _count(model):
    return sum(int(np.prod(p.shape)) for p in model.parameters())


# ---------------------------------------------------------------- AlexNet


def test_alexnet_is_torchvisions(torch):
    torch.manual_seed(0)
    theirs, ours = _torch_alexnet(torch), alexnet()
    assert _count(ours) == sum(p.numel() for p in theirs.parameters()) == 61_100_840
    _load(torch, ours, theirs)
    _compare_eval(torch, ours, theirs, 64)  # 64×64 reaches 1×1 before the 6×6 adaptive pool


@pytest.mark.parametrize("lrn", [False, True])
def test_narrow_alexnet_trains_as_torch(torch, lrn):
    """The same network at widths a test can run in float64, LRN as the 2012 paper or not."""
    torch.manual_seed(1)
    widths, hidden = (8, 16, 24, 16, 16), 32
    theirs = _torch_alexnet(torch, 5, 0.0, lrn, widths, hidden)
    ours = AlexNet(5, 0.0, lrn, widths=widths, hidden=hidden)
    _load(torch, ours, theirs)
    with torch.no_grad():  # larger activations, so LRN's divisor is far from k^β
        for p in theirs.features.parameters():
            p.mul_(4.0)
    ours.load_state_dict(theirs.state_dict())
    _compare_eval(torch, ours, theirs, 67)
    _compare_train(torch, ours, theirs, 67)


def test_alexnet_lrn_keeps_torchvisions_names(torch):
    """LRN sits inside slots 1 and 4, so torchvision's (LRN-less) state_dict still loads."""
    theirs = _torch_alexnet(torch, 3, widths=(8, 16, 24, 16, 16), hidden=8)
    original = AlexNet(3, lrn=True, widths=(8, 16, 24, 16, 16), hidden=8)
    _load(torch, original, theirs)
    assert "LocalResponseNorm(5, alpha=0.0001, beta=0.75, k=2.0)" in repr(original.features[1])


# ---------------------------------------------------------------- EfficientNet


@pytest.mark.parametrize("variant, count", [("b0", 5_288_548), ("b1", 7_794_184)])
def test_efficientnet_is_torchvisions(torch, variant, count):
    width, depth = {"b0": (1.0, 1.0), "b1": (1.0, 1.1)}[variant]
    torch.manual_seed(0)
    theirs = _torch_efficientnet(torch, width, depth, num_classes=1000, dropout=0.0, sd_prob=0.0)
    build = {"b0": efficientnet_b0, "b1": efficientnet_b1}[variant]
    ours = build(dropout=0.0, stochastic_depth_prob=0.0)
    assert _count(ours) == sum(p.numel() for p in theirs.parameters()) == count
    randomise_bn(torch, theirs)
    _load(torch, ours, theirs)
    _compare_eval(torch, ours, theirs, 64)
    _compare_train(torch, ours, theirs, 64)  # 2×2 at the end: BN over 2 samples at 1×1 is ill-posed


def test_efficientnet_stochastic_depth_schedule_and_presets():
    model = efficientnet_b0()
    ps = [m.p for m in model.modules() if isinstance(m, StochasticDepth)]
    assert len(ps) == 16 and ps[0] == 0.0
    np.testing.assert_allclose(ps, 0.2 * np.arange(16) / 16)
    assert model.classifier[0].p == 0.2 and efficientnet("b3").classifier[0].p == 0.3
    b5_bn = efficientnet("b5", num_classes=2).features[0][1]
    assert (b5_bn.eps, b5_bn.momentum) == (1e-3, 0.01)
    assert MBConvConfig.scaled(6, 5, 2, 40, 80, 3, 1.1, 1.2) == MBConvConfig(6, 5, 2, 48, 88, 4)
    with pytest.raises(ValueError, match="variant"):
        efficientnet("b9")


def test_efficientnet_initialisation_is_torchvisions():
    model = efficientnet_b0()
    w = model.features[8][0].weight.array  # 1×1 conv 320 → 1280: He-normal over fan_out
    assert abs(w.std() / np.sqrt(2.0 / 1280) - 1) < 0.01 and abs(w.mean()) < 1e-3
    dw = model.features[6][0].block[1][0].weight.array  # depthwise 5×5 on 672: fan_out = 672·25
    assert abs(dw.std() / np.sqrt(2.0 / (672 * 25)) - 1) < 0.02
    lin = model.classifier[1].weight.array
    bound = 1 / np.sqrt(1000)
    assert np.abs(lin).max() <= bound and abs(lin.std() / (bound / np.sqrt(3)) - 1) < 0.01
    assert not np.any(model.classifier[1].bias.array)
    se = model.features[1][0].block[1]
    assert isinstance(se, SqueezeExcitation) and not np.any(se.fc1.bias.array)
    bn = model.features[0][1]
    assert np.all(bn.weight.array == 1) and not np.any(bn.bias.array)


# ---------------------------------------------------------------- blocks


def test_stochastic_depth_semantics():
    x = ember.ones(4000, 3, 2, 2)
    y = stochastic_depth(x, 0.25, "row").array
    rows = y.reshape(4000, -1)
    assert np.all(rows == rows[:, :1])  # one draw per sample
    np.testing.assert_allclose(np.unique(rows), [0.0, 1 / 0.75], rtol=1e-7)
    assert abs((rows[:, 0] == 0).mean() - 0.25) < 0.03
    batch = stochastic_depth(x, 0.5, "batch").array
    assert np.unique(batch).size == 1 and batch.flat[0] in (0.0, 2.0)
    assert not np.any(stochastic_depth(x, 1.0, "row").array)
    layer = StochasticDepth(0.5, "row")
    assert stochastic_depth(x, 0.5, "row", training=False) is x and repr(layer) == (
        "StochasticDepth(p=0.5, mode=row)"
    )
    assert layer.eval()(x) is x
    ember.manual_seed(7)
    a = layer.train()(x).array
    ember.manual_seed(7)
    np.testing.assert_array_equal(a, layer(x).array)  # drawn from ember's seeded generator
    with pytest.raises(ValueError, match="mode"):
        stochastic_depth(x, 0.5, "col")
    with pytest.raises(ValueError, match="between 0 and 1"):
        StochasticDepth(1.5, "row")(x)


def test_stochastic_depth_gradient_follows_the_mask():
    x = ember.Tensor(np.ones((50, 3)), requires_grad=True)
    y = stochastic_depth(x, 0.5, "row")
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, y.array)  # ∂y/∂x = m / (1 − p)


# ---------------------------------------------------------------- small variants


@pytest.mark.parametrize(
    "name, options",
    [
        ("alexnet_small", {"dropout": 0.0}),
        ("alexnet_small", {"lrn": True, "dropout": 0.0}),
        ("efficientnet_small", {}),  # with its dropout and stochastic depth
    ],
)
def test_small_variants_are_registered_and_learn(name, options):
    builder = MODELS[name]["builder"]
    assert (
        builder is {"alexnet_small": alexnet_small, "efficientnet_small": efficientnet_small}[name]
    )
    model = builder(num_classes=3, input_shape=(1, 28, 28), **options)  # as `ember train` calls
    rng = np.random.default_rng(0)
    x = ember.Tensor(rng.standard_normal((8, 1, 28, 28)).astype(np.float32))
    y = ember.Tensor(rng.integers(0, 3, 8))
    assert model(x.reshape(8, 784)).shape == (8, 3)  # flat rows and (N, H, W) are accepted
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(20):
        loss = ember.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_small_variant_input_errors():
    with pytest.raises(ValueError, match="too small"):
        alexnet_small(input_size=6)
    with pytest.raises(ValueError, match="input_shape"):
        efficientnet_small(input_shape=(784,))
    with pytest.raises(ValueError, match="expected input of shape"):
        alexnet_small()(ember.randn(2, 3, 28, 28))
