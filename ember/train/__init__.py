"""ember.train — the training loop, metrics, checkpoints and exact resume.

from ember.train import fit
history = fit(model, optimizer, train_loader, val_loader, epochs=5, run_dir="runs/demo")
"""

from .callbacks import HOOKS, Callback, EarlyStopping, History
from .checkpoint import load_checkpoint, save_checkpoint
from .metrics import MetricsLog, accuracy, correct_count, read_metrics
from .trainer import Trainer, fit

__all__ = [
    "HOOKS",
    "Callback",
    "EarlyStopping",
    "History",
    "MetricsLog",
    "Trainer",
    "accuracy",
    "correct_count",
    "fit",
    "load_checkpoint",
    "read_metrics",
    "save_checkpoint",
]
