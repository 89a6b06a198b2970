"""`pokegan eval`: standard metrics and the novelty check for a run, checkpoint or image folder."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from pokegan.cli.options import add_sprite_options, sprite_options

EXAMPLES = """examples:
  pokegan eval runs/00000-dcgan-gen5-64 --data data/gen5-64.data --json eval.json
  pokegan eval runs/00000-dcgan-gen5-64/checkpoints/snapshot-000050kimg --data data/gen5-64.data
  pokegan eval my_sprites/ --data data/gen5-64.data --num 500 --json mine.json
  pokegan eval runs/00003-fastgan-gen5-64 --data data/gen5-64.data --per-type --num 200 --json types.json
"""


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="FID, KID, precision/recall and novelty against a dataset",
                       description="Evaluate generated sprites against a dataset: FID (pytorch-fid protocol), "
                                   "KID, precision/recall (k=3), and near-copies of training sprites; the "
                                   "real-vs-real floor is printed beside every result.", epilog=EXAMPLES)
    p.add_argument("source", help="a run folder, a checkpoint folder, or a folder of images")
    p.add_argument("--data", required=True, help="the dataset to compare with")
    p.add_argument("--num", type=int, default=0, help="generated images (default: as many as the dataset has)")
    p.add_argument("--seed", type=int, default=0, help="latent seed of the generated images")
    add_sprite_options(p)
    p.add_argument("--per-type", action="store_true",
                   help="models that take types: per type, the share of sprites asked for it that a classifier trained on "
                        "real sprites puts in its top 2 (beside that classifier's species-grouped ceiling), KID "
                        "against the type's real sprites, and diversity; --num sprites per type (default 200)")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--nearest", help="PNG of generated sprites beside their nearest real ones "
                                     "(default: next to --json)")
    p.add_argument("--batch", type=int, default=50, help="Inception batch size")
    p.add_argument("--device", default="cpu", help="cpu, cuda, mps")
    p.set_defaults(func=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from pokegan.data import load_dataset
    from pokegan.core.files import save_png
    from pokegan.core.errors import PokeganError
    from pokegan.metrics.evaluate import EvalConfig, evaluate_arrays, format_table, generated_images, nearest_picture
    from pokegan.core.paths import atomic_write_bytes
    from pokegan.generator.limits import MAX_IMAGES, check_seed
    from pokegan.generator.shipped import shipped

    if not 0 <= args.num <= MAX_IMAGES:
        raise PokeganError(f"--num {args.num}: give 1 to {MAX_IMAGES:,} (or 0 for the dataset's size)")
    if not 1 <= args.batch <= 4096:
        raise PokeganError(f"--batch {args.batch}: Inception images per pass, 1 to 4096")
    cfg = EvalConfig(num=args.num, seed=check_seed(args.seed), batch=args.batch, device=args.device,
                     sprite=sprite_options(args, _model_shape(args.source) if args.recipe else None))
    ds = load_dataset(args.data)
    if args.per_type and shipped(args.source) is None and not (Path(args.source) / "checkpoints").is_dir() and \
            not (Path(args.source) / "state.json").is_file():
        raise PokeganError(f"--per-type: {args.source} is a folder of images; give a run or checkpoint that takes types")
    gen, what = generated_images(args.source, ds, cfg)
    print(f"evaluating {what} against {args.data} ({len(ds)} images)")
    res, extra = evaluate_arrays(gen, ds, cfg)
    res["source"] = str(args.source)
    print(format_table(res))
    if args.per_type:
        from pokegan.metrics.per_type import format_per_type, per_type
        from pokegan.generator.sprites import load_generator

        g = load_generator(args.source, device=args.device)
        res.update(per_type(g, ds, cfg))
        print("by type:\n" + format_per_type(res))
        if (Path(args.source) / "config.json").is_file():  # the run's report shows it
            atomic_write_bytes(Path(args.source) / "per_type.json", json.dumps(
                {k: res[k] for k in ("per_type", "per_type_summary")}, indent=1).encode())
    nearest = args.nearest or (str(Path(args.json).with_suffix("")) + ".nearest.png" if args.json else None)
    if nearest:
        save_png(nearest_picture(extra["gen_rgb"], ds, extra["novelty"]), nearest)
        res["nearest_png"] = nearest
        print(f"nearest real sprites: {nearest}")
    if args.json:
        atomic_write_bytes(args.json, json.dumps(res, indent=1).encode())
        print(f"results: {args.json}")
    return 0


def _model_shape(source: str):
    """The size and channels a --recipe needs, from a model's checkpoint state (no weights loaded)."""
    from types import SimpleNamespace

    from pokegan.models import checkpoint as ckpt
    from pokegan.core.errors import PokeganError
    from pokegan.generator.shipped import shipped

    path = shipped(source) or source
    try:
        state, _, _ = ckpt.read(path, train_state=False)
    except PokeganError:
        raise PokeganError(f"--recipe: {source} is not a model (a folder of images is evaluated as it is)") from None
    return SimpleNamespace(resolution=state["resolution"], channels=state["channels"])
