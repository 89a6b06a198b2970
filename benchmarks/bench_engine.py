"""Engine speed and memory: pokegan's loop against a bare PyTorch loop of the same networks, and
seconds per kimg for every preset.

    .venv/bin/python benchmarks/bench_engine.py --data data/gen5-64.data            # both parts
    .venv/bin/python benchmarks/bench_engine.py --data data/gen5-64.data --part overhead --kimg 3 --reps 3

Each measurement runs in its own process, so peak memory (max RSS) is that run's alone. The bare loop is
the PyTorch DCGAN tutorial's loop (D on reals, D on fakes, G on the same fakes; separate backward calls)
over the same in-memory data composited on white; the engine run is `pokegan train --preset dcgan` with
its logging, monitor, sample grids and checkpoints on (EMA on too, for the overhead comparison, since it
is part of the engine's per-step work). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time

from _child import run_child


def bare(data: str, kimg: float, batch: int, warmup: int) -> dict:
    import torch
    import torch.nn.functional as F

    from pokegan.data import load_dataset
    from pokegan.models.dcgan import DCGANDiscriminator, DCGANGenerator
    from pokegan.training.feed import RealFeed

    torch.manual_seed(0)
    ds = load_dataset(data)
    feed = RealFeed(ds, "white", torch.device("cpu"), 0)
    G, D = DCGANGenerator(100, ds.size, 3), DCGANDiscriminator(ds.size, 3)
    oG = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    oD = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.ones(batch), torch.zeros(batch)
    steps = int(kimg * 1000 / batch)
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.perf_counter()
        real = feed.next(batch)
        D.zero_grad()
        err_real = F.binary_cross_entropy_with_logits(D(real), ones)
        err_real.backward()
        fake = G(torch.randn(batch, 100))
        err_fake = F.binary_cross_entropy_with_logits(D(fake.detach()), zeros)
        err_fake.backward()
        oD.step()
        G.zero_grad()
        err_g = F.binary_cross_entropy_with_logits(D(fake), ones)
        err_g.backward()
        oG.step()
    dt = time.perf_counter() - t0
    return {"img_per_sec": steps * batch / dt, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def engine(data: str, preset: str, kimg: float, batch: int | None, warmup_kimg: float, ema: float) -> dict:
    from dataclasses import replace

    from pokegan.presets import preset_config
    from pokegan.training.loop import Trainer

    over = dict(kimg=warmup_kimg + kimg, tick_kimg=kimg / 4, sample_every_kimg=kimg / 2,
                save_every_kimg=kimg / 2, snapshot_every_kimg=0, ema_kimg=ema)
    if batch:
        over["batch"] = batch
    cfg = replace(preset_config(preset), **over)
    with tempfile.TemporaryDirectory() as tmp:
        t = Trainer.new(cfg, data, tmp, progress="quiet", log=lambda m: None)
        t.run()
        rows = [json.loads(l) for l in (t.run_dir / "stats.jsonl").read_text().splitlines()]
    # ticks after the warm-up; a tick's time is training alone (upkeep excluded)
    timed = [r["sec_per_kimg"] for r in rows if r["kimg"] > warmup_kimg + 1e-9]
    ips = 1000 * len(timed) / sum(timed)
    return {"img_per_sec": ips, "sec_per_kimg": 1000 / ips,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def engine_wall(data: str, kimg: float, batch: int, warmup_kimg: float, ema: float) -> dict:
    """The engine's images/second by wall clock, upkeep (stats, samples, checkpoints) included."""
    from dataclasses import replace

    from pokegan.presets import preset_config
    from pokegan.training.loop import Trainer

    cfg = replace(preset_config("dcgan"), kimg=warmup_kimg, batch=batch, tick_kimg=kimg / 4,
                  sample_every_kimg=kimg / 2, save_every_kimg=kimg / 2, snapshot_every_kimg=0, ema_kimg=ema)
    with tempfile.TemporaryDirectory() as tmp:
        t = Trainer.new(cfg, data, tmp, progress="quiet", log=lambda m: None)
        t.run()  # warm-up
        t.cfg = replace(t.cfg, kimg=warmup_kimg + kimg)
        n0, t0 = t.nimg, time.perf_counter()
        t.run()
        dt = time.perf_counter() - t0
    return {"img_per_sec": (t.nimg - n0) / dt, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(args) -> None:
    if args.worker == "bare":
        out = bare(args.data, args.kimg, args.batch, warmup=3)
    elif args.worker == "engine":
        out = engine_wall(args.data, args.kimg, args.batch, warmup_kimg=0.384, ema=args.ema)
    else:
        out = engine(args.data, args.worker, args.kimg, None, warmup_kimg=args.warmup, ema=0.0)
    print("RESULT " + json.dumps(out))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--part", choices=["overhead", "families", "all"], default="all")
    p.add_argument("--kimg", type=float, default=3.0, help="timed kimg per overhead measurement")
    p.add_argument("--family-kimg", type=float, default=1.0, help="timed kimg per preset")
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--ema", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=0.25)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return child(args)
    print(f"machine: {os.cpu_count()} CPUs, torch threads {__import__('torch').get_num_threads()}")
    if args.part in ("overhead", "all"):
        res = {"bare": [], "engine": []}
        for _ in range(args.reps):  # interleaved, so drift hits both alike
            for kind in ("bare", "engine"):
                res[kind].append(run_child(__file__, "--data", args.data, "--worker", kind, "--kimg", str(args.kimg),
                                           "--batch", str(args.batch), "--ema", str(args.ema)))
        print("\n| loop | img/s (each rep) | best img/s | peak RSS MB |\n|---|---|---|---|")
        for kind, rs in res.items():
            each = ", ".join(f"{r['img_per_sec']:.1f}" for r in rs)
            print(f"| {kind} | {each} | "
                  f"{max(r['img_per_sec'] for r in rs):.1f} | {max(r['peak_mb'] for r in rs):.0f} |")
        b = max(r["img_per_sec"] for r in res["bare"])
        e = max(r["img_per_sec"] for r in res["engine"])
        bm = max(r["peak_mb"] for r in res["bare"])
        em = max(r["peak_mb"] for r in res["engine"])
        print(f"\nengine / bare speed: {e / b:.3f}; memory: {em / bm:.2f}x")
    if args.part in ("families", "all"):
        from pokegan.presets import PRESETS

        print("\n| preset | family | batch | img/s | s/kimg | peak RSS MB |\n|---|---|---|---|---|---|")
        for name, pr in PRESETS.items():
            r = run_child(__file__, "--data", args.data, "--worker", name, "--kimg", str(args.family_kimg),
                          "--warmup", str(args.warmup))
            print(f"| {name} | {pr.config.family} | {pr.config.batch} | {r['img_per_sec']:.1f} | "
                  f"{r['sec_per_kimg']:.1f} | {r['peak_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
