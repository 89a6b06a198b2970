"""A finishing step: the background the network blended into a keyed sprite's edge turned back into partial
transparency ("colour to alpha" along the rim), so the sprite looks on any scene as it looks on its own
background, without a white halo on a dark one."""
from __future__ import annotations

import numpy as np

from pokegan.core.pixels import edge_mask
from pokegan.steps import Option, register

# Rim pixels this close to the key colour in every channel (for white: every channel >= 120) are read as a blend
# of the sprite and its background. Measured on the shipped model (benchmarks/RESULTS.md): from 120 and from 160
# alike FID 38.53 on white (a blend is un-mixed exactly wherever it starts); 120 leaves more of the edge dark where
# alpha is cut at 128 (25% of edge pixels against 18%; 15% from 200).
BLEND = 135
FAINT = 3 * 40 ** 2   # a neighbouring colour within about 40 levels of the key a channel is no colour to un-mix to
LUMA = np.array([299, 587, 114], np.int64)   # brightness in whole numbers: the exported page picks the same pixel


def _deepest_neighbour(rgb: np.ndarray, pool: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel, the colour of the pixel of `pool` in its 3x3 neighbourhood (itself included) farthest in
    brightness from the key colour: the sprite's own colour a blended rim pixel was mixed from (an outline, most
    often). Also whether there was one."""
    h, w, _ = rgb.shape
    depth = np.where(pool, np.abs((rgb.astype(np.int64) - key.astype(np.int64)) @ LUMA), -1)
    padded_depth = np.pad(depth, 1, constant_values=-1)
    padded = np.pad(rgb, ((1, 1), (1, 1), (0, 0)))
    shifts = [(dy, dx) for dy in range(3) for dx in range(3)]
    depths = np.stack([padded_depth[dy:dy + h, dx:dx + w] for dy, dx in shifts])        # (9, H, W)
    pick = depths.argmax(0)                                                              # the first deepest
    colours = np.stack([padded[dy:dy + h, dx:dx + w] for dy, dx in shifts])             # (9, H, W, 3)
    colour = np.take_along_axis(colours, pick[None, ..., None], 0)[0]
    best = np.take_along_axis(depths, pick[None], 0)[0]
    return colour, best >= 0


def soft_edge(rgba: np.ndarray, rings: int, key: tuple[int, int, int] | None) -> np.ndarray:
    """An RGBA sprite (H, W, 4) keyed from a white or black `key` with its blended rim, `rings` pixels deep at
    most, made partially transparent: each opaque edge pixel c within BLEND levels of the key in every channel
    is read as alpha a of a colour f over the key, f the deepest neighbouring colour (a = the projection of c
    onto the line from the key to f, raised where needed so the colour stays in range), and becomes (f', a) with
    a f' + (1 - a) key == c; where no neighbour is deeper than about 40 levels from the key, a is the least that
    keeps f' in range (GIMP's colour to alpha). Composited on the key colour the sprite is unchanged; on a dark scene its rim shows
    the sprite's own colour fading out instead of the background's. Darker pixels (an outline) stay opaque. A
    model with its own alpha (`key` None) is left as it is."""
    if key is None or rings <= 0:
        return rgba
    k = np.asarray(key, np.float32)
    out = rgba.astype(np.float32)
    done = np.zeros(rgba.shape[:2], bool)
    for _ in range(rings):
        solid = out[..., 3] >= 255
        rim = edge_mask(solid) & ~done
        if not rim.any():
            break
        c = out[..., :3]
        f, found = _deepest_neighbour(c, solid, k)
        d = f - k
        norm = (d * d).sum(-1)
        a = np.clip(((c - k) * d).sum(-1) / np.maximum(norm, 1e-6), 0, 1)
        least = np.abs(c - k).max(-1) / 255                     # the least alpha that keeps f' within 0-255
        # no deeper colour near (a pale part with no outline): the least alpha, the colour as deep as it goes
        a = np.where(norm < FAINT, least, np.maximum(a, least))
        blend = rim & found & (np.abs(c - k) <= BLEND).all(-1) & (a * 255 < 254.5)   # not opaque once rounded
        colour = np.clip((c - (1 - a[..., None]) * k) / np.maximum(a[..., None], 1e-3), 0, 255)
        out[blend, :3] = colour[blend]
        out[blend, 3] = a[blend] * 255
        done |= rim
    out = out.round().clip(0, 255).astype(np.uint8)
    out[out[..., 3] == 0] = 0    # fully clear pixels as keying clears them
    return out


register(Option(
    "soft_edge", int, 0, "transparent sprites: the background blended into the edge, N rings deep at most, turned "
    "into partial transparency, so a sprite looks on a dark scene as it does on white (0: hard edges)", 0, 4,
    "rings of edge pixels to un-mix from the background: 0 (off) to 4", needs_transparent=True, order=15, auto=2,
    run=lambda img, n, ctx: soft_edge(img, n, ctx.key)))
