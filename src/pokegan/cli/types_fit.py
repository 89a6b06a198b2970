"""`pokegan types-fit`: a type sampler for a model without type inputs, so it takes --type and --by-type."""
from __future__ import annotations

import argparse

EXAMPLES = """examples:
  pokegan types-fit runs/00000-fastgan-gen5-64 --data data/gen5-64.data    # saved beside the run's weights
  pokegan generate runs/00000-fastgan-gen5-64 --type fire --n 16 --out fire/
"""


def add_parser(sub) -> None:
    p = sub.add_parser("types-fit", help="let a model without type inputs draw asked-for types (a type sampler)",
                       description="Fit a type sampler: a small network that tells from a latent which type the "
                                   "model will draw, learned from a type classifier's judgement of the model's own "
                                   "sprites (a classifier trained on DATA's real sprites). Asked for a type, the model "
                                   "then keeps, for each sprite, one of many latents in proportion to how likely it "
                                   "draws that type: the sprites stay the model's own. Saved beside the model's weights "
                                   "as type-sampler.safetensors + type-sampler.json. About 5 minutes on 2 CPU cores.",
                       epilog=EXAMPLES)
    p.add_argument("model", help="run folder, checkpoint or shipped model's name (one without type inputs)")
    p.add_argument("--data", required=True, help="a prepared dataset whose sprites carry types (gen5-64)")
    p.add_argument("--samples", type=int, default=30_000, help="model sprites to learn from (30000)")
    p.add_argument("--epochs", type=int, default=40, help="passes over them (40)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="folder to save the sampler in (default: beside the model's weights)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pokegan.models import checkpoint as ckpt
    from pokegan.data import load_dataset
    from pokegan.core.errors import PokeganError
    from pokegan.generator.limits import check_seed
    from pokegan.generator.sprites import load_generator
    from pokegan.type_sampler_fit import SamplerConfig, fit

    check_seed(args.seed)
    if not 256 <= args.samples <= 1 << 20:
        raise PokeganError(f"--samples {args.samples}: give 256 to 1,048,576 sprites")
    if not 1 <= args.epochs <= 1000:
        raise PokeganError(f"--epochs {args.epochs}: give 1 to 1000")
    ds = load_dataset(args.data)
    g = load_generator(args.model, device=args.device)
    folder = Path(args.out) if args.out else ckpt.find(g.source)
    folder.mkdir(parents=True, exist_ok=True)
    sampler = fit(g, ds, SamplerConfig(samples=args.samples, epochs=args.epochs, seed=args.seed))
    sampler.save(folder)
    print(f"wrote {folder}/type-sampler.safetensors and type-sampler.json ({len(sampler.types)} types; held-out "
          f"agreement with the judge {sum(sampler.meta['agreement'].values()) / len(sampler.types):.3f})")
    return 0
