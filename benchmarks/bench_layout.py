"""Channels-last against NCHW: training speed per preset and FID-network speed, each in its own process.

    .venv/bin/python benchmarks/bench_layout.py --data data/gen5-64.data --presets fastgan dcgan --reps 2

Training: 1 kimg of each preset with `channels_last` on and off (interleaved, so drift hits both alike),
images/second over the ticks after the first 0.25 kimg, upkeep excluded. FID network: 50 random images at
299x299 through the Inception network in each layout, and the largest feature difference between them.
"""
from __future__ import annotations

import argparse
import json
import time

from _child import run_child, train_speed


def inception_worker() -> dict:
    import torch
    import torch.nn.functional as F

    from pokegan.metrics.inception import _load

    torch.manual_seed(0)
    net = _load("cpu")
    x = F.interpolate(torch.rand(50, 3, 64, 64) * 2 - 1, size=(299, 299), mode="bilinear", align_corners=False)
    out = {}
    with torch.inference_mode():
        for name, xx in (("nchw", x), ("channels_last", x.contiguous(memory_format=torch.channels_last))):
            net(xx[:5])  # warm-up
            t0 = time.perf_counter()
            out[name] = (net(xx), len(xx) / (time.perf_counter() - t0))
    return {"nchw_img_s": out["nchw"][1], "cl_img_s": out["channels_last"][1],
            "max_feature_diff": (out["nchw"][0] - out["channels_last"][0]).abs().max().item()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data")
    p.add_argument("--presets", nargs="*", default=["fastgan", "dcgan"])
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker is not None:
        res = inception_worker() if args.worker[0] == "inception" else \
            train_speed(args.data, args.worker[0], channels_last=args.worker[1] == "1")
        print("RESULT " + json.dumps(res))
        return
    print("| preset | NCHW img/s (each rep) | channels-last img/s (each rep) | speed-up (means) |\n|---|---|---|---|")
    for preset in args.presets:
        res = {"0": [], "1": []}
        for _ in range(args.reps):
            for cl in ("1", "0"):
                res[cl].append(run_child(__file__, "--data", args.data, "--worker", preset, cl)["img_per_sec"])
        mean = {k: sum(v) / len(v) for k, v in res.items()}
        print(f"| {preset} | {', '.join(f'{v:.1f}' for v in res['0'])} | {', '.join(f'{v:.1f}' for v in res['1'])} | "
              f"{mean['1'] / mean['0']:.2f}x |", flush=True)
    r = run_child(__file__, "--worker", "inception")
    print(f"\nFID network, 50 images at 299x299: NCHW {r['nchw_img_s']:.1f} img/s, channels-last "
          f"{r['cl_img_s']:.1f} img/s, largest feature difference {r['max_feature_diff']:.1e}")


if __name__ == "__main__":
    main()
