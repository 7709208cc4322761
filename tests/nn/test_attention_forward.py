"""F.multi_head_attention_forward against torch's: outputs, weights and float64 gradients of
the inputs and of every given weight."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF

E, H, L, S, N = 8, 2, 4, 5, 3


def _arrays(kdim=E, vdim=E, separate=False, bias_kv=False, seed=0):
    rng = np.random.default_rng(seed)
    a = {
        "query": rng.standard_normal((L, N, E)),
        "key": rng.standard_normal((S, N, kdim)),
        "value": rng.standard_normal((S, N, vdim)),
        "in_proj_bias": rng.standard_normal(3 * E) * 0.1,
        "out_proj_weight": rng.standard_normal((E, E)) / np.sqrt(E),
        "out_proj_bias": rng.standard_normal(E) * 0.1,
    }
    if separate:
        a["q_proj_weight"] = rng.standard_normal((E, E)) / np.sqrt(E)
        a["k_proj_weight"] = rng.standard_normal((E, kdim)) / np.sqrt(kdim)
        a["v_proj_weight"] = rng.standard_normal((E, vdim)) / np.sqrt(vdim)
    else:
        a["in_proj_weight"] = rng.standard_normal((3 * E, E)) / np.sqrt(E)
    if bias_kv:
        a["bias_k"] = rng.standard_normal((1, 1, E))
        a["bias_v"] = rng.standard_normal((1, 1, E))
    return a


CASES = {
    "self": dict(self_attention=True),
    "cross_kdim": dict(kdim=6, vdim=5, separate=True),
    "bias_kv_zero_attn": dict(bias_kv=True, add_zero_attn=True),
    "padding_and_bool_mask": dict(key_padding=True, bool_mask=True),
    "float_mask_per_head": dict(float_mask=True, average=False),
    "causal_hint": dict(self_attention=True, causal=True),
    "no_weights": dict(need_weights=False),
    "unbatched": dict(unbatched=True),
}


def _call(lib, fn, arrays, case, torch=None):
    tensor = (lambda a: torch.tensor(a, requires_grad=True)) if lib == "torch" else (
        lambda a: ember.tensor(a, requires_grad=True))  # fmt: skip
    t = {k: tensor(v) for k, v in arrays.items()}
    make = (lambda a: torch.tensor(a)) if lib == "torch" else ember.tensor
    q, k, v = t["query"], t["key"], t["value"]
    if case.get("self_attention"):
        k = v = q
    if case.get("unbatched"):
        q, k, v = q[:, 0], k[:, 0], v[:, 0]
    s = q.shape[0] if case.get("self_attention") else S
    kw = {}
    if case.get("key_padding"):
        pad = np.zeros((N, S), bool)
        pad[0, -2:] = True
        kw["key_padding_mask"] = make(pad)
    if case.get("bool_mask"):
        kw["attn_mask"] = make(np.triu(np.ones((L, s), bool), 2))
    if case.get("float_mask"):
        kw["attn_mask"] = make(np.random.default_rng(9).standard_normal((N * H, L, s)))
    if case.get("causal"):
        kw["attn_mask"] = make(np.triu(np.ones((L, s), bool), 1))
        kw["is_causal"], kw["need_weights"] = True, False
    if "need_weights" in case:
        kw["need_weights"] = case["need_weights"]
    out, w = fn(
        q, k, v, E, H, t.get("in_proj_weight"), t["in_proj_bias"], t.get("bias_k"),
        t.get("bias_v"), case.get("add_zero_attn", False), 0.0, t["out_proj_weight"],
        t["out_proj_bias"], training=True, use_separate_proj_weight="q_proj_weight" in t,
        q_proj_weight=t.get("q_proj_weight"), k_proj_weight=t.get("k_proj_weight"),
        v_proj_weight=t.get("v_proj_weight"), average_attn_weights=case.get("average", True),
        **kw,
    )  # fmt: skip
    g = np.random.default_rng(7).standard_normal(tuple(out.shape))
    (out * make(g)).sum().backward()
    grads = {k: v.grad.numpy() for k, v in t.items() if v.grad is not None}
    return out.detach().numpy(), None if w is None else w.detach().numpy(), grads


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(torch, name):
    case = CASES[name]
    arrays = _arrays(
        case.get("kdim", E), case.get("vdim", E), case.get("separate", False),
        case.get("bias_kv", False),
    )  # fmt: skip
    got = _call("ember", EF.multi_head_attention_forward, arrays, case)
    want = _call("torch", torch.nn.functional.multi_head_attention_forward, arrays, case, torch)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-12)
    assert (got[1] is None) == (want[1] is None)
    if want[1] is not None:
        np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-12)
    assert set(got[2]) == set(want[2])
    for key in want[2]:
        np.testing.assert_allclose(got[2][key], want[2][key], rtol=1e-9, atol=1e-11, err_msg=key)


def test_refusals_say_what_is_wrong(torch):
    a = {k: ember.tensor(v) for k, v in _arrays().items()}
    args = (a["query"], a["key"], a["value"])
    rest = (H, a["in_proj_weight"], a["in_proj_bias"], None, None, False, 0.0,
            a["out_proj_weight"], a["out_proj_bias"])  # fmt: skip
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 6, but got 8"):
        EF.multi_head_attention_forward(*args, 6, *rest)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        EF.multi_head_attention_forward(*args, E, *rest, is_causal=True)
    with pytest.raises(NotImplementedError, match="static_k"):
        EF.multi_head_attention_forward(*args, E, *rest, static_k=a["key"])
