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

OPAQUE = 128
NEAR_WHITE = 200
DARK = 90


def components(mask: np.ndarray) -> np.ndarray:
    """8-connected component labels of a boolean mask (N, H, W): 0 outside, else the smallest flat index
    + 1 of each component. Min-label propagation until stable, vectorised over the batch; each round also
    jumps every label to its label's label, so long snakes settle in few rounds."""
    n, h, w = mask.shape
    big = np.int32(h * w + 1)
    flat = np.arange(1, h * w + 1, dtype=np.int32).reshape(1, h, w)
    labels = np.where(mask, flat, big).astype(np.int32)
    rows = np.arange(n)[:, None]
    while True:
        p = np.pad(labels, ((0, 0), (1, 1), (1, 1)), constant_values=big)
        new = labels.copy()
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                np.minimum(new, p[:, dy:dy + h, dx:dx + w], out=new)
        new = np.where(mask, new, big)
        table = np.concatenate([new.reshape(n, -1), np.full((n, 1), big, np.int32)], axis=1)  # label -> label
        new = np.where(mask, table[rows, (new.reshape(n, -1) - 1)].reshape(n, h, w), big)  # pointer jump
        if np.array_equal(new, labels):
            return np.where(mask, labels, 0)
        labels = new


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
    padded = np.pad(opaque, ((0, 0), (1, 1), (1, 1)), constant_values=False)
    inner = padded[:, :-2, 1:-1] & padded[:, 2:, 1:-1] & padded[:, 1:-1, :-2] & padded[:, 1:-1, 2:]
    edge = opaque & ~inner
    rgb = rgba[..., :3]
    edge_px = rgb[edge]
    colours = [len(np.unique(img[m].astype(np.int32) @ np.array([65536, 256, 1]))) for img, m in zip(rgb, opaque)]
    return {"one_piece_share": float(np.mean(one_piece)), "stray_pixel_share": float(np.mean(stray)),
            "near_white_edge_share": float((edge_px >= NEAR_WHITE).all(-1).mean()) if len(edge_px) else 0.0,
            "dark_edge_share": float((edge_px <= DARK).all(-1).mean()) if len(edge_px) else 0.0,
            "colours_median": float(np.median(colours))}
