"""DiagnosticsCallback: gradient and activation health recorded during training.

    fit(model, ..., callbacks=[DiagnosticsCallback(every=20)])

Every ``every`` steps: each parameter's gradient norm (``on_after_backward``: gradients
present, before the optimizer step) and its update ratio ‖ΔW‖/‖W‖ (``on_step_end``: one
copy of the parameters taken before the step). Every ``activations_every`` steps, and at
the very first step (the signal-propagation check at initialisation), activation health of
the training forward itself: the capture is armed after one step ends and read after the
next backward, so it costs no extra forward. A validation forward in eval mode in between
is let through unrecorded, and the capture switches itself off after the forward it
recorded.

Each record is one JSON line appended to ``<run_dir>/diagnostics.jsonl`` and kept in
``records``: {"kind": "gradients" | "activations" | "warning", "step", "epoch", …}. A
loss that has not moved in ``stall_steps`` steps is warned about once (EmberWarning) and
recorded.

Works with any trainer object exposing ``model``, ``optimizer``, ``step``, ``epoch``,
``run_dir`` (Path or None), ``last_loss`` and ``history``.
"""

from __future__ import annotations

import json
import math
from collections import deque
from pathlib import Path

from ..mistakes import warn_once
from .activations import ActivationCapture
from .gradients import gradient_health, snapshot


def _float(v):
    try:
        return float(v.item() if hasattr(v, "item") else v)
    except (TypeError, ValueError):
        return None


class DiagnosticsCallback:
    """Record gradient health every ``every`` steps and activation health every
    ``activations_every`` steps (None: 5×every; 0: never) into ``diagnostics.jsonl``."""

    def __init__(
        self,
        every: int = 20,
        activations_every: int | None = None,
        stall_steps: int = 200,
        vanish_ratio: float = 1e-2,
        explode_norm: float = 1e3,
        filename: str = "diagnostics.jsonl",
    ):
        if every < 1:
            raise ValueError(f"every must be a positive number of steps, got {every}")
        self.every = every
        self.activations_every = 5 * every if activations_every is None else activations_every
        self.stall_steps = stall_steps
        self.vanish_ratio, self.explode_norm = vanish_ratio, explode_norm
        self.filename = filename
        self.records: list[dict] = []
        self._n = 0  # optimizer steps seen (on_after_backward calls)
        self._file = None
        self._named = None
        self._before = None
        self._capture = None
        self._losses: deque = deque(maxlen=max(2, stall_steps))
        self._started = False

    # ---------------------------------------------------------------- plumbing
    def _start(self, trainer) -> None:
        self._started = True
        # the plain model's names under data-parallel training (not DDP's "module." ones), and
        # the file from rank 0 only: every rank computes the same averaged gradients
        self._named = list(getattr(trainer, "module", trainer.model).named_parameters())
        run_dir = getattr(trainer, "run_dir", None)
        if run_dir is not None and getattr(trainer, "is_main", True):
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            self._file = open(Path(run_dir) / self.filename, "a", encoding="utf-8")  # noqa: SIM115
        if self.activations_every:
            self._arm(trainer)

    def _write(self, trainer, kind: str, body: dict) -> dict:
        rec = {
            "kind": kind,
            "step": int(getattr(trainer, "step", self._n) or 0),
            "epoch": getattr(trainer, "epoch", None),
            **body,
        }
        self.records.append(rec)
        if self._file is not None:
            self._file.write(json.dumps(rec) + "\n")
            self._file.flush()
        return rec

    def _arm(self, trainer) -> None:
        # stops itself when the model's next forward ends (or in on_after_backward)
        self._capture = ActivationCapture(trainer.model, training_only=True).start()

    def _disarm(self):
        cap, self._capture = self._capture, None
        if cap is not None:
            cap.stop()
        return cap

    # ---------------------------------------------------------------- the contract's hooks
    def on_train_begin(self, trainer) -> None:
        if not self._started:
            self._start(trainer)

    def on_after_backward(self, trainer) -> None:
        if not self._started:
            self._start(trainer)
        cap = self._disarm() if self._capture is not None else None
        if cap is not None and cap.rows:
            health = cap.result()
            self._write(trainer, "activations", {"at_init": self._n == 0, **health.to_dict()})
        self._n += 1
        if self._n % self.every == 0 or self._n == 1:
            self._before = snapshot(self._named)

    def on_step_end(self, trainer) -> None:
        if self._before is not None:
            health = gradient_health(
                self._named, self._before, self.vanish_ratio, self.explode_norm
            )
            self._before = None
            self._write(
                trainer, "gradients", {"loss": _float(trainer.last_loss), **health.to_dict()}
            )
        loss = _float(getattr(trainer, "last_loss", None))
        if loss is not None:
            self._losses.append(loss)
            if self._n % self.every == 0:
                self._check_stall(trainer)
        if self.activations_every and self._n % self.activations_every == 0:
            self._arm(trainer)  # the next step's forward is recorded

    def on_train_end(self, trainer) -> None:
        self._disarm()
        if self._file is not None:
            self._file.close()
            self._file = None

    # ---------------------------------------------------------------- resume
    def state_dict(self) -> dict:
        """Step count and the loss window (plain JSON), so a resumed run continues the
        intervals and does not call its first step 'initialisation'."""
        return {"steps_seen": self._n, "losses": list(self._losses)}

    def load_state_dict(self, state: dict) -> None:
        self._n = int(state["steps_seen"])
        self._losses.clear()
        self._losses.extend(float(v) for v in state["losses"])

    # ---------------------------------------------------------------- loss that does not move
    def _check_stall(self, trainer) -> None:
        """Flat: the mean of the window's second half is within max(1e-4 relative, two
        standard errors) of the first half's, after ``stall_steps`` steps."""
        if len(self._losses) < self.stall_steps or self.stall_steps < 4:
            return
        w = list(self._losses)
        h = len(w) // 2
        a, b = w[:h], w[h:]
        ma, mb = sum(a) / len(a), sum(b) / len(b)
        if not (math.isfinite(ma) and math.isfinite(mb)):
            return
        va = sum((x - ma) ** 2 for x in a) / max(1, len(a) - 1)
        vb = sum((x - mb) ** 2 for x in b) / max(1, len(b) - 1)
        sem = math.sqrt(va / len(a) + vb / len(b))
        if abs(mb - ma) > max(1e-4 * abs(ma), 2 * sem):
            return
        lr = None
        opt = getattr(trainer, "optimizer", None)
        if opt is not None and getattr(opt, "param_groups", None):
            lr = opt.param_groups[0].get("lr")
        message = (
            f"the loss has not moved in {self.stall_steps} steps (mean {ma:.4g} → {mb:.4g},"
            f" within batch noise). If training has not converged: check the learning rate"
            f" (lr={lr}), that optimizer.zero_grad() and optimizer.step() run every step, that"
            " model.parameters() went to the optimizer, and the activation health for dead or"
            " saturated layers."
        )
        if warn_once("loss-not-moving", message):
            self._write(trainer, "warning", {"key": "loss-not-moving", "message": message})
