"""How much of an FID is the metric's own small-sample bias? Real-vs-real and model FID against set size.

    .venv/bin/python benchmarks/bench_fid_bias.py --data data/gen5-64.data [--mult 4] [CHECKPOINT ...]

FID is biased upwards, and the bias grows as the sets shrink: about k_a / N_a + k_b / N_b for two sets of
N_a and N_b images (Chong & Forsyth 2020, "Effectively Unbiased FID and Inception Score and where to find
them"; Binkowski et al. 2018). pokegan's protocol scores as many generated images as the dataset has
(1,463 for gen5-64) against all of it; the literature on small datasets (Karras et al. 2020, ADA) scores
50,000 generated images against all training images. This measures both sides of the bias:

- real vs real: two disjoint random subsets of n real images each, for several n, several draws each;
  a fit of FID = a + c * (1/n + 1/n) gives c, so c * (1/N_gen + 1/N_real) estimates what a perfect
  model would score at the protocol's sizes (the printed "floor", two halves of 731, is the n = 731 point);
- each checkpoint: N generated images (MULT x the dataset's size, seed 0 latents, as `pokegan eval` draws
  them, so the first block is exactly what it scores) subsampled to several sizes against all real images,
  and a fit of FID = FID_inf + b / N_gen: FID_inf is the score with infinitely many generated images
  against this real set, what FID-50k-against-training approaches.

Fits are least squares on the mean FID at each size. Prints Markdown tables. The FID network only judges.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line y = intercept + slope * x."""
    slope, intercept = np.polyfit(np.asarray(x, np.float64), np.asarray(y, np.float64), 1)
    return float(intercept), float(slope)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="*", help="run checkpoints or exported models to measure")
    ap.add_argument("--data", required=True)
    ap.add_argument("--mult", type=int, default=4, help="generated images per checkpoint, in dataset sizes")
    ap.add_argument("--draws", type=int, default=4, help="random draws per size")
    ap.add_argument("--bg-tolerance", type=int, default=5, help="as `pokegan generate` (5; 0 = raw output)")
    args = ap.parse_args()
    if args.mult < 2:
        raise SystemExit("--mult must be at least 2: the fit needs generated sets larger than the dataset")

    from pokegan.data import load_dataset
    from pokegan.metrics.evaluate import as_rgb, cached_real_features
    from pokegan.metrics.fid import fid
    from pokegan.metrics.inception import InceptionFeatures
    from pokegan.generator.sprites import load_generator

    ds = load_dataset(args.data)
    n_real = len(ds)
    extractor = InceptionFeatures("cpu", batch=50)
    real = cached_real_features(ds, extractor)
    rng = np.random.default_rng(0)

    print(f"real vs real: two disjoint subsets of n images each, {args.draws} draws per n ({n_real} real images)\n")
    print("| n | FID (mean of draws) | spread (min-max) | FID x n / 2 |")
    print("|---|---|---|---|")
    sizes = [n_real // 2, n_real // 3, n_real // 4, n_real // 6, n_real // 8]
    means = []
    for n in sizes:
        vals = []
        for _ in range(args.draws):
            perm = rng.permutation(n_real)
            vals.append(fid(real[perm[:n]], real[perm[n:2 * n]]))
        means.append(float(np.mean(vals)))
        print(f"| {n} | {means[-1]:.2f} | {min(vals):.2f}-{max(vals):.2f} | {means[-1] * n / 2:.0f} |", flush=True)
    a, c = fit_line([2 / n for n in sizes], means)
    floor = a + c * (2 / n_real)
    print(f"\nfit FID = a + c (1/n_a + 1/n_b): a = {a:.2f}, c = {c:.0f}; estimated perfect-model score with "
          f"{n_real} generated against the {n_real} real (the protocol): {floor:.1f}; with infinitely many "
          f"generated: {a + c / n_real:.1f}")
    scaled = [m * n / 2 for m, n in zip(means, sizes)]
    if max(scaled) > 1.2 * min(scaled) or abs(a) > 0.1 * means[0]:
        print(f"warning: FID x n / 2 ranges {min(scaled):.0f}-{max(scaled):.0f} and the intercept a, which should "
              f"be 0, is {a:.1f}: the bias is not linear in 1/n at these sizes, so these extrapolations are "
              f"not to be trusted")
    print()

    for source in args.checkpoints:
        t0 = time.perf_counter()
        g = load_generator(source)
        feats = extractor(as_rgb(g.arrays(n_real * args.mult, seed=0, bg_tolerance=args.bg_tolerance), ds))
        print(f"{source}: {len(feats)} generated images featurised in {time.perf_counter() - t0:.0f} s\n")
        print("| generated N | FID (mean of draws) | spread (min-max) | draws |")
        print("|---|---|---|---|")
        gsizes = sorted({n_real * args.mult, n_real * args.mult // 2, n_real, n_real // 2, n_real // 4}, reverse=True)
        gmeans = []
        for n in gsizes:
            if n == len(feats):
                vals = [fid(real, feats)]
            elif n == n_real:   # the disjoint blocks of N, the first being what `pokegan eval` scores
                vals = [fid(real, feats[j * n:(j + 1) * n]) for j in range(len(feats) // n)]
            else:
                vals = [fid(real, feats[rng.choice(len(feats), n, replace=False)]) for _ in range(args.draws)]
            gmeans.append(float(np.mean(vals)))
            print(f"| {n} | {gmeans[-1]:.2f} | {min(vals):.2f}-{max(vals):.2f} | {len(vals)} |", flush=True)
        f_inf, b = fit_line([1 / n for n in gsizes], gmeans)
        print(f"\nfit FID = FID_inf + b / N_gen: FID_inf = {f_inf:.1f}, b = {b:.0f} (at N = {n_real}: "
              f"{f_inf + b / n_real:.1f}; at 50,000: {f_inf + b / 50000:.1f})\n")


if __name__ == "__main__":
    main()
