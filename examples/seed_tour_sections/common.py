"""What every section of the tour shares: the run's settings, data, figures, the adding problem."""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import ember
from ember.diagnose.figures import new_figure, save_png

__all__ = ["Tour", "new_figure", "shared_data_dir"]

ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path | None:
    """../shared/data beside the checkout (EMBER_SHARED_DATA overrides), as tests/conftest.py."""
    env = os.environ.get("EMBER_SHARED_DATA")
    d = Path(env) if env else ROOT.parent / "shared" / "data"
    return d if d.is_dir() else None


@dataclass
class Tour:
    """One run of the tour: where figures go, how long to train, where the data lives."""

    out: Path
    quick: bool = False
    data: Path | None = None
    seed: int = 0
    cache: dict = field(default_factory=dict)  # models shared between sections (the digits CNN)
    current: str = "figure"  # the running section's figure name, "NN_<section>" (set by the driver)

    def steps(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def seed_all(self, offset: int = 0) -> np.random.Generator:
        """Seed ember (init, dropout) and return a NumPy generator for the batches."""
        ember.manual_seed(self.seed + offset)
        return np.random.default_rng(self.seed + offset)

    @property
    def figure_path(self) -> Path:
        return self.out / f"{self.current}.png"

    def save(self, fig) -> Path:
        """Write the section's one figure."""
        return save_png(fig, self.figure_path, dpi=100)

    def say(self, text: str) -> None:
        """A paragraph of explanation, wrapped, indented under the section title."""
        for para in textwrap.dedent(text).strip().split("\n\n"):
            print(textwrap.fill(" ".join(para.split()), 96, initial_indent="  ",
                                subsequent_indent="  "))  # fmt: skip

    # ---------------------------------------------------------------- data
    def digits(self):
        """The 8x8 digits (1437 train / 360 test, inputs (1, 8, 8) in [0, 1]) as arrays."""
        if "digits" not in self.cache:
            from ember.data import load_digits

            root = self.data / "digits" if self.data and (self.data / "digits").is_dir() else None
            d = load_digits(root=root)  # else: the cache, scikit-learn's copy, or a download
            (x, y), (xt, yt) = d.train.arrays, d.test.arrays
            self.cache["digits"] = (x, y, xt, yt)
        return self.cache["digits"]

    def mnist_test_images(self):
        """MNIST's 10,000 test images (uint8, 28x28) and labels: only the two t10k files, from
        the shared data when they are there, else from ember's cache (downloaded if missing)."""
        from ember.vision.datasets import MNIST

        here = self.data and (self.data / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()
        test = MNIST(self.data if here else None, train=False, download=True)
        return test.data.numpy(), test.targets.numpy()
