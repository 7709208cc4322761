"""nn.SyncBatchNorm in one process (tests/distributed/test_distributed_syncbn.py runs it on
several): the synchronised op's hand-written backward against finite differences, with a
second rank's statistics standing in as constants; its statistics formula in float32 where
Σx²/M − μ² fails; without a process group, BatchNorm1d/2d/3d exactly; convert_sync_batchnorm
on nested modules; torch's errors."""

import numpy as np
import pytest

import ember
from ember import nn
from ember.ops import sync_batchnorm as S
from ember.tensor import apply


class OtherRanks:
    """SyncBatchNorm's messages with the other ranks' batches held fixed: gather stacks their
    statistics around this rank's (at index ``me``); their ∂L/∂y is zero (their outputs are
    not in the function checked), so the backward's sums are this rank's own."""

    def __init__(self, others: list, me: int) -> None:
        self.rows = [S.local_moments(o) for o in others]
        self.me = me

    def gather(self, mine):
        return np.stack(self.rows[: self.me] + [mine] + self.rows[self.me :])

    def all_reduce(self, sums) -> None:
        pass


def sync_op(x, gamma, beta, comm, eps=1e-5):
    return apply(S.SyncBatchNorm, x, gamma, beta, eps=eps, comm=comm)[0]


@pytest.mark.parametrize(
    ("shape", "others", "me"),
    [((3, 2, 3), [(5, 2, 3)], 0), ((2, 3), [(4, 3), (1, 3)], 1), ((2, 2, 2, 2), [], 0)],
    ids=["ncl-rank0-of-2", "nc-rank1-of-3", "nchw-alone"],
)
def test_gradcheck_of_the_synchronised_op(shape, others, me):
    g = np.random.default_rng(0)
    rest = [g.standard_normal(s) + 1 for s in others]
    comm = OtherRanks(rest, me)
    x = ember.tensor(g.standard_normal(shape), requires_grad=True)
    gamma = ember.tensor(g.uniform(0.5, 1.5, shape[1]), requires_grad=True)
    beta = ember.tensor(g.standard_normal(shape[1]), requires_grad=True)
    assert ember.gradcheck(lambda *a: sync_op(*a, comm), (x, gamma, beta))
    assert ember.gradcheck(lambda a: sync_op(a, None, None, comm), (x,))
    # the forward is batch norm of the whole batch, at this rank's rows
    whole = np.concatenate(rest[:me] + [x.detach().numpy()] + rest[me:])
    axes = (0,) + tuple(range(2, len(shape)))
    mu, var = whole.mean(axes, keepdims=True), whole.var(axes, keepdims=True)
    start = sum(len(r) for r in rest[:me])
    want = (whole[start : start + shape[0]] - mu[0]) / np.sqrt(var[0] + 1e-5)
    got = sync_op(x, None, None, comm).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_the_combined_variance_is_stable_in_float32():
    # mean 3000, std 1: Σx²/M − μ² in float32 keeps no correct digit of σ²
    g = np.random.default_rng(1)
    parts = [(g.standard_normal((n, 2, 5)) + 3000).astype(np.float32) for n in (3, 7, 2)]
    whole = np.concatenate(parts).astype(np.float64)
    mu, m2, m = S.combine_moments(np.stack([S.local_moments(p) for p in parts]))
    assert m == whole.size / 2
    np.testing.assert_allclose(mu, whole.mean((0, 2)), rtol=1e-7)
    np.testing.assert_allclose(m2 / m, whole.var((0, 2)), rtol=1e-6)
    flat = np.concatenate(parts).swapaxes(0, 1).reshape(2, -1)
    naive = (flat * flat).mean(1) - flat.mean(1) ** 2  # what one all_reduce of Σx² would give
    assert np.max(np.abs(naive / whole.var((0, 2)) - 1)) > 0.1


