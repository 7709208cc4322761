"""The backend seam: only backend.py (and host-side file IO) names NumPy, SciPy or CuPy, so
swapping the array module (CuPy on a GPU) reaches every op, function, layer and optimizer."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ember"
# maths with gradients, layers, optimizers and the tensor core: array work goes through xp
SEAM_PACKAGES = ["ops", "functional", "nn", "optim", "distributions", "linalg"]
CORE_FILES = sorted(p.name for p in ROOT.glob("*.py"))
HOST_SIDE = {
    "backend.py",
    "backend_blas.py",
    "backend_errors.py",
    "backend_memory.py",
    "backend_random.py",
    "backend_special.py",
    "serialization.py",
    "safetensors_read.py",
    "serialization_torch.py",
}  # the seam; safetensors' file IO (host bytes parsed into NumPy arrays)
ARRAY_LIBRARIES = {"numpy", "scipy", "cupy", "cupyx"}


def _imported_libraries(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & ARRAY_LIBRARIES


@pytest.mark.parametrize(
    "path",
    [p for pkg in SEAM_PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    + [ROOT / name for name in CORE_FILES if name not in HOST_SIDE],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_array_work_goes_through_backend(path):
    found = _imported_libraries(path)
    assert not found, f"{path.relative_to(ROOT)} imports {sorted(found)}; use backend.xp"


def test_the_scan_sees_imports():
    # the checker itself: backend.py does import NumPy and SciPy
    assert {"numpy", "scipy"} <= _imported_libraries(ROOT / "backend.py")
