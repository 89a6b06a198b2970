"""Which EMA half-life is best for a run? Measured on one run, so seeds cannot blur the answer.

    .venv/bin/python benchmarks/bench_ema.py train 10:0.05 2:0.05 100:0.0125 100:0.025 100:0.1 100:0.2 -- \\
        --data data/gen5-64.data --minutes 60 --run-dir runs --snapshot-every-kimg 10 --keep-snapshots 30
    .venv/bin/python benchmarks/bench_ema.py eval runs/00026-fastgan-gen5-64 --data data/gen5-64.data
    # in a fresh checkout run numbers restart: name the grid (an existing one is never overwritten unasked)
    .venv/bin/python benchmarks/bench_ema.py eval runs/00001-fastgan-gen5-64 --data data/gen5-64.data --grid-name NAME

The EMA generator never feeds back into training: G and D train exactly as they would without it. So
several EMAs of the same run can be kept side by side and compared with no seed-to-seed spread, which
between two runs of the default is up to 8 FID at the hour (RESULTS.md), more than the effects sought.

`train` runs `pokegan train` with the arguments after `--` and, beside the run's own EMA, keeps one more
per KIMG:RAMPUP spec: half-life KIMG thousand images, at most RAMPUP times the images shown so far (the
meaning of `--ema-kimg` and `--ema-rampup`; 100:0.025 is "2.5% of the run so far" for any run up to 4,000
kimg). Their weights are written beside every checkpoint the run saves, as
`RUN/ema_extra/<checkpoint>-<KIMG>_<RAMPUP>.safetensors` (batch-norm statistics not recomputed). One
invocation, no `--resume`: the extra averages live only in this process. A spec equal to the run's own
(10:0.05 for the default) must reproduce its EMA weights exactly; `eval` checks that.

`eval` takes one checkpoint of such a run (`--checkpoint`, default `latest`) and, for its own EMA and each
extra one, recomputes the batch-norm statistics as the trainer does, then reports FID, KID, precision,
recall and near-copies with as many generated images as the dataset has (bench_default.py's protocol),
and writes the grid bench_default.py would of the run's own EMA generator.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

from _child import GRIDS, grid_problem

EXTRA = "ema_extra"


def parse_spec(s: str) -> tuple[float, float]:
    try:
        kimg, rampup = (float(v) for v in s.split(":"))
    except ValueError:
        raise SystemExit(f"EMA spec {s!r}: expected KIMG:RAMPUP, e.g. 10:0.05") from None
    if kimg <= 0 or rampup < 0:
        raise SystemExit(f"EMA spec {s!r}: KIMG must be > 0 and RAMPUP >= 0")
    return kimg, rampup


def tag(spec: tuple[float, float]) -> str:
    return f"{spec[0]:g}_{spec[1]:g}"


def half_life_kimg(spec: tuple[float, float], kimg: float) -> float:
    """The trainer's rule (`models.ema.ema_half_life`), in kimg."""
    from pokegan.models.ema import ema_half_life

    return ema_half_life(kimg * 1000, *spec) / 1000


def install(specs: list[tuple[float, float]]) -> None:
    """Patch the trainer so that it keeps and saves the extra EMAs."""
    from safetensors.torch import save_file

    from pokegan.models import ema
    from pokegan.training import loop

    Trainer, Ema = loop.Trainer, ema.EmaGenerator
    own_update, own_save = Ema.update, Trainer.save
    extra: dict = {}   # one run per process: its extra EMAs

    def update(self, G, nimg) -> None:
        own_update(self, G, nimg)
        if not extra:  # first step: start from the run's own EMA, as it started from G
            extra.update({s: copy.deepcopy(self.net) for s in specs})
        for s, m in extra.items():
            ema.update_ema(m, G, self.cfg.batch, ema.ema_half_life(nimg, *s))

    def save(self, dest) -> None:
        own_save(self, dest)
        if self.rank != 0 or not extra:
            return
        folder = Path(self.run_dir) / EXTRA
        folder.mkdir(exist_ok=True)
        for s, m in extra.items():
            save_file({k: v.detach().cpu().contiguous() for k, v in m.state_dict().items()},
                      str(folder / f"{Path(dest).name}-{tag(s)}.safetensors"))

    Ema.update, Trainer.save = update, save


def cmd_train(args, rest: list[str]) -> int:
    if "--resume" in rest:
        raise SystemExit("bench_ema.py train: no --resume (the extra EMAs live only in this process)")
    install([parse_spec(s) for s in args.specs])
    from pokegan.cli.main import main

    return main(["train", *rest])


