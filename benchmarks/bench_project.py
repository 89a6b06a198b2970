"""Projection, type swaps and fusions, measured (issue: start from a real Pokémon).

    # reconstruction: species a measurement model never saw (data prepared with --hold-out 0.1) and ones it did
    .venv/bin/python benchmarks/bench_project.py reconstruct --model RUN --data data/gen5-64.data \
        --held-out data/gen5-64-holdout.data --n 30 --json rec.json --grid benchmarks/grids/projection-held-out.png
    # type swaps: each source projected, then redrawn as three other types
    .venv/bin/python benchmarks/bench_project.py swap --model pretrained --data data/gen5-64.data --n 24
    # fusions: 100 random pairs among N projected species
    .venv/bin/python benchmarks/bench_project.py fuse --model pretrained --data data/gen5-64.data --species 40

reconstruct: for held-out and training species (normal colours, first frame), the encoder's guess, the noise-only
refinement and the full one (noise + feature offsets): silhouette IoU (alpha at 128) and PSNR on white against the
target, seconds a sprite. swap: the asked type's top-2 hit rate under the type classifier `eval --per-type` uses
(trained on real sprites), over its species-grouped ceiling, and the swapped sprite's silhouette IoU with the
projection. fuse: how often the midpoint is nearer (Inception pool features) to each parent's real sprite than
90% of the other real sprites are (the two parents' species left out of "other").
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np


def species_rows(ds, names):
    """Index of each species' normal, first-frame sprite."""
    out = {}
    for i, lab in enumerate(ds.labels):
        n = lab.get("name")
        if n in names and not lab.get("shiny") and lab.get("form") is None and (n not in out or lab.get("frame", 0) <
                                                                                 ds.labels[out[n]].get("frame", 0)):
            out[n] = i
    return out


def reconstruct(args, g, ds) -> dict:
    from pokegan.data import load_dataset
    from pokegan.projection import project
    from pokegan.projection.targets import read_species

    held = load_dataset(args.held_out).info.get("held_out") or []
    if not held:
        raise SystemExit(f"{args.held_out} holds no held-out species (prepare it with --hold-out 0.1)")
    rng = np.random.default_rng(0)
    trained_names = sorted({lab["name"] for lab in ds.labels if lab.get("name")} - set(held))
    groups = {"held_out": sorted(rng.permutation(sorted(held))[:args.n].tolist()),
              "training": sorted(rng.permutation(trained_names)[:args.n].tolist())}
    res, rows = {}, []
    for group, names in groups.items():
        figs = {"encoder": [], "noise": [], "extended": []}
        for k, name in enumerate(names):
            target = read_species(name, g.resolution, args.data)
            t0 = time.perf_counter()
            full = project(g, target, warn=lambda m: None)
            full_s = time.perf_counter() - t0
            figs["extended"].append({**full.figures["refined"], "seconds": full_s})
            if "encoder" in full.figures:
                figs["encoder"].append(full.figures["encoder"])
            if group == "held_out" or not args.skip_noise_on_training:
                t0 = time.perf_counter()
                plain = project(g, target, extended=False, warn=lambda m: None)
                figs["noise"].append({**plain.figures["refined"], "seconds": time.perf_counter() - t0})
            if group == "held_out" and k < 8:
                enc = _encoder_image(g, target) if "encoder" in full.figures else np.zeros_like(target.rgba)
                rows.append([target.rgba, enc, plain.image, full.image])
            print(f"{group:>9} {name:<14} extended IoU {full.figures['refined']['iou']:.3f} "
                  f"PSNR {full.figures['refined']['psnr_white']:.1f} ({full_s:.1f}s)", flush=True)
        res[group] = {k: _summary(v) for k, v in figs.items() if v}
        res[group]["species"] = names
    if args.grid and rows:
        _grid(rows, args.grid)
    return res


def _encoder_image(g, target):
    import torch

    from pokegan.projection import transparent_sprites
    from pokegan.projection import refine as rf
    from pokegan.projection.encoder import load_encoder

    enc, _ = load_encoder(g, warn=lambda m: None)
    t, _ = rf.target_tensors(g, target.rgba)
    with torch.no_grad():
        return transparent_sprites(g, rf.guess(g, enc, t))[0]


