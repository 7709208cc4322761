"""Serving small models: ember vs torch on inference, batch 1, one process, alternating blocks.

Where training is GEMM-bound, serving one request at a time is bound by what each op costs
to call: a batch-1 forward is a few dozen small ops, and generating text is hundreds of
single steps. Each workload runs the same weights on both sides (copied from torch's
state_dict) under ``no_grad`` / ``torch.inference_mode``, and checks once that the two give
the same answer before timing.

    mlp_b1          784-256-256-10 MLP, one input                     ms per forward
    lenet_b1        LeNet-5, one 1×28×28 image                         ms per forward
    charlstm_gen    CharLSTM (65, 128, 2×LSTM 256): 64 characters, greedy, one step at a
                    time with the state carried (how `ember generate` samples)   ms per 64
    gpt_gen         GPT tiny (4 layers, 4 heads, 128, block 64): 32 tokens greedy after a
                    32-token prompt, each step on the whole window (nanoGPT's generate,
                    no cache on either side)                                     ms per 32

ember's GPT also has a KV cache (``GPT.generate(use_cache=True)``); its time is reported in
the note of gpt_gen, not as a ratio (the torch reference has no cache).

    python -m benchmarks.bench_inference [--only mlp_b1 gpt_gen] [--rounds 5] [--no-save]
"""

from __future__ import annotations

import argparse

import numpy as np

import ember
from ember import nn
from ember.models import GPT, CharLSTM, LeNet5

from .harness import RESULTS, compare, report, setup_torch

CHARS, TOKENS, PROMPT = 64, 32, 32


def mlp_b1(torch):
    model_t = torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )  # fmt: skip
    model_e = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    model_e.load_state_dict(model_t.state_dict())
    x = np.random.default_rng(0).standard_normal((1, 784)).astype(np.float32)
    return _forward_pair(torch, model_e, model_t, x)


def lenet_b1(torch):
    tnn = torch.nn
    model_t = tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
        tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10),
    )  # fmt: skip
    names = ["conv1", "conv2", "fc1", "fc2", "fc3"]
    layers = [m for m in model_t if isinstance(m, (tnn.Conv2d, tnn.Linear))]
    model_e = LeNet5()
    model_e.load_state_dict(
        {f"{n}.{k}": v for n, m in zip(names, layers) for k, v in m.state_dict().items()}
    )
    x = np.random.default_rng(0).standard_normal((1, 1, 28, 28)).astype(np.float32)
    return _forward_pair(torch, model_e, model_t, x)


def _forward_pair(torch, model_e, model_t, x):
    model_e.eval()
    model_t.eval()
    xe, xt = ember.tensor(x), torch.tensor(x)

    def ember_step():
        with ember.no_grad():
            return model_e(xe)

    def torch_step():
        with torch.inference_mode():
            return model_t(xt)

    _same(ember_step().array, torch_step().numpy())
    return ember_step, torch_step


def charlstm_gen(torch):
    ember.manual_seed(0)
    model_e = CharLSTM(65).eval()
    emb = torch.nn.Embedding(65, 128)
    lstm = torch.nn.LSTM(128, 256, 2, batch_first=True)
    head = torch.nn.Linear(256, 65)
    sd = {k: torch.tensor(np.asarray(v.array)) for k, v in model_e.state_dict().items()}
    for prefix, mod in (("embedding.", emb), ("lstm.", lstm), ("head.", head)):
        mod.load_state_dict({k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)})

    def ember_step():
        ids, state, out = np.array([[7]]), None, []
        with ember.no_grad():
            for _ in range(CHARS):
                logits, state = model_e(ember.tensor(ids), state)
                ids = logits.array[:, -1].argmax(-1)[:, None]
                out.append(int(ids[0, 0]))
        return out

    def torch_step():
        ids, state, out = torch.tensor([[7]]), None, []
        with torch.inference_mode():
            for _ in range(CHARS):
                y, state = lstm(emb(ids), state)
                ids = head(y)[:, -1].argmax(-1)[:, None]
                out.append(int(ids[0, 0]))
        return out

    if ember_step() != torch_step():
        raise RuntimeError("charlstm_gen: ember and torch generated different characters")
    return ember_step, torch_step


def gpt_gen(torch):
    from .gpt_torch import TorchGPT

    config = dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0)
    torch.manual_seed(0)
    model_t = TorchGPT(**config).eval()
    model_e = GPT(**config).eval()
    model_e.load_state_dict(model_t.state_dict())
    prompt = np.random.default_rng(0).integers(0, 65, (1, PROMPT))

    def ember_step(use_cache=False):
        return model_e.generate(prompt, TOKENS, temperature=0, use_cache=use_cache).array

    def torch_step():
        idx = torch.tensor(prompt)
        with torch.inference_mode():
            for _ in range(TOKENS):
                logits = model_t(idx[:, -config["block_size"] :])
                idx = torch.cat([idx, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
        return idx.numpy()

    want = torch_step()
    if not (np.array_equal(ember_step(), want) and np.array_equal(ember_step(True), want)):
        raise RuntimeError("gpt_gen: ember and torch generated different tokens")
    return ember_step, torch_step, lambda: ember_step(True)


WORKLOADS = {
    "mlp_b1": (mlp_b1, 200),
    "lenet_b1": (lenet_b1, 100),
    "charlstm_gen": (charlstm_gen, 5),
    "gpt_gen": (gpt_gen, 3),
}


def _same(a, b) -> None:
    if not np.allclose(a, b, rtol=1e-4, atol=1e-5):
        raise RuntimeError(f"ember and torch disagree: max difference {np.abs(a - b).max()}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=list(WORKLOADS))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (BLAS: its default)")
    ap.add_argument("--no-save", action="store_true", help="do not append to results.json")
    args = ap.parse_args(argv)
    torch = setup_torch(args.threads)
    results = []
    for name in args.only or WORKLOADS:
        build, block = WORKLOADS[name]
        made = build(torch)
        note = ""
        if len(made) == 3:  # gpt_gen: ember's KV-cache generation, timed alone
            cached = compare(name, made[2], made[1], block=block, rounds=args.rounds)
            note = f"ember with its KV cache: {cached.ember_median:.1f} ms"
        r = compare(name, made[0], made[1], block=block, rounds=args.rounds, note=note)
        results.append(r)
    report(results, save_to=None if args.no_save else RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
