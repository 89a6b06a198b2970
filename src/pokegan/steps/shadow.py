"""A finishing step: a drop shadow, the sprite's silhouette N pixels down and to the right, drawn where the
sprite is not (a game shows its sprite standing on the ground)."""
from __future__ import annotations

import numpy as np

from pokegan.steps import Option, register

SHADOW = (0, 0, 0, 96)   # black at 96/255: the scene shows through, as it does under a real shadow


def drop_shadow(rgba: np.ndarray, offset: int) -> np.ndarray:
    """An RGBA sprite (H, W, 4) with its silhouette shifted `offset` pixels down and right, in SHADOW's colour,
    on transparent pixels only (the sprite itself is unchanged; what falls off the canvas is cut)."""
    opaque = rgba[..., 3] > 0
    moved = np.zeros_like(opaque)
    moved[offset:, offset:] = opaque[:opaque.shape[0] - offset, :opaque.shape[1] - offset]
    out = rgba.copy()
    out[moved & ~opaque] = SHADOW
    return out


register(Option(
    "shadow", int, 0, "transparent sprites: a soft drop shadow N pixels down and right (0 = none)", 0, 8,
    "pixels of drop-shadow offset: 0 (none) to 8", needs_transparent=True, order=60,
    run=lambda img, n, ctx: drop_shadow(img, n)))