@pytest.mark.parametrize(
    ("cls", "shape", "kw"),
    [
        (nn.BatchNorm1d, (6, 3), {}),
        (nn.BatchNorm1d, (6, 3, 7), {"momentum": None}),
        (nn.BatchNorm2d, (6, 3, 4, 5), {"affine": False}),
        (nn.BatchNorm3d, (2, 3, 2, 3, 4), {"track_running_stats": False}),
    ],
)
def test_without_a_process_group_it_is_batchnorm_exactly(cls, shape, kw):
    g = np.random.default_rng(2)
    a, w = g.standard_normal(shape), g.standard_normal(shape)
    results = []
    for layer in (nn.SyncBatchNorm(3, **kw).double(), cls(3, **kw).double()):
        got = []
        for step in range(2):
            x = ember.tensor(a * (step + 1), requires_grad=True)
            y = layer(x)
            (y * ember.tensor(w)).sum().backward()
            got += [y.detach().numpy(), x.grad.numpy()]
        got += [p.grad.numpy() for p in layer.parameters()]
        layer.eval()
        got += [layer(ember.tensor(a)).detach().numpy()] + [b.numpy() for b in layer.buffers()]
        results.append(got)
    assert len(results[0]) == len(results[1])
    for mine, plain in zip(*results):
        np.testing.assert_array_equal(mine, plain)


def test_gradcheck_of_the_layer_in_one_process():
    layer = nn.SyncBatchNorm(3).double()
    x = ember.tensor(np.random.default_rng(3).standard_normal((4, 3, 2)), requires_grad=True)
    assert ember.gradcheck(lambda a: layer(a), (x,))


class Net(nn.Module):
    """Batch norms in every place a module can keep one."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3))
        self.blocks = nn.ModuleList([nn.Sequential(nn.Identity(), nn.BatchNorm2d(3))])
        self.heads = nn.ModuleDict({"a": nn.BatchNorm2d(3, momentum=None)})
        self.listed = [nn.BatchNorm2d(3, affine=False)]
        self.keyed = {"k": nn.BatchNorm2d(3, eps=1e-3)}
        self.paired = (nn.Identity(), nn.BatchNorm2d(3, track_running_stats=False))
        self.twice = self.stem[1]  # the same layer under a second name

    def forward(self, x):
        x = self.blocks[0](self.stem(x))
        x = self.heads["a"](x) + self.listed[0](x) + self.keyed["k"](x)
        return self.twice(self.paired[1](x))


def test_convert_sync_batchnorm_replaces_every_batchnorm_and_keeps_its_state():
    net = Net().double()
    net(ember.ones(2, 3, 2, 2).double())  # some running statistics
    net.blocks[0].eval()
    before = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    tensors = {k: id(v) for k, v in net.state_dict(keep_vars=True).items()}
    old = dict(net.named_modules())
    group = object()
    out = nn.SyncBatchNorm.convert_sync_batchnorm(net, process_group=group)
    assert out is net
    converted = {k: m for k, m in net.named_modules() if isinstance(old.get(k), nn.BatchNorm2d)}
    assert sorted(converted) == sorted(k for k, m in old.items() if isinstance(m, nn.BatchNorm2d))
    for name, m in converted.items():
        assert type(m) is nn.SyncBatchNorm, name
        assert m.process_group is group
        for attr in ("num_features", "eps", "momentum", "affine", "track_running_stats"):
            assert getattr(m, attr) == getattr(old[name], attr), (name, attr)
        assert m.training == old[name].training, name
    assert net.twice is net.stem[1]  # still one layer
    assert not net.blocks[0][1].training and net.stem[1].training
    assert {k: id(v) for k, v in net.state_dict(keep_vars=True).items()} == tensors
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), before[k])
    single = nn.BatchNorm1d(4)
    assert isinstance(nn.SyncBatchNorm.convert_sync_batchnorm(single), nn.SyncBatchNorm)
    again = nn.SyncBatchNorm(4)
    assert type(nn.SyncBatchNorm.convert_sync_batchnorm(again)) is nn.SyncBatchNorm


def test_torchs_errors(torch):
    for lib in (ember, torch):
        layer = lib.nn.SyncBatchNorm(3)
        with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
            layer(lib.ones(3))
        with pytest.raises(ValueError, match="number of input channels should be non-zero"):
            layer(lib.ones(2, 0))
    with pytest.raises(ValueError, match=r"SyncBatchNorm\(3\): input has 4 channels"):
        nn.SyncBatchNorm(3)(ember.ones(2, 4))
