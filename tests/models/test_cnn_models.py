"""CNN models: torch state_dicts load with equal outputs; every model trains."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.optim
from ember.models import get_model
from tests.models.cnn_reference import randomise_bn


def _torch_resnet(torch, layers, num_classes, in_channels, width, stem):
    """torchvision's BasicBlock ResNet, written out with torch.nn (torchvision is not installed)."""
    tnn = torch.nn

    class TBasicBlock(tnn.Module):
        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            return self.relu(out + identity)

    class TResNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.inplanes = width
            if stem == "imagenet":
                self.conv1 = tnn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
                self.maxpool = tnn.MaxPool2d(3, 2, 1)
            else:
                self.conv1 = tnn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
                self.maxpool = tnn.Identity()
            self.bn1 = tnn.BatchNorm2d(width)
            self.relu = tnn.ReLU(inplace=True)
            self.stages = []
            for i, n in enumerate(layers):
                setattr(
                    self, f"layer{i + 1}", self._make_layer(width * 2**i, n, 1 if i == 0 else 2)
                )
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(width * 2 ** (len(layers) - 1), num_classes)

        def _make_layer(self, planes, blocks, stride):
            down = None
            if stride != 1 or self.inplanes != planes:
                down = tnn.Sequential(
                    tnn.Conv2d(self.inplanes, planes, 1, stride, bias=False),
                    tnn.BatchNorm2d(planes),
                )
            mods = [TBasicBlock(self.inplanes, planes, stride, down)]
            self.inplanes = planes
            mods += [TBasicBlock(planes, planes) for _ in range(1, blocks)]
            return tnn.Sequential(*mods)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            for i in range(len(layers)):
                x = getattr(self, f"layer{i + 1}")(x)
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return TResNet()


@pytest.mark.parametrize(
    "layers,width,stem,size", [((2, 2, 2, 2), 8, "imagenet", 32), ((1, 2, 1), 6, "small", 13)]
)
def test_torch_resnet_state_dict_loads_with_equal_outputs(torch, layers, width, stem, size):
    torch.manual_seed(0)  # the same weights whichever worker runs this test, in whatever order
    theirs = _torch_resnet(torch, layers, 7, 3, width, stem)
    randomise_bn(torch, theirs)
    ours = ember.models.ResNet(layers, 7, 3, width, stem)
    result = ours.load_state_dict(theirs.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    theirs.eval()
    ours.eval()
    with ember.no_grad():
        y = ours(ember.Tensor(x)).array
    with torch.no_grad():
        ty = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(y, ty, rtol=1e-4, atol=1e-4)
    # train mode in float64 (BN over 2 samples at 1×1 amplifies float32 rounding): batch
    # statistics, the same running-statistic updates, the same gradients
    theirs.double().train()
    ours.double().train()
    x = x.astype(np.float64)
    ex, tx = ember.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = ours(ex), theirs(tx)
    np.testing.assert_allclose(ey.array, ty.detach().numpy(), rtol=1e-9, atol=1e-9)
    ey.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), rtol=1e-8, atol=1e-9)
    tgrads = {k: p.grad.numpy() for k, p in theirs.named_parameters()}
    for k, p in ours.named_parameters():
        # these gradients reach ~1e3 (BN over 2 samples at 1×1), so an element that cancels to
        # ~1e-2 keeps only float64's rounding of the large terms: the absolute floor scales with
        # the gradient's size, 1e-11 of it (summation order differs between BLAS builds)
        floor = 1e-11 * float(np.abs(tgrads[k]).max())
        np.testing.assert_allclose(
            p.grad.array, tgrads[k], rtol=1e-8, atol=max(1e-9, floor), err_msg=k
        )
    tstate = theirs.state_dict()
    for k, t in ours.state_dict().items():
        np.testing.assert_allclose(t.array, tstate[k].numpy(), rtol=1e-9, atol=1e-9, err_msg=k)


def test_lenet_matches_torch(torch):
    tnn = torch.nn
    theirs = tnn.Sequential()
    theirs.conv1, theirs.r1, theirs.pool1 = (
        tnn.Conv2d(1, 6, 5, padding=2),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
    )
    theirs.conv2, theirs.r2, theirs.pool2 = tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2)
    theirs.flat = tnn.Flatten()
    theirs.fc1, theirs.r3 = tnn.Linear(400, 120), tnn.ReLU()
    theirs.fc2, theirs.r4, theirs.fc3 = tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10)
    ours = get_model("lenet")["builder"]()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(
        ours(ember.Tensor(x)).array, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5
    )


