"""F.interpolate, ember against torch: forward, and forward + backward for float32.

Cases (N×C×H×W → H'×W'):

    float32 32×3×64×64 → 128×128 and → 32×32, bilinear and bicubic (align_corners off and
    on) and nearest; forward, and forward + backward (∂/∂x of Σ y·g with a fixed g)
    float32 32×3×64×64 → 32×32 bilinear antialias; area 2× down (→ 32×32)
    uint8 1×3×480×640 → 224×298 bilinear antialias (torchvision's Resize(224) on a VGA image)

    python -m benchmarks.bench_interpolate                # markdown table on stdout
    python -m benchmarks.bench_interpolate --only uint8   # the cases whose name has "uint8"
    python -m benchmarks.bench_interpolate --save         # also append to results.json

Nothing is written unless ``--save`` is given. The ratio is torch/ember (> 1: ember faster).
"""

from __future__ import annotations

import argparse

import numpy as np

import ember
import ember.functional as F

from .harness import RESULTS, compare, report, setup_torch

BATCH = (32, 3, 64, 64)


def _cases():
    """(name, input shape, dtype, interpolate's kwargs, backward too)."""
    out = []
    for mode, corners in [("bilinear", (False, True)), ("bicubic", (False, True)),
                          ("nearest", (None,))]:  # fmt: skip
        for size in (128, 32):
            for ac in corners:
                kw = dict(size=(size, size), mode=mode)
                tag = "" if ac is None else f" ac={ac}"
                if ac is not None:
                    kw["align_corners"] = ac
                for grad in (False, True):
                    name = f"f32 {mode}{tag} 64→{size}" + (" fwd+bwd" if grad else " fwd")
                    out.append((name, BATCH, np.float32, kw, grad))
    aa = dict(size=(32, 32), mode="bilinear", antialias=True)
    out += [("f32 bilinear antialias 64→32 fwd", BATCH, np.float32, aa, False),
            ("f32 bilinear antialias 64→32 fwd+bwd", BATCH, np.float32, aa, True),
            ("f32 area 64→32 fwd", BATCH, np.float32, dict(size=(32, 32), mode="area"), False),
            ("f32 area 64→32 fwd+bwd", BATCH, np.float32, dict(size=(32, 32), mode="area"), True),
            ("uint8 bilinear antialias 480×640→224×298", (1, 3, 480, 640), np.uint8,
             dict(size=(224, 298), mode="bilinear", antialias=True), False)]  # fmt: skip
    return out


def steps(torch, shape, dtype, kw, grad):
    rng = np.random.default_rng(0)
    if dtype == np.uint8:
        a = rng.integers(0, 256, shape, dtype=np.uint8)
    else:
        a = rng.standard_normal(shape).astype(dtype)
    xe, xt = ember.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)
    g = None
    if grad:
        g = rng.standard_normal(tuple(F.interpolate(ember.tensor(a), **kw).shape)).astype(dtype)
    ge, gt = (ember.tensor(g), torch.tensor(g)) if grad else (None, None)

    def ember_step():
        y = F.interpolate(xe, **kw)
        if grad:
            xe.grad = None
            (y * ge).sum().backward()
        return y

    def torch_step():
        y = torch.nn.functional.interpolate(xt, **kw)
        if grad:
            xt.grad = None
            (y * gt).sum().backward()
        return y

    return ember_step, torch_step


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the cases whose name contains this text")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=int, default=10)
    parser.add_argument("--save", action="store_true", help="append to results.json")
    parser.add_argument("--torch-threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch = setup_torch(args.torch_threads)
    results = []
    for name, shape, dtype, kw, grad in _cases():
        if args.only and args.only not in name:
            continue
        e, t = steps(torch, shape, dtype, kw, grad)
        results.append(compare(name, e, t, warmup=3, block=args.block, rounds=args.rounds))
    report(results, save_to=RESULTS if args.save else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
