"""`pokegan project`: the latent a model draws closest to a Pokémon or an image."""
from __future__ import annotations

import argparse

EXAMPLES = """examples:
  pokegan project pikachu --data data/gen5-64.data --out pikachu/      # a species of a prepared dataset
  pokegan project pikachu --shiny --data data/gen5-64.data --out shiny-pikachu/
  pokegan project my-sprite.png --out mine/                            # any image: RGBA, or on white or black
  pokegan project my-sprite.png --fast --out mine/                     # the encoder's guess only (instant)
then:
  pokegan generate --near pikachu/latent.json --n 16 --out variations/
  pokegan generate --near my-sprite.png --type water --n 8 --out water/   # a type swap
  pokegan fuse pikachu charmander --data data/gen5-64.data --out fusion/
"""


def add_parser(sub) -> None:
    p = sub.add_parser("project", help="find a Pokémon or an image in a model: its closest sprite and latent",
                       description="Project a Pokémon (by name, from a prepared dataset) or an image file into a "
                                   "model: writes target.png (the source as the model sees it), projection.png (the "
                                   "model's closest sprite, RGBA) and latent.json (its latent, types, model id and "
                                   "how close it came), for generate --near and fuse.", epilog=EXAMPLES)
    p.add_argument("source", help="a Pokémon's name (with --data) or an image file")
    p.add_argument("--out", required=True, help="output folder")
    add_source_options(p)
    p.add_argument("--fast", action="store_true", help="the projection encoder's guess only, no refinement")
    p.add_argument("--seed", type=int, default=0, help="the refinement's random starts")
    p.set_defaults(func=run, parser=p)


def add_source_options(p, model_help: str | None = None) -> None:
    """--model, --data, --shiny and --device: what `project`, `fuse` and `generate --near` share."""
    if model_help is not False:
        p.add_argument("--model", help=model_help or "run folder, checkpoint or shipped model's name (default: the "
                                                     "pretrained model; the one a latent file names)")
    p.add_argument("--data", help="the prepared dataset to find Pokémon names in")
    p.add_argument("--shiny", action="store_true", help="a name's shiny sprite")
    p.add_argument("--device", default="cpu")


def run(args: argparse.Namespace) -> int:
    from pokegan.cli.options import load_for
    from pokegan.projection import project
    from pokegan.generator.limits import check_seed

    check_seed(args.seed)
    g = load_for([args.source], args.model, args.device)
    p = project(g, args.source, data=args.data, shiny=args.shiny, refine=not args.fast, seed=args.seed)
    out = p.save(args.out)
    fig = p.figures.get("refined") or p.figures.get("encoder")
    print(f"projected {p.source['name']} into {p.model['source']}"
          + (f" as {'/'.join(p.types)}" if p.types and g.conditional else "")
          + f": silhouette IoU {fig['iou']:.2f}, PSNR on white {fig['psnr_white']:.1f} dB, {fig['seconds']:.1f}s; "
          f"wrote {out}/target.png, projection.png and latent.json")
    return 0
