"""bf16 autocast against fp32: training speed per preset on this machine, each measurement in its own process.

    .venv/bin/python benchmarks/bench_precision.py --data data/gen5-64.data --presets fastgan dcgan --reps 2

1 kimg of each preset with `amp_cpu` on and off (interleaved, so drift hits both alike), images/second over
the ticks after the first 0.25 kimg, upkeep excluded. On CPU `amp_cpu` only takes effect with native bf16
(AVX512-BF16 or AMX); elsewhere both columns run fp32 and the table says so. Where it is native, bf16 is
forced here: a training run would itself time both and take bf16 only at 1.1x or more. Speed only: what bf16 does to
quality needs whole training runs (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import argparse
import json

from _child import run_child, train_speed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--presets", nargs="*", default=["fastgan", "dcgan"])
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker is not None:
        print("RESULT " + json.dumps(train_speed(args.data, args.worker[0], amp_cpu=args.worker[1] == "1",
                                                  bf16=args.worker[1] == "1")))
        return
    print("| preset | fp32 img/s (each rep) | bf16 autocast img/s (each rep) | speed-up (means) |\n|---|---|---|---|")
    for preset in args.presets:
        res, used = {"0": [], "1": []}, True
        for _ in range(args.reps):
            for amp in ("1", "0"):
                r = run_child(__file__, "--data", args.data, "--worker", preset, amp)
                res[amp].append(r["img_per_sec"])
                used = used and (r["bf16_autocast"] == (amp == "1"))
        mean = {k: sum(v) / len(v) for k, v in res.items()}
        note = "" if used else " (no native bf16 here: both fp32)"
        print(f"| {preset} | {', '.join(f'{v:.1f}' for v in res['0'])} | {', '.join(f'{v:.1f}' for v in res['1'])} | "
              f"{mean['1'] / mean['0']:.2f}x{note} |", flush=True)


if __name__ == "__main__":
    main()
