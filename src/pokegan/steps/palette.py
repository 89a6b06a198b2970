"""Finishing steps for colour: each sprite reduced to K colours of its own (`palette`), or drawn in the
palette the training sprites share (`training_palette`, kept with the model), or both."""
from __future__ import annotations

import numpy as np
from PIL import Image

from pokegan.core.errors import PokeganError
from pokegan.steps import Option, register


def reduce_palette(img: np.ndarray, colors: int) -> np.ndarray:
    """At most `colors` distinct colours among visible pixels (median cut), for a pixel-art look."""
    if not 2 <= colors <= 256:
        raise PokeganError(f"palette size {colors} must be between 2 and 256")
    visible = img[..., 3] > 0 if img.shape[-1] == 4 else np.ones(img.shape[:2], bool)
    out = img.copy()
    if not visible.any():
        return out
    pixels = np.ascontiguousarray(img[visible][:, :3])[None]          # (1, M, 3): only what is seen
    q = Image.fromarray(pixels, "RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                                                 dither=Image.Dither.NONE).convert("RGB")
    out[visible, :3] = np.asarray(q)[0]
    return out


# A game's palette is a few dozen colours: 64 entries hold every real Gen-5 sprite's colours closely (snapped to
# them, the 96px sprites keep a median of 12 colours, their own 13).
TRAINING_PALETTE_SIZE = 64


def training_palette(rgba: np.ndarray, colours: int = TRAINING_PALETTE_SIZE, max_pixels: int = 100_000,
                     seed: int = 0) -> np.ndarray:
    """The colours of a set of sprites (N, H, W, 4) as one palette, uint8 (K, 3) with K <= `colours`: median
    cut over their opaque pixels (alpha >= 128; at most `max_pixels` of them, drawn with a fixed seed, so the
    same sprites give the same palette). `snap_to_palette` then draws a generated sprite in these colours."""
    if rgba.ndim != 4 or rgba.shape[-1] != 4:
        raise PokeganError(f"training palette: takes RGBA sprites (N, H, W, 4), not shape {rgba.shape}")
    if not 2 <= colours <= 256:
        raise PokeganError(f"training palette of {colours} colours: give 2 to 256")
    px = rgba[rgba[..., 3] >= 128][:, :3]
    if len(px) == 0:
        raise PokeganError("training palette: the sprites have no opaque pixels to draw colours from")
    if len(px) > max_pixels:
        px = px[np.random.default_rng(seed).choice(len(px), max_pixels, replace=False)]
    q = Image.fromarray(np.ascontiguousarray(px)[None], "RGB").quantize(
        colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    used = np.unique(np.asarray(q))
    return np.asarray(q.getpalette()[:3 * 256], np.uint8).reshape(-1, 3)[used]


def snap_to_palette(img: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Every visible pixel of a sprite (H, W, 3|4) drawn in its nearest colour (Euclidean RGB) of `palette` (K, 3)."""
    pal = np.asarray(palette, np.int32).reshape(-1, 3)
    if len(pal) == 0:
        raise PokeganError("snap to palette: the palette is empty")
    visible = img[..., 3] > 0 if img.shape[-1] == 4 else np.ones(img.shape[:2], bool)
    out = img.copy()
    px = img[visible][:, :3].astype(np.int32)
    if len(px):
        d = ((px[:, None, :] - pal[None]) ** 2).sum(-1)          # (M, K): a 96px sprite x 64 colours is small
        out[visible, :3] = pal[d.argmin(1)].astype(np.uint8)
    return out


register(Option(
    "palette", int, 0, "reduce each sprite to K colours (pixel-art look)", 0, 256,
    "give 2 to 256 colours, or 0 for all", web_hi=64, forbid=(1,), order=40,
    run=lambda img, k, ctx: reduce_palette(img, k)))
register(Option(
    "training_palette", bool, False, "draw every sprite in the colours of the palette the training sprites share "
    "(64, kept with the model): one palette for a whole game; with --palette K, K of those colours per sprite",
    web_hi=0, order=50, run=lambda img, on, ctx: snap_to_palette(img, ctx.palette)))   # finish checks it is given
