"""The Trainer's scoring: the mean loss (and accuracy) over a loader with grad off and the
model in eval mode, and validation during training (recorded, best weights kept, early
stopping updated). A mixin of ``Trainer`` (trainer.py), which provides ``compute_loss``,
``record``, ``_call``, ``lr`` and the data-parallel ``_evaluation_sums``.
"""

from __future__ import annotations

import sys

from tqdm import tqdm

from ..function import no_grad
from ..serialization import save
from .metrics import correct_count


class Evaluation:
    """Scoring and validation for ``Trainer``."""

    def evaluate(self, loader, split: str = "val") -> dict:
        """Mean loss (and accuracy) over ``loader`` with grad off and the model in eval mode.

        Data-parallel: each rank scores its share of ``loader`` and the sums are all-reduced,
        so every rank returns the numbers of the whole set."""
        total, correct, count = self._evaluation_sums(loader)
        if count == 0:
            raise ValueError(f"the {split} loader yielded no batches")
        metrics = {"loss": total / count}
        if self.classification:
            metrics["accuracy"] = correct / count
        return metrics

    def _score(self, loader) -> tuple:
        was_training = self.model.training
        self.model.eval()
        total, correct, count = 0.0, 0, 0
        with no_grad():
            for batch in loader:
                loss, output, target = self.compute_loss(batch)
                n = prediction_count(target)
                total += float(loss.array) * n
                count += n
                if self.classification:
                    correct += correct_count(output, target)
        self.model.train(was_training)
        return total, correct, count

    def validate(self, val_loader, **extra) -> dict:
        """Score ``val_loader``; record it, keep the best weights, update early stopping."""
        val = self.last_val = self.evaluate(val_loader, "val")
        self.record(split="val", **val, **extra, lr=self.lr)
        self._call("on_validation_end", val)
        if self.progress:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in val.items())
            tqdm.write(f"epoch {self.epoch}, step {self.step}: val {shown}", file=sys.stderr)
        if val["loss"] < self.best_val_loss:
            self.best_val_loss = val["loss"]
            if self.run_dir is not None and self.is_main:
                save(self.module.state_dict(), self.run_dir / "best.safetensors")
        es = self.early_stopping
        if es is not None and not es.update(val["loss"]) and es.should_stop:
            self.should_stop = True
            self.stop_reason = (
                f"early stopping: validation loss did not improve for {es.patience} "
                f"validations (best {es.best:.4f})"
            )
        return val


def prediction_count(target) -> int:
    # every target element is one prediction: B for classification, B·T for sequences
    return target.numel() if hasattr(target, "numel") else len(target)
