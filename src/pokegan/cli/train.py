"""`pokegan train`: train a model family on a prepared dataset, or resume a run."""
from __future__ import annotations

import argparse
import dataclasses

EXAMPLES = """examples:
  pokegan train --data data/gen5-64.data --preset dcgan --kimg 10 --run-dir runs
  pokegan train --data data/gen5-64.data --preset wgan-gp --minutes 30 --run-dir runs
  pokegan train --data data/gen5-64.data --preset dcgan --augment flip,shift --background random
  pokegan train --data data/gen5-64.data --preset progan --set level_kimg=5 --kimg 60
  pokegan train --resume runs/00000-dcgan-gen5-64 --kimg 20     # continue to 20 kimg
  pokegan train --list-presets
"""

# command-line flag -> TrainConfig field (only fields a user commonly sets get their own flag)
FLAGS = {"diffaug": str, "ada_target": float, "eval_every_kimg": float, "eval_num": int, "batch": int, "lr_g": float, "lr_d": float, "z_dim": int, "background": str, "augment": str,
         "ema_kimg": float, "seed": int, "device": str, "tick_kimg": float, "sample_every_kimg": float,
         "save_every_kimg": float, "snapshot_every_kimg": float, "keep_snapshots": int}


def add_parser(sub) -> None:
    from pokegan.models.presets import DEFAULT_PRESET

    p = sub.add_parser("train", help="train a GAN on a prepared dataset (or resume a run)",
                       description="Train any model family on a prepared dataset, on CPU or GPU, with one loop.",
                       epilog=EXAMPLES)
    p.add_argument("--data", help="a dataset file from `pokegan data prepare`")
    p.add_argument("--preset", default=None, help=f"named recipe (default {DEFAULT_PRESET}); see --list-presets")
    p.add_argument("--run-dir", default="runs", help="folder that gets a numbered run folder (runs)")
    p.add_argument("--resume", metavar="RUN", help="continue a run folder from its latest checkpoint")
    p.add_argument("--list-presets", action="store_true", help="list presets with their family and source")
    p.add_argument("--kimg", type=float, help="stop after this many thousand real images (total)")
    p.add_argument("--epochs", type=float, help="stop after this many passes over the data (total)")
    p.add_argument("--minutes", type=float, help="stop after this many minutes (this invocation)")
    p.add_argument("--batch", type=int, help="images per step")
    p.add_argument("--lr-g", type=float, help="generator learning rate")
    p.add_argument("--lr-d", type=float, help="discriminator learning rate")
    p.add_argument("--z-dim", type=int, help="latent size")
    p.add_argument("--background", choices=["dataset", "white", "black", "random", "transparent"],
                   help="what the model sees behind sprites; transparent trains RGBA (4-channel) output")
    p.add_argument("--augment", help="classic real-image augmentation: comma list of flip,rotate,shift,zoom")
    p.add_argument("--diffaug", help="augment everything D sees: comma list of color,translation,cutout,flip "
                                     "(DiffAugment); '' turns a preset's off")
    p.add_argument("--ada-target", type=float, help="adaptive augmentation (ADA) towards this E[sign D(x)], "
                                                    "e.g. 0.6 (0 = off)")
    p.add_argument("--ema-kimg", type=float, help="generator EMA half-life in kimg (0 = off)")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--deterministic", action="store_true", default=None,
                   help="deterministic kernels (bit-exact resume on CPU; slower on GPU)")
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N, mps")
    p.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    p.add_argument("--tick-kimg", type=float, help="kimg per stats line")
    p.add_argument("--sample-every-kimg", type=float, help="kimg between sample grids")
    p.add_argument("--save-every-kimg", type=float, help="kimg between `latest` checkpoints")
    p.add_argument("--snapshot-every-kimg", type=float, help="kimg between kept snapshots (0 = none)")
    p.add_argument("--keep-snapshots", type=int, help="how many snapshots to keep")
    p.add_argument("--eval-every-kimg", type=float, help="FID/KID every N kimg into metrics.jsonl (0 = off)")
    p.add_argument("--eval-num", type=int, help="generated images per evaluation (default: dataset size)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a family option, e.g. --set deep_g=true --set n_critic=3 (see --list-presets)")
    p.add_argument("--progress", choices=["auto", "bar", "lines", "json", "quiet"], default="auto",
                   help="bar (terminal), lines (one per tick), json (stats rows on stdout), quiet")
    p.set_defaults(func=run, parser=p)


