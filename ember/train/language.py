"""Training language models: truncated BPTT for recurrent models, random windows for GPT.

``train_language_model(args)`` is what ``ember train`` calls for a model registered with
``task="language"``. Two kinds of model are trained:

- recurrent (``forward(x, state=None) -> (logits, state)``, e.g. CharLSTM): the training text
  is cut into B parallel streams, read in windows of k characters (truncated backpropagation
  through time, Williams & Peng 1990). The state is carried from one window to the next and
  *detached* between them: the forward pass still sees the whole past through the state, but
  the gradient flows back at most k steps, so memory is that of k steps, not of the corpus;
- stateless (``forward(x) -> logits``, e.g. GPT): random windows of ``block_size`` characters,
  as nanoGPT samples them.

The loss is the mean cross-entropy in nats per character; validation every ``eval_every``
steps on held-out text; the run folder gets config.json, vocab.json, metrics.jsonl,
checkpoint.safetensors (+ .json), best.safetensors and samples.txt.
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import json
import math
import os
import time
from pathlib import Path

import numpy

from .. import backend, manual_seed
from .. import functional as F
from ..data.text import CharVocab, load_text, train_val_split
from ..function import no_grad
from ..models.registry import get_model
from ..nn.rnn import RNNBase
from ..nn.utils import clip_grad_norm_
from ..optim import SGD, Adam, AdamW
from ..tensor import Tensor

DEFAULTS = dict(
    data="pydoc", batch_size=32, bptt=64, lr=2e-3, time_limit=3.0, eval_every=200,
    log_every=20, clip_grad_norm=1.0, sample_tokens=500, temperature=0.8, top_k=None,
    val_fraction=0.1, seed=0, eval_windows=40,
)  # fmt: skip


def language_arguments(parser: argparse.ArgumentParser) -> None:
    """The language-model options of ``ember train`` (cli/train.py adds them with this)."""
    g = parser.add_argument_group("language models")
    g.add_argument("--bptt", type=int, default=None, help="window length k (default 64)")
    g.add_argument("--eval-every", type=int, default=None, help="validate every N steps")
    g.add_argument("--time-limit", type=float, default=None, help="minutes to train (default 3)")
    g.add_argument("--sample-tokens", type=int, default=None, help="characters to generate")
    g.add_argument("--temperature", type=float, default=None, help="sampling temperature")
    g.add_argument("--top-k", type=int, default=None, help="sample among the k most likely")


def is_recurrent(model) -> bool:
    """A recurrent language model takes and returns a state: ``forward(x, state)``."""
    return "state" in inspect.signature(model.forward).parameters


def detach_state(state):
    """Cut the graph behind a carried state (tuples of Tensors kept as tuples)."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    return state.detach()


class TBPTTStream:
    """The token ids as B parallel streams, read in consecutive windows of k steps.

    Stream b is ids[b·n : (b+1)·n]; window i gives inputs x = streams[:, i·k : (i+1)·k] and
    targets y = the same shifted by one. Consecutive windows continue each stream, so a state
    carried from window i to i+1 is the true state of that stream.
    """

    def __init__(self, ids, batch_size: int, bptt: int):
        n = (len(ids) - 1) // batch_size
        if n < 2:
            raise ValueError(
                f"text of {len(ids)} tokens is too short for {batch_size} streams; use a"
                " smaller batch size"
            )
        self.x = numpy.asarray(ids[: n * batch_size]).reshape(batch_size, n)
        self.y = numpy.asarray(ids[1 : n * batch_size + 1]).reshape(batch_size, n)
        self.bptt = bptt

    def __len__(self) -> int:
        return -(-self.x.shape[1] // self.bptt)

    def __iter__(self):
        for i in range(0, self.x.shape[1], self.bptt):
            yield self.x[:, i : i + self.bptt], self.y[:, i : i + self.bptt]


def random_windows(ids, batch_size: int, block: int, rng):
    """B random windows of ``block`` ids and their next-id targets (nanoGPT's get_batch)."""
    starts = rng.integers(0, len(ids) - block - 1, size=batch_size)
    idx = starts[:, None] + numpy.arange(block)[None, :]
    return ids[idx], ids[idx + 1]


def activation_memory_estimate(model, batch_size: int, bptt: int, itemsize: int = 4) -> int:
    """Bytes of activations a k-step window keeps for backward (recurrent layers + the rest).

    Per recurrent layer, direction and step the fused ops keep: LSTM gates 4H, states h and C,
    tanh(C_t) (and o∗tanh C_t with a projection); GRU gates 3H, W_hn·h and h; RNN h; plus the
    layer's input. Embeddings and linear layers keep their outputs. It grows linearly in k:
    that is the whole point of truncating.
    """
    per_step = 0
    for m in model.modules():
        if isinstance(m, RNNBase):
            H, P = m.hidden_size, m.proj_size or m.hidden_size
            cell = {"LSTM": 4 * H + P + 2 * H + (H if m.proj_size else 0), "GRU": 5 * H}
            per_layer = cell.get(m.mode, H)
            inputs = m.input_size + (m.num_layers - 1) * P * m.num_directions
            per_step += m.num_layers * m.num_directions * per_layer + inputs
        elif hasattr(m, "embedding_dim"):
            per_step += m.embedding_dim
        elif hasattr(m, "out_features"):
            per_step += 2 * m.out_features  # the output and, for the head, softmax's copy
    return per_step * batch_size * bptt * itemsize


def write_checkpoint(path: Path, model, meta: dict) -> None:
    """Model weights as safetensors (``model.<name>`` keys), written atomically, + a .json.

    A small function on purpose: the run-folder format of ``ember.save`` can replace it.
    """
    from safetensors.numpy import save_file

    tensors = {f"model.{k}": numpy.ascontiguousarray(backend.to_numpy(v.data))
               for k, v in model.state_dict().items()}  # fmt: skip
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": "ember.language/1"})
    os.replace(tmp, path)
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2))


