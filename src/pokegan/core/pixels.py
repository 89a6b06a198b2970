"""Pixel operations the sprite pipeline and the measures share: binary alpha, keying a solid background,
connected pieces, the edge of a sprite, compositing on a colour, nearest-neighbour upscaling, and the pixel
diversity of a batch.
(uint8 arrays (H, W, C) in, new arrays out; nothing here reads or writes files.)"""
from __future__ import annotations

import numpy as np

from pokegan.core.errors import PokeganError


def clean_alpha(rgba: np.ndarray, threshold: int) -> np.ndarray:
    """Binary alpha (0 or 255): no half-transparent haze around a sprite; colour zeroed where transparent."""
    out = rgba.copy()
    opaque = out[..., 3] >= threshold
    out[..., 3] = np.where(opaque, 255, 0)
    out[~opaque, :3] = 0
    return out


def key_background(rgb: np.ndarray, background: tuple[int, int, int], tolerance: int = 0) -> np.ndarray:
    """An RGB sprite drawn on a solid background (H, W, 3) -> RGBA with that background transparent: the
    pixels within `tolerance` uint8 levels of the background colour in every channel that connect to the
    image's border through such pixels (4-neighbours). White eyes or highlights inside a sprite's outline
    stay opaque; a tolerance above 0 also clears the pale fringe that resizing over white leaves around an
    outline, which would show as a halo on a dark scene."""
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise PokeganError(f"key_background takes an RGB image (H, W, 3), not shape {rgb.shape}")
    if not 0 <= tolerance <= 255:
        raise PokeganError(f"key tolerance {tolerance}: give uint8 levels from 0 (the exact colour) to 255")
    bg = (np.abs(rgb.astype(np.int16) - np.asarray(background, np.int16)) <= tolerance).all(-1)
    clear = np.zeros_like(bg)
    clear[0], clear[-1], clear[:, 0], clear[:, -1] = bg[0], bg[-1], bg[:, 0], bg[:, -1]
    while True:  # grow the border's background region through background pixels until it stops
        grown = clear.copy()
        grown[1:] |= clear[:-1]
        grown[:-1] |= clear[1:]
        grown[:, 1:] |= clear[:, :-1]
        grown[:, :-1] |= clear[:, 1:]
        grown &= bg
        if np.array_equal(grown, clear):
            break
        clear = grown
    out = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, rgb.dtype)], axis=-1)
    out[clear] = 0
    return out


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


# A pixel whose every channel is at least this is near-white: on a sprite's edge, the halo a dark scene shows
NEAR_WHITE = 200
OPAQUE = 128   # alpha at or above this is the visible body: a game's alpha test, the sprite measures


def edge_mask(opaque: np.ndarray) -> np.ndarray:
    """The edge of boolean masks (..., H, W): opaque pixels with a transparent 4-neighbour or on the border."""
    pad = [(0, 0)] * (opaque.ndim - 2) + [(1, 1), (1, 1)]
    p = np.pad(opaque, pad, constant_values=False)
    inner = p[..., :-2, 1:-1] & p[..., 2:, 1:-1] & p[..., 1:-1, :-2] & p[..., 1:-1, 2:]
    return opaque & ~inner


def on_background(rgba: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """RGBA image(s) (..., H, W, 4) composited on a solid colour -> RGB uint8."""
    a = rgba[..., 3:4].astype(np.float32) / 255
    return (rgba[..., :3] * a + np.asarray(colour, np.float32) * (1 - a)).round().astype(np.uint8)


def upscale(img: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling: every pixel becomes a factor x factor block."""
    if factor < 1 or factor > 32:
        raise PokeganError(f"scale {factor} must be between 1 and 32")
    return img.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else img


def diversity(images) -> float:
    """Mean pairwise L2 distance between images, downsampled to 16x16 (a torch tensor (B, C, H, W)): what the
    health monitor watches for collapse and `eval --per-type` reports per type."""
    import torch

    x = torch.nn.functional.adaptive_avg_pool2d(images.float()[:, :3], 16).flatten(1)
    return float(torch.pdist(x).mean()) if len(x) > 1 else 0.0
