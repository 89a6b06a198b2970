"""FID against CPU minutes: evaluate every snapshot of one or more runs (the default preset, dcgan, ...).

    # train (each alone on the machine), keeping every snapshot along the way (--keep-snapshots 0):
    .venv/bin/pokegan train --data data/gen5-64.data --minutes 60 --run-dir runs --snapshot-every-kimg 15 --keep-snapshots 0
    .venv/bin/pokegan train --data data/gen5-64.data --preset dcgan --minutes 60 --run-dir runs --snapshot-every-kimg 40 --keep-snapshots 0
    # then:
    .venv/bin/python benchmarks/bench_default.py --data data/gen5-64.data runs/00002-fastgan-gen5-64 runs/00003-dcgan-gen5-64
    # or per image, two runs at the same snapshots (without their latest, already measured):
    .venv/bin/python benchmarks/bench_default.py --data data/gen5-64.data --at-kimg 110,160 --no-latest RUN1 RUN2
    # grids are named after the run folder; in a fresh checkout, name them yourself (existing grids are kept):
    .venv/bin/python benchmarks/bench_default.py --data data/gen5-64.data --grid-name 00046-fastgan-gen5-64-mine RUN

For each snapshot (and `latest`): the wall-clock minutes of training it had (from its state.json), its
kimg, FID, KID, precision, recall and near-copy share with as many generated images as the dataset has,
and an 8x8 grid of its samples in benchmarks/grids/. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from _child import GRIDS, grid_problem


def main() -> None:
    from pokegan.data import load_dataset
    from pokegan.data.show import grid
    from pokegan.core.files import save_png
    from pokegan.metrics.evaluate import EvalConfig, evaluate_arrays
    from pokegan.metrics.inception import InceptionFeatures
    from pokegan.generator.sprites import load_generator

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+")
    p.add_argument("--data", required=True)
    pick = p.add_mutually_exclusive_group()
    pick.add_argument("--every", type=int, default=1, help="evaluate every Nth snapshot (plus latest)")
    pick.add_argument("--at-minutes", type=lambda s: [float(m) for m in s.split(",")],
                   help="instead of --every, comma list: the snapshot nearest each of these training minutes "
                        "(plus latest), to put a run beside another's points, e.g. 6,21,36,54")
    pick.add_argument("--at-kimg", type=lambda s: [float(k) for k in s.split(",")],
                   help="instead of --every, comma list: the snapshot nearest each of these kimg (plus latest), "
                        "to compare runs per image, e.g. 110,160")
    pick.add_argument("--latest-only", action="store_true", help="evaluate only each run's latest checkpoint")
    p.add_argument("--no-latest", action="store_true", help="leave out the latest checkpoint (already measured)")
    p.add_argument("--num", type=int, default=0)
    p.add_argument("--bg-tolerance", type=int, default=5,
                   help="as `pokegan generate` (5); 0 = the raw output, as the earliest figures used")
    p.add_argument("--grid-name", help="name the grids NAME-MMMMmin.png instead of after the run folder (one run "
                                       "only): run numbers restart in a fresh checkout, and grids are kept in git")
    p.add_argument("--overwrite-grids", action="store_true", help="replace grids that already exist")
    args = p.parse_args()
    if args.grid_name and len(args.runs) > 1:
        p.error("--grid-name names the grids of one run; give one run")
    todo = []
    for run in map(Path, args.runs):
        snaps = sorted((run / "checkpoints").glob("snapshot-*"))
        if args.latest_only:
            snaps = []
        elif args.at_minutes:
            mins = {ck: json.loads((ck / "state.json").read_text()).get("elapsed_s", 0) / 60 for ck in snaps}
            snaps = sorted({min(snaps, key=lambda ck: abs(mins[ck] - m)) for m in args.at_minutes})
        elif args.at_kimg:
            kimgs = {ck: json.loads((ck / "state.json").read_text())["kimg"] for ck in snaps}
            snaps = sorted({min(snaps, key=lambda ck: abs(kimgs[ck] - k)) for k in args.at_kimg})
        else:
            snaps = snaps[:: args.every]
        if not args.no_latest or args.latest_only:
            snaps.append(run / "checkpoints" / "latest")
        for ck in snaps:
            state = json.loads((ck / "state.json").read_text())
            minutes = state.get("elapsed_s", 0) / 60
            name = f"{args.grid_name or run.name}-{minutes:04.0f}min.png"
            todo.append((run, ck, state, minutes, GRIDS / name))
    problem = grid_problem(args.grid_name, [t[-1] for t in todo], args.overwrite_grids)
    if problem:  # before minutes of evaluation, not after
        p.error(problem)
    ds = load_dataset(args.data)
    ext = InceptionFeatures()
    print("| run | checkpoint | minutes | kimg | FID | KID | precision | recall | near-copies (real's own) |")
    print("|---|---|---|---|---|---|---|---|---|")
    floor = None
    for run, ck, state, minutes, grid_path in todo:
        g = load_generator(ck)
        imgs = g.arrays(args.num or len(ds), seed=0, bg_tolerance=args.bg_tolerance)
        res, _ = evaluate_arrays(imgs, ds, EvalConfig(num=args.num), extractor=ext, log=lambda m: None)
        floor = res
        grid_path.parent.mkdir(exist_ok=True)
        save_png(grid(imgs[:64], 8), grid_path)
        print(f"| {run.name} | {ck.name} | {minutes:.1f} | {state['kimg']:.1f} | {res['fid']:.1f} | "
              f"{res['kid']:.4f} | {res['precision']:.3f} | {res['recall']:.3f} | "
              f"{res['near_copy_share']:.3f} ({res['real_near_copy_share']:.3f}) |", flush=True)
    if floor:
        print(f"| real vs real (floor) | | | | {floor['floor_fid']:.1f} | {floor['floor_kid']:.4f} | | | |")


if __name__ == "__main__":
    main()
