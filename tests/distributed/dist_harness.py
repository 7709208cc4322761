"""Run a scenario of dist_workers.py as W processes on localhost, and read back their results.

Each rank is a fresh ``python -m tests.distributed.dist_workers SCENARIO OUTDIR`` with RANK,
WORLD_SIZE, MASTER_ADDR and MASTER_PORT set (init_method env://, as the launcher does); it
writes ``rank{r}.npz`` (arrays) and ``rank{r}.json`` (messages, timings) into OUTDIR.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(**extra) -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_ranks(scenario: str, world_size: int, outdir: Path, timeout: float = 60.0,
              module: str = "tests.distributed.dist_workers"):  # fmt: skip
    """([arrays of rank r], [json of rank r]) once every rank has exited 0; ``module`` is the
    worker module whose ``python -m`` runs each rank."""
    outdir.mkdir(parents=True, exist_ok=True)
    for attempt in range(2):  # a port taken between free_port() and rank 0's bind: try again
        port, port2 = free_port(), free_port()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", module, scenario, str(outdir)],
                cwd=ROOT,
                env=child_env(
                    RANK=r,
                    WORLD_SIZE=world_size,
                    MASTER_ADDR="127.0.0.1",
                    MASTER_PORT=port,
                    SECOND_PORT=port2,
                ),  # fmt: skip
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for r in range(world_size)
        ]
        outs = []
        for p in procs:
            try:
                outs.append(p.communicate(timeout=timeout))
            except subprocess.TimeoutExpired:
                for q in procs:
                    q.kill()
                raise
        if attempt == 0 and any("could not listen" in err for _, err in outs):
            continue
        break
    for r, (p, (out, err)) in enumerate(zip(procs, outs)):
        assert p.returncode == 0, f"rank {r} exited {p.returncode}:\n{out}\n{err}"
    arrays = [dict(np.load(outdir / f"rank{r}.npz")) for r in range(world_size)]
    infos = [json.loads((outdir / f"rank{r}.json").read_text()) for r in range(world_size)]
    return arrays, infos
