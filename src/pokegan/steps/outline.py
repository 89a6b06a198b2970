"""A finishing step: a one-pixel dark outline where a transparent sprite has none."""
from __future__ import annotations

import numpy as np

from pokegan.core.pixels import OPAQUE, edge_mask
from pokegan.steps import Option, register


def outline(rgba: np.ndarray, dark: int = 90, shade: float = 0.3) -> np.ndarray:
    """A one-pixel dark outline where the sprite has none: the edge pixels of its visible body (alpha >= 128,
    `edge_mask`), and the faint pixels of a soft edge beyond it, that are not already dark (every channel <=
    `dark`) take their own colour times `shade`, so the outline keeps each part's hue, as pixel artists shade
    outlines."""
    alpha = rgba[..., 3]
    faint = (alpha > 0) & (alpha < OPAQUE)
    light = (edge_mask(alpha >= OPAQUE) | faint) & ~(rgba[..., :3] <= dark).all(-1)
    out = rgba.copy()
    out[light, :3] = (rgba[light, :3].astype(np.float32) * shade).round().astype(np.uint8)
    return out


register(Option(
    "outline", bool, False, "transparent sprites: a one-pixel dark outline where the sprite has none",
    needs_transparent=True, order=30, run=lambda img, on, ctx: outline(img)))
