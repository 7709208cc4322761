"""``python -m ember.distributed.run``: start the processes of a job, as torchrun does.

    python -m ember.distributed.run --nproc-per-node 2 train.py --epochs 3
    # two machines, two processes each (run on each, with its own --node-rank):
    python -m ember.distributed.run --nnodes 2 --node-rank 0 --nproc-per-node 2 \\
        --master-addr 10.0.0.1 --master-port 29500 train.py

Each process gets RANK (node_rank × nproc_per_node + local rank), LOCAL_RANK, WORLD_SIZE,
LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and MASTER_PORT, so ``init_process_group()``
(env://) finds the others; OMP_NUM_THREADS is 1 unless set (torchrun's default too), so N
processes do not each start a BLAS thread per core. The launcher waits for its processes:
when one fails it stops the others (SIGTERM, then SIGKILL after a grace period) and exits
with the failed process's code; it exits 0 when all succeed. torchrun's spellings with
underscores (--nproc_per_node, --node_rank, --master_addr, --master_port) are accepted.
Not torchrun's elastic parts: no restarts, no rendezvous backends, fixed --nnodes.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

_POLL_S = 0.05


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ember.distributed.run",
        description="Start N processes of an ember.distributed job on this machine.",
    )
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=str, default="1",
                   help="processes on this machine: a number, or 'cpu': one per core")  # fmt: skip
    p.add_argument("--nnodes", type=int, default=1, help="machines in the job (default 1)")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0,
                   help="this machine's index, 0 … nnodes − 1 (rank 0 runs on node 0)")  # fmt: skip
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1",
                   help="address of node 0, where rank 0 listens (default 127.0.0.1)")  # fmt: skip
    p.add_argument("--master-port", "--master_port", type=int, default=29500,
                   help="port rank 0 listens on (default 29500)")  # fmt: skip
    p.add_argument("--standalone", action="store_true",
                   help="one machine: pick a free port on 127.0.0.1")  # fmt: skip
    p.add_argument("--grace-period", type=float, default=5.0,
                   help="seconds between SIGTERM and SIGKILL when stopping processes")  # fmt: skip
    p.add_argument("-m", "--module", action="store_true",
                   help="run the script as a module (python -m script)")  # fmt: skip
    p.add_argument("script", help="the training script (or module, with -m)")
    p.add_argument("script_args", nargs=argparse.REMAINDER, help="its arguments")
    return p


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    """Run the job; returns the exit code (0 when every process succeeded)."""
    args = _parser().parse_args(argv)
    nproc = (os.cpu_count() or 1) if args.nproc_per_node in ("cpu", "auto") else None
    if nproc is None:
        try:
            nproc = int(args.nproc_per_node)
        except ValueError:
            _die(f"--nproc-per-node {args.nproc_per_node!r}: expected a number, 'cpu' or 'auto'")
    if nproc < 1 or args.nnodes < 1 or not 0 <= args.node_rank < args.nnodes:
        _die(
            f"expected --nproc-per-node ≥ 1, --nnodes ≥ 1 and 0 ≤ --node-rank < --nnodes; got"
            f" {nproc}, {args.nnodes}, {args.node_rank}"
        )
    if args.standalone:
        if args.nnodes != 1:
            _die("--standalone runs on one machine: it takes no --nnodes")
        args.master_addr, args.master_port = "127.0.0.1", _free_port()
    world = args.nnodes * nproc
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(
        MASTER_ADDR=args.master_addr, MASTER_PORT=str(args.master_port), WORLD_SIZE=str(world),
        LOCAL_WORLD_SIZE=str(nproc), GROUP_RANK=str(args.node_rank),
    )  # fmt: skip
    command = [sys.executable, "-u"]  # unbuffered: the processes' lines arrive as printed
    command += ["-m", args.script] if args.module else [args.script]
    command += args.script_args
    procs = []
    for local in range(nproc):
        rank = args.node_rank * nproc + local
        procs.append(subprocess.Popen(command, env={**env, "RANK": str(rank),
                                                   "LOCAL_RANK": str(local)}))  # fmt: skip
    return _supervise(procs, args.node_rank * nproc, args.grace_period)


def _supervise(procs: list, first_rank: int, grace: float) -> int:
    """Wait for every process; on the first failure stop the rest and return its code."""
    stop = []

    def forward(signum, _frame):  # Ctrl-C or a scheduler's SIGTERM reaches every process
        stop.append(signum)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            codes = [p.poll() for p in procs]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                local, code = failed[0]
                running = [p for p in procs if p.poll() is None]
                if not stop:
                    print(
                        f"ember.distributed.run: rank {first_rank + local} (local rank {local})"
                        f" exited with code {code}; stopping the other {len(running)} process(es)",
                        file=sys.stderr,
                        flush=True,
                    )
                _stop(running, grace)
                return code if code > 0 else 128 - code  # killed by signal s: 128 + s
            if all(c == 0 for c in codes):
                return 0
            time.sleep(_POLL_S)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _stop(procs: list, grace: float) -> None:
    for p in procs:
        p.terminate()
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _die(message: str) -> None:
    print(f"ember.distributed.run: {message}", file=sys.stderr)
    raise SystemExit(2)


if __name__ == "__main__":
    sys.exit(main())
