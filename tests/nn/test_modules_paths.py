"""ember.nn.modules at torch.nn.modules' paths: every name that a file of torch's exports (and
every base class it defines) that ember has resolves in ember's file of that name, to the
object ember.nn holds; each base class is a base of the same classes as torch's (the issubclass
table, generated from torch's classes); subclasses written on torch's bases (_Loss,
_WeightedLoss, _BatchNorm, the pads, …) behave as torch's; the .utils helpers give torch's
results on a grid of inputs; and ``ember.nn.modules`` is an attribute after ``import ember``."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import warnings
from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from ember import nn  # noqa: E402
from ember.nn import modules as M  # noqa: E402

FILES = [
    "activation", "adaptive", "batchnorm", "channelshuffle", "container", "conv", "distance",
    "dropout", "flatten", "fold", "instancenorm", "lazy", "linear", "linear_cross_entropy",
    "linear_cross_entropy_options", "loss", "module", "normalization", "padding",
    "pixelshuffle", "pooling", "rnn", "sparse", "transformer", "upsampling", "utils",
]  # fmt: skip

# what torch's files hold that ember lacks (each file's docstring names them too)
SKIPPED = {
    "CrossMapLRN2d": "a legacy Lua-torch layer",
    "_LazyProtocol": "a typing Protocol for torch's type checker",
    "_ConvTransposeMixin": "deprecated; no layer derives from it",
    "_ChunkViews": "LinearCrossEntropyLoss's chunking internals",
    "_ChunkContext": "LinearCrossEntropyLoss's chunking internals",
    "_AutoDefault": "a sentinel of LinearCrossEntropyOptions",
    "_WrappedHook": "torch's hook-wrapping internals",
    "register_module_backward_hook": "the deprecated non-full backward hook",
}


def torch_file(name: str):
    return importlib.import_module(f"torch.nn.modules.{name}")


def torch_names(name: str) -> list[str]:
    """What torch's file exports (__all__) and the classes it defines (its bases); for utils
    the functions it defines (its helpers)."""
    tm = torch_file(name)
    names = set(getattr(tm, "__all__", ()))
    for n, v in vars(tm).items():
        defined_here = getattr(v, "__module__", None) == tm.__name__
        if defined_here and (inspect.isclass(v) or (name == "utils" and callable(v))):
            names.add(n)
    return sorted(names)


@pytest.mark.parametrize("name", FILES)
def test_every_name_of_torchs_file_that_ember_has_resolves(name):
    ours = getattr(M, name)
    assert ours is importlib.import_module(f"ember.nn.modules.{name}")
    for n in torch_names(name):
        if n in SKIPPED:
            assert not hasattr(ours, n) and not hasattr(nn, n), f"{n} is here: unskip it"
            continue
        assert hasattr(ours, n), f"ember.nn.modules.{name}.{n}"
        if hasattr(torch.nn, n):  # a public name: ember.nn's object itself
            assert getattr(ours, n) is getattr(nn, n), n
    if hasattr(torch_file(name), "__all__"):
        theirs_all = [n for n in torch_file(name).__all__ if n not in SKIPPED]
        assert sorted(ours.__all__) == sorted(theirs_all)


def test_the_package_names_every_layer_as_torchs_does():
    names = [n for n in torch.nn.modules.__all__ if n not in SKIPPED]
    assert sorted(M.__all__) == sorted(names) and len(names) > 150
    for n in names:
        assert getattr(M, n) is getattr(nn, n), n
    assert M.Linear is M.linear.Linear is nn.Linear
    assert M.container.Sequential is nn.Sequential


# ---------------------------------------------------------------- the issubclass table


def _class_pairs(name: str) -> dict:
    """torch's class → ember's, for the classes of torch's file that ember's file has."""
    ours = getattr(M, name)
    pairs = {}
    for n in torch_names(name):
        theirs = getattr(torch_file(name), n)
        if inspect.isclass(theirs) and n not in SKIPPED and inspect.isclass(getattr(ours, n)):
            pairs[theirs] = getattr(ours, n)
    return pairs


def _every_class() -> dict:
    """Every torch.nn Module class that ember.nn has, and every class of the files."""
    pairs = {}
    for n in dir(torch.nn):
        theirs = getattr(torch.nn, n)
        if inspect.isclass(theirs) and issubclass(theirs, torch.nn.Module) and hasattr(nn, n):
            pairs[theirs] = getattr(nn, n)
    for name in FILES:
        pairs.update(_class_pairs(name))
    return pairs


EVERY_CLASS = _every_class()


@pytest.mark.parametrize("name", [f for f in FILES if f != "utils"])
def test_each_base_is_a_base_of_the_classes_torchs_is(name):
    wrong = []
    for torch_base, base in _class_pairs(name).items():
        for torch_cls, cls in EVERY_CLASS.items():
            if issubclass(torch_cls, torch_base) != issubclass(cls, base):
                wrong.append(f"issubclass({cls.__name__}, {name}.{torch_base.__name__})")
    assert not wrong, wrong


def test_the_table_covers_torchs_bases():
    assert len(EVERY_CLASS) > 170
    bases = {
        "batchnorm": ["_NormBase", "_BatchNorm", "_LazyNormBase"],
        "conv": ["_ConvNd", "_ConvTransposeNd", "_LazyConvXdMixin"],
        "dropout": ["_DropoutNd"],
        "instancenorm": ["_InstanceNorm"],
        "loss": ["_Loss", "_WeightedLoss"],
        "padding": ["_ConstantPadNd", "_ReflectionPadNd", "_ReplicationPadNd", "_CircularPadNd"],
        "pooling": [
            "_MaxPoolNd",
            "_MaxUnpoolNd",
            "_AvgPoolNd",
            "_LPPoolNd",
            "_AdaptiveMaxPoolNd",
            "_AdaptiveAvgPoolNd",
        ],  # fmt: skip
        "rnn": ["RNNBase", "RNNCellBase"],
        "lazy": ["LazyModuleMixin"],
    }
    for name, names in bases.items():
        torch_classes = {c.__name__ for c in _class_pairs(name)}
        assert set(names) <= torch_classes, (name, set(names) - torch_classes)


def test_the_examples_of_torch_code():
    from ember.nn.modules.batchnorm import _BatchNorm, _NormBase
    from ember.nn.modules.conv import _ConvNd, _ConvTransposeNd
    from ember.nn.modules.dropout import _DropoutNd
    from ember.nn.modules.loss import _Loss, _WeightedLoss

    norms = [nn.BatchNorm1d(2), nn.BatchNorm2d(2), nn.BatchNorm3d(2), nn.SyncBatchNorm(2),
             nn.LazyBatchNorm1d(), nn.LazyBatchNorm2d(), nn.LazyBatchNorm3d()]  # fmt: skip
    assert all(isinstance(m, _BatchNorm) and isinstance(m, _NormBase) for m in norms)
    assert isinstance(nn.InstanceNorm2d(2), _NormBase)
    assert not isinstance(nn.InstanceNorm2d(2), _BatchNorm)
    assert isinstance(nn.ConvTranspose2d(2, 2, 3), _ConvNd)
    assert isinstance(nn.ConvTranspose2d(2, 2, 3), _ConvTransposeNd)
    assert nn.ConvTranspose2d(2, 2, 3).transposed and not nn.Conv2d(2, 2, 3).transposed
    assert all(isinstance(m(), _DropoutNd) for m in (nn.Dropout, nn.AlphaDropout, nn.Dropout2d))
    assert isinstance(nn.CrossEntropyLoss(), _WeightedLoss) and isinstance(nn.MSELoss(), _Loss)
    assert not isinstance(nn.BCEWithLogitsLoss(), _WeightedLoss)
    assert not isinstance(nn.SiLU(), nn.ReLU) and isinstance(nn.ReLU6(), nn.Hardtanh)
    assert (nn.ReLU6().min_val, nn.ReLU6().max_val) == (0.0, 6.0)


@pytest.mark.parametrize("name", ["BatchNorm1d", "InstanceNorm2d"])
def test_a_lazy_norm_is_the_concrete_layer_only_once_built(name):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)[: 3 if name[-2] == "1" else 4])
    for lib, tensor in ((nn, ember.tensor), (torch.nn, torch.tensor)):
        m = getattr(lib, "Lazy" + name)()
        assert not isinstance(m, getattr(lib, name))
        m(tensor(x, dtype=m.weight.dtype if lib is nn else torch.float32))
        assert type(m) is getattr(lib, name)


# ---------------------------------------------------------------- subclasses of the bases


def my_loss(lib):
    class MyLoss(lib.nn.modules.loss._Loss):
        def forward(self, x, y):
            d = (x - y).abs()
            return {"mean": d.mean, "sum": d.sum}.get(self.reduction, lambda: d)()

    return MyLoss


def construct(cls, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = cls(*args, **kwargs)
    return m, [str(w.message) for w in caught]


LEGACY = [None, True, False]


@pytest.mark.parametrize("size_average", LEGACY)
@pytest.mark.parametrize("reduce", LEGACY)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_a_loss_on_loss_takes_torchs_arguments(size_average, reduce, reduction):
    x, y = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    e, e_warnings = construct(my_loss(ember), size_average, reduce, reduction)
    t, t_warnings = construct(my_loss(torch), size_average, reduce, reduction)
    assert e.reduction == t.reduction and e_warnings == t_warnings
    assert bool(e_warnings) == (size_average is not None or reduce is not None)
    got, want = e(ember.tensor(x), ember.tensor(y)), t(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(got.numpy(), want.numpy())
    e, _ = construct(my_loss(ember), reduce=reduce, reduction=reduction)
    t, _ = construct(my_loss(torch), reduce=reduce, reduction=reduction)
    assert e.reduction == t.reduction


def test_a_loss_on_loss_keeps_any_reduction_as_torchs():
    for lib in (ember, torch):
        assert my_loss(lib)().reduction == "mean"
        assert my_loss(lib)(reduction="batchmean").reduction == "batchmean"
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="batchmean")  # ember's own losses still check theirs


def my_weighted_loss(lib):
    class MyWeighted(lib.nn.modules.loss._WeightedLoss):
        def forward(self, x, t):
            return lib.nn.functional.nll_loss(x, t, self.weight, reduction=self.reduction)

    return MyWeighted


def test_a_loss_on_weighted_loss_keeps_the_weight_as_a_buffer():
    w = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    e, t = my_weighted_loss(ember)(ember.tensor(w)), my_weighted_loss(torch)(torch.tensor(w))
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()] == ["weight"]
    assert e.reduction == t.reduction == "mean" and list(e.parameters()) == []
    x = np.log(np.full((4, 3), 1 / 3.0)) + np.arange(12).reshape(4, 3) / 10
    target = np.array([0, 1, 2, 1])
    got = e(ember.tensor(x), ember.tensor(target)).numpy()
    want = t(torch.tensor(x, dtype=torch.float32), torch.tensor(target)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    e.load_state_dict({"weight": ember.tensor(w * 2)})
    np.testing.assert_array_equal(e.weight.numpy(), w * 2)
    assert e.double().weight.dtype == ember.float64 and t.double().weight.dtype == torch.float64
    for lib in (ember, torch):
        m, caught = construct(my_weighted_loss(lib), None, None, False)
        assert m.weight is None and list(m.state_dict()) == [] and m.reduction == "none"
        assert caught


@pytest.mark.parametrize(
    "name",
    [
        "CrossEntropyLoss",
        "NLLLoss",
        "BCELoss",
        "MultiLabelSoftMarginLoss",
        "MultiMarginLoss",
        "BCEWithLogitsLoss",
    ],  # fmt: skip
)
def test_the_weights_of_torchs_losses_are_in_the_state_dict_as_torchs(name):
    w = np.ones(3, dtype=np.float32)
    for kwargs in ({}, {"weight": w}, {"weight": w, "pos_weight": w}):
        if "pos_weight" in kwargs and name != "BCEWithLogitsLoss":
            continue
        e = getattr(nn, name)(**{k: ember.tensor(v) for k, v in kwargs.items()})
        t = getattr(torch.nn, name)(**{k: torch.tensor(v) for k, v in kwargs.items()})
        assert list(e.state_dict()) == list(t.state_dict())


def test_a_batch_norm_on_batch_norm_uses_its_own_input_check():
    def my_norm(lib):
        class MyNorm(lib.nn.modules.batchnorm._BatchNorm):
            def _check_input_dim(self, input):  # noqa: A002
                if input.dim() != 3:
                    raise ValueError("3-D only")

        return MyNorm

    x = np.random.default_rng(1).standard_normal((4, 2, 5)).astype(np.float32)
    e, t = my_norm(ember)(2), my_norm(torch)(2)
    got, want = e(ember.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert repr(e) == repr(t)
    for m, tensor in ((e, ember.tensor), (t, torch.tensor)):
        with pytest.raises(ValueError, match="3-D only"):
            m(tensor(x[0]))


def my_pads(lib):
    P = lib.nn.modules.padding

    class Constant(P._ConstantPadNd):
        def __init__(self, padding):
            super().__init__(1.5)
            self.padding = padding

    class Reflection(P._ReflectionPadNd):
        def __init__(self, padding):
            super().__init__()
            self.padding = padding

    class Replication(P._ReplicationPadNd):
        def __init__(self, padding):
            super().__init__()
            self.padding = padding

    return Constant, Reflection, Replication


@pytest.mark.parametrize("padding", [(1, 2), (2, 1, 0, 1)])
def test_pads_on_torchs_pad_bases(padding):
    shape = (2, 3, 4, 5)[: 2 + len(padding) // 2]
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    for ours, theirs in zip(my_pads(ember), my_pads(torch)):
        e, t = ours(padding), theirs(padding)
        np.testing.assert_array_equal(e(ember.tensor(x)).numpy(), t(torch.tensor(x)).numpy())
        assert repr(e) == repr(t)


def test_other_layers_on_torchs_bases():
    def layers(lib):
        Mo = lib.nn.modules

        class Drop(Mo.dropout._DropoutNd):
            def forward(self, x):
                return lib.nn.functional.dropout(x, self.p, self.training, self.inplace)

        class Pool(Mo.pooling._MaxPoolNd):
            def forward(self, x):
                return lib.nn.functional.max_pool2d(x, self.kernel_size, self.stride)

        class Adaptive(Mo.pooling._AdaptiveAvgPoolNd):
            def forward(self, x):
                return lib.nn.functional.adaptive_avg_pool2d(x, self.output_size)

        return Drop(0.25), Pool(2), Adaptive((2, 3))

    x = np.arange(2 * 3 * 4 * 6, dtype=np.float32).reshape(2, 3, 4, 6)
    for e, t in zip(layers(ember), layers(torch)):
        e.eval(), t.eval()
        assert repr(e) == repr(t)
        np.testing.assert_allclose(e(ember.tensor(x)).numpy(), t(torch.tensor(x)).numpy())


# ---------------------------------------------------------------- utils


def outcome(fn, *args):
    """What ``fn(*args)`` gives, or the error it raises (type and message)."""
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - compared with torch's
        return type(e), str(e)


TUPLE_INPUTS = [3, 1.5, None, True, "ab", (1, 2), [1, 2, 3], (), range(2), np.int64(2)]


@pytest.mark.parametrize("x", TUPLE_INPUTS, ids=repr)
def test_the_tuple_helpers_as_torchs(x):
    U, TU = M.utils, torch_file("utils")
    for name in ("_single", "_pair", "_triple", "_quadruple"):
        assert getattr(U, name).__name__ == getattr(TU, name).__name__ == name
        assert getattr(U, name)(x) == getattr(TU, name)(x)
    for n in range(5):
        assert U._ntuple(n)(x) == TU._ntuple(n)(x)
        assert U._ntuple(n).__name__ == TU._ntuple(n).__name__ == "parse"
        assert U._ntuple(n, "mine")(iter([x])) == TU._ntuple(n, "mine")(iter([x]))


def test_reverse_repeat_tuple_as_torchs():
    U, TU = M.utils, torch_file("utils")
    for t in [(), (1,), (1, 2, 3), [4, 5], range(3)]:
        for n in range(4):
            assert U._reverse_repeat_tuple(t, n) == TU._reverse_repeat_tuple(t, n)


@pytest.mark.parametrize(
    "out_size, defaults",
    [
        (5, [1, 2]),
        ([None, 3], [1, 2, 7, 8]),
        ((None,), [1, 2]),
        ([None, None], [1, 2, 3]),
        ([4], (9, 9)),
        ([None, 3], [1, 2]),
        ([None], [1]),
        (None, [1, 2]),
        ((), [1]),
        ([None, 2, None], [5, 6, 7, 8]),
    ],  # fmt: skip
)
def test_list_with_default_as_torchs(out_size, defaults):
    got = outcome(M.utils._list_with_default, out_size, defaults)
    want = outcome(torch_file("utils")._list_with_default, out_size, defaults)
    assert got == want


def state_dicts():
    plain = {"module.a": 1, "b": 2, "module.module.c": 3, "modulex": 4}
    with_metadata = OrderedDict(plain)
    with_metadata._metadata = OrderedDict(
        [("", {"v": 0}), ("module", {"v": 1}), ("module.x", {}), ("modulex", {}), ("y", {})]
    )
    return [plain, OrderedDict(plain), with_metadata, {}]


@pytest.mark.parametrize("prefix", ["module.", "module", "a.", "", "missing."])
@pytest.mark.parametrize("which", range(4))
def test_consume_prefix_as_torchs(prefix, which):
    ours, theirs = state_dicts()[which], state_dicts()[which]
    assert M.utils.consume_prefix_in_state_dict_if_present(ours, prefix) is None
    torch_file("utils").consume_prefix_in_state_dict_if_present(theirs, prefix)
    assert list(ours.items()) == list(theirs.items())
    if hasattr(theirs, "_metadata"):
        assert list(ours._metadata.items()) == list(theirs._metadata.items())


# ---------------------------------------------------------------- as an attribute


@pytest.mark.parametrize(
    "code",
    [
        "import ember; ember.nn.modules.conv._ConvNd; ember.nn.modules.utils._pair; "
        "assert ember.nn.modules.Linear is ember.nn.Linear",
        "from ember.nn.modules.batchnorm import _BatchNorm; import ember; "
        "assert isinstance(ember.nn.BatchNorm2d(2), _BatchNorm)",
        "from ember.nn.modules.loss import _Loss, _WeightedLoss; import ember.nn.modules.utils",
    ],
)
def test_in_a_fresh_interpreter(code):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
