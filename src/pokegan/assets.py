"""Turning generated images into game assets: clean alpha, palettes, upscaling, sprite sheets, GIFs.

All writers are atomic (a file is either the old one or the whole new one).
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from pokegan.errors import PokeganError
from pokegan.paths import atomic_write_bytes


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


def remove_fragments(rgba: np.ndarray, min_pixels: int) -> np.ndarray:
    """An RGBA sprite (H, W, 4) without the opaque pieces (8-connected) smaller than `min_pixels`; the largest
    piece always stays. Cleared pixels get alpha 0 and colour 0, as keying clears them."""
    opaque = rgba[..., 3] > 0
    labels = components(opaque[None])[0]
    ids, counts = np.unique(labels[labels > 0], return_counts=True)
    if len(ids) <= 1:
        return rgba
    keep = set(ids[counts >= min_pixels]) | {ids[counts.argmax()]}
    out = rgba.copy()
    out[opaque & ~np.isin(labels, list(keep))] = 0
    return out


# A pixel whose every channel is at least this is near-white: on a sprite's edge, the halo a dark scene shows
NEAR_WHITE = 200


def edge_mask(opaque: np.ndarray) -> np.ndarray:
    """The edge of boolean masks (..., H, W): opaque pixels with a transparent 4-neighbour or on the border."""
    pad = [(0, 0)] * (opaque.ndim - 2) + [(1, 1), (1, 1)]
    p = np.pad(opaque, pad, constant_values=False)
    inner = p[..., :-2, 1:-1] & p[..., 2:, 1:-1] & p[..., 1:-1, :-2] & p[..., 1:-1, 2:]
    return opaque & ~inner


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


def outline(rgba: np.ndarray, dark: int = 90, shade: float = 0.3) -> np.ndarray:
    """A one-pixel dark outline where the sprite has none: its edge pixels (`edge_mask`) that are not already
    dark (every channel <= `dark`) take their own colour times `shade`, so the outline keeps each part's hue,
    as pixel artists shade outlines."""
    light = edge_mask(rgba[..., 3] > 0) & ~(rgba[..., :3] <= dark).all(-1)
    out = rgba.copy()
    out[light, :3] = (rgba[light, :3].astype(np.float32) * shade).round().astype(np.uint8)
    return out


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


# Backgrounds a transparent sprite is previewed on: a dark and a light game scene (the halo shows on the dark one).
PREVIEWS = {"dark": (34, 32, 52), "light": (236, 240, 228)}

# The pictures of many sprites `pokegan generate` writes beside the sprites (a folder eval leaves them out).
GRID, SHEET, BY_TYPE = "grid.png", "sheet.png", "by-type.png"


def preview_file(scene: str) -> str:
    """The grid on one of the PREVIEWS scenes."""
    return f"grid-on-{scene}.png"


GENERATE_PICTURES = (GRID, SHEET, BY_TYPE, *(preview_file(s) for s in PREVIEWS))


def on_background(rgba: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """RGBA image(s) (..., H, W, 4) composited on a solid colour -> RGB uint8."""
    a = rgba[..., 3:4].astype(np.float32) / 255
    return (rgba[..., :3] * a + np.asarray(colour, np.float32) * (1 - a)).round().astype(np.uint8)


def upscale(img: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling: every pixel becomes a factor x factor block."""
    if factor < 1 or factor > 32:
        raise PokeganError(f"scale {factor} must be between 1 and 32")
    return img.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else img


def png_bytes(img: np.ndarray) -> bytes:
    mode = "RGBA" if img.shape[-1] == 4 else "RGB"
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img), mode).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def save_png(img: np.ndarray, path: str | Path) -> None:
    atomic_write_bytes(path, png_bytes(img))


def sprite_sheet(images: np.ndarray, cols: int, names: list[str]) -> tuple[np.ndarray, dict]:
    """Images (N, H, W, C) on a transparent (or white) sheet, no padding; index of each frame's rectangle."""
    n, h, w, c = images.shape
    rows = -(-n // cols)
    sheet = np.zeros((rows * h, cols * w, c), np.uint8) if c == 4 else np.full((rows * h, cols * w, c), 255, np.uint8)
    frames = []
    for i in range(n):
        r, q = divmod(i, cols)
        sheet[r * h:(r + 1) * h, q * w:(q + 1) * w] = images[i]
        frames.append({"name": names[i], "x": q * w, "y": r * h, "w": w, "h": h})
    index = {"image": None, "size": {"w": cols * w, "h": rows * h}, "frame_size": {"w": w, "h": h},
             "count": n, "columns": cols, "frames": frames}
    return sheet, index


def sheet_files(images: np.ndarray, names: list[str], meta: dict, image_name: str = "sheet.png") -> tuple[bytes, bytes]:
    """A sprite sheet of (N, H, W, C) images, ceil(sqrt(N)) columns: (PNG bytes, JSON index bytes)."""
    cols = int(np.ceil(np.sqrt(len(images))))
    sheet, index = sprite_sheet(images, cols, names)
    index["image"] = image_name
    index["meta"] = meta
    return png_bytes(sheet), json.dumps(index, indent=1).encode()


def save_sheet(images: np.ndarray, png_path: Path, json_path: Path, names: list[str], meta: dict) -> None:
    png, index = sheet_files(images, names, meta, png_path.name)
    atomic_write_bytes(png_path, png)
    atomic_write_bytes(json_path, index)


def gif_bytes(frames: list[np.ndarray], duration_ms: int = 80, background=(255, 255, 255)) -> bytes:
    """An animated, looping GIF; RGBA frames are shown on `background` (GIF has no real alpha)."""
    pics = []
    for f in frames:
        if f.shape[-1] == 4:
            f = on_background(f, background)
        pics.append(Image.fromarray(np.ascontiguousarray(f), "RGB"))
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=duration_ms, loop=0,
                 disposal=2)
    return buf.getvalue()


def check_output_dir(path: str | Path) -> Path:
    """Create the folder (or check it is writable) before any work is done."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / ".pokegan-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise PokeganError(f"{p}: cannot write there ({e.strerror or e}); choose another --out") from None
    return p