def _summary(rows):
    keys = ("iou", "psnr_white", "seconds")
    return {**{k: round(float(np.mean([r[k] for r in rows])), 4) for k in keys},
            "iou_min": round(float(np.min([r["iou"] for r in rows])), 4),
            "share_iou_0.85": round(float(np.mean([r["iou"] >= 0.85 for r in rows])), 3), "n": len(rows)}


def _grid(rows, path):
    """Columns: target, encoder, noise-only, extended; one row per species; on white and on a dark scene."""
    from pokegan.core.files import PREVIEWS, save_png
    from pokegan.core.pixels import on_background, upscale

    body = np.concatenate([np.concatenate(r, axis=1) for r in rows], axis=0)
    both = np.concatenate([on_background(body, (255, 255, 255)), on_background(body, PREVIEWS["dark"])], axis=1)
    save_png(upscale(both, 2), path)
    print(f"wrote {path}: target | encoder | noise only | extended, on white then dark")


def swap(args, g, ds) -> dict:
    from pokegan.data.dataset import composite_uint8
    from pokegan.metrics.type_classifier import TYPES, top_k_hits, type_classifier
    from pokegan.projection import project
    from pokegan.projection.refine import figures
    from pokegan.projection.targets import read_species

    clf = type_classifier(ds, log=lambda m: None)
    rng = np.random.default_rng(1)
    names = rng.permutation(sorted({lab["name"] for lab in ds.labels if lab.get("name")}))[:args.n].tolist()
    seen = list(g.types_seen)
    hits, before, ious, per_type = [], [], [], {}
    rows, swapped, projected = [], [], []
    for name in names:
        target = read_species(name, g.resolution, args.data)
        p = project(g, target, warn=lambda m: None)
        projected.append(p.image)
        others = [t for t in seen if t not in p.types]
        for t in rng.permutation(others)[:3].tolist():
            img = _swapped(g, p, t, args.spread)
            rgb = composite_uint8(img[None], "white")
            hit = bool(top_k_hits(clf.logits(rgb), TYPES.index(t), 2)[0])
            own = composite_uint8(p.image[None], "white")           # the projection before the swap, as a baseline
            before.append(bool(top_k_hits(clf.logits(own), TYPES.index(t), 2)[0]))
            ceiling = clf.ceiling["per_type"].get(t, {}).get("top2")
            iou = figures(img, p.image)["iou"]
            per_type.setdefault(t, []).append((hit, ceiling))
            hits.append(hit)
            ious.append(iou)
            swapped.append(img)
            if len(rows) < 8:
                rows.append([p.target.rgba, p.image, img])
        print(f"{name:<14} {'/'.join(p.types):<16} swaps: {len(hits)} so far, hit rate {np.mean(hits):.2f}, "
              f"IoU {np.mean(ious):.2f}", flush=True)
    ratio = {t: float(np.mean([h for h, _ in v]) / v[0][1]) for t, v in per_type.items() if v[0][1]}
    if args.grid:
        _grid(rows, args.grid)
    quality = _kid_of(ds, {"kid_swapped": swapped, "kid_projections": projected})   # every swap; each projection once
    return {**quality, "swaps": len(hits), "hit_rate_top2": round(float(np.mean(hits)), 4),
            "hit_rate_top2_before_the_swap": round(float(np.mean(before)), 4),
            "mean_ceiling_top2": round(float(np.mean([v[0][1] for v in per_type.values() if v[0][1]])), 4),
            "mean_ratio_over_types": round(float(np.mean(list(ratio.values()))), 4),
            "per_type_ratio": {t: round(r, 3) for t, r in sorted(ratio.items())},
            "iou_with_projection": round(float(np.mean(ious)), 4),
            "share_iou_0.6": round(float(np.mean([i >= 0.6 for i in ious])), 4)}


def _kid_of(ds, sets: dict) -> dict:
    """KID against the real sprites (composited on white) of each named set of RGBA sprites: a quality figure that
    holds at a few hundred sprites, where FID does not."""
    from pokegan.data.dataset import composite_uint8
    from pokegan.metrics.evaluate import cached_real_features
    from pokegan.metrics.inception import InceptionFeatures
    from pokegan.metrics.kid import kid

    extractor = InceptionFeatures("cpu")
    real = cached_real_features(ds, extractor, log=lambda m: None)
    return {name: round(float(kid(real, extractor(composite_uint8(np.stack(imgs), "white")))[0]), 4)
            for name, imgs in sets.items()}


