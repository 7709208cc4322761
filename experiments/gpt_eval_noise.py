"""How noisy is nanoGPT's "1.88"? The GPT of gpt_shakespeare.py, trained as there (nanoGPT's
shakespeare_char CPU configuration, lr 1e-3), then its validation loss estimated the way
nanoGPT's CPU command does (``--eval_iters=20``: the mean over 20 random batches of 12×64
characters) many times over, beside the precise estimate over many more batches.

The spread of those 20-batch estimates says how far one nanoGPT report can fall from the
model's true validation loss, and how often it lands at or under 1.88.

    python experiments/gpt_eval_noise.py [--seed 1337] [--draws 500] [--precise 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import ember  # noqa: E402
import ember.functional as F  # noqa: E402
from experiments.gpt_shakespeare import CFG, get_batch, load, train_ember, write  # noqa: E402


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--draws", type=int, default=500, help="20-batch estimates to draw")
    ap.add_argument("--per-draw", type=int, default=20, help="batches per estimate (nanoGPT: 20)")
    ap.add_argument("--precise", type=int, default=2000, help="batches for the precise estimate")
    ap.add_argument("--out", default=str(ROOT / "experiments" / "results" / "gpt_eval_noise.json"))
    args = ap.parse_args(argv)

    train, val, chars = load(None)
    vocab, block = len(chars), CFG["block_size"]
    rng = np.random.default_rng(args.seed)
    batches = [get_batch(train, rng, 12, block) for _ in range(args.iters)]
    run = SimpleNamespace(seed=args.seed, bias=False, same_init=False, lr=1e-3, iters=args.iters)
    empty = {"train": [], "val": []}
    t0 = time.perf_counter()
    model, wall, _, _ = train_ember(train, val, vocab, run, batches, empty)
    print(f"trained in {time.perf_counter() - t0:.0f} s", flush=True)

    model.eval()
    eval_rng = np.random.default_rng(args.seed + 1)
    losses = []
    with ember.no_grad():
        for _ in range(args.precise):
            x, y = get_batch(val, eval_rng, 12, block)
            logits = model(ember.tensor(x))
            losses.append(F.cross_entropy(logits.reshape(-1, vocab), ember.tensor(y).reshape(-1)))
    per_batch = np.array([float(v.item()) for v in losses])
    # nanoGPT's estimator: the mean of --eval_iters random batches, here drawn from the same
    # pool of per-batch losses (each batch a random window of the validation text)
    draws = np.random.default_rng(0).choice(per_batch, size=(args.draws, args.per_draw))
    estimates = draws.mean(axis=1)
    result = dict(
        config=dict(CFG, vocab_size=vocab, lr=1e-3, iters=args.iters, seed=args.seed),
        precise_val_loss=float(per_batch.mean()),
        precise_batches=args.precise,
        per_batch_std=float(per_batch.std()),
        estimates_of=args.per_draw,
        estimate_mean=float(estimates.mean()),
        estimate_std=float(estimates.std()),
        estimate_min=float(estimates.min()),
        fraction_at_most_1_88=float((estimates <= 1.88).mean()),
        fraction_at_most_1_8857=float((estimates <= 1.8857).mean()),
        train_wall_s=wall,
    )
    print(json.dumps(result, indent=1))
    write(args.out, result)
    return result


if __name__ == "__main__":
    main()
