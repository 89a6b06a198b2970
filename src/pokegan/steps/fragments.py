"""A finishing step: loose opaque pieces removed from a transparent sprite (its largest piece stays)."""
from __future__ import annotations

import numpy as np

from pokegan.core.pixels import OPAQUE, components
from pokegan.steps import Option, min_fragment_for, register


def remove_fragments(rgba: np.ndarray, min_pixels: int) -> np.ndarray:
    """An RGBA sprite (H, W, 4) without the opaque pieces (alpha >= 128, 8-connected) smaller than `min_pixels`;
    the largest piece always stays. Faint pixels (alpha 1-127: a soft edge) go with the pieces they border, or
    alone where they border none that stays, so faint pixels neither join two pieces nor are left floating.
    Cleared pixels get alpha 0 and colour 0, as keying clears them."""
    opaque = rgba[..., 3] >= OPAQUE
    faint = (rgba[..., 3] > 0) & ~opaque
    labels = components(opaque[None])[0]
    ids, counts = np.unique(labels[labels > 0], return_counts=True)
    if len(ids) == 0 or (len(ids) == 1 and not faint.any()):   # nothing to remove
        return rgba
    kept = np.isin(labels, list(set(ids[counts >= min_pixels]) | {ids[counts.argmax()]}))
    h, w = kept.shape
    padded = np.pad(kept, 1)
    beside = np.zeros_like(kept)
    for dy in range(3):
        for dx in range(3):
            beside |= padded[dy:dy + h, dx:dx + w]
    out = rgba.copy()
    out[(opaque & ~kept) | (faint & ~beside)] = 0
    return out


register(Option(
    "min_fragment", int, 0, "transparent sprites: remove loose opaque pieces smaller than N pixels (the largest "
    "stays)", 0, 4096, "pixels: pieces smaller than this are removed; 0 keeps every piece", web_hi=256,
    needs_transparent=True, order=20, auto=min_fragment_for, run=lambda img, n, ctx: remove_fragments(img, n)))