def _swapped(g, p, t, spread):
    from pokegan.config import SpriteOptions
    from pokegan.projection import DEFAULT_SPREAD, near

    z, style = near(g, p, 1, DEFAULT_SPREAD if spread is None else spread, types=(t,))
    return g.sprites(z, SpriteOptions(transparent=True), offsets=p.offsets, style=style)[0]


def fuse(args, g, ds) -> dict:
    from pokegan.data.dataset import composite_uint8
    from pokegan.metrics.evaluate import cached_real_features
    from pokegan.metrics.inception import InceptionFeatures
    from pokegan.projection import fuse as fuse_pair, project
    from pokegan.projection.targets import read_species

    rng = np.random.default_rng(2)
    names = rng.permutation(sorted({lab["name"] for lab in ds.labels if lab.get("name")}))[:args.species].tolist()
    index = species_rows(ds, set(names))
    projections = {}
    for name in names:
        projections[name] = project(g, read_species(name, g.resolution, args.data), warn=lambda m: None)
        print(f"projected {name} ({len(projections)}/{len(names)})", flush=True)
    pairs = set()
    while len(pairs) < args.pairs:
        a, b = sorted(rng.choice(len(names), 2, replace=False).tolist())
        pairs.add((a, b))
    pairs = sorted(pairs)
    fused = [fuse_pair(g, projections[names[a]], projections[names[b]], 3) for a, b in pairs]
    middles = np.stack([f["middle"] for f in fused])
    mixes = np.stack([f["mix"][0] for f in fused]) if "mix" in fused[0] else None   # a's shape, b's colours
    extractor = InceptionFeatures("cpu")
    real = cached_real_features(ds, extractor, log=lambda m: None)
    mid = extractor(composite_uint8(middles, "white"))
    random_sprites = g.arrays(len(pairs), seed=123, transparent=True)
    rand = extractor(composite_uint8(random_sprites, "white"))
    species = np.array([lab.get("name") for lab in ds.labels])

    def near_both(feats):
        """Share of pairs whose image is nearer both parents than 90% of the other reals; share of parents; the
        median share of other reals nearer than the parent (0: the parent is the nearest)."""
        ok, each, ranks = [], [], []
        for f, (a, b) in zip(feats, pairs):
            d = np.linalg.norm(real - f, axis=1)
            others = d[~np.isin(species, [names[a], names[b]])]
            cut = np.quantile(others, 0.10)
            both = [d[index[names[a]]] < cut, d[index[names[b]]] < cut]
            ranks += [float((others < d[index[names[a]]]).mean()), float((others < d[index[names[b]]]).mean())]
            ok.append(all(both))
            each += both
        return {"near_both": round(float(np.mean(ok)), 4), "near_each": round(float(np.mean(each)), 4),
                "median_parent_rank": round(float(np.median(ranks)), 4)}

    out = {"pairs": len(pairs), "species": len(names), "midpoint": near_both(mid), "random_sprite": near_both(rand)}
    if mixes is not None:
        out["mix_shape_of_first_colours_of_second"] = near_both(extractor(composite_uint8(mixes, "white")))
    return out


def main() -> int:
    from pokegan.data import load_dataset
    from pokegan.generator.sprites import load_generator

    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["reconstruct", "swap", "fuse"])
    ap.add_argument("--model", default="pretrained")
    ap.add_argument("--data", required=True)
    ap.add_argument("--held-out", help="reconstruct: the dataset the model trained on, prepared with --hold-out")
    ap.add_argument("--n", type=int, default=30, help="species a group (reconstruct), sources (swap)")
    ap.add_argument("--species", type=int, default=40, help="fuse: species projected")
    ap.add_argument("--pairs", type=int, default=100, help="fuse: random pairs among them")
    ap.add_argument("--skip-noise-on-training", action="store_true")
    ap.add_argument("--grid", help="a picture of the first results (reconstruct, swap)")
    ap.add_argument("--spread", type=float, help="swap: the spread a type sampler looks around the projection "
                                                  "(at least projection.SWAP_SPREAD; default: generate's)")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    g, ds = load_generator(args.model), load_dataset(args.data)
    t0 = time.time()
    res = {"reconstruct": reconstruct, "swap": swap, "fuse": fuse}[args.what](args, g, ds)
    res = {"what": args.what, "model": args.model, "minutes": round((time.time() - t0) / 60, 1), **res}
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
