"""`pokegan train`: train a model family on a prepared dataset, or resume a run."""
from __future__ import annotations

import argparse
import dataclasses

EXAMPLES = """examples:
  pokegan train --data data/gen5-64.data --preset dcgan --kimg 10 --run-dir runs
  pokegan train --data data/gen5-64.data --preset wgan-gp --minutes 30 --run-dir runs
  pokegan train --data data/gen5-64.data --preset dcgan --augment flip,shift --background random
  pokegan train --data data/gen5-64.data --conditional types --run-dir runs   # generate --type fire later
  pokegan train --data data/gen5-64.data --preset dcgan --types fire,water     # only Fire and Water sprites
  pokegan train --data data/gen5-64.data --preset progan --set level_kimg=5 --kimg 60
  pokegan train --resume runs/00000-dcgan-gen5-64 --kimg 20     # continue to 20 kimg
  pokegan train --data data/gen5-128.data --gpus 4 --kimg 500    # data-parallel on 4 GPUs, batch split 4 ways
  pokegan train --list-presets
"""

# TrainConfig fields a user commonly sets get their own flag (--lr-g for lr_g); the type comes from the field.
OVERRIDES = {
    "batch": "images per step",
    "lr_g": "generator learning rate",
    "lr_d": "discriminator learning rate",
    "z_dim": "latent size",
    "background": "dataset|white|black|random|transparent: what the model sees behind sprites; transparent "
                  "trains RGBA (4-channel) output",
    "augment": "classic real-image augmentation: comma list of flip,rotate,shift,zoom; '' turns a preset's "
               "off (the default preset mirrors half the reals: flip)",
    "diffaug": "augment everything D sees: comma list of color,translation,cutout,flip,geometric (DiffAugment; "
               "geometric is ADA's scale/rotation/stretch/shift warp); '' turns a preset's off",
    "ada_target": "adaptive augmentation (ADA) towards this E[sign D(x)], e.g. 0.6 (0 = off)",
    "ada_kimg": "ADA's speed: its probability can go from 0 to 1 in this many kimg",
    "ema_kimg": "generator EMA half-life in kimg (0 = off)",
    "ema_bn_images": "latents over which the EMA generator's batch-norm statistics are recomputed before it "
                     "is saved or sampled (0 = copy the training generator's)",
    "conditional": "'types': condition the model on each sprite's one or two types, so `generate --type fire` "
                   "works (fastgan, dcgan); ramped in from --cond-start-kimg to --cond-end-kimg",
    "cond_start_kimg": "conditional models: the type conditioning starts ramping in here (default 50)",
    "cond_end_kimg": "... and is fully on from here (default 200)",
    "types": "train only on the sprites of these types, a comma list, e.g. fire,water (any family)",
    "seed": "random seed",
    "device": "auto (default), cpu, cuda, cuda:N, mps",
    "tick_kimg": "kimg per stats line",
    "sample_every_kimg": "kimg between sample grids",
    "save_every_kimg": "kimg between `latest` checkpoints",
    "snapshot_every_kimg": "kimg between kept snapshots (0 = none)",
    "keep_snapshots": "how many snapshots to keep, the newest (0 = every one)",
    "eval_every_kimg": "FID/KID every N kimg into metrics.jsonl (0 = off)",
    "eval_num": "generated images per evaluation (default: dataset size)",
}
LIMITS = {"kimg": "stop after this many thousand real images (total)",
          "epochs": "stop after this many passes over the data (total)",
          "minutes": "stop after this many minutes (this invocation)"}


def add_parser(sub) -> None:
    from pokegan.presets import DEFAULT_PRESET
    from pokegan.config import TrainConfig

    p = sub.add_parser("train", help="train a GAN on a prepared dataset (or resume a run)",
                       description="Train any model family on a prepared dataset, on CPU or GPU, with one loop.",
                       epilog=EXAMPLES)
    p.add_argument("--data", help="a dataset file from `pokegan data prepare`")
    p.add_argument("--preset", default=None, help=f"named recipe (default {DEFAULT_PRESET}); see --list-presets")
    p.add_argument("--run-dir", default="runs", help="folder that gets a numbered run folder (runs)")
    p.add_argument("--resume", metavar="RUN", help="continue a run folder from its latest checkpoint")
    p.add_argument("--list-presets", action="store_true", help="list presets with their family and source")
    types = {f.name: {"int": int, "float": float}.get(str(f.type), str) for f in dataclasses.fields(TrainConfig)}
    types["types"] = _type_list
    for name, help_text in {**LIMITS, **OVERRIDES}.items():
        p.add_argument("--" + name.replace("_", "-"), type=types[name], help=help_text)
    p.add_argument("--betas", type=_betas, metavar="B1,B2",
                   help="Adam betas for both G and D, e.g. 0,0.99 (StyleGAN2's); the presets give their papers'")
    p.add_argument("--deterministic", action="store_true", default=None,
                   help="deterministic kernels (bit-exact resume on CPU; slower on GPU)")
    p.add_argument("--amp", action="store_true",
                   help="bf16 autocast on CUDA (off by default: slower for fastgan at 64px on an H100)")
    p.add_argument("--no-amp", action="store_true",
                   help="train in fp32 everywhere (overrides --amp, --amp-cpu and the default preset's bf16 on CPUs)")
    p.add_argument("--amp-cpu", action="store_true",
                   help="bf16 autocast on a CPU with native bf16 (AVX512-BF16/AMX) where a few timed iterations "
                        "at the start find it at least 1.1x faster; the default preset has it on, the reports' off")
    p.add_argument("--no-channels-last", action="store_true",
                   help="keep weights in NCHW instead of channels-last (slower on CPU and CUDA)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a family option, e.g. --set deep_g=true --set n_critic=3 (see --list-presets)")
    p.add_argument("--gpus", type=int, default=None, metavar="N",
                   help="data-parallel training in N processes, one per CUDA GPU, the batch split between them "
                        "(with --device cpu: N CPU processes, for testing); under torchrun, pokegan joins its group")
    p.add_argument("--progress", choices=["auto", "bar", "lines", "json", "quiet"], default="auto",
                   help="bar (terminal), lines (one per tick), json (stats rows on stdout), quiet")
    p.set_defaults(func=run, parser=p)


