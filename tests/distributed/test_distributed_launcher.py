"""``python -m ember.distributed.run``: N processes with torchrun's environment that find each
other through env://; a failing rank stops the others and the launcher exits with its code;
and the DDP example trains the digits on two processes through it."""

import json
import subprocess
import sys
import time

from tests.distributed.dist_harness import ROOT, child_env, free_port

SCRIPT = """
import json, os, sys, time
import ember, ember.distributed as dist
if "--fail" in sys.argv and os.environ["RANK"] == "1":
    sys.exit(3)  # fails before joining: rank 0 would wait for it until the timeout
dist.init_process_group()
t = ember.ones(2) * (dist.get_rank() + 1)
dist.all_reduce(t)
keys = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"]
record = {k: os.environ[k] for k in keys}
record.update(sum=t.tolist(), argv=sys.argv[1:], threads=os.environ["OMP_NUM_THREADS"])
open(os.path.join(sys.argv[1], os.environ["RANK"] + ".json"), "w").write(json.dumps(record))
"""


def launch(*args, timeout=60):
    command = [sys.executable, "-m", "ember.distributed.run", *map(str, args)]
    env = child_env()
    env.pop("OMP_NUM_THREADS")
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_launcher_starts_ranks_with_torchruns_environment(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    port = free_port()
    done = launch("--nproc_per_node", 2, "--master_port", port, script, tmp_path, "--lr", "0.1")
    assert done.returncode == 0, done.stderr
    records = [json.loads((tmp_path / f"{r}.json").read_text()) for r in (0, 1)]
    for r, rec in enumerate(records):
        assert rec["RANK"] == rec["LOCAL_RANK"] == str(r)
        assert (rec["WORLD_SIZE"], rec["LOCAL_WORLD_SIZE"]) == ("2", "2")
        assert (rec["MASTER_ADDR"], rec["MASTER_PORT"]) == ("127.0.0.1", str(port))
        assert rec["sum"] == [3.0, 3.0] and rec["argv"] == [str(tmp_path), "--lr", "0.1"]
        assert rec["threads"] == "1"


def test_a_failing_rank_stops_the_others_and_the_launcher_fails(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    start = time.monotonic()
    done = launch("--nproc-per-node", 2, "--standalone", "--grace-period", 2, script, tmp_path,
                  "--fail")  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "rank 1 (local rank 1) exited with code 3" in done.stderr
    assert time.monotonic() - start < 20  # rank 0 was stopped, not left waiting 30 minutes
    assert not list(tmp_path.glob("*.json"))


def test_launcher_refuses_bad_arguments():
    done = launch("--nnodes", 2, "--node-rank", 2, "x.py")
    assert done.returncode == 2 and "--node-rank" in done.stderr


def test_ddp_digits_example_learns_on_two_processes(shared_data):
    example = ROOT / "examples" / "ddp_digits.py"
    done = launch("--nproc-per-node", 2, "--standalone", example, "--epochs", 15, timeout=120)
    assert done.returncode == 0, done.stderr
    accuracy = float(done.stdout.split("test accuracy ")[1].split("%")[0])
    assert done.stdout.startswith("2 processes, 15 epochs") and accuracy >= 96.0
