"""`pokegan interpolate`: a walk through latent space (between seeds, types, or two real Pokémon) as a GIF."""
from __future__ import annotations

import argparse
from pathlib import Path

from pokegan.cli.options import add_sprite_options, sprite_options

INTERP_EXAMPLES = """examples:
  pokegan interpolate runs/00000-fastgan-gen5-64 --seeds 1 2 --steps 16 --out walk.gif
  pokegan interpolate runs/00000-fastgan-gen5-64 --seeds 1 2 3 4 --steps 12 --out tour.gif --scale 4
  pokegan interpolate runs/00002-aegan-gen5-64 --between pikachu bulbasaur --data data/gen5-64.data --out pb.gif
  pokegan interpolate --types fire water --seeds 3 --steps 16 --out fire-to-water.gif   # the seed's Fire, then its Water
"""



def add_parser(sub) -> None:
    i = sub.add_parser("interpolate", help="a smooth walk between seeds (or two real Pokémon) as a GIF",
                       description="Walk through latent space between seeds, or between two real Pokémon with an "
                                   "aegan model (encode both, interpolate, decode). Writes an animated GIF and a "
                                   "strip PNG beside it.", epilog=INTERP_EXAMPLES)
    i.add_argument("model", nargs="?", help="run folder or checkpoint (default: the pretrained model)")
    i.add_argument("--seeds", type=int, nargs="+", help="two or more seeds to walk through")
    i.add_argument("--between", nargs=2, metavar=("A", "B"), help="two Pokémon (names or dataset file names)")
    i.add_argument("--types", nargs="+", metavar="TYPE", dest="walk_types",
                   help="walk from one type to the next at a fixed seed (--seeds S), e.g. --types fire water, or "
                        "fire/flying water for a pair (a type sampler's model: from the seed's pick of each)")
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


def run_interpolate(args: argparse.Namespace) -> int:
    import torch

    from pokegan.core.errors import PokeganError
    from pokegan.interpolate import find_sprite, save_walk, walk_sprites

    if args.steps < 2 or args.steps > 1000:
        raise PokeganError(f"--steps {args.steps}: give 2 to 1000 frames per leg")
    if not 10 <= args.duration <= 60000:
        raise PokeganError(f"--duration {args.duration}: give 10 to 60000 milliseconds per frame")
    out = Path(args.out)
    if out.suffix.lower() != ".gif":
        raise PokeganError(f"{out}: the output must be a .gif (a strip .png is written beside it)")
    opts = sprite_options(args)
    from pokegan.cli.options import load_model

    g = load_model(args.model, args.device, conditional=bool(args.walk_types))
    if args.walk_types:
        from pokegan.core.type_names import check_type_set, parse_types

        if args.between:
            raise PokeganError("--types walks between types at one seed; --between walks between two Pokémon: pick one")
        if not args.seeds or len(args.seeds) != 1:
            raise PokeganError("--types walks between types at one seed: give --seeds S (one seed)")
        sets = [check_type_set(parse_types([t])) for t in args.walk_types]
        if len(sets) < 2:
            raise PokeganError("--types: give two or more types (or pairs like fire/flying) to walk between")
        z = g.latents(1, args.seeds[0])  # type inputs: one noise, its slots changed; a type sampler: each set's pick
        keys = torch.cat([g.truncate(g.with_types(z, ts) if g.conditional else g.latents(1, args.seeds[0], types=ts),
                                     opts.truncation) for ts in sets])
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
        keys = g.truncate(torch.cat([g.latents(1, s, types=opts.types) for s in args.seeds]), opts.truncation)
        label = " -> ".join(f"seed {s}" for s in args.seeds)
    frames = walk_sprites(g, keys, args.steps, opts, args.mode, z_dim=g.z_dim)
    print(f"wrote {out} ({len(frames)} frames, {label}) and {save_walk(frames, out, args.duration)}")
    return 0