def _betas(text: str) -> tuple[float, float]:
    """`--betas 0,0.99` -> (0.0, 0.99); argparse reports a bad value as a usage error naming the flag."""
    try:
        b = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected two numbers, e.g. 0,0.99") from None
    if len(b) != 2 or not all(0.0 <= v < 1.0 for v in b):
        raise argparse.ArgumentTypeError(f"{text!r}: expected two numbers in [0, 1), e.g. 0,0.99")
    return b


def _type_list(text: str) -> tuple[str, ...]:
    """`--types fire,water` -> ("fire", "water"); an unknown name is a usage error with the valid ones."""
    from pokegan.core.errors import PokeganError
    from pokegan.core.type_names import parse_types

    try:
        out = parse_types(text.split(","))
    except PokeganError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if not out:
        raise argparse.ArgumentTypeError("give one or more type names, e.g. fire,water")
    return out


def list_presets() -> int:
    from pokegan.models.registry import get_family
    from pokegan.presets import PRESETS

    print(f"{'preset':<17}{'family':<9}recipe")
    for name, pr in PRESETS.items():
        print(f"{name:<17}{pr.config.family:<9}{pr.source}")
    print("\nfamily options (--set KEY=VALUE):")
    for fam in dict.fromkeys(pr.config.family for pr in PRESETS.values()):
        opts = dataclasses.fields(get_family(fam).Options)
        print(f"  {fam}: " + ", ".join(f"{f.name}={f.default}" for f in opts))
    return 0


def _worker(opts: dict) -> None:
    """One data-parallel process: the same command, inside the process group `launch` set up."""
    import os

    import torch

    from pokegan.training import distributed

    if not torch.cuda.is_available() or opts.get("device") == "cpu":  # share the cores, do not oversubscribe
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // distributed.rank_world()[1]))
    run(argparse.Namespace(**{**opts, "gpus": None}))


def run(args: argparse.Namespace) -> int:
    from pokegan.core.errors import PokeganError
    from pokegan.training import distributed
    from pokegan.models.registry import get_family
    from pokegan.presets import DEFAULT_PRESET, get_preset
    from pokegan.config import apply_options
    from pokegan.training.loop import Trainer

    if args.list_presets:
        return list_presets()
    if args.resume and "parser" in args:  # checked once, by the launching process (workers get no parser)
        # any flag set away from its default, other than these, belongs to a new run's settings
        resumable = ("kimg", "epochs", "minutes", "device", "data", "progress", "gpus")
        given = ["--" + k.replace("_", "-") for k, v in vars(args).items()
                 if k not in (*resumable, "command", "resume", "func", "parser") and v != args.parser.get_default(k)]
        if given:
            raise PokeganError(f"--resume continues a run with its own settings, so {', '.join(given)} would be "
                               f"ignored; only {', '.join('--' + k for k in resumable)} apply")
    if args.gpus is not None and not 1 <= args.gpus <= 64:
        raise PokeganError(f"--gpus {args.gpus}: give a number of processes from 1 to 64")
    if args.gpus is not None and args.gpus > 1:
        import torch

        dev = args.device or "auto"
        if dev == "mps":
            raise PokeganError("--gpus starts one process per CUDA GPU; an Apple GPU (mps) trains in one process")
        use_cuda = dev.startswith("cuda") or (dev == "auto" and torch.cuda.is_available())
        distributed.launch(args.gpus, use_cuda, _worker, {k: v for k, v in vars(args).items()
                                                          if k not in ("func", "parser")})
        return 0
    distributed.from_environment()
    rank = distributed.rank_world()[0]
    quiet = args.progress == "quiet" or rank > 0
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
        from pokegan.metrics.evaluate import TrainingEvaluator

        return TrainingEvaluator(load_dataset(data_path))

    if args.resume:
        t = Trainer.resume(args.resume, data=args.data, kimg=args.kimg, epochs=args.epochs,
                           minutes=args.minutes, device=args.device, progress=args.progress)
        t.evaluator = evaluator_for(t.data_path, t.cfg)
    else:
        if not args.data:
            raise PokeganError("give --data DATASET (make one with `pokegan data prepare --preset gen5-64 "
                               "--out data/gen5-64.data`), or --resume RUN")
        preset = get_preset(args.preset or DEFAULT_PRESET)
        cfg = preset.config
        over = {f: getattr(args, f) for f in OVERRIDES if getattr(args, f, None) is not None}
        if any(getattr(args, f) is not None for f in LIMITS):  # limits given replace the preset's set
            over.update({f: float(getattr(args, f) or 0.0) for f in LIMITS})
        if args.betas:
            over.update(betas_g=args.betas, betas_d=args.betas)
        if args.deterministic:
            over["deterministic"] = True
        if args.amp:
            over["amp"] = True
        if args.amp_cpu:
            over["amp_cpu"] = True
        if args.no_amp:
            over.update(amp=False, amp_cpu=False)
        if args.no_channels_last:
            over["channels_last"] = False
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
