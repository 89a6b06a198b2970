"""`pokegan generate`, `pokegan interpolate` and `pokegan export`: sprites and walks from a trained model."""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from pokegan.cli.options import add_sprite_options, sprite_options

SHEET_MAX = 4096   # sprites on the sprite sheet generate writes

GEN_EXAMPLES = """examples:
  pokegan generate --n 64 --seed 0 --out new/                      # the shipped pretrained model
  pokegan generate --n 16 --out game/ --transparent --scale 2       # RGBA PNGs for a game engine (asset model)
  pokegan generate --n 16 --out game/ --transparent --training-palette   # in the training sprites' colours
  pokegan generate runs/00000-fastgan-gen5-64 --n 16 --out new/ --palette 16 --scale 4
  pokegan generate runs/00000-fastgan-gen5-64 --n 100000 --out many/ --no-png   # sheets only
  pokegan generate --type fire --type flying --n 16 --out fire-flying/    # the shipped type-conditioned model
  pokegan generate --by-type --seed 0 --out types/                       # one row per type
"""
EXPORT_EXAMPLES = """examples:
  pokegan export runs/00000-fastgan-gen5-64 --out my-model/     # small fp16 copy for sharing
  pokegan export --onnx engine/                                 # the shipped model for Unity, Godot, ...
  pokegan export runs/00000-fastgan-gen5-64 --web site/          # a page for itch.io or GitHub Pages
"""
INTERP_EXAMPLES = """examples:
  pokegan interpolate runs/00000-fastgan-gen5-64 --seeds 1 2 --steps 16 --out walk.gif
  pokegan interpolate runs/00000-fastgan-gen5-64 --seeds 1 2 3 4 --steps 12 --out tour.gif --scale 4
  pokegan interpolate runs/00002-aegan-gen5-64 --between pikachu bulbasaur --data data/gen5-64.data --out pb.gif
  pokegan interpolate --types fire water --seeds 3 --steps 16 --out fire-to-water.gif   # conditional models
"""


def add_parser(sub) -> None:
    g = sub.add_parser("generate", help="new sprites as PNGs, a grid and a sprite sheet",
                       description="Generate new sprites from a run or checkpoint (the EMA generator when there "
                                   "is one), or from the shipped pretrained model when no run is given.",
                       epilog=GEN_EXAMPLES)
    g.add_argument("model", nargs="?", help="run folder, checkpoint or shipped model's name (default: the "
                                            "pretrained model; the type-conditioned one when a type is asked for, "
                                            "the asset model with --transparent)")
    g.add_argument("--n", type=int, default=None, help="how many sprites (64; with --by-type, per type: 8)")
    g.add_argument("--seed", type=int, default=0, help="same seed, same sprites")
    g.add_argument("--out", required=True, help="output folder")
    g.add_argument("--scale", type=int, default=1, help="nearest-neighbour upscale factor for the files")
    add_sprite_options(g)
    g.add_argument("--latent-rule", choices=["torch", "portable"], default="torch",
                   help="how the seed becomes latents: torch (default) or portable, the rule the exported web "
                        "page and engines follow (seeds up to 2^32 - 1)")
    g.add_argument("--by-type", action="store_true",
                   help="conditional models: a grid with one row per type (by-type.png), the same seeds in every "
                        "row, and each type's sprites in a folder of its own")
    g.add_argument("--no-png", action="store_true", help="skip the individual PNGs (large N)")
    g.add_argument("--batch", type=int, default=256, help="images per forward pass")
    g.add_argument("--device", default="cpu")
    g.set_defaults(func=run_generate, parser=g)

    i = sub.add_parser("interpolate", help="a smooth walk between seeds (or two real Pokémon) as a GIF",
                       description="Walk through latent space between seeds, or between two real Pokémon with an "
                                   "aegan model (encode both, interpolate, decode). Writes an animated GIF and a "
                                   "strip PNG beside it.", epilog=INTERP_EXAMPLES)
    i.add_argument("model", nargs="?", help="run folder or checkpoint (default: the pretrained model)")
    i.add_argument("--seeds", type=int, nargs="+", help="two or more seeds to walk through")
    i.add_argument("--between", nargs=2, metavar=("A", "B"), help="two Pokémon (names or dataset file names)")
    i.add_argument("--types", nargs="+", metavar="TYPE", dest="walk_types",
                   help="conditional models: walk from one type to the next at a fixed seed (--seeds S), e.g. "
                        "--types fire water, or fire/flying water for a pair")
    i.add_argument("--data", help="the dataset to find --between sprites in")
    i.add_argument("--steps", type=int, default=16, help="frames per leg, endpoints included (16)")
    i.add_argument("--mode", choices=["slerp", "lerp"], default="slerp",
                   help="slerp stays on the Gaussian shell (default); lerp is a straight line")
    i.add_argument("--out", required=True, help="the GIF to write (a strip PNG goes beside it)")
    i.add_argument("--scale", type=int, default=2, help="nearest-neighbour upscale of the frames (2)")
    i.add_argument("--duration", type=int, default=80, help="milliseconds per frame")
    add_sprite_options(i, finishing=False)
    i.add_argument("--device", default="cpu")
    i.set_defaults(func=run_interpolate, parser=i)

    e = sub.add_parser("export", help="a generator for use elsewhere: fp16 safetensors, ONNX, or a static web page",
                       description="Export a run's generator (EMA if kept; the shipped model when no run is given): "
                                   "--out writes a small fp16 copy that pokegan reads (only its two files; anything "
                                   "else in the folder stays); --onnx writes generator.onnx + generator.json with "
                                   "the sprite pipeline inside the graph, for game engines; --web writes a static "
                                   "page that makes sprites in the browser with no server.", epilog=EXPORT_EXAMPLES)
    e.add_argument("model", nargs="?", help="run folder or checkpoint (default: the pretrained model)")
    e.add_argument("--out", help="folder for the fp16 safetensors copy (made if missing)")
    e.add_argument("--onnx", help="folder for generator.onnx and generator.json")
    e.add_argument("--web", help="folder for the static page (index.html, the model, onnxruntime-web)")
    e.add_argument("--opset", type=int, default=15, help="ONNX opset, 13 to 17 (15: the top of Unity Sentis's range)")
    e.add_argument("--fp32", action="store_true", help="--out: keep float32 weights")
    e.set_defaults(func=run_export, parser=e)