def list_presets() -> int:
    from pokegan.models.base import get_family
    from pokegan.models.presets import PRESETS

    print(f"{'preset':<17}{'family':<9}recipe")
    for name, pr in PRESETS.items():
        print(f"{name:<17}{pr.config.family:<9}{pr.source}")
    print("\nfamily options (--set KEY=VALUE):")
    for fam in dict.fromkeys(pr.config.family for pr in PRESETS.values()):
        opts = dataclasses.fields(get_family(fam).Options)
        print(f"  {fam}: " + ", ".join(f"{f.name}={f.default}" for f in opts))
    return 0


def run(args: argparse.Namespace) -> int:
    from pokegan.errors import PokeganError
    from pokegan.models.base import get_family
    from pokegan.models.presets import DEFAULT_PRESET, get_preset
    from pokegan.training.config import apply_options
    from pokegan.training.loop import Trainer

    if args.list_presets:
        return list_presets()
    quiet = args.progress == "quiet"
    log = (lambda m: None) if quiet else None
    sets = {}
    for kv in args.set:
        if "=" not in kv:
            raise PokeganError(f"--set {kv!r}: expected KEY=VALUE")
        k, v = kv.split("=", 1)
        sets[k.strip()] = v.strip()
    def evaluator_for(data_path: str, cfg):
        if cfg.eval_every_kimg <= 0:
            return None
        from pokegan.data import load_dataset
        from pokegan.metrics.evaluate import EvalConfig, evaluate_arrays

        ds = load_dataset(data_path)
        return lambda images: evaluate_arrays(images, ds, EvalConfig(), log=lambda m: None)[0]

    if args.resume:
        if sets or args.preset:
            raise PokeganError("--resume continues a run with its own settings; only --kimg, --epochs, "
                               "--minutes, --device, --data and --progress apply")
        t = Trainer.resume(args.resume, data=args.data, kimg=args.kimg, epochs=args.epochs,
                           minutes=args.minutes, device=args.device, progress=args.progress)
        t.evaluator = evaluator_for(t.data_path, t.cfg)
    else:
        if not args.data:
            raise PokeganError("give --data DATASET (make one with `pokegan data prepare --preset gen5-64 "
                               "--out data/gen5-64.data`), or --resume RUN")
        preset = get_preset(args.preset or DEFAULT_PRESET)
        cfg = preset.config
        over = {f: getattr(args, f) for f in FLAGS if getattr(args, f, None) is not None}
        for f in ("kimg", "epochs", "minutes"):
            if getattr(args, f) is not None:
                over[f] = getattr(args, f)
        if any(getattr(args, f) is not None for f in ("kimg", "epochs", "minutes")):
            over.update({f: float(getattr(args, f) or 0.0) for f in ("kimg", "epochs", "minutes")})
        if args.deterministic:
            over["deterministic"] = True
        if args.no_amp:
            over["amp"] = False
        cfg = dataclasses.replace(cfg, **over)
        cfg = dataclasses.replace(cfg, options=apply_options(get_family(cfg.family).Options, cfg.options, sets))
        t = Trainer.new(cfg, args.data, args.run_dir, progress=args.progress, log=log,
                        evaluator=evaluator_for(args.data, cfg))
        if not quiet:
            print(f"run folder: {t.run_dir}  ({cfg.family}, {t.ds.size}x{t.ds.size}, {len(t.ds)} images, "
                  f"{t.feed.channels} channels on {t.feed.background}, device {t.device})", flush=True)
    summary = t.run()
    if quiet or args.progress == "json":
        return 0
    print(f"{summary['stopped']}: kimg {summary['kimg']:.2f} in {summary['run_dir']}")
    return 0
