"""FID and KID of typed sprites: as many sprites as the dataset has, each asked for the type set of one real
sprite (so the types come as the data has them, and every sprite was asked for a type), against all real
sprites, on the repository's own evaluator. It says whether asking for types costs the creatures.

    .venv/bin/python benchmarks/bench_typed.py --data data/gen5-64.data [--model MODEL] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter

import numpy as np


def main() -> int:
    from pokegan.config import SpriteOptions
    from pokegan.data import load_dataset
    from pokegan.metrics.evaluate import EvalConfig, evaluate_arrays
    from pokegan.generator.sprites import load_generator
    from pokegan.core.type_names import TYPES

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default=None, help="run, checkpoint or shipped model (default: the flagship)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--transparent", action="store_true", help="keyed and cleaned as --transparent, on white")
    args = ap.parse_args()
    ds = load_dataset(args.data)
    g = load_generator(args.model)
    sets = Counter(tuple(sorted((t for t in lab.get("types") or () if t in g.types_seen), key=TYPES.index))
                   for lab in ds.labels)
    sets.pop((), None)
    cfg = EvalConfig(seed=args.seed)
    opts = SpriteOptions.of(cfg.sprite, transparent=args.transparent)
    parts = []
    for k, (ts, count) in enumerate(sorted(sets.items())):
        parts.append(g.sprites(g.latents(count, args.seed * 1000 + k, types=ts), SpriteOptions.of(opts, types=ts)))
    gen = np.concatenate(parts)
    res, _ = evaluate_arrays(gen, ds, cfg, log=lambda m: None)
    print(f"model {args.model or 'the flagship'}: {len(gen)} sprites over {len(sets)} type sets as the data has "
          f"them{' (--transparent, on white)' if args.transparent else ''}: FID {res['fid']:.2f}, KID "
          f"{res['kid']:.4f}, precision {res.get('precision', float('nan')):.3f}, recall {res.get('recall', float('nan')):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
