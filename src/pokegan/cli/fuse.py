"""`pokegan fuse`: two Pokémon (or images, or latent files) blended by a model."""
from __future__ import annotations

import argparse

EXAMPLES = """examples:
  pokegan fuse pikachu charmander --data data/gen5-64.data --out fusion/
  pokegan fuse pikachu/latent.json my-sprite.png --steps 12 --scale 4 --out fusion/
"""


def add_parser(sub) -> None:
    from pokegan.cli.project import add_source_options

    p = sub.add_parser("fuse", help="fuse two Pokémon: a row from one to the other, a midpoint, shape-and-colour mixes",
                       description="Project two Pokémon (names with --data, image files or latent.json files) into "
                                   "one model and fuse them: fusion.gif and fusion.png (a row from one to the "
                                   "other), middle.png (the midpoint), and for FastGAN models mix.png (the first's "
                                   "shape in the second's colours, then the other way round); fusion.json says what "
                                   "was fused.", epilog=EXAMPLES)
    p.add_argument("first", help="a Pokémon's name, an image file or a latent.json")
    p.add_argument("second", help="the other")
    p.add_argument("--out", required=True, help="output folder")
    add_source_options(p)
    p.add_argument("--steps", type=int, default=8, help="frames from one to the other, both included (8)")
    p.add_argument("--scale", type=int, default=2, help="nearest-neighbour upscale of the pictures (2)")
    p.add_argument("--duration", type=int, default=120, help="milliseconds per GIF frame")
    p.set_defaults(func=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from pokegan.cli.options import load_for
    from pokegan.core.errors import PokeganError
    from pokegan.core.files import check_output_dir
    from pokegan.projection import fuse, resolve, save_fusion

    if not 3 <= args.steps <= 64:
        raise PokeganError(f"--steps {args.steps}: give 3 to 64 frames from one to the other")
    if not 1 <= args.scale <= 16:
        raise PokeganError(f"--scale {args.scale}: give 1 to 16")
    if not 10 <= args.duration <= 60000:
        raise PokeganError(f"--duration {args.duration}: give 10 to 60000 milliseconds per frame")
    g = load_for([args.first, args.second], args.model, args.device)
    out = check_output_dir(args.out)
    a = resolve(g, args.first, args.data, args.shiny)
    b = resolve(g, args.second, args.data, args.shiny)
    written = save_fusion(fuse(g, a, b, args.steps), a, b, out, args.scale, args.duration)
    print(f"fused {a.source.get('name')} and {b.source.get('name')} with {a.model['source']}: wrote "
          f"{', '.join(written)} and fusion.json to {out}/")
    return 0
