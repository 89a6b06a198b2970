"""The files pokegan writes of sprites: PNGs, sprite sheets with their JSON index, GIFs, and the names of
the pictures `pokegan generate` leaves beside the sprites. Every writer is atomic (a file is either the old
one or the whole new one)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from pokegan.core.errors import PokeganError
from pokegan.core.paths import atomic_write_bytes
from pokegan.core.pixels import on_background, upscale

# Backgrounds a transparent sprite is previewed on: a dark and a light game scene (the halo shows on the dark one).
PREVIEWS = {"dark": (34, 32, 52), "light": (236, 240, 228)}


# The pictures of many sprites `pokegan generate` writes beside the sprites (a folder eval leaves them out).
GRID, SHEET, BY_TYPE = "grid.png", "sheet.png", "by-type.png"


def preview_file(scene: str) -> str:
    """The grid on one of the PREVIEWS scenes."""
    return f"grid-on-{scene}.png"


GENERATE_PICTURES = (GRID, SHEET, BY_TYPE, *(preview_file(s) for s in PREVIEWS))


def png_bytes(img: np.ndarray) -> bytes:
    mode = "RGBA" if img.shape[-1] == 4 else "RGB"
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img), mode).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def sprite_png(img: np.ndarray, scale: int = 1) -> bytes:
    """A finished sprite (H, W, C) as the PNG file `pokegan generate` writes: upscaled `scale` times, encoded."""
    return png_bytes(upscale(img, scale))


def save_png(img, path: str | Path) -> None:
    """A uint8 array (H, W, 3 or 4) or a PIL image as a PNG file."""
    if isinstance(img, Image.Image):
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        atomic_write_bytes(path, buf.getvalue())
        return
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
