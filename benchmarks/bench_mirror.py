"""What mirrored sprites cost in FID and KID: the real data against itself with some images flipped left-right.

    .venv/bin/python benchmarks/bench_mirror.py --data data/gen5-64.data

A model trained with mirrored reals (`--augment flip`, the default preset's) learns the sprites and
their mirror images alike, so a perfect one would draw each sprite facing either way at random. Scored
against the unmirrored data (the benchmark's protocol), such a model pays whatever the Inception features
see of the flip. This measures that price on real images alone, no model: two random halves of the data
(the evaluation's own split, the printed floor) with none, half or all of the second half mirrored, and
the whole set against its full mirror.
"""
from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    args = p.parse_args()

    from pokegan.data import load_dataset
    from pokegan.metrics.evaluate import cached_real_features, real_rgb
    from pokegan.metrics.fid import fid
    from pokegan.metrics.inception import InceptionFeatures
    from pokegan.metrics.kid import kid

    ds = load_dataset(args.data)
    ext = InceptionFeatures("cpu")
    real = cached_real_features(ds, ext)
    print(f"extracting Inception features of {len(ds)} mirrored real images...", flush=True)
    mirrored = ext(np.ascontiguousarray(real_rgb(ds)[:, :, ::-1]))
    rng = np.random.default_rng(1234)          # the split evaluate_arrays prints its floor with
    perm = rng.permutation(len(real))
    a, b = perm[: len(real) // 2], perm[len(real) // 2:]
    coin = np.random.default_rng(0).random(len(b)) < 0.5
    half_mixed = np.where(coin[:, None], mirrored[b], real[b])
    rows = [("half A against half B (the floor)", real[a], real[b]),
            ("half A against half B, a random half of B mirrored", real[a], half_mixed),
            ("half A against half B, all of B mirrored", real[a], mirrored[b]),
            ("all against all mirrored", real, mirrored)]
    print("| sets | FID | KID |\n|---|---|---|")
    for name, x, y in rows:
        print(f"| {name} | {fid(x, y):.2f} | {kid(x, y)[0]:.4f} |", flush=True)


if __name__ == "__main__":
    main()
