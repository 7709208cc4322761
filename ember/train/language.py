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

A run resumes where it stopped: checkpoint.safetensors (one ``ember.save`` file, format
``ember.checkpoint/1`` as the classification Trainer writes it) holds the weights, the
optimizer's state (Adam's moments), the LR schedule, both random generators (ember's, for
dropout; the window sampler's, for GPT), the data position (epoch, window within the epoch and
the carried recurrent state) and the loop's counters. ``--resume RUN`` restores all of it, so N
steps in one go and N/2 + N/2 across a stop give bit-identical weights.
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import itertools
import json
import math
import time
from pathlib import Path

import numpy

from .. import functional as F
from .. import manual_seed
from ..data.text import CharVocab, load_text, train_val_split
from ..function import no_grad
from ..models.registry import get_model
from ..nn.rnn import RNNBase
from ..nn.utils import clip_grad_norm_
from ..serialization import CheckpointError, atomic_write_text, load, save
from ..tensor import Tensor
from .checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .language_config import (  # noqa: F401 - their old home
    DEFAULTS,
    OPTIMIZER_KEYS,
    _hyper_parameters,
    _model_options,
    _optimizer,
    _scheduler,
)
from .text_batches import TBPTTStream, detach_state, random_windows


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


def write_weights(path: Path, model, meta: dict) -> None:
    """The model's state_dict alone (``ember.save``, atomic) and ``meta`` as a .json beside it.

    best.safetensors is such a file: a plain weights file that ``ember generate`` and
    ``safetensors.torch.load_file`` read; the resumable state lives in checkpoint.safetensors.
    """
    save(model.state_dict(), path)
    atomic_write_text(path.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")


def read_model_state(path: Path) -> dict:
    """The model weights in ``path``: a run checkpoint, a weights file, or the old format.

    The old language-run format (``ember.language/1``) stored weights as ``model.<name>``;
    a full checkpoint keeps them under ``model``; a weights file is the state_dict itself.
    """
    stored = load(path)
    if isinstance(stored, dict) and stored.get("format") == "ember.checkpoint/1":
        return stored["model"]
    if not isinstance(stored, dict):
        raise ValueError(f"{path}: expected model weights, found a {type(stored).__name__}")
    if stored and all(k.startswith("model.") for k in stored):
        return {k[len("model.") :]: v for k, v in stored.items()}
    return stored


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


def _log(path: Path, row: dict) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def _restore(path: Path, model, optimizer, scheduler, rng, loop: dict):
    """Put a checkpoint's training state back into the objects; returns the carried state.

    A checkpoint written before checkpoints held the full state (``ember.language/1``:
    weights only) gives a warm restart: weights and step continue, Adam's moments start again.
    """
    try:
        saved = load_checkpoint(path)
    except CheckpointError:
        raise
    except ValueError:  # readable, but not a run checkpoint: the old weights-only format
        model.load_state_dict(read_model_state(path))
        meta = json.loads(path.with_suffix(".json").read_text())
        loop.update(step=int(meta["step"]), epoch=int(meta.get("epoch", 0)))
        if path.with_name("best.json").is_file():
            loop["best"] = json.loads(path.with_name("best.json").read_text())["val_loss"]
        print(f"continuing {path.parent} from step {loop['step']}: an old weights-only"
              " checkpoint, so the optimizer state starts afresh")  # fmt: skip
        return None
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if scheduler is not None and saved.get("scheduler") is not None:
        scheduler.load_state_dict(saved["scheduler"])
    set_rng_state(saved["rng"])
    rng.bit_generator.state = saved["rng"]["windows"]
    loop.update(saved["loop"])
    print(f"continuing {path.parent} from step {loop['step']} (optimizer, schedule, random"
          " generators and data position restored)")  # fmt: skip
    return saved["carried_state"]


def train_language_model(args, on_finish=None) -> int:
    """Train ``args.model`` on ``args.text`` or ``args.data`` and save the run; see the module.

    ``on_finish(model, vocab, run_dir, val_ids)``, if given, runs after a run that ended
    normally (the CLI draws the gates of a recurrent model there)."""
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
    optimizer = _optimizer(hp, model, hp["lr"])
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = resume or Path(hp.get("run_dir") or f"runs/{name}-{stamp}")
    run_dir.mkdir(parents=True, exist_ok=True)
    metrics = run_dir / "metrics.jsonl"
    if resume is None:
        config = {"model": name, "task": "language", "options": options}
        config.update(vocab_size=len(vocab), recurrent=recurrent)
        config.update({k: v for k, v in hp.items() if k not in ("run_dir", "resume")})
        (run_dir / "config.json").write_text(json.dumps(config, indent=2))
        vocab.save(run_dir / "vocab.json")
        metrics.write_text("")
    elif getattr(args, "steps", None) is not None or getattr(args, "epochs", None) is not None:
        # a new target length: the next --resume without one continues towards it
        config = json.loads((run_dir / "config.json").read_text())
        config.update(steps=hp["steps"], epochs=hp.get("epochs"))
        atomic_write_text(run_dir / "config.json", json.dumps(config, indent=2))
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
    scheduler = _scheduler(hp, optimizer)
    # The loop's whole state; a checkpoint stores it and --resume puts it back.
    loop = {"step": 0, "epoch": 0, "window": 0, "best": math.inf, "running": []}
    state = None  # the recurrent state carried between windows
    if resume is not None:
        state = _restore(resume / "checkpoint.safetensors", model, optimizer, scheduler, rng, loop)
    windows = itertools.islice(iter(stream), loop["window"], None) if recurrent else None
    start = time.perf_counter()
    limit_s = 60.0 * hp["time_limit"] if hp["steps"] is None else math.inf

    def lr() -> float:
        return optimizer.param_groups[0]["lr"]

    def checkpoint(meta: dict) -> None:
        resumable = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "rng": {**rng_state(), "windows": rng.bit_generator.state},
            "loop": loop,
            "carried_state": detach_state(state),
        }
        save_checkpoint(run_dir / "checkpoint.safetensors", resumable, meta)

    def validate():
        val = evaluate(model, val_ids, hp["batch_size"], block, recurrent, hp["eval_windows"])
        elapsed = time.perf_counter() - start
        step = loop["step"]
        row = {"step": step, "epoch": loop["epoch"], "split": "val", "loss": val, "lr": lr()}
        _log(metrics, {**row, "bits_per_char": val / math.log(2), "time": elapsed})
        meta = {"step": step, "epoch": loop["epoch"], "val_loss": val, "time": elapsed}
        if val < loop["best"]:
            loop["best"] = val
            write_weights(run_dir / "best.safetensors", model, meta)
        checkpoint({**meta, "best_val_loss": loop["best"], "lr": lr()})
        print(f"step {step:6d}  val loss {val:.4f} nats/char ({val / math.log(2):.3f} bits)"
              f"  {elapsed:6.1f} s", flush=True)  # fmt: skip

    try:
        while (hp["steps"] is None or loop["step"] < hp["steps"]) and (
            time.perf_counter() - start < limit_s
        ):
            if recurrent:
                try:
                    x, y = next(windows)
                except StopIteration:  # one pass over the streams: start again from zero state
                    windows, state = iter(stream), None
                    loop["epoch"], loop["window"] = loop["epoch"] + 1, 0
                    x, y = next(windows)
                loop["window"] += 1
                state = detach_state(state)
            else:
                x, y = random_windows(train_ids, hp["batch_size"], block, rng)
            loss, state = language_loss(model, x, y, state, recurrent)
            optimizer.zero_grad()
            loss.backward()
            if hp["clip_grad_norm"]:
                clip_grad_norm_(model.parameters(), hp["clip_grad_norm"])
            optimizer.step()
            step_lr = lr()
            if scheduler is not None:
                scheduler.step()
            loop["step"] += 1
            loop["running"].append(float(loss.item()))
            if loop["step"] % hp["log_every"] == 0:
                running = loop["running"]
                _log(metrics, {"step": loop["step"], "epoch": loop["epoch"], "split": "train",
                               "loss": sum(running) / len(running), "lr": step_lr,
                               "time": time.perf_counter() - start})  # fmt: skip
                loop["running"] = []
            if loop["step"] % hp["eval_every"] == 0:
                validate()
    except KeyboardInterrupt:
        # No checkpoint now: the interrupt may have struck inside an optimizer step. The last
        # one (written at the last validation) is a consistent state to continue from.
        print(f"\ninterrupted at step {loop['step']}; continue from the last checkpoint with:"
              f" ember train --resume {run_dir}")  # fmt: skip
        return 130
    if loop["step"] % hp["eval_every"] or loop["step"] == 0:
        validate()
    prompt = vocab.encode("\n" if "\n" in vocab.stoi else vocab.itos[0])[None]  # (1, T)
    sample = vocab.decode(
        model.generate(prompt, hp["sample_tokens"], hp["temperature"], hp["top_k"])
    )
    (run_dir / "samples.txt").write_text(sample, encoding="utf-8")
    print(f"trained {loop['step']} steps in {time.perf_counter() - start:.0f} s;"
          f" best val loss {loop['best']:.4f}")  # fmt: skip
    print("---- sample " + "-" * 60 + "\n" + sample + "\n" + "-" * 72)
    if on_finish is not None:
        on_finish(model, vocab, run_dir, val_ids)
    print(f"next: ember generate {run_dir}   ember inspect {run_dir} --text 'some text'"
          f"   ember report {run_dir}")  # fmt: skip
    return 0
