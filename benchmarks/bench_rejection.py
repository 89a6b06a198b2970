"""Does the run's own discriminator pick better sprites? Rejection sampling, measured.

    .venv/bin/python benchmarks/bench_rejection.py runs/00031-fastgan-gen5-64-s19/checkpoints/snapshot-000900kimg \\
        --data data/gen5-64.data --mult 4

Discriminator rejection sampling (Azadi et al. 2019, "Discriminator Rejection Sampling") keeps a
generated image with a probability that rises with D's score on it; cheaper variants keep the top share
by score or drop the lowest. D is the run's own (trained on DiffAugment'ed images, here shown them as
they are, in eval mode); the FID network is only the judge, as everywhere in pokegan.

One checkpoint's EMA generator makes MULT x N candidates (N = the dataset's size, seed 0 latents, so the
first N are exactly what `pokegan eval` scores); their Inception features are extracted once, and every
selection of N is scored against the real set with bench_default.py's protocol (FID, KID, precision,
recall). The N-image blocks of unselected candidates show the seed-to-seed spread of the metric itself,
which any selection has to beat. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="a checkpoint folder of a run that kept D (snapshot-*, latest)")
    ap.add_argument("--data", required=True)
    ap.add_argument("--mult", type=int, default=4, help="candidates per kept image (at least 2)")
    ap.add_argument("--seed", type=int, default=0, help="latents, and DRS's coin flips")
    ap.add_argument("--bg-tolerance", type=int, default=5, help="as `pokegan generate` (5; 0 = raw output)")
    args = ap.parse_args()
    if args.mult < 2:
        raise SystemExit("--mult must be at least 2: selecting N of N selects nothing")

    from pokegan.data import load_dataset
    from pokegan.metrics.evaluate import as_rgb, cached_real_features
    from pokegan.metrics.fid import fid
    from pokegan.metrics.inception import InceptionFeatures
    from pokegan.metrics.kid import kid
    from pokegan.metrics.precision_recall import precision_recall
    from pokegan.export.legacy import family_from_state
    from pokegan.generator.pipeline import to_uint8
    from pokegan.generator.sprites import load_generator
    from pokegan.models import checkpoint as ckpt

    ds = load_dataset(args.data)
    n = len(ds)
    g = load_generator(args.checkpoint)
    state, weights, _ = ckpt.read(ckpt.find(args.checkpoint), train_state=False)
    if not any(k.startswith("D.") for k in weights):
        raise SystemExit(f"{args.checkpoint}: holds no discriminator (an exported model?); give a run's checkpoint")
    D = family_from_state(state, args.checkpoint).build()["D"]
    D.load_state_dict(ckpt.subdict(weights, "D"))
    D.eval().requires_grad_(False)

    t0 = time.perf_counter()
    images = g.decode(g.latents(n * args.mult, seed=args.seed), args.bg_tolerance)
    with torch.inference_mode():
        score = torch.cat([D(images[i:i + 256]).flatten() for i in range(0, len(images), 256)]).numpy()
    extractor = InceptionFeatures("cpu", batch=50)
    real = cached_real_features(ds, extractor)
    feats = extractor(as_rgb(to_uint8(images), ds))
    print(f"{len(images)} candidates generated, scored and featurised in {time.perf_counter() - t0:.0f} s; "
          f"D's score: mean {score.mean():.3f}, sd {score.std():.3f}")

    rng = np.random.default_rng(args.seed)
    selections: list[tuple[str, np.ndarray]] = [("first N (what `pokegan eval` scores)", np.arange(n))]
    selections += [(f"block {j + 1} of N, unselected", np.arange(j * n, (j + 1) * n)) for j in range(1, args.mult)]
    order = np.argsort(-score)
    selections += [(f"top N of {args.mult}N by D", order[:n]), (f"bottom N of {args.mult}N by D", order[-n:])]
    for drop in (0.1, 0.2, 0.3, 0.5):
        kept = np.nonzero(score > np.quantile(score, drop))[0]
        selections.append((f"lowest {drop:.0%} by D dropped, first N kept", kept[:n]))
    for q in (0.5, 0.75):
        # DRS's acceptance, sigmoid(score - gamma) with gamma at a quantile of the scores; the first N accepted
        gamma = np.quantile(score, q)
        accepted = np.nonzero(rng.random(len(score)) < 1 / (1 + np.exp(-(score - gamma))))[0]
        selections.append((f"DRS, gamma at the {q:.0%} quantile", accepted[:n]))

    print("\n| selection | images | FID | KID | precision | recall |\n|---|---|---|---|---|---|")
    for name, idx in selections:
        f = feats[idx]
        k, _ = kid(real, f, 100, 1000)
        p, r = precision_recall(real, f, 3)
        print(f"| {name} | {len(idx)} | {fid(real, f):.2f} | {k:.4f} | {p:.3f} | {r:.3f} |", flush=True)


if __name__ == "__main__":
    main()