def read_model_state(path: Path) -> dict:
    """The model state_dict stored by :func:`write_checkpoint`."""
    from safetensors.numpy import load_file

    return {
        k[len("model.") :]: v for k, v in load_file(str(path)).items() if k.startswith("model.")
    }


def language_loss(model, x, y, state, recurrent: bool):
    """Mean cross-entropy (nats per token) of next-token prediction; returns (loss, state)."""
    x = Tensor(numpy.ascontiguousarray(x))
    if recurrent:
        logits, state = model(x, state)
    else:
        logits = model(x)
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), numpy.ascontiguousarray(y).reshape(-1)), state


def evaluate(model, ids, batch_size: int, bptt: int, recurrent: bool, max_windows: int) -> float:
    """Mean validation loss over up to ``max_windows`` consecutive windows of the held-out text."""
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    with no_grad():
        if recurrent:
            windows = TBPTTStream(ids, min(batch_size, max(1, (len(ids) - 1) // (2 * bptt))), bptt)
        else:
            n = (len(ids) - 1) // bptt
            xs = numpy.asarray(ids[: n * bptt]).reshape(n, bptt)
            ys = numpy.asarray(ids[1 : n * bptt + 1]).reshape(n, bptt)
            windows = (
                (xs[i : i + batch_size], ys[i : i + batch_size]) for i in range(0, n, batch_size)
            )
        for k, (x, y) in enumerate(windows):
            if k >= max_windows:
                break
            loss, state = language_loss(model, x, y, state, recurrent)
            total += float(loss.item()) * y.size
            count += y.size
    model.train(was_training)
    return total / max(count, 1)


def _hyper_parameters(args) -> dict:
    """Defaults, then (with --resume) the run's saved config, then what was given explicitly."""
    hp = dict(DEFAULTS)
    if getattr(args, "resume", None):
        saved = json.loads((Path(args.resume) / "config.json").read_text())
        hp.update({k: saved[k] for k in list(DEFAULTS) + ["text", "data_root"] if k in saved})
    for key in list(DEFAULTS) + ["steps", "epochs", "text", "data_root", "run_dir", "resume"]:
        value = getattr(args, key, None)
        if value is not None:
            hp[key] = value
    hp.setdefault("steps", None)
    return hp


def _model_options(args) -> dict:
    options = dict(getattr(args, "model_options", None) or {})
    for text in getattr(args, "option", None) or []:
        key, _, raw = text.partition("=")
        try:
            options[key.strip().replace("-", "_")] = json.loads(raw)
        except json.JSONDecodeError:
            options[key.strip().replace("-", "_")] = raw
    return options


def _optimizer(args, model, lr: float):
    """Adam by default; ``--optimizer adamw|sgd`` and ``--weight-decay`` as ``ember train`` has."""
    name = getattr(args, "optimizer", None) or "adam"
    wd = getattr(args, "weight_decay", None) or 0.0
    if name == "adamw":
        return AdamW(model.parameters(), lr=lr, weight_decay=wd)
    if name == "sgd":
        momentum = getattr(args, "momentum", None) or 0.9
        return SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    if name != "adam":
        raise ValueError(f"optimizer must be adam, adamw or sgd, got {name!r}")
    return Adam(model.parameters(), lr=lr, weight_decay=wd)


def _log(path: Path, row: dict) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def train_language_model(args) -> int:
    """Train ``args.model`` on ``args.text`` or ``args.data`` and save the run; see the module."""
    hp = _hyper_parameters(args)
    manual_seed(hp["seed"])
    rng = numpy.random.default_rng(hp["seed"])
    text = load_text(hp.get("text") or hp["data"], hp.get("data_root"))
    vocab = CharVocab.from_text(text)
    train_ids, val_ids = train_val_split(vocab.encode(text), hp["val_fraction"])
    name = getattr(args, "model", None) or "charlstm"
    spec = get_model(name)
    options = _model_options(args)
    resume = Path(hp["resume"]) if hp.get("resume") else None
    if resume is not None:  # the same model and options as the run being continued
        options = json.loads((resume / "config.json").read_text())["options"]
    params = inspect.signature(spec["builder"]).parameters
    if "block_size" in params and "block_size" not in options:
        options["block_size"] = hp["bptt"]
    model = spec["builder"](vocab_size=len(vocab), **options)
    recurrent = is_recurrent(model)
    block = hp["bptt"] if recurrent else getattr(model, "block_size", hp["bptt"])
    optimizer = _optimizer(args, model, hp["lr"])
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = resume or Path(hp.get("run_dir") or f"runs/{name}-{stamp}")
    run_dir.mkdir(parents=True, exist_ok=True)
    metrics, first_step, best = run_dir / "metrics.jsonl", 0, math.inf
    if resume is not None:
        # A warm restart: the weights and the step count continue; Adam's moments start again.
        model.load_state_dict(read_model_state(resume / "checkpoint.safetensors"))
        first_step = json.loads((resume / "checkpoint.json").read_text())["step"]
        if (resume / "best.json").is_file():
            best = json.loads((resume / "best.json").read_text())["val_loss"]
        print(f"continuing {resume} from step {first_step} (optimizer state starts afresh)")
    else:
        config = {"model": name, "task": "language", "options": options}
        config.update(vocab_size=len(vocab), recurrent=recurrent)
        config.update({k: v for k, v in hp.items() if k not in ("run_dir", "resume")})
        (run_dir / "config.json").write_text(json.dumps(config, indent=2))
        vocab.save(run_dir / "vocab.json")
        metrics.write_text("")
    n_params = sum(p.numel() for p in model.parameters())
    print(f"ember train {name}: {n_params:,} parameters; corpus {len(text):,} characters,"
          f" vocabulary {len(vocab)}; run folder {run_dir}")  # fmt: skip
    if recurrent:
        mem = activation_memory_estimate(model, hp["batch_size"], block)
        full = activation_memory_estimate(
            model, hp["batch_size"], len(train_ids) // hp["batch_size"]
        )
        print(
            f"truncated BPTT: windows of k={block} steps × {hp['batch_size']} streams, state"
            f" carried and detached between windows; activations ≈ {mem / 2**20:.1f} MiB per"
            f" window (full BPTT over each stream would need ≈ {full / 2**30:.1f} GiB)"
        )
    stream = TBPTTStream(train_ids, hp["batch_size"], block) if recurrent else None
    if hp.get("epochs") is not None and hp["steps"] is None:  # an epoch: one pass over the text
        per_epoch = len(stream) if recurrent else len(train_ids) // (hp["batch_size"] * block)
        hp["steps"] = hp["epochs"] * max(per_epoch, 1)
    windows, state, epoch = iter(stream) if recurrent else None, None, 0
    start, step, running = time.perf_counter(), first_step, []
    limit_s = 60.0 * hp["time_limit"] if hp["steps"] is None else math.inf

    def validate():
        nonlocal best
        val = evaluate(model, val_ids, hp["batch_size"], block, recurrent, hp["eval_windows"])
        elapsed = time.perf_counter() - start
        row = {"step": step, "epoch": epoch, "split": "val", "loss": val, "lr": hp["lr"]}
        _log(metrics, {**row, "bits_per_char": val / math.log(2), "time": elapsed})
        meta = {"step": step, "epoch": epoch, "val_loss": val, "time": elapsed}
        write_checkpoint(run_dir / "checkpoint.safetensors", model, meta)
        if val < best:
            best = val
            write_checkpoint(run_dir / "best.safetensors", model, meta)
        print(f"step {step:6d}  val loss {val:.4f} nats/char ({val / math.log(2):.3f} bits)"
              f"  {elapsed:6.1f} s", flush=True)  # fmt: skip

    while (hp["steps"] is None or step < hp["steps"]) and time.perf_counter() - start < limit_s:
        if recurrent:
            try:
                x, y = next(windows)
            except StopIteration:  # one pass over the streams: start again from zero state
                windows, state, epoch = iter(stream), None, epoch + 1
                x, y = next(windows)
            state = detach_state(state)
        else:
            x, y = random_windows(train_ids, hp["batch_size"], block, rng)
        loss, state = language_loss(model, x, y, state, recurrent)
        optimizer.zero_grad()
        loss.backward()
        if hp["clip_grad_norm"]:
            clip_grad_norm_(model.parameters(), hp["clip_grad_norm"])
        optimizer.step()
        step += 1
        running.append(float(loss.item()))
        if step % hp["log_every"] == 0:
            _log(metrics, {"step": step, "epoch": epoch, "split": "train",
                           "loss": sum(running) / len(running), "lr": hp["lr"],
                           "time": time.perf_counter() - start})  # fmt: skip
            running = []
        if step % hp["eval_every"] == 0:
            validate()
    if step % hp["eval_every"] or step == 0:
        validate()
    prompt = vocab.encode("\n" if "\n" in vocab.stoi else vocab.itos[0])[None]  # (1, T)
    sample = vocab.decode(
        model.generate(prompt, hp["sample_tokens"], hp["temperature"], hp["top_k"])
    )
    (run_dir / "samples.txt").write_text(sample, encoding="utf-8")
    print(f"trained {step} steps in {time.perf_counter() - start:.0f} s; best val loss {best:.4f}")
    print("---- sample " + "-" * 60 + "\n" + sample + "\n" + "-" * 72)
    return 0