def test_mnist1d_cnn_and_mlp_match_torch(torch):
    tnn = torch.nn

    class TConv(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv1d(1, 25, 5, stride=2, padding=1)
            self.conv2 = tnn.Conv1d(25, 25, 3, stride=2, padding=1)
            self.conv3 = tnn.Conv1d(25, 25, 3, stride=2, padding=1)
            self.linear = tnn.Linear(125, 10)

        def forward(self, x):
            x = x.view(-1, 1, x.shape[-1])
            h = self.conv3(self.conv2(self.conv1(x).relu()).relu()).relu()
            return self.linear(h.view(h.shape[0], -1))

    class TMLP(tnn.Module):
        def __init__(self):
            super().__init__()
            self.linear1, self.linear2, self.linear3 = (
                tnn.Linear(40, 256),
                tnn.Linear(256, 256),
                tnn.Linear(256, 10),
            )

        def forward(self, x):
            h = self.linear1(x).relu()
            return self.linear3(h + self.linear2(h).relu())

    x = np.random.default_rng(0).standard_normal((5, 40)).astype(np.float32)
    for name, theirs in (("cnn1d", TConv()), ("mlp1d", TMLP())):
        ours = get_model(name)["builder"]()
        ours.load_state_dict(theirs.state_dict())
        np.testing.assert_allclose(
            ours(ember.Tensor(x)).array,
            theirs(torch.tensor(x)).detach().numpy(),
            rtol=1e-4,
            atol=1e-5,
        )


@pytest.mark.parametrize(
    "name,options,shape",
    [
        ("lenet", {}, (16, 1, 28, 28)),
        ("lenet", {"input_size": 8}, (16, 64)),
        ("lenet", {"input_shape": (40,)}, (16, 40)),
        ("resnet", {"width": 4, "layers": (1, 1)}, (16, 1, 12, 12)),
        ("resnet", {"input_shape": (1, 40), "width": 16, "layers": (1,)}, (16, 1, 40)),
        ("vgg", {"cfg": (4, "M", 8, "M")}, (16, 1, 12, 12)),
        ("cnn1d", {}, (16, 40)),
        ("mlp1d", {}, (16, 40)),
    ],
)
def test_models_build_from_registry_and_learn(name, options, shape):
    """A few Adam steps on a fixed batch must lower the loss (the models can learn)."""
    model = get_model(name)["builder"](num_classes=3, **options)
    rng = np.random.default_rng(0)
    x = ember.Tensor(rng.standard_normal(shape).astype(np.float32))
    y = ember.Tensor(rng.integers(0, 3, shape[0]))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = ember.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses


def test_model_input_errors():
    with pytest.raises(ValueError, match="too small"):
        get_model("lenet")["builder"](input_size=2)
    with pytest.raises(ValueError, match="expected input of shape"):
        get_model("lenet")["builder"]()(ember.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match="depth"):
        get_model("resnet")["builder"](depth=50)


def test_frozen_convolutions_get_no_gradient_and_no_update():
    """Transfer learning's mechanism: requires_grad_(False) layers stay as they were."""
    model = get_model("lenet")["builder"]()
    model.conv1.requires_grad_(False)
    model.conv2.requires_grad_(False)
    frozen = {k: p.array.copy() for k, p in model.named_parameters() if k.startswith("conv")}
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(trainable) == 6  # fc1, fc2, fc3 weights and biases
    opt = ember.optim.SGD(trainable, lr=0.1, momentum=0.9)
    x = ember.randn(4, 1, 28, 28)
    y = ember.Tensor(np.array([0, 1, 2, 3]))
    head_before = model.fc1.weight.array.copy()
    for _ in range(2):
        loss = ember.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for k, p in model.named_parameters():
        if k.startswith("conv"):
            assert p.grad is None and (p.array == frozen[k]).all(), k
    assert not (model.fc1.weight.array == head_before).all()


def test_vgg_loads_a_torch_vgg_built_the_same_way(torch):
    tnn = torch.nn
    cfg = (4, "M", 8, 8, "M")
    layers, c = [], 1
    for v in cfg:
        if v == "M":
            layers.append(tnn.MaxPool2d(2, 2))
        else:
            layers += [tnn.Conv2d(c, v, 3, padding=1), tnn.BatchNorm2d(v), tnn.ReLU()]
            c = v

    class TVGG(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(*layers)
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.classifier = tnn.Sequential(
                tnn.Linear(8, 16), tnn.ReLU(), tnn.Dropout(0.5), tnn.Linear(16, 3)
            )

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    theirs = TVGG().eval()
    randomise_bn(torch, theirs)
    ours = get_model("vgg")["builder"](cfg=cfg, hidden=16, num_classes=3).eval()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 1, 12, 12)).astype(np.float32)
    with ember.no_grad():
        y = ours(ember.Tensor(x)).array
    np.testing.assert_allclose(y, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
