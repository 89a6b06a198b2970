"""Where a training step's time goes: torch.profiler over the default preset's steps on real data.

    .venv/bin/python benchmarks/profile_step.py --data data/gen5-64.data [--preset fastgan] [--kimg 0.8]

Trains --kimg to warm up (one-time costs: oneDNN kernel choice, allocator), then profiles another --kimg
and prints images/second under the profiler (lower than without it) and the most expensive operators.
The EMA generator's batch-norm recalibration is off here (it runs once per save, not per step); the end of
the profiled run (one sample grid, one checkpoint) is inside the window.
"""
from __future__ import annotations

import argparse
import tempfile
import time


def main() -> None:
    from dataclasses import replace

    from torch.profiler import ProfilerActivity, profile

    from pokegan.presets import preset_config
    from pokegan.training.loop import Trainer

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--preset", default="fastgan")
    p.add_argument("--kimg", type=float, default=0.8)
    p.add_argument("--rows", type=int, default=30)
    args = p.parse_args()
    cfg = preset_config(args.preset, kimg=args.kimg, sample_every_kimg=0, snapshot_every_kimg=0, ema_bn_images=0)
    t = Trainer.new(cfg, args.data, tempfile.mkdtemp(), progress="quiet", log=lambda m: None)
    t.run()  # warm-up
    t.cfg = replace(cfg, kimg=2 * args.kimg)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        t.run()
        dt = time.perf_counter() - t0
    print(f"{args.preset}, batch {cfg.batch}: {args.kimg * 1000 / dt:.1f} img/s under the profiler")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
