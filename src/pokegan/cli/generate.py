"""`pokegan generate`: new sprites (or variations of a projection) as PNGs, a grid and a sprite sheet."""
from __future__ import annotations

import argparse
import dataclasses

from pokegan.cli.options import add_sprite_options, model_and_options

GEN_EXAMPLES = """examples:
  pokegan generate --n 64 --seed 0 --out new/                      # the shipped pretrained model
  pokegan generate --n 16 --out game/ --transparent --scale 2       # RGBA PNGs for a game engine (asset model)
  pokegan generate --n 16 --out game/ --transparent --training-palette   # in the training sprites' colours
  pokegan generate runs/00000-fastgan-gen5-64 --n 16 --out new/ --palette 16 --scale 4
  pokegan generate runs/00000-fastgan-gen5-64 --n 100000 --out many/ --no-png   # sheets only
  pokegan generate --type fire --type flying --n 16 --out fire-flying/    # the shipped model's type sampler picks
  pokegan generate --by-type --seed 0 --out types/                       # one row per type
  pokegan generate --near pikachu/latent.json --n 16 --out near/        # variations of a projection
  pokegan generate --near my-sprite.png --type water --n 8 --out water/  # a type swap of an image
"""
def add_parser(sub) -> None:
    g = sub.add_parser("generate", help="new sprites as PNGs, a grid and a sprite sheet",
                       description="Generate new sprites from a run or checkpoint (the EMA generator when there "
                                   "is one), or from the shipped pretrained model when no run is given.",
                       epilog=GEN_EXAMPLES)
    g.add_argument("model", nargs="?", help="run folder, checkpoint or shipped model's name (default: the "
                                            "pretrained model, for every request: types and --transparent too)")
    g.add_argument("--n", type=int, default=None, help="how many sprites (64; with --by-type, per type: 8)")
    g.add_argument("--seed", type=int, default=0, help="same seed, same sprites")
    g.add_argument("--out", required=True, help="output folder")
    g.add_argument("--scale", type=int, default=1, help="nearest-neighbour upscale factor for the files")
    add_sprite_options(g)
    g.add_argument("--latent-rule", choices=["torch", "portable"], default="torch",
                   help="how the seed becomes latents: torch (default) or portable, the rule the exported web "
                        "page and engines follow (seeds up to 2^32 - 1)")
    g.add_argument("--by-type", action="store_true",
                   help="a grid with one row per type (by-type.png), each type's sprites in a folder of its own "
                        "(a conditional model: the same noise in every row; a type sampler: each row the seed's picks)")
    g.add_argument("--near", metavar="SOURCE",
                   help="variations of a Pokémon (a name with --data), an image file or a latent.json from "
                        "`pokegan project`: the first sprite is its projection, the others nearby; with --type, "
                        "redrawn as that type")
    g.add_argument("--spread", type=float, default=None,
                   help="--near: how far the variations go, 0 (the projection) to 4 (0.3)")
    g.add_argument("--data", help="--near NAME: the prepared dataset to find the Pokémon in")
    g.add_argument("--shiny", action="store_true", help="--near NAME: its shiny sprite")
    g.add_argument("--no-png", action="store_true", help="skip the individual PNGs (large N)")
    g.add_argument("--batch", type=int, default=256, help="images per forward pass")
    g.add_argument("--device", default="cpu")
    g.set_defaults(func=run_generate, parser=g)


def run_generate(args: argparse.Namespace) -> int:
    from pokegan.core.errors import PokeganError
    from pokegan.generator.writing import SHEET_MAX, write_by_type, write_sprites

    if args.n is None:
        args.n = 8 if args.by_type else 64
    if args.spread is not None and not 0 <= args.spread <= 4:   # before any projection (NaN fails this too)
        raise PokeganError(f"--spread {args.spread}: give 0 (the projection itself) to 4 (far from it)")
    if args.near and args.by_type:
        raise PokeganError("--near and --by-type: pick one (a type swap of a projection is --near X --type T)")
    if not args.near and (args.spread is not None or args.data or args.shiny):
        raise PokeganError("--spread, --data and --shiny go with --near SOURCE")
    g, opts = model_and_options(args)
    meta = {"model": str(g.source), "family": g.family, "seed": args.seed}
    if args.by_type:
        print(write_by_type(g, args.n, args.seed, opts, args.out, png=not args.no_png, meta=meta))
        return 0
    making = args.n
    if args.no_png and args.n > SHEET_MAX:  # the work done is the work kept: the sheet holds the first SHEET_MAX
        making = SHEET_MAX
        print(f"--no-png keeps only the sheet, which holds the first {SHEET_MAX:,} sprites: making those, not "
              f"{args.n:,} (without --no-png every sprite is written as a PNG)")
    offsets = style = None
    meta["latent_rule"] = args.latent_rule
    if args.near:
        from pokegan.projection import DEFAULT_SPREAD, near, resolve

        origin = resolve(g, args.near, args.data, args.shiny)
        spread = DEFAULT_SPREAD if args.spread is None else args.spread
        (z, style), offsets = near(g, origin, making, spread, args.seed, opts.types), origin.offsets
        meta.update(near=origin.source, spread=spread)
    else:
        z = g.latents(making, args.seed, args.latent_rule, types=opts.types)
    print(write_sprites(g, z, opts, args.out, args.n, args.batch, png=not args.no_png, offsets=offsets, style=style,
                        meta=meta))
    return 0
