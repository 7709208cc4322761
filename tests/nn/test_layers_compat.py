"""nn.Buffer, nn.DataParallel, nn.SyncBatchNorm and nn.NLLLoss2d against torch."""

import numpy as np
import pytest

import ember
import ember.nn as nn

X = np.random.default_rng(0).standard_normal((6, 3, 4, 5))


def test_buffers_assigned_as_nn_buffer_follow_persistent_as_torch(torch):
    def build(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Buffer(lib.ones(2))
                self.b = lib.nn.Buffer(lib.zeros(1), persistent=False)
                self.empty = lib.nn.Buffer()

        return M()

    ours, theirs = build(ember), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["a", "empty"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert tuple(ours.empty.shape) == tuple(theirs.empty.shape) == (0,)
    assert ours.empty.dtype == np.float32 and not ours.a.requires_grad
    t = ember.ones(3)
    assert np.shares_memory(nn.Buffer(t).array, t.array)  # the data is shared, as torch's
    ours.load_state_dict({"a": ember.full((2,), 3.0), "empty": ember.zeros(0)})
    assert ours.a.tolist() == [3.0, 3.0]


def test_data_parallel_runs_the_module_and_prefixes_its_state(torch):
    lin = torch.nn.Linear(4, 3).double()
    ours = nn.DataParallel(nn.Linear(4, 3).to(ember.float64), device_ids=[0])
    theirs = torch.nn.DataParallel(lin)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["module.weight", "module.bias"]
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(1).standard_normal((5, 4))
    np.testing.assert_allclose(
        ours(ember.tensor(x)).detach().numpy(),
        theirs(torch.tensor(x)).detach().numpy(),
        rtol=1e-12,
    )
    assert ours.device_ids == theirs.device_ids == []
    assert repr(ours).startswith("DataParallel(\n  (module): Linear(")


@pytest.mark.parametrize("shape", [(6, 3), (6, 3, 7), (6, 3, 4, 5), (2, 3, 2, 3, 4)])
def test_sync_batch_norm_is_batch_norm_for_one_process(torch, shape):
    a = np.random.default_rng(2).standard_normal(shape)
    ours, theirs = nn.SyncBatchNorm(3).to(ember.float64), torch.nn.SyncBatchNorm(3).double()
    xe, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    w = np.random.default_rng(3).standard_normal(shape)
    (ours(xe) * ember.tensor(w)).sum().backward()
    (theirs(xt) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy())
    assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
        ours(ember.ones(3))
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
        theirs(torch.ones(3))


def test_convert_sync_batchnorm_keeps_the_statistics(torch):
    def build(lib):
        return lib.nn.Sequential(lib.nn.Conv2d(3, 3, 1), lib.nn.BatchNorm2d(3))

    ours, theirs = build(ember), build(torch)
    ours.load_state_dict(theirs.state_dict())
    ours(ember.tensor(X.astype(np.float32)))  # some running statistics first
    before = {k: v.detach().numpy().copy() for k, v in ours.state_dict().items()}
    ours[1].eval()
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(ours)
    t_converted = torch.nn.SyncBatchNorm.convert_sync_batchnorm(theirs)
    assert repr(converted) == repr(t_converted)
    assert isinstance(converted[1], nn.SyncBatchNorm) and not converted[1].training
    for k, v in converted.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), before[k])
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(4))
    assert isinstance(single, nn.SyncBatchNorm)


def test_nll_loss_2d_is_nll_loss_with_torch_warning(torch):
    logp = np.log(np.random.default_rng(4).dirichlet(np.ones(3), size=(2, 4, 5))).transpose(
        0, 3, 1, 2
    )
    target = np.random.default_rng(5).integers(0, 3, (2, 4, 5))
    with pytest.warns(FutureWarning, match="NLLLoss2d` has been deprecated"):
        ours = nn.NLLLoss2d()
    theirs = torch.nn.NLLLoss()
    np.testing.assert_allclose(
        ours(ember.tensor(logp), ember.tensor(target)).item(),
        theirs(torch.tensor(logp), torch.tensor(target)).item(),
        rtol=1e-12,
    )


def test_module_repr_is_laid_out_as_torch(torch):
    """extra_repr on its own line under Name( when there are children, as torch prints it."""
    ours = nn.LinearCrossEntropyLoss(4, 3)
    theirs = torch.nn.LinearCrossEntropyLoss(4, 3)
    assert repr(ours) == repr(theirs)
    seq = [ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.ReLU()),
           torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())]  # fmt: skip
    assert repr(seq[0]) == repr(seq[1])
    assert repr(nn.Linear(2, 3)) == repr(torch.nn.Linear(2, 3))
