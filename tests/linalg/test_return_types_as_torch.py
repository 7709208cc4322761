"""ember.linalg's named results carry torch's type names (torch.return_types.linalg_slogdet …),
so their reprs and type(r).__name__ read as torch's; ember named them SlogdetResult, EighResult …
(found by the sort/search fuzz)."""

import pytest

import ember

_CALLS = {
    "slogdet": lambda L, x: L.linalg.slogdet(x),
    "eigh": lambda L, x: L.linalg.eigh(x),
    "eig": lambda L, x: L.linalg.eig(x),
    "qr": lambda L, x: L.linalg.qr(x),
    "svd": lambda L, x: L.linalg.svd(x),
    "lstsq": lambda L, x: L.linalg.lstsq(x, x),
    "ldl_factor": lambda L, x: L.linalg.ldl_factor(x),
    "ldl_factor_ex": lambda L, x: L.linalg.ldl_factor_ex(x),
    "lu_factor": lambda L, x: L.linalg.lu_factor(x),
    "lu_factor_ex": lambda L, x: L.linalg.lu_factor_ex(x),
    "lu": lambda L, x: L.linalg.lu(x),
    "inv_ex": lambda L, x: L.linalg.inv_ex(x),
    "cholesky_ex": lambda L, x: L.linalg.cholesky_ex(x),
    "solve_ex": lambda L, x: L.linalg.solve_ex(x, x),
}


@pytest.mark.parametrize("name", sorted(_CALLS))
def test_linalg_results_have_torchs_type_names(torch, name):
    results = [_CALLS[name](L, L.tensor([[2.0, 1.0], [1.0, 3.0]])) for L in (ember, torch)]
    assert type(results[0]).__name__ == type(results[1]).__name__ == f"linalg_{name}"
    assert all(hasattr(results[1], field) for field in results[0]._fields)
    assert len(results[0]) == len(results[1])


@pytest.mark.parametrize("name", sorted(_CALLS))
def test_linalg_results_still_pickle(name):
    """The torch type names must not hide the types from pickle (found in review)."""
    import pickle

    result = _CALLS[name](ember, ember.tensor([[2.0, 1.0], [1.0, 3.0]]))
    again = pickle.loads(pickle.dumps(result))
    assert type(again) is type(result) and len(again) == len(result)
