"""The layers and training steps that tests/test_cuda_parity.py runs on both devices.

Run as ``EMBER_DEVICE=cpu|cuda python tests/cuda_parity_cases.py OUT.npz [--dtype float64]``:
every case builds its module from a fixed seed (ember draws on the host for either device,
so the weights are the same numbers), runs forward and backward on fixed inputs, and saves
the outputs and every gradient as host arrays. A case that raises is recorded with its
error instead, so one run on the GPU names every failure at once.
"""

from __future__ import annotations

import json
import sys
import traceback

import numpy as np

import ember
import ember.functional as F
from ember import nn, optim

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def _x(*shape, seed=0, dtype="float32"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _run(module, *inputs, dtype, loss=None, targets=None):
    """Forward, a fixed weighted-sum loss (or ``loss``), backward: outputs and gradients."""
    ember.manual_seed(0)
    module = module.to(getattr(ember, dtype))
    xs = [ember.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    out = module(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    flat = []
    for o in outs:
        flat.extend(o if isinstance(o, tuple) else (o,))
    flat = [o for o in flat if isinstance(o, ember.Tensor)]
    if loss is not None:
        total = loss(flat[0], targets)
    else:
        total = None
        for i, o in enumerate(flat):
            w = ember.tensor(_x(*o.shape, seed=100 + i, dtype=dtype))
            term = (o * w).sum() if o.dtype.kind == "f" else None
            if term is not None:
                total = term if total is None else total + term
    total.backward()
    got = {f"out{i}": o.detach().numpy() for i, o in enumerate(flat)}
    got.update({f"dx{i}": x.grad.numpy() for i, x in enumerate(xs) if x.grad is not None})
    got.update(
        {f"d_{n}": p.grad.numpy() for n, p in module.named_parameters() if p.grad is not None}
    )
    return got


def _weights(m) -> dict:
    return {n: p.detach().numpy() for n, p in m.named_parameters()}


def _seeded(make):
    ember.manual_seed(0)
    return make()


#: One module, one input of the given shape: (builder, input shape).
SINGLE_INPUT = {
    "linear": (lambda: nn.Linear(20, 7), (5, 3, 20)),
    "conv2d": (lambda: nn.Conv2d(3, 8, 3, padding=1), (4, 3, 16, 16)),
    "conv2d_strided_grouped_dilated": (
        lambda: nn.Conv2d(4, 8, 3, stride=2, padding=2, dilation=2, groups=2),
        (2, 4, 15, 13),
    ),
    "conv2d_lenet_5x5": (lambda: nn.Conv2d(6, 16, 5), (8, 6, 14, 14)),
    "conv1d": (lambda: nn.Conv1d(3, 5, 4, padding=2), (2, 3, 20)),
    "conv_transpose2d": (
        lambda: nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
        (2, 4, 7, 7),
    ),
    "maxpool2d": (lambda: nn.MaxPool2d(2), (3, 4, 10, 10)),
    "maxpool2d_overlapping": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (3, 4, 11, 11)),
    "avgpool_adaptive": (
        lambda: nn.Sequential(nn.AvgPool2d(2), nn.AdaptiveAvgPool2d((3, 2))),
        (2, 3, 12, 12),
    ),
    "layernorm_groupnorm": (
        lambda: nn.Sequential(nn.GroupNorm(2, 4), nn.LayerNorm([4, 5, 5])),
        (3, 4, 5, 5),
    ),
    "lstm_two_layer": (lambda: nn.LSTM(6, 16, num_layers=2), (12, 4, 6)),
    "lstm_bidirectional_batch_first": (
        lambda: nn.LSTM(5, 8, batch_first=True, bidirectional=True),
        (3, 9, 5),
    ),
    "gru": (lambda: nn.GRU(6, 12, num_layers=2), (10, 4, 6)),
    "rnn_relu": (lambda: nn.RNN(6, 9, nonlinearity="relu"), (10, 3, 6)),
}


def _single_input_case(make, shape):
    return lambda dtype: _run(_seeded(make), _x(*shape, dtype=dtype), dtype=dtype)


CASES.update({name: _single_input_case(*spec) for name, spec in SINGLE_INPUT.items()})


@case
def batchnorm2d_train(dtype):
    m = _seeded(lambda: nn.BatchNorm2d(5))
    got = _run(m, _x(4, 5, 6, 6, dtype=dtype), dtype=dtype)
    got["running_mean"], got["running_var"] = m.running_mean.numpy(), m.running_var.numpy()
    return got


@case
def batchnorm1d_eval(dtype):
    m = _seeded(lambda: nn.BatchNorm1d(7)).to(getattr(ember, dtype))
    m(ember.tensor(_x(16, 7, seed=3, dtype=dtype)))
    return _run(m.eval(), _x(8, 7, dtype=dtype), dtype=dtype)


@case
def embedding(dtype):
    m = _seeded(lambda: nn.Embedding(30, 8))
    ids = np.random.default_rng(0).integers(0, 30, (6, 40))
    return _run(nn.Sequential(m, nn.Linear(8, 3)), ids, dtype=dtype)


@case
def lstm_and_gru_cells(dtype):
    class Cells(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.gru = nn.LSTMCell(5, 7), nn.GRUCell(7, 6)

        def forward(self, x):
            h, c = self.lstm(x)
            return self.gru(h), c

    return _run(_seeded(Cells), _x(4, 5, dtype=dtype), dtype=dtype)


@case
def multihead_attention_causal(dtype):
    m = _seeded(lambda: nn.MultiheadAttention(16, 4, batch_first=True))
    mask = nn.Transformer.generate_square_subsequent_mask(7)

    class Self(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = m

        def forward(self, x):
            return self.m(x, x, x, attn_mask=mask.to(x.dtype))

    return _run(Self(), _x(3, 7, 16, dtype=dtype), dtype=dtype)


@case
def transformer_encoder_decoder(dtype):
    m = _seeded(lambda: nn.Transformer(16, 2, 2, 2, 32, dropout=0.0, batch_first=True))
    return _run(m, _x(2, 6, 16, dtype=dtype), _x(2, 5, 16, seed=1, dtype=dtype), dtype=dtype)


@case
def activations(dtype):
    kinds = [nn.GELU(), nn.SiLU(), nn.Tanh(), nn.Sigmoid(), nn.ELU(), nn.Softplus(),
             nn.LeakyReLU(0.1), nn.Mish(), nn.GELU("tanh"), nn.ReLU(), nn.Hardtanh(),
             nn.Softmax(-1)]  # fmt: skip
    layers = [layer for act in kinds for layer in (nn.Linear(10, 10), act)]
    return _run(_seeded(lambda: nn.Sequential(*layers)), _x(8, 10, dtype=dtype), dtype=dtype)


@case
def losses(dtype):
    rng = np.random.default_rng(0)
    logits = ember.tensor(_x(16, 5, dtype=dtype), requires_grad=True)
    target = ember.tensor(rng.integers(0, 5, 16))
    probs_t = ember.tensor(rng.random((16, 5)).astype(dtype))
    y = ember.tensor(_x(16, 5, seed=2, dtype=dtype))
    total = (
        F.cross_entropy(logits, target, label_smoothing=0.1)
        + F.nll_loss(F.log_softmax(logits, -1), target)
        + F.mse_loss(logits, y)
        + F.smooth_l1_loss(logits, y)
        + F.binary_cross_entropy_with_logits(logits, probs_t)
        + F.kl_div(F.log_softmax(logits, -1), F.softmax(y, -1), reduction="batchmean")
    )
    total.backward()
    return {"loss": total.detach().numpy(), "dlogits": logits.grad.numpy()}


@case
def dropout_train(dtype):
    ember.manual_seed(0)
    return _run(nn.Dropout(0.3), _x(50, 20, dtype=dtype), dtype=dtype)


@case
def optimizers(dtype):
    got = {}
    for name, make in [
        ("sgd", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
        ("adam", lambda p: optim.Adam(p, lr=1e-2)),
        ("adamw", lambda p: optim.AdamW(p, lr=1e-2, weight_decay=0.1)),
        ("rmsprop", lambda p: optim.RMSprop(p, lr=1e-2, momentum=0.5)),
    ]:
        m = _seeded(lambda: nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2)))
        m = m.to(getattr(ember, dtype))
        opt = make(m.parameters())
        x, y = ember.tensor(_x(12, 6, dtype=dtype)), ember.tensor(_x(12, 2, seed=1, dtype=dtype))
        for _ in range(3):
            opt.zero_grad()
            F.mse_loss(m(x), y).backward()
            nn.utils.clip_grad_norm_(m.parameters(), 0.5)
            opt.step()
        got.update({f"{name}_{n}": w for n, w in _weights(m).items()})
    return got


@case
def lenet_step(dtype):
    from ember.models.lenet import LeNet5

    m = _seeded(LeNet5).to(getattr(ember, dtype))
    opt = optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    x = ember.tensor(_x(8, 1, 28, 28, dtype=dtype))
    t = ember.tensor(np.random.default_rng(0).integers(0, 10, 8))
    for _ in range(2):
        opt.zero_grad()
        loss = F.cross_entropy(m(x), t)
        loss.backward()
        opt.step()
    return {"loss": loss.detach().numpy(), **_weights(m)}


def _language_model_step(model, opt_class, batch: int, dtype, **opt_kwargs) -> dict:
    """One next-token step of a character model (vocabulary 65) on fixed ids: loss, weights."""
    m = model.to(getattr(ember, dtype))
    opt = opt_class(m.parameters(), **opt_kwargs)
    ids = np.random.default_rng(0).integers(0, 65, (batch, 17))
    x, t = ember.tensor(ids[:, :-1]), ember.tensor(ids[:, 1:])
    out = m(x)
    logits = out[0] if isinstance(out, tuple) else out
    loss = F.cross_entropy(logits.reshape(-1, 65), t.reshape(-1))
    loss.backward()
    opt.step()
    return {"loss": loss.detach().numpy(), **_weights(m)}


@case
def char_lstm_step(dtype):
    from ember.models.char_lstm import CharLSTM

    return _language_model_step(_seeded(lambda: CharLSTM(65, 32, 48)), optim.Adam, 4, dtype,
                                lr=1e-3)  # fmt: skip


@case
def gpt_step(dtype):
    from ember.models.gpt import GPT

    model = _seeded(lambda: GPT(65, 16, 2, 2, 32, bias=False))
    return _language_model_step(model, optim.AdamW, 3, dtype, lr=1e-3, weight_decay=0.1)


@case
def scans_and_reductions(dtype):
    """The ops whose GPU paths are ember's own (CuPy lacks them): scatter/index_reduce 'prod'
    (a segmented doubling scan), the running max/min/logaddexp scans, and the statistics
    built on them."""
    rng = np.random.default_rng(0)
    x = ember.tensor(_x(6, 9, dtype=dtype), requires_grad=True)
    src = ember.tensor(_x(6, 9, seed=1, dtype=dtype) * 0.5 + 1.0, requires_grad=True)
    index = ember.tensor(rng.integers(0, 4, (6, 9)))
    rows = ember.tensor(np.array([0, 2, 2, 1, 0, 2]))
    parts = [
        x.scatter_reduce(1, index, src, "prod"),
        x.scatter_reduce(1, index, src, "amax", include_self=False),
        x.index_reduce(0, rows, src, "prod"),
        x.logcumsumexp(1),
        x.cummax(1)[0],
        x.cummin(0)[0],
        x.cumprod(1),
        x.nanmedian(1)[0],
        x.mode(1)[0],
    ]
    total = None
    for i, p in enumerate(parts):
        w = ember.tensor(_x(*p.shape, seed=200 + i, dtype=dtype))
        term = (p * w).sum()
        total = term if total is None else total + term
    total.backward()
    got = {f"out{i}": p.detach().numpy() for i, p in enumerate(parts)}
    q = ember.tensor(np.array([1, 1, 2, 2, 2, 3, 1, 1]))
    values, inverse, counts = ember.unique_consecutive(q, return_inverse=True, return_counts=True)
    got.update(uv=values.numpy(), ui=inverse.numpy(), uc=counts.numpy())
    return {**got, "dx": x.grad.numpy(), "dsrc": src.grad.numpy()}


@case
def in_place_autograd(dtype):
    """In-place ops in the graph (tensor_inplace.py): buf[t] = h, relu_, +=, masked_fill_."""
    w = ember.tensor(_x(5, 5, dtype=dtype), requires_grad=True)
    x = ember.tensor(_x(4, 3, 5, seed=1, dtype=dtype))
    buf = ember.zeros(4, 3, 5, dtype=getattr(ember, dtype))
    h = ember.zeros(3, 5, dtype=getattr(ember, dtype))
    for t in range(4):
        h = x[t] @ w + h * 0.5
        h.relu_()
        h += 0.1
        buf[t] = h
    buf.masked_fill_(ember.tensor(_x(4, 3, 5, seed=2) > 1.0), 0.0)
    (buf * ember.tensor(_x(4, 3, 5, seed=3, dtype=dtype))).sum().backward()
    return {"buf": buf.detach().numpy(), "dw": w.grad.numpy()}


def compare(cpu_path: str, gpu_path: str) -> dict:
    """The norm-wise relative error ‖gpu − cpu‖ / ‖cpu‖ of every saved array (NaN where an
    array is missing or of another shape)."""
    errs = {}
    with np.load(cpu_path) as c, np.load(gpu_path) as g:
        for key in c.files:
            want = c[key].astype(np.float64)
            if key not in g.files or g[key].shape != want.shape:
                errs[key] = float("nan")
                continue
            scale = max(float(np.linalg.norm(want)), 1e-30)
            errs[key] = float(np.linalg.norm(g[key].astype(np.float64) - want)) / scale
    return errs


def _describe(cpu_path: str, gpu_path: str, key: str) -> str:
    """Shapes and NaN counts of one saved array on both sides."""
    parts = []
    with np.load(cpu_path) as c, np.load(gpu_path) as g:
        for side, f in (("cpu", c), ("gpu", g)):
            if key not in f.files:
                parts.append(f"{side} missing")
                continue
            a = f[key]
            nans = int(np.isnan(a).sum()) if a.dtype.kind == "f" else 0
            parts.append(f"{side} {a.shape} {a.dtype}, {nans} NaN")
    return ", ".join(parts)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--compare":  # --compare CPU.npz GPU.npz: the worst error per case
        worst: dict = {}
        errs = compare(argv[1], argv[2])
        for key, err in errs.items():
            name = key.split("/")[0]
            worst[name] = max(worst.get(name, 0.0), err, key=lambda e: (e != e, e))
        for name, err in worst.items():
            print(f"{name:40s} {err:.2e}")
        for key, err in errs.items():  # what a NaN or a large error came from
            if err != err or err > 1e-4:
                print(f"  {key}: {err:.2e} ({_describe(argv[1], argv[2], key)})")
        return 0
    out, dtype = argv[0], "float64" if "--dtype" in argv and "float64" in argv else "float32"
    only = [a for a in argv[1:] if a in CASES]
    arrays, errors = {}, {}
    for name, fn in CASES.items():
        if only and name not in only:
            continue
        try:
            for key, value in fn(dtype).items():
                arrays[f"{name}/{key}"] = np.asarray(value)
        except Exception:  # recorded, so one run names every failure
            errors[name] = traceback.format_exc()[-2500:]
    np.savez(out, **arrays)
    with open(out + ".errors.json", "w") as f:
        json.dump({"device": str(ember.backend.DEVICE), "errors": errors}, f, indent=1)
    print(f"{ember.backend.DEVICE}: {len(CASES) - len(errors)} cases ran, {len(errors)} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
