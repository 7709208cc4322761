"""Shared fixtures: torch (test-only reference), the shared data folder, seeding."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import ember

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """../shared/data beside the checkout (override with EMBER_SHARED_DATA)."""
    env = os.environ.get("EMBER_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    d = shared_data_dir()
    if not d.is_dir():
        pytest.skip(f"shared data folder not found at {d}")
    return d


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture(scope="session")
def torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


@pytest.fixture
def refused_alike(torch):
    """``check(make, k, cls=RuntimeError)``: the k-th (name, call) pair of ``make(ember)`` and
    of ``make(torch)`` names the same mistake, and both calls raise ``cls`` (torch's class;
    ember's dual error classes are that and ember's older one at once)."""

    def check(make, k: int, cls=RuntimeError) -> None:
        (name, call), (tname, tcall) = make(ember)[k], make(torch)[k]
        assert name == tname
        with pytest.raises(cls):
            tcall()
        with pytest.raises(cls):
            call()

    return check


def _let_tests_read_device_arrays() -> None:
    """On the GPU (EMBER_DEVICE=cuda) the tests compare with NumPy (np.testing, np.asarray) on
    ember's device arrays, which CuPy refuses to convert implicitly. Give *test code* the host
    copy that ``.numpy()`` would give; a conversion asked for from ember's own code still
    raises, so the library's host/device mistakes are not hidden. The first frame outside
    NumPy, CuPy and site-packages decides."""
    if not ember.backend.ON_GPU:
        return
    import sys

    import cupy

    refuse = cupy.ndarray.__array__

    def host_copy_for_tests(self, dtype=None, copy=None):
        frame = sys._getframe(1)
        while frame is not None and ("site-packages" in frame.f_code.co_filename
                                     or "/numpy/" in frame.f_code.co_filename):  # fmt: skip
            frame = frame.f_back
        if frame is None or f"{os.sep}tests{os.sep}" not in frame.f_code.co_filename:
            return refuse(self, dtype)
        a = self.get()
        return a if dtype is None else a.astype(dtype, copy=False)

    cupy.ndarray.__array__ = host_copy_for_tests


_let_tests_read_device_arrays()


# A run on the GPU (EMBER_DEVICE=cuda) with EMBER_FAILLOG=<folder> writes each failure, its
# test id and the end of its traceback, to a file per worker as it happens: a run cut short
# by its time limit still says what failed, and where (in ember/ or in the test's own NumPy
# comparison, which cannot read device arrays).
_FAILLOG = os.environ.get("EMBER_FAILLOG")


def pytest_runtest_logreport(report):
    if not _FAILLOG or not report.failed:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    text = report.longreprtext[-1500:] if report.longreprtext else ""
    with open(Path(_FAILLOG) / f"fail-{worker}.txt", "a") as f:
        f.write(f"=== {report.nodeid} [{report.when}]\n{text}\n")
