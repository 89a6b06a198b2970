"""Training speed on a GPU against batch size and precision: is the default preset launch-bound there?

    python benchmarks/bench_gpu_batch.py --data data/gen5-64.data --batches 16 32 64 128 256

The default preset trains with batch 16 because that is what wins a CPU hour (benchmarks/RESULTS.md). On a
GPU each step is a few hundred small kernels, so speed is set by how fast Python can launch them, not by
the GPU. This measures images/second of the `fastgan` preset for each batch, fp32 (the default) and bf16
autocast (`--amp`), in one process (CUDA is initialised once), over at least 40 steps after the first quarter kimg.
Speed only: a larger batch changes the recipe (fewer steps per image), which the CPU sweeps found worse.
"""
from __future__ import annotations

import argparse

from _child import train_speed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--preset", default="fastgan")
    p.add_argument("--batches", type=int, nargs="+", default=[16, 32, 64, 128, 256])
    p.add_argument("--device", default="cuda")
    args = p.parse_args()
    import torch

    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device
    print(f"{args.preset} on {name}, torch {torch.__version__}")
    print("| batch | fp32 img/s | bf16 autocast img/s | fp32 steps/s |\n|---|---|---|---|")
    for batch in args.batches:
        kimg = max(1.0, batch * 40 / 1000 + 0.25)
        row = {}
        for amp in (False, True):
            row[amp] = train_speed(args.data, args.preset, kimg=kimg, batch=batch, amp=amp, device=args.device)
        print(f"| {batch} | {row[False]['img_per_sec']:.0f} | {row[True]['img_per_sec']:.0f} | "
              f"{row[False]['img_per_sec'] / batch:.1f} |", flush=True)


if __name__ == "__main__":
    main()
