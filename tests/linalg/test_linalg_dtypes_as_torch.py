"""Which dtypes ember.linalg takes, as torch.linalg 2.13: float16 is refused where torch's
LAPACK kernels have no half version (ember let NumPy's TypeError through, or computed lu in
float16) and taken where torch computes it (norms, multi_dot, matrix_power); integers are
refused with torch's NotImplementedError where torch raises it (a RuntimeError too, as ember
raised), and multi_dot multiplies integer matrices, as torch's."""

import pytest

import ember

_FUNCTIONS = {
    "inv": lambda L, A, b: L.inv(A),
    "det": lambda L, A, b: L.det(A),
    "slogdet": lambda L, A, b: L.slogdet(A),
    "solve": lambda L, A, b: L.solve(A, b),
    "cholesky": lambda L, A, b: L.cholesky(A),
    "qr": lambda L, A, b: L.qr(A),
    "svd": lambda L, A, b: L.svd(A),
    "eigh": lambda L, A, b: L.eigh(A),
    "eigvalsh": lambda L, A, b: L.eigvalsh(A),
    "eig": lambda L, A, b: L.eig(A),
    "pinv": lambda L, A, b: L.pinv(A),
    "lstsq": lambda L, A, b: L.lstsq(A, b),
    "solve_triangular": lambda L, A, b: L.solve_triangular(A, b, upper=True),
    "lu_factor": lambda L, A, b: L.lu_factor(A),
    "lu": lambda L, A, b: L.lu(A),
    "householder_product": lambda L, A, b: L.householder_product(A, A[:, 0]),
    "tensorinv": lambda L, A, b: L.tensorinv(A, 1),
    "cond": lambda L, A, b: L.cond(A),
    "matrix_norm": lambda L, A, b: L.matrix_norm(A),
    "vector_norm": lambda L, A, b: L.vector_norm(A),
    "matrix_power": lambda L, A, b: L.matrix_power(A, 2),
    "multi_dot": lambda L, A, b: L.multi_dot([A, A]),
}


def _outcome(lib, dtype: str, name: str):
    A = (lib.eye(3, dtype=lib.float64) * 2 + 0.1).to(getattr(lib, dtype))
    b = lib.ones(3, 2, dtype=lib.float64).to(getattr(lib, dtype))
    try:
        _FUNCTIONS[name](lib.linalg, A, b)
    except RuntimeError as e:  # NotImplementedError is one too
        return type(e)
    return None


@pytest.mark.parametrize("dtype", ["float16", "int64", "int32"])
@pytest.mark.parametrize("name", list(_FUNCTIONS))
def test_linalg_takes_and_refuses_dtypes_as_torch(torch, dtype, name):
    refused = _outcome(torch, dtype, name)
    got = _outcome(ember, dtype, name)
    if refused is None:
        assert got is None
    else:
        assert got is not None and issubclass(got, refused)


def test_a_float16_refusal_is_still_the_type_error_numpy_gave():
    with pytest.raises(TypeError, match="float16"):
        ember.linalg.inv(ember.eye(3, dtype=ember.float16))