def run_generate(args: argparse.Namespace) -> int:
    import numpy as np

    from pokegan.files import GRID, SHEET, check_output_dir, save_png, save_sheet
    from pokegan.pixels import upscale
    from pokegan.data.show import grid
    from pokegan.paths import atomic_write_bytes
    from pokegan.sprites import check_batch, check_count, sprite_png

    if args.n is None:
        args.n = 8 if args.by_type else 64
    check_count(args.n)
    check_batch(args.batch)
    opts = sprite_options(args)
    g = load_model(args.model, args.device, conditional=bool(opts.types or args.by_type), transparent=opts.transparent)
    opts = sprite_options(args, g)   # a recipe's settings depend on the model's size and channels
    if args.by_type:
        return write_by_type(g, args, opts)
    making = args.n
    if args.no_png and args.n > SHEET_MAX:  # the work done is the work kept: the sheet holds the first SHEET_MAX
        making = SHEET_MAX
        print(f"--no-png keeps only the sheet, which holds the first {SHEET_MAX:,} sprites: making those, not "
              f"{args.n:,} (without --no-png every sprite is written as a PNG)")
    z = g.latents(making, args.seed, args.latent_rule)
    g.check(opts)  # a model that cannot honour the options says so before anything is written
    out = check_output_dir(args.out)
    digits = max(4, len(str(args.n - 1)))
    kept = []  # the first up-to-SHEET_MAX sprites go on the grid and the sheet
    for start in range(0, making, max(args.batch, 1024)):  # large N: generate, finish and write in chunks
        arr = g.sprites(z[start:start + max(args.batch, 1024)], opts, args.batch)
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
            **dataclasses.asdict(opts)}
    save_sheet(imgs, out / SHEET, out / "sheet.json", names, meta)
    print(f"wrote {args.n if not args.no_png else 0} sprites ({g.resolution}x{g.resolution}"
          f"{' RGBA' if imgs.shape[-1] == 4 else ''}{f', x{opts.scale}' if opts.scale > 1 else ''}) to {out}/, "
          f"grid.png, {''.join(p + ', ' for p in previews)}sheet.png + sheet.json ({len(imgs)} frames)")
    return 0


def load_model(model, device: str, conditional: bool, transparent: bool = False):
    """The run asked for; with none, a shipped model: the type-conditioned one for a request with types, the
    asset model (its own alpha) for transparent sprites, else the default."""
    from pokegan.sprites import load_generator

    if model:
        return load_generator(model, device=device)
    return load_generator(device=device, conditional=conditional, transparent=transparent)


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