def cmd_eval(args) -> int:
    import torch
    from safetensors.torch import load_file

    from pokegan.data import load_dataset
    from pokegan.data.show import grid
    from pokegan.core.files import save_png
    from pokegan.metrics.evaluate import EvalConfig, evaluate_arrays
    from pokegan.metrics.inception import InceptionFeatures
    from pokegan.models.ema import recalibrate_ema
    from pokegan.generator.sprites import load_generator
    from pokegan.config import TrainConfig

    run = Path(args.run)
    ck = run / "checkpoints" / args.checkpoint
    state = json.loads((ck / "state.json").read_text())
    cfg = TrainConfig.from_dict(state["config"])
    kimg = state["kimg"]
    extras = sorted((run / EXTRA).glob(f"{args.checkpoint}-*.safetensors"))
    if not extras:
        raise SystemExit(f"{run / EXTRA}: no extra EMAs for {args.checkpoint}; was the run trained with "
                         "`bench_ema.py train`?")
    own_spec = (cfg.ema_kimg, cfg.ema_rampup)
    minutes = state.get("elapsed_s", 0) / 60
    grid_path = GRIDS / f"{args.grid_name or run.name}-{minutes:04.0f}min.png"
    problem = grid_problem(args.grid_name, [grid_path], args.overwrite_grids)
    if problem:  # before minutes of evaluation, as bench_default.py
        raise SystemExit(problem)
    g = load_generator(ck)
    own = {k: v.clone() for k, v in g.G.named_parameters()}
    own_weights = {k: v.clone() for k, v in g.G.state_dict().items()}  # with its own batch-norm statistics
    ds = load_dataset(args.data)
    ext = InceptionFeatures()
    print(f"{run.name} {args.checkpoint}: {kimg:.1f} kimg, {state.get('elapsed_s', 0) / 60:.1f} min")
    print("| EMA (kimg:rampup) | half-life at this point (kimg) | FID | KID | precision | recall | near-copies (real's own) |")
    print("|---|---|---|---|---|---|---|")

    def report(label: str, hl: float, grid_path: Path | None = None) -> None:
        imgs = g.arrays(args.num or len(ds), seed=0)
        if grid_path:
            grid_path.parent.mkdir(exist_ok=True)
            save_png(grid(imgs[:64], 8), grid_path)
        res, _ = evaluate_arrays(imgs, ds, EvalConfig(num=args.num), extractor=ext, log=lambda m: None)
        print(f"| {label} | {hl:.2f} | {res['fid']:.1f} | {res['kid']:.4f} | {res['precision']:.3f} | "
              f"{res['recall']:.3f} | {res['near_copy_share']:.3f} ({res['real_near_copy_share']:.3f}) |", flush=True)

    specs = {parse_spec(p.stem.split("-")[-1].replace("_", ":")): p for p in extras}
    if own_spec in specs:  # the same rule must give the same weights, or the extras measure something else
        g.G.load_state_dict(load_file(str(specs.pop(own_spec))))
        diff = max((g.G.get_parameter(k) - v).abs().max().item() for k, v in own.items())
        print(f"(check: the extra {tag(own_spec)} against the run's own EMA: largest weight difference {diff:g})")
        if diff != 0:
            print("error: the extra EMA with the run's own rule differs from it", file=sys.stderr)
            return 1
        g.G.load_state_dict(own_weights)
    report(f"the run's own, {tag(own_spec).replace('_', ':')}", half_life_kimg(own_spec, kimg),
           grid_path)  # bench_default.py's grid of the same checkpoint
    for spec in sorted(specs, key=lambda s: half_life_kimg(s, kimg)):
        g.G.load_state_dict(load_file(str(specs[spec])))
        with torch.no_grad():
            recalibrate_ema(g.G, g.z_dim, cfg)
        g.G.eval()
        report(tag(spec).replace("_", ":"), half_life_kimg(spec, kimg))
    return 0


def main() -> int:
    argv = sys.argv[1:]
    rest: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="pokegan train (arguments after --) keeping extra EMAs")
    t.add_argument("specs", nargs="+", metavar="KIMG:RAMPUP")
    e = sub.add_parser("eval", help="evaluate a checkpoint's own and extra EMAs")
    e.add_argument("run")
    e.add_argument("--data", required=True)
    e.add_argument("--checkpoint", default="latest", help="latest or a snapshot's folder name")
    e.add_argument("--num", type=int, default=0, help="generated images per point; 0 = as many as the dataset has")
    e.add_argument("--grid-name", help="name the grid NAME-MMMMmin.png instead of after the run folder: run numbers "
                                       "restart in a fresh checkout, and grids are kept in git")
    e.add_argument("--overwrite-grids", action="store_true", help="replace a grid that already exists")
    args = p.parse_args(argv)
    return cmd_train(args, rest) if args.cmd == "train" else cmd_eval(args)


if __name__ == "__main__":
    sys.exit(main())
