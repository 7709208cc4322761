"""A guided tour of the seed: each mechanism it explains, made visible with ember.

Walks the seed's explainer section by section (activations, backpropagation, the training
loop and its optimizers, initialisation / batch norm / residual connections, dead ReLUs,
vanilla RNNs against LSTMs and the vanishing gradient, the LSTM's gates, gradient clipping,
a CNN's filters and feature maps, attention, transfer learning). Every section trains or
probes a small real model on real or generated data (the 8x8 digits, MNIST's test images,
the adding problem, a sequence-reversal task), writes one PNG and prints what the figure
shows, with the numbers it measured.

    python examples/seed_tour.py                     # all sections, under a minute (2 cores)
    python examples/seed_tour.py --quick             # fewer steps, smaller models, ~15 s
    python examples/seed_tour.py --only activations,lstm_gates --out /tmp/tour

Figures go to ``--out`` (default runs/seed-tour/), named 01_activations.png … 11_transfer.png.
The 8x8 digits and MNIST are read from ../shared/data when it is there (``--data`` or
EMBER_SHARED_DATA to point elsewhere), else from ember's cache or downloaded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_tour_sections import SECTIONS, Tour, shared_data_dir  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="runs/seed-tour", help="folder for the figures")
    p.add_argument("--quick", action="store_true", help="fewer steps and smaller models")
    p.add_argument("--only", default=None, help="comma-separated section names: "
                   + ",".join(name for name, _, _ in SECTIONS))  # fmt: skip
    p.add_argument("--data", default=None, help="the shared data folder (digits/, mnist/)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    """Run the chosen sections; return {section: the numbers it measured} (also results.json)."""
    args = parse_args(argv)
    known = [name for name, _, _ in SECTIONS]
    chosen = known if not args.only else [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in known]
    if unknown:
        raise SystemExit(f"unknown section(s) {unknown}; choose from {', '.join(known)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(args.data) if args.data else shared_data_dir()
    tour = Tour(out=out, quick=args.quick, data=data, seed=args.seed)
    results, start = {}, time.perf_counter()
    for k, (name, title, run) in enumerate(SECTIONS, 1):
        if name not in chosen:
            continue
        print(f"\n{k:2d}. {title}  [{name}]", flush=True)
        t0 = time.perf_counter()
        tour.current = f"{k:02d}_{name}"
        results[name] = run(tour)
        results[name]["seconds"] = round(time.perf_counter() - t0, 2)
        print(f"  → {tour.figure_path}  ({results[name]['seconds']:.1f} s)", flush=True)
    total = time.perf_counter() - start
    (out / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(f"\n{len(results)} section(s) in {total:.1f} s; figures and results.json in {out}")
    return results


if __name__ == "__main__":
    main()
