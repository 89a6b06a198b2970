"""Whether sprites are usable in a game as they come: one piece, no halo, an outline, few colours.

Measured on RGBA sprites with alpha made binary (opaque where alpha >= 128), generated and real alike:
- one_piece_share: share of sprites whose opaque pixels form exactly one 8-connected component;
- stray_pixel_share: share of opaque pixels outside each sprite's largest component (mean over sprites);
- edge pixels: opaque pixels with a transparent 4-neighbour or on the image border;
  near_white_edge_share: share of them with every channel >= 200 (the halo keying leaves on dark scenes);
  dark_edge_share: share of them with every channel <= 90 (an outline);
- colours_median: median over sprites of the number of distinct RGB colours among opaque pixels.
"""
from __future__ import annotations

import numpy as np

from pokegan.core.pixels import NEAR_WHITE, OPAQUE, components, edge_mask

DARK = 90


def measure(rgba: np.ndarray) -> dict:
    """The measures above for uint8 RGBA sprites (N, H, W, 4)."""
    if rgba.ndim != 4 or rgba.shape[-1] != 4 or len(rgba) == 0:
        raise ValueError(f"sprite measures take RGBA sprites (N, H, W, 4), not {rgba.shape}")
    opaque = rgba[..., 3] >= OPAQUE
    labels = components(opaque)
    one_piece, stray = [], []
    for lab in labels:
        ids, counts = np.unique(lab[lab > 0], return_counts=True)
        one_piece.append(len(ids) == 1)
        stray.append(1 - counts.max() / counts.sum() if len(ids) else 0.0)
    edge = edge_mask(opaque)
    rgb = rgba[..., :3]
    edge_px = rgb[edge]
    colours = [len(np.unique(img[m].astype(np.int32) @ np.array([65536, 256, 1]))) for img, m in zip(rgb, opaque)]
    return {"one_piece_share": float(np.mean(one_piece)), "stray_pixel_share": float(np.mean(stray)),
            "near_white_edge_share": float((edge_px >= NEAR_WHITE).all(-1).mean()) if len(edge_px) else 0.0,
            "dark_edge_share": float((edge_px <= DARK).all(-1).mean()) if len(edge_px) else 0.0,
            "colours_median": float(np.median(colours))}
