"""Small torch surfaces, each against torch: nn.attention's SDPBackend and sdpa_kernel (MATH runs
the composed form, the fused backends the fused op, none raises), func.functionalize and
replace_all_batch_norm_modules_, parametrize.type_before_parametrizations and
transfer_parametrizations_and_params, and the torch.utils.data.distributed path."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember.nn.attention import SDPBackend, sdpa_kernel
from ember.nn.utils import parametrizations as P
from ember.nn.utils import parametrize

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(8)


def test_sdpa_kernel_chooses_the_implementation_as_torch_orders_backends():
    q = ember.tensor(RNG.standard_normal((2, 2, 5, 4)), requires_grad=True)
    fused = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert "ScaledDotProduct" in type(fused.grad_fn).__name__
    for backends, prio, composed in (
        (SDPBackend.MATH, False, True),
        ([SDPBackend.FLASH_ATTENTION], False, False),
        ([SDPBackend.MATH, SDPBackend.EFFICIENT_ATTENTION], False, False),  # default order
        ([SDPBackend.MATH, SDPBackend.FLASH_ATTENTION], True, True),  # the list's order
    ):
        with sdpa_kernel(backends, set_priority=prio):
            out = F.scaled_dot_product_attention(q, q, q, is_causal=True)
        assert ("ScaledDotProduct" not in type(out.grad_fn).__name__) == composed
        np.testing.assert_allclose(out.array, fused.array, atol=1e-12)
    assert [b.value for b in SDPBackend] == [-1, 0, 1, 2, 3, 4]
    for lib, kernel in ((ember, sdpa_kernel), (torch, torch.nn.attention.sdpa_kernel)):
        x = lib.zeros(1, 1, 2, 2)
        with kernel([]), pytest.raises(RuntimeError, match="No viable backend"):
            lib.nn.functional.scaled_dot_product_attention(x, x, x)
        with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
            with kernel("math"):
                pass


def test_functionalize_keeps_values_and_checks_remove():
    def f(x):
        y = x.clone()
        y.add_(1)
        return y * 2

    x = ember.tensor([1.0, 2.0])
    np.testing.assert_array_equal(ember.func.functionalize(f)(x).array, [4.0, 6.0])
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="received invalid argument for remove=views"):
            lib.func.functionalize(f, remove="views")


def test_replace_all_batch_norm_modules_as_torch():
    for lib in (ember, torch):
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU())
        assert lib.func.replace_all_batch_norm_modules_(m) is m
        bn = m[1]
        assert bn.running_mean is None and bn.running_var is None
        assert bn.num_batches_tracked is None and not bn.track_running_stats
    e = ember.func.replace_all_batch_norm_modules_(nn.BatchNorm1d(4)).eval()
    x = RNG.standard_normal((6, 4))
    t = torch.func.replace_all_batch_norm_modules_(torch.nn.BatchNorm1d(4).double()).eval()
    np.testing.assert_allclose(e.double()(ember.tensor(x)).array,
                               t(torch.tensor(x)).detach().numpy(), atol=1e-10)  # fmt: skip


def test_type_before_and_transfer_of_parametrizations_as_torch():
    a, b = nn.Linear(4, 4).double(), nn.Linear(4, 4).double()
    P.orthogonal(a)
    assert type(a).__name__ == "ParametrizedLinear"
    assert parametrize.type_before_parametrizations(a) is nn.Linear
    assert parametrize.type_before_parametrizations(b) is nn.Linear
    parametrize.transfer_parametrizations_and_params(a, b)
    assert parametrize.is_parametrized(b, "weight")
    assert b.parametrizations.weight.original is a.parametrizations.weight.original
    np.testing.assert_allclose(b.weight.array, a.weight.array, atol=0)
    c = nn.Linear(4, 4)
    P.weight_norm(c)
    d = nn.Module()
    parametrize.transfer_parametrizations_and_params(c, d, "weight")  # d had no weight
    np.testing.assert_allclose(d.weight.array, c.weight.array)
    assert d.parametrizations.weight.original1 is c.parametrizations.weight.original1


def test_utils_data_distributed_path():
    from ember.utils.data.distributed import DistributedSampler

    assert DistributedSampler is ember.data.DistributedSampler
