"""`pokegan generate`: new sprites (or variations of a projection) as PNGs, a grid and a sprite sheet."""
from __future__ import annotations

import argparse
import dataclasses

from pokegan.cli.options import add_sprite_options, load_for, load_model, sprite_options

SHEET_MAX = 4096   # sprites on the sprite sheet generate writes

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
    import numpy as np

    from pokegan.files import GRID, SHEET, check_output_dir, save_png, save_sheet
    from pokegan.pixels import upscale
    from pokegan.data.show import grid
    from pokegan.paths import atomic_write_bytes
    from pokegan.errors import PokeganError
    from pokegan.limits import check_batch, check_count
    from pokegan.sprites import sprite_png

    if args.n is None:
        args.n = 8 if args.by_type else 64
    check_count(args.n)
    check_batch(args.batch)
    opts = sprite_options(args)
    if args.spread is not None and not 0 <= args.spread <= 4:   # before any projection (NaN fails this too)
        raise PokeganError(f"--spread {args.spread}: give 0 (the projection itself) to 4 (far from it)")
    if args.near:
        if args.by_type:
            raise PokeganError("--near and --by-type: pick one (a type swap of a projection is --near X --type T)")
        g = load_for([args.near], args.model, args.device, conditional=bool(opts.types))
    else:
        if args.spread is not None or args.data or args.shiny:
            raise PokeganError("--spread, --data and --shiny go with --near SOURCE")
        g = load_model(args.model, args.device, conditional=bool(opts.types or args.by_type),
                       transparent=opts.transparent)
    opts = sprite_options(args, g)   # a recipe's settings depend on the model's size and channels
    if args.by_type:
        return write_by_type(g, args, opts)
    making = args.n
    if args.no_png and args.n > SHEET_MAX:  # the work done is the work kept: the sheet holds the first SHEET_MAX
        making = SHEET_MAX
        print(f"--no-png keeps only the sheet, which holds the first {SHEET_MAX:,} sprites: making those, not "
              f"{args.n:,} (without --no-png every sprite is written as a PNG)")
    offsets, near_meta = None, {}
    if args.near:
        from pokegan.projection import DEFAULT_SPREAD, near, resolve

        origin = resolve(g, args.near, args.data, args.shiny)
        spread = DEFAULT_SPREAD if args.spread is None else args.spread
        z, offsets = near(g, origin, making, spread, args.seed, opts.types), origin.offsets
        near_meta = {"near": origin.source, "spread": spread}
    else:
        z = g.latents(making, args.seed, args.latent_rule, types=opts.types)
    g.check(opts)  # a model that cannot honour the options says so before anything is written
    out = check_output_dir(args.out)
    digits = max(4, len(str(args.n - 1)))
    kept = []  # the first up-to-SHEET_MAX sprites go on the grid and the sheet
    for start in range(0, making, max(args.batch, 1024)):  # large N: generate, finish and write in chunks
        arr = g.sprites(z[start:start + max(args.batch, 1024)], opts, args.batch, offsets)
        for j, img in enumerate(arr):
            if not args.no_png:
                atomic_write_bytes(out / f"{start + j:0{digits}d}.png", sprite_png(img, opts))
            if len(kept) < SHEET_MAX:
                kept.append(img)
    imgs = np.stack(kept)
    cols = int(np.ceil(np.sqrt(min(len(imgs), 256))))
    save_png(upscale(np.asarray(grid(imgs[:256], cols, bg=(255, 255, 255))), opts.scale), out / GRID)
    previews = []
    if imgs.shape[-1] == 4:  # how the sprites look in a game: on a dark scene (where a halo shows) and a light one
        from pokegan.files import PREVIEWS, preview_file
        from pokegan.pixels import on_background

        for name, colour in PREVIEWS.items():
            save_png(upscale(on_background(np.asarray(grid(imgs[:256], cols, bg=(0, 0, 0))), colour), opts.scale),
                     out / preview_file(name))
            previews.append(preview_file(name))
    names = [f"{i:0{digits}d}" for i in range(len(imgs))]
    meta = {"model": str(g.source), "family": g.family, "seed": args.seed, "latent_rule": args.latent_rule,
            **near_meta, **dataclasses.asdict(opts)}
    save_sheet(imgs, out / SHEET, out / "sheet.json", names, meta)
    print(f"wrote {args.n if not args.no_png else 0} sprites ({g.resolution}x{g.resolution}"
          f"{' RGBA' if imgs.shape[-1] == 4 else ''}{f', x{opts.scale}' if opts.scale > 1 else ''}) to {out}/, "
          f"grid.png, {''.join(p + ', ' for p in previews)}sheet.png + sheet.json ({len(imgs)} frames)")
    return 0


def write_by_type(g, args: argparse.Namespace, opts) -> int:
    """`generate --by-type`: by-type.png (one row per type), by-type.json, and TYPE/NNN.png files."""
    import json

    import numpy as np

    from pokegan.files import BY_TYPE, check_output_dir, save_png
    from pokegan.pixels import upscale
    from pokegan.data.dataset import composite_uint8
    from pokegan.data.show import labelled_rows
    from pokegan.paths import atomic_write_bytes
    from pokegan.sprites import sprite_png

    per_type = args.n
    if not 1 <= per_type <= 256:
        from pokegan.errors import PokeganError

        raise PokeganError(f"--n {per_type}: with --by-type, sprites per type: 1 to 256")
    names, rows = g.by_type(per_type, args.seed, opts, types=opts.types or None)
    out = check_output_dir(args.out)
    flat = [composite_uint8(r, "white") if r.shape[-1] == 4 else r for r in rows]
    save_png(upscale(np.asarray(labelled_rows(flat, names)), opts.scale), out / BY_TYPE)
    if not args.no_png:
        for name, row in zip(names, rows):
            (out / name).mkdir(exist_ok=True)
            for j, img in enumerate(row):
                atomic_write_bytes(out / name / f"{j:03d}.png", sprite_png(img, opts))
    meta = {"model": str(g.source), "family": g.family, "seed": args.seed, "per_type": per_type, "rows": names,
            **dataclasses.asdict(opts)}
    atomic_write_bytes(out / "by-type.json", json.dumps(meta, indent=1).encode())
    print(f"wrote by-type.png ({len(names)} types x {per_type}) and by-type.json to {out}/"
          + ("" if args.no_png else ", each type's sprites in a folder of its own"))
    return 0
