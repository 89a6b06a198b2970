"""Sprites as a game gets them: the `metrics.sprite_shape` measures for the real data and a model.

    .venv/bin/python benchmarks/bench_sprite_shape.py --data data/gen5-64.data [--model RUN] --n 1000 [FLAGS] [--fid]

The model's sprites are `pokegan generate --seed 0 --transparent FLAGS`'s (FLAGS: generate's sprite options,
e.g. --min-fragment 24 --training-palette; RGBA models: binary alpha); the real ones the dataset's, alpha made
binary the same way. Prints a Markdown table. `--fid` (use --n 1463) adds FID and KID of the sprites composited
on white as written (soft alpha blended, as an engine that blends alpha shows them) and with alpha cut at 128
(as an engine that only tests alpha shows them).
"""
from __future__ import annotations

import argparse
import sys
import time


def main() -> int:
    from pokegan.cli.options import add_sprite_options, sprite_options
    from pokegan.data import load_dataset
    from pokegan.metrics.evaluate import with_alpha
    from pokegan.metrics.sprite_shape import measure
    from pokegan.generator.sprites import load_generator

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default=None, help="run, checkpoint or shipped model (default: the one "
                                                  "`generate --transparent` picks)")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--fid", action="store_true", help="also FID/KID on white, blended and with alpha cut at 128")
    add_sprite_options(ap)
    args = ap.parse_args()
    ds = load_dataset(args.data)
    g = load_generator(args.model) if args.model else load_generator(transparent=True)
    opts = sprite_options(args, transparent=g.channels == 3)
    t0 = time.perf_counter()
    gen = with_alpha(g.arrays(args.n, seed=0, options=opts), ds)
    m_gen, m_real = measure(gen), measure(ds.images)
    print(f"| | real ({len(ds)}) | {args.model or 'shipped model'} ({args.n}) |\n|---|---|---|")
    for k, fmt in (("one_piece_share", "{:.1%}"), ("stray_pixel_share", "{:.2%}"), ("near_white_edge_share", "{:.1%}"),
                   ("dark_edge_share", "{:.1%}"), ("colours_median", "{:.0f}")):
        print(f"| {k} | {fmt.format(m_real[k])} | {fmt.format(m_gen[k])} |")
    if args.fid:
        from pokegan.metrics.evaluate import evaluate_arrays

        cut = gen.copy()
        cut[cut[..., 3] < 128] = 0
        cut[..., 3][cut[..., 3] > 0] = 255
        for name, sprites in (("alpha blended", gen), ("alpha cut at 128", cut)):
            res, _ = evaluate_arrays(sprites, ds, log=lambda *a: None)
            print(f"| FID / KID on white, {name} | | {res['fid']:.2f} / {res['kid']:.4f} |")
    print(f"\n{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
