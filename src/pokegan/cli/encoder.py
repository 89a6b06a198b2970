"""`pokegan train-encoder`: the projection encoder of a model, trained on its own samples."""
from __future__ import annotations

import argparse

EXAMPLES = """examples:
  pokegan train-encoder runs/00000-fastgan-gen5-64 --minutes 10      # saved in the run's encoder/ folder
  pokegan train-encoder pretrained --minutes 20 --out my-encoder/
"""


def add_parser(sub) -> None:
    p = sub.add_parser("train-encoder", help="train a model's projection encoder (instant projections)",
                       description="Train the projection encoder of a model on the model's own samples: after it, "
                                   "`pokegan project` starts from its guess (one forward pass) and refines from "
                                   "there. Saved as encoder.safetensors + encoder.json in the run's encoder/ folder "
                                   "(or beside a checkpoint's weights, or --out).", epilog=EXAMPLES)
    p.add_argument("model", help="run folder, checkpoint or shipped model's name")
    p.add_argument("--minutes", type=float, default=10.0, help="training time (10)")
    p.add_argument("--bank", type=int, default=16384, help="samples drawn at a time to learn from (16384)")
    p.add_argument("--batch", type=int, default=64, help="samples per step (64)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="folder to save the encoder in (default: beside the model)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from pokegan.projection.encoder import default_encoder_folder, save_encoder, train_encoder
    from pokegan.projection.refine import check_projectable
    from pokegan.generator.limits import check_seed
    from pokegan.generator.sprites import load_generator

    from pokegan.core.errors import PokeganError

    check_seed(args.seed)
    if not 0.05 <= args.minutes <= 24 * 60:   # checked before the model is loaded (NaN fails this too)
        raise PokeganError(f"--minutes {args.minutes}: give 0.05 to 1440")
    if not 256 <= args.bank <= 1 << 20:
        raise PokeganError(f"--bank {args.bank}: give 256 to 1,048,576 samples")
    if not 1 <= args.batch <= 4096:
        raise PokeganError(f"--batch {args.batch}: give 1 to 4096")
    g = load_generator(args.model, device=args.device)
    check_projectable(g)
    folder = args.out or default_encoder_folder(g)
    E, meta = train_encoder(g, minutes=args.minutes, bank=args.bank, batch=args.batch, seed=args.seed)
    save_encoder(E, meta, folder)
    print(f"wrote {folder}/encoder.safetensors and encoder.json ({meta['trained']['samples']:,} samples; held-back "
          f"latent error {meta['figures']['latent_mse']:.3f})")
    return 0
