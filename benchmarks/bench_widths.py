"""Where a `fastgan` step's time goes by network width: training speed for generator and discriminator
widths (`g_base`, `d_base`), each measurement in its own process, and the generator's forward and backward
time per resolution level.

    .venv/bin/python benchmarks/bench_widths.py --data data/gen5-64.data --widths 16,16 8,16 8,8 12,12 --reps 2

Speed: 1 kimg of the default preset with each `g_base,d_base` (interleaved over the reps, so the machine's
drift hits every variant alike), images/second over the ticks after the first 0.25 kimg, upkeep excluded,
in fp32 (bf16 fixed off, so the variants differ only in width). Levels: one generator of each `g_base` at
the data's resolution, batch 16, the median of 10 forward+backward passes of each up block on its real
input, and of the whole generator. Speed only: what width does to quality needs whole training runs
(benchmarks/RESULTS.md).
"""
from __future__ import annotations

import argparse
import json
import time

from _child import run_child, train_speed


def level_times(resolution: int, g_base: int, batch: int = 16, reps: int = 10) -> dict[str, float]:
    import torch

    from pokegan.models.fastgan import FastGenerator

    torch.manual_seed(0)
    G = FastGenerator(128, resolution, 3, base=g_base).to(memory_format=torch.channels_last)
    z = torch.randn(batch, 128)

    def median_ms(fn) -> float:
        for _ in range(3):
            fn()
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return 1000 * sorted(ts)[reps // 2]

    with torch.no_grad():
        feats = {4: G.init(z.view(batch, -1, 1, 1))}
        for key, up in G.ups.items():
            feats[int(key)] = up(feats[int(key) // 2])
    out = {}
    for key, up in G.ups.items():
        x = feats[int(key) // 2].clone().contiguous(memory_format=torch.channels_last).requires_grad_()
        out[f"{key}px block"] = median_ms(lambda: up(x).sum().backward())
    out["whole generator"] = median_ms(lambda: G(z).sum().backward())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--widths", nargs="*", default=["16,16", "8,16", "8,8", "12,12"],
                   help="g_base,d_base pairs; the first is the reference")
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--kimg", type=float, default=1.0)
    p.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker is not None:
        g, d = (int(v) for v in args.worker[0].split(","))
        print("RESULT " + json.dumps(train_speed(args.data, "fastgan", kimg=args.kimg, bf16=False,
                                                  options={"reuse_fakes": True, "g_base": g, "d_base": d})))
        return
    pairs = [w.replace(" ", "") for w in args.widths]
    res: dict[str, list[float]] = {w: [] for w in pairs}
    for _ in range(args.reps):
        for w in pairs:
            res[w].append(run_child(__file__, "--data", args.data, "--kimg", str(args.kimg), "--worker", w)["img_per_sec"])
    ref = sum(res[pairs[0]]) / len(res[pairs[0]])
    print("| g_base, d_base | img/s (each rep) | against the first |\n|---|---|---|")
    for w in pairs:
        mean = sum(res[w]) / len(res[w])
        print(f"| {w} | {', '.join(f'{v:.1f}' for v in res[w])} | {mean / ref:.2f}x |", flush=True)

    from pokegan.data import load_dataset

    resolution = load_dataset(args.data).size
    g_bases = sorted({int(w.split(",")[0]) for w in pairs}, reverse=True)
    rows = {b: level_times(resolution, b) for b in g_bases}
    names = list(rows[g_bases[0]])
    print("\n| generator part, batch 16, fwd+bwd ms | " + " | ".join(f"g_base {b}" for b in g_bases) + " |")
    print("|---|" + "---|" * len(g_bases))
    for n in names:
        print(f"| {n} | " + " | ".join(f"{rows[b][n]:.1f}" for b in g_bases) + " |")


if __name__ == "__main__":
    main()
