"""Under CPU autocast a float16 input gives torch a float32 loss for every loss (and cdist)
its float32 list names; ember composes these from primitives, which used to run in float16.
``amp.as_one_op`` casts each as one op, as torch does; the losses torch composes itself
(multilabel_soft_margin_loss, gaussian_nll_loss) stay float16 on both sides."""

import numpy as np
import pytest

import ember


def _cases(lib):
    F = lib.nn.functional
    r = np.random.default_rng(0)
    h = lib.tensor(r.standard_normal((4, 5)), dtype=lib.float16, requires_grad=True)
    t = lib.tensor(r.standard_normal((4, 5)), dtype=lib.float16)
    y = lib.tensor([1.0, -1, 1, -1], dtype=lib.float16)
    p = lib.tensor(np.full((4, 5), 0.2), dtype=lib.float16)
    cls = lib.tensor([0, 1, 2, 3])
    return {
        "mse_loss": lambda: F.mse_loss(h, t),
        "l1_loss": lambda: F.l1_loss(h, t),
        "smooth_l1_loss": lambda: F.smooth_l1_loss(h, t),
        "huber_loss": lambda: F.huber_loss(h, t),
        "kl_div": lambda: F.kl_div(h, p, reduction="batchmean"),
        "margin_ranking_loss": lambda: F.margin_ranking_loss(h[:, 0], t[:, 0], y),
        "hinge_embedding_loss": lambda: F.hinge_embedding_loss(h, t.sign()),
        "cosine_embedding_loss": lambda: F.cosine_embedding_loss(h, t, y),
        "triplet_margin_loss": lambda: F.triplet_margin_loss(h, t, t * 2),
        "poisson_nll_loss": lambda: F.poisson_nll_loss(h, t.abs()),
        "soft_margin_loss": lambda: F.soft_margin_loss(h, t.sign()),
        "multi_margin_loss": lambda: F.multi_margin_loss(h, cls),
        "multilabel_margin_loss": lambda: F.multilabel_margin_loss(
            h, lib.tensor([[0, 1, -1, 0, 0]] * 4)
        ),
        "cross_entropy (probabilities)": lambda: F.cross_entropy(h, p),
        "cross_entropy (classes)": lambda: F.cross_entropy(h, cls),
        "cdist": lambda: lib.cdist(h, t),
        "multilabel_soft_margin_loss": lambda: F.multilabel_soft_margin_loss(h, (t > 0).half()),
        "gaussian_nll_loss": lambda: F.gaussian_nll_loss(h, t, t.abs() + 0.1),
    }, h


@pytest.mark.parametrize("name", list(_cases(ember)[0]))
def test_losses_under_cpu_autocast_have_torchs_dtype_value_and_gradient(torch, name):
    results = []
    for lib in (ember, torch):
        cases, h = _cases(lib)
        with lib.autocast("cpu", dtype=lib.float16):
            out = cases[name]()
        out.sum().backward()
        results.append((str(out.dtype).removeprefix("torch."), out.detach().float(), h.grad))
    (dtype, value, grad), (tdtype, tvalue, tgrad) = results
    assert dtype == tdtype
    np.testing.assert_allclose(value.numpy(), tvalue.numpy(), rtol=2e-3, atol=2e-3)
    assert str(grad.dtype).removeprefix("torch.") == str(tgrad.dtype).removeprefix("torch.")
    np.testing.assert_allclose(grad.float().numpy(), tgrad.float().numpy(), rtol=1e-2, atol=2e-3)