def run_interpolate(args: argparse.Namespace) -> int:
    import torch

    from pokegan.files import gif_bytes, save_png
    from pokegan.errors import PokeganError
    from pokegan.interpolate import find_sprite, strip, walk_sprites
    from pokegan.paths import atomic_write_bytes

    if args.steps < 2 or args.steps > 1000:
        raise PokeganError(f"--steps {args.steps}: give 2 to 1000 frames per leg")
    if not 10 <= args.duration <= 60000:
        raise PokeganError(f"--duration {args.duration}: give 10 to 60000 milliseconds per frame")
    out = Path(args.out)
    if out.suffix.lower() != ".gif":
        raise PokeganError(f"{out}: the output must be a .gif (a strip .png is written beside it)")
    opts = sprite_options(args)
    g = load_model(args.model, args.device, conditional=bool(args.walk_types))
    if args.walk_types:
        from pokegan.type_names import check_type_set, parse_types

        if args.between:
            raise PokeganError("--types walks between types at one seed; --between walks between two Pokémon: pick one")
        if not args.seeds or len(args.seeds) != 1:
            raise PokeganError("--types walks between types at one seed: give --seeds S (one seed)")
        sets = [check_type_set(parse_types([t])) for t in args.walk_types]
        if len(sets) < 2:
            raise PokeganError("--types: give two or more types (or pairs like fire/flying) to walk between")
        z = g.latents(1, args.seeds[0])
        keys = torch.cat([g.truncate(g.with_types(z, ts), opts.truncation) for ts in sets])
        label = " -> ".join("/".join(ts) for ts in sets) + f" at seed {args.seeds[0]}"
    elif args.between:
        if not args.data:
            raise PokeganError("--between needs --data DATASET to find the two Pokémon in")
        from pokegan.data import load_dataset
        from pokegan.data.dataset import to_model_space

        ds = load_dataset(args.data)
        idx = [find_sprite(ds, q) for q in args.between]
        x = torch.from_numpy(ds.images[idx]).permute(0, 3, 1, 2).float() / 255
        x = torch.cat([x[:, :3] * x[:, 3:], x[:, 3:]], 1)
        keys = g.encode(to_model_space(x, g.background if g.background != "random" else "white"))
        label = " -> ".join(ds.labels[i]["file"] for i in idx)
    else:
        if not args.seeds or len(args.seeds) < 2:
            raise PokeganError("give --seeds A B [C ...] (two or more), or --between A B with an aegan model")
        keys = g.truncate(torch.cat([g.latents(1, s) for s in args.seeds]), opts.truncation)
        label = " -> ".join(f"seed {s}" for s in args.seeds)
    frames = walk_sprites(g, keys, args.steps, opts, args.mode, z_dim=g.z_dim)
    atomic_write_bytes(out, gif_bytes(frames, args.duration))
    save_png(strip(frames), out.with_suffix(".png"))
    print(f"wrote {out} ({len(frames)} frames, {label}) and {out.with_suffix('.png')}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from pokegan.errors import PokeganError

    if not (args.out or args.onnx or args.web):
        raise PokeganError("give --out DIR (fp16 safetensors), --onnx DIR (for game engines) or --web DIR (a static page)")
    if args.out:
        if not args.model:
            raise PokeganError("--out copies a run's generator; give the run (the shipped model is already small)")
        from pokegan.export.slim import export_generator

        out = export_generator(args.model, args.out, half=not args.fp32)
        size = sum((Path(out) / name).stat().st_size for name in ("weights.safetensors", "state.json"))
        print(f"wrote {out} ({size / 2**20:.1f} MB); use it with `pokegan generate {out}`")
    if args.onnx or args.web:
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise PokeganError("--onnx and --web need the export extra: pip install 'pokegan[export]'") from None
    if args.onnx:
        from pokegan.export.onnx import export_onnx

        out = export_onnx(args.model, args.onnx, opset=args.opset)
        size = (Path(out) / "generator.onnx").stat().st_size
        print(f"wrote {out}/generator.onnx ({size / 2**20:.1f} MB, opset {args.opset}) and generator.json")
    if args.web:
        from pokegan.export.web import export_web

        out = export_web(args.model, args.web, opset=args.opset)
        size = sum(p.stat().st_size for p in Path(out).iterdir())
        print(f"wrote {out}/index.html and its files ({size / 2**20:.1f} MB); open it from disk or any static host")
    return 0
