"""A finishing step: the near-white rim cleared from a transparent sprite's edge."""
from __future__ import annotations

import numpy as np

from pokegan.core.pixels import NEAR_WHITE, edge_mask
from pokegan.steps import Option, register


def dehalo(rgba: np.ndarray, passes: int, level: int = NEAR_WHITE) -> np.ndarray:
    """An RGBA sprite (H, W, 4) without its near-white rim: edge pixels whose every channel is >= `level` are
    cleared (alpha 0, colour 0), then the new edge's, `passes` times at most, so a rim or fleck up to that
    many pixels deep goes and a white body behind a dark outline stays (its edge is the outline)."""
    out = rgba.copy()
    for _ in range(passes):
        halo = edge_mask(out[..., 3] > 0) & (out[..., :3] >= level).all(-1)
        if not halo.any():
            break
        out[halo] = 0
    return out


register(Option(
    "dehalo", int, 0, "transparent sprites: clear near-white pixels on the edge, N rings deep at most (the white rim a "
    "dark scene shows; a white body behind a dark outline stays); with --soft-edge 0, hard edges", 0, 8,
    "rings of near-white edge pixels to clear: 0 (off) to 8", needs_transparent=True, order=10,
    run=lambda img, n, ctx: dehalo(img, n)))
