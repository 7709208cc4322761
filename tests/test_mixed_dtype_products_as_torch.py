"""Products refuse operands of different dtypes, as torch's do: ember used to promote
float32 with float64 (or an int tensor with a float one) to a float64 result without a word,
hiding a model fed float64 data. The layers already refused a float64 input; their class is
now torch's RuntimeError as well as ember's TypeError, and a bias of another dtype is refused
too (torch's conv_transpose1d/2d cast it, and so does ember)."""

import pytest

import ember


def _mixed(lib):
    F = lib.nn.functional
    a32, a64, w = lib.ones(2, 3), lib.ones(2, 3, dtype=lib.float64), lib.ones(4, 3)
    return [
        ("@", lambda: a64 @ w.t()),
        ("matmul", lambda: lib.matmul(a64, w.t())),
        ("mm", lambda: lib.mm(a64, w.t())),
        ("bmm", lambda: lib.bmm(a64[None], w.t()[None])),
        ("matmul int and float", lambda: lib.ones(2, 3, dtype=lib.int64) @ w.t()),
        ("matmul float16", lambda: lib.ones(2, 3, dtype=lib.float16) @ w.t()),
        ("dot", lambda: lib.dot(a64[0], a32[0])),
        ("inner", lambda: lib.inner(a64, w)),
        ("einsum", lambda: lib.einsum("ij,kj->ik", a64, w)),
        ("tensordot", lambda: lib.tensordot(a64, w, dims=([1], [1]))),
        ("multi_dot", lambda: lib.linalg.multi_dot([a64, w.t()])),
        ("addmm", lambda: lib.addmm(lib.ones(2, 4), a64, w.t())),
        ("bilinear", lambda: F.bilinear(a64, a32, lib.ones(4, 3, 3))),
        ("linear", lambda: F.linear(a64, w)),
        ("linear bias", lambda: F.linear(a32, w, lib.ones(4, dtype=lib.float64))),
        ("Linear", lambda: lib.nn.Linear(3, 4)(a64)),
        ("conv1d", lambda: F.conv1d(lib.ones(1, 3, 5, dtype=lib.float64), lib.ones(2, 3, 2))),
        ("conv2d bias", lambda: F.conv2d(
            lib.ones(1, 3, 5, 5), lib.ones(2, 3, 2, 2), lib.ones(2, dtype=lib.float64))),
        ("conv_transpose2d", lambda: F.conv_transpose2d(
            lib.ones(1, 3, 5, 5, dtype=lib.float64), lib.ones(3, 2, 2, 2))),
        ("conv_transpose3d bias", lambda: F.conv_transpose3d(
            lib.ones(1, 3, 5, 5, 5), lib.ones(3, 2, 2, 2, 2), lib.ones(2, dtype=lib.float64))),
        ("layer_norm", lambda: F.layer_norm(a64, (3,), lib.ones(3))),
    ]  # fmt: skip


@pytest.mark.parametrize("k", range(len(_mixed(ember))))
def test_products_of_mixed_dtypes_are_refused_as_torch(refused_alike, k):
    refused_alike(_mixed, k)


def test_the_refusal_is_also_embers_type_error_and_names_both_dtypes():
    with pytest.raises(TypeError, match="float64 and float32"):
        ember.ones(2, 3, dtype=ember.float64) @ ember.ones(3, 2)


def test_what_torch_takes_is_taken(torch):
    for lib in (ember, torch):
        F = lib.nn.functional
        x, w = lib.ones(1, 3, 5), lib.ones(3, 2, 2)
        for bias_dtype in (lib.float64, lib.float16):  # conv_transpose1d/2d cast the bias
            y = F.conv_transpose1d(x, w, lib.ones(2, dtype=bias_dtype))
            assert str(y.dtype).endswith("float32") and y.flatten()[:3].tolist() == [4, 7, 7]
        ints = lib.ones(2, 3, dtype=lib.int64) @ lib.ones(3, 2, dtype=lib.int64)
        assert str(ints.dtype).endswith("int64") and ints.tolist() == [[3, 3], [3, 3]]
        assert str(lib.outer(lib.ones(2, dtype=lib.float64), lib.ones(2)).dtype).endswith("64")
        with lib.autocast("cpu", dtype=lib.float16):  # the policy casts both first
            assert str((lib.ones(2, 3, dtype=lib.float16) @ lib.ones(3, 2)).dtype).endswith("16")
