"""What each of 3 ranks runs in the DDP-on-a-subgroup test (``python -m
tests.distributed.dist_workers_ddp_group SCENARIO OUTDIR``): ranks 1 and 2 train one model
under DistributedDataParallel(process_group=new_group([1, 2])) and a SyncBatchNorm on the same
group, while rank 0 runs its own collectives on a group of its own, so a message of either
would land in the other if DDP still used the default group."""

from __future__ import annotations

import sys

import numpy as np

import ember
import ember.distributed as dist
import ember.nn.functional as F
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP
from tests.distributed import dist_workers
from tests.distributed.dist_workers import batch, make_mlp, params_of

PAIR = [1, 2]


def ddp_subgroup(rank: int, world: int, out: dict, info: dict) -> None:
    pair, alone = dist.new_group(PAIR), dist.new_group([0])
    if rank == 0:  # busy on its own group while the pair trains
        t = ember.tensor(np.arange(4.0))
        for _ in range(3):
            dist.all_reduce(t, group=alone)
        out["alone"] = t.numpy()
        info["pair_rank"] = dist.get_rank(pair)
        return
    me = dist.get_rank(pair)  # 0 on global rank 1, 1 on global rank 2
    ember.manual_seed(30 + rank)  # different replicas: DDP starts them from global rank 1's
    model = DDP(make_mlp(), process_group=pair)
    out["init"] = np.concatenate([p.ravel() for p in params_of(model)])
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = batch(5)
    for _ in range(4):
        opt.zero_grad()
        F.cross_entropy(model(x[me * 4 : me * 4 + 4]), y[me * 4 : me * 4 + 4]).backward()
        opt.step()
    for i, p in enumerate(params_of(model)):
        out[f"p{i}"] = p
    bn = nn.SyncBatchNorm(5, process_group=pair).double()
    bn(x[me * 4 : me * 4 + 4])
    out["running_mean"], out["running_var"] = bn.running_mean.numpy(), bn.running_var.numpy()
    info["pair_rank"] = me


SCENARIOS = {"ddp_subgroup": ddp_subgroup}


def main(scenario: str, outdir: str) -> None:
    dist_workers.main(scenario, outdir, SCENARIOS)


if __name__ == "__main__":
    main(*sys.argv[1:3])
