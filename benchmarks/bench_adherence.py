"""Type adherence with its sampling error: `eval --per-type`'s adherence on more sprites, without the KID.

    .venv/bin/python benchmarks/bench_adherence.py --data data/gen5-64.data [--model RUN] --n 1000 [--seeds 0,1]

For each type the model saw: the share of N sprites asked for it (type sets drawn from the data's sets that
contain it, as `eval --per-type` draws them; latent seed `seed + 1 + type index`, so `--n 200 --seeds 0` repeats
eval's figures) whose classifier top-2 holds it, with a Wilson 95% interval, beside the classifier's ceiling
(its top-2 hit rate on held-out real species) and the ratio. `--confusion TYPE` also prints, for that type's
generated sprites, what the classifier ranks first and second. Only the type classifier runs (no Inception), so 1,000 sprites a type take seconds.
Beside it, each type's diversity (eval's measure: the health monitor's pixel diversity) over its real sprites'.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter

import numpy as np


def main() -> int:
    from pokegan.data import load_dataset
    from pokegan.metrics.evaluate import EvalConfig, as_rgb, real_rgb
    from pokegan.metrics.per_type import _diversity, wilson
    from pokegan.metrics.type_classifier import targets, type_classifier, top_k_hits
    from pokegan.generator.sprites import load_generator
    from pokegan.core.type_names import TYPES

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default=None, help="run, checkpoint or shipped model (default: the flagship)")
    ap.add_argument("--n", type=int, default=1000, help="sprites per type and seed")
    ap.add_argument("--seeds", default="0", help="comma-separated latent seeds (eval's --seed)")
    ap.add_argument("--confusion", default=None, help="a type whose top-2 predictions to list")
    args = ap.parse_args()
    ds = load_dataset(args.data)
    g = load_generator(args.model)
    clf = type_classifier(ds)
    opts = EvalConfig().sprite
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"model: {args.model or 'the flagship'}; {args.n} sprites a type and seed, seeds {seeds}\n")
    print("| type | adherence | 95% interval | ceiling | ratio | ratio interval | diversity / real |\n"
          "|---|---|---|---|---|---|---|")
    ratios, rates, ceilings, spreads = {}, [], [], {}
    real, member = real_rgb(ds), targets(ds).numpy() > 0
    for t in g.types_seen:
        if t not in clf.ceiling["per_type"]:
            continue
        i = TYPES.index(t)
        hits, n, top = 0, 0, Counter()
        for s in seeds:
            rgb = as_rgb(g.sprites(g.latents_of_type(args.n, s + 1 + i, t), opts), ds)
            if t not in spreads:
                spreads[t] = _diversity(rgb) / max(_diversity(real[member[:, i]]), 1e-8)
            logits = clf.logits(rgb)
            hits += int(top_k_hits(logits, i, 2).sum())
            n += len(rgb)
            if t == args.confusion:
                top.update(tuple(TYPES[j] for j in row) for row in logits.topk(2, dim=1).indices.tolist())
        ceil = clf.ceiling["per_type"][t]["top2"]
        lo, hi = wilson(hits, n)
        ratios[t] = hits / n / ceil
        rates.append(hits / n)
        ceilings.append(ceil)
        print(f"| {t} | {hits / n:.1%} | {lo:.1%}-{hi:.1%} | {ceil:.1%} | {hits / n / ceil:.2f} | "
              f"{lo / ceil:.2f}-{hi / ceil:.2f} | {spreads[t]:.2f} |")
        if top:
            print("\n" + "\n".join(f"    top-2 {a}, {b}: {c / n:.1%}" for (a, b), c in top.most_common(8)) + "\n")
    worst = min(ratios, key=ratios.get)
    print(f"\nmean adherence {np.mean(rates):.1%} against a mean ceiling of {np.mean(ceilings):.1%} "
          f"({np.mean(rates) / np.mean(ceilings):.2f}); mean of the per-type ratios {np.mean(list(ratios.values())):.2f}; "
          f"lowest {worst} {ratios[worst]:.2f}; diversity over real: lowest {min(spreads, key=spreads.get)} "
          f"{min(spreads.values()):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
