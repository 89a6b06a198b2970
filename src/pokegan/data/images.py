"""Decoding any image file into RGBA frames, safely, and placing a sprite on a square canvas.

Every mode Pillow can open ends up as 8-bit RGBA: palette images keep their transparent colour, 16-bit
greyscale is scaled (not clipped) to 8 bits, CMYK goes through RGB. Anything that cannot be decoded
raises `SkipImage` with the reason, so a preparation run can skip it with one line and go on.
"""
from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageSequence

RESAMPLE = {"nearest": Image.Resampling.NEAREST, "bicubic": Image.Resampling.BICUBIC,
            "lanczos": Image.Resampling.LANCZOS}
CANVASES = ("box96", "tight")
DEFAULT_MAX_PIXELS = 4096 * 4096  # sprites are tiny; anything this large is a mistake or a bomb
# All the frames of one animation together (the Black/White sprites: 82 frames of ~100x100, about 1M);
# an animation over this is refused before its frames are decoded (--frames all would hold them all).
MAX_ANIMATION_PIXELS = 64 << 20


class SkipImage(Exception):
    """This file cannot be used; the message says why."""


@dataclass
class Decoded:
    frames: list[Image.Image]  # RGBA frames, first frame first
    note: str | None = None     # a remark worth counting (converted mode, animation cut to one frame)
    total_frames: int = 1


def _to_rgba(im: Image.Image) -> tuple[Image.Image, str | None]:
    mode = im.mode
    if mode == "RGBA":
        return im, None
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        if mode == "F":
            arr = arr * 255.0 if arr.max(initial=0) <= 1.0 else arr
        elif mode.startswith("I;16") or arr.max(initial=0) > 255:
            arr = arr / 257.0
        grey = Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "L")
        return grey.convert("RGBA"), f"{mode} (16/32-bit) scaled to 8-bit"
    if mode == "CMYK":
        return im.convert("RGB").convert("RGBA"), "CMYK converted to RGB"
    if mode == "P" and "transparency" in im.info:
        return im.convert("RGBA"), None
    if mode in ("P", "L", "LA", "La", "PA", "RGB", "RGBa", "1", "YCbCr", "LAB", "HSV"):
        return im.convert("RGBA"), None
    try:
        return im.convert("RGBA"), f"mode {mode} converted"
    except (ValueError, OSError) as e:
        raise SkipImage(f"unsupported image mode {mode} ({e})") from None


def decode(data: bytes, all_frames: bool, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    """Decode image bytes into RGBA frames. `all_frames=False` keeps only the first frame."""
    if len(data) == 0:
        raise SkipImage("empty file (0 bytes)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        old_limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                if w * h > max_pixels:
                    raise SkipImage(f"{w}x{h} pixels is over the limit of {max_pixels} (decompression bomb?)")
                n = getattr(im, "n_frames", 1)
                if all_frames and n * w * h > MAX_ANIMATION_PIXELS:
                    raise SkipImage(f"an animation of {n} frames of {w}x{h} is over the limit of "
                                    f"{MAX_ANIMATION_PIXELS >> 20}M pixels for all its frames")
                frames, notes = [], []
                for i, frame in enumerate(ImageSequence.Iterator(im)):
                    if i > 0 and not all_frames:
                        break
                    rgba, note = _to_rgba(frame)
                    rgba.load()
                    frames.append(rgba.copy())
                    if note:
                        notes.append(note)
        except SkipImage:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise SkipImage(f"decompression bomb refused ({e})") from None
        except Image.UnidentifiedImageError:
            raise SkipImage("not an image Pillow can read (wrong extension or corrupt header)") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as e:
            raise SkipImage(f"corrupt or truncated image ({e})") from None
        finally:
            Image.MAX_IMAGE_PIXELS = old_limit
    if not frames:
        raise SkipImage("no frames")
    if n > 1 and not all_frames:
        notes.append(f"animated ({n} frames): kept the first")
    return Decoded(frames=frames, note="; ".join(dict.fromkeys(notes)) or None, total_frames=n)


def place(im: Image.Image, canvas: str, size: int, resample: str, box: int = 96) -> np.ndarray:
    """Put an RGBA sprite on a square canvas and resize it to `size`; returns uint8 (size, size, 4).

    `box96` centres the sprite on a square of side max(box, width, height), the Black/White sprite box,
    so small Pokémon stay small. `tight` crops to the alpha bounding box and pads to a square.
    Colour under fully transparent pixels is set to zero so identical sprites give identical bytes.
    """
    if canvas not in CANVASES:
        raise ValueError(f"unknown canvas {canvas!r}; choose one of {', '.join(CANVASES)}")
    bbox = im.getchannel("A").getbbox()
    if bbox is None:
        raise SkipImage("fully transparent (nothing to see)")
    if canvas == "tight":
        im = im.crop(bbox)
        side = max(im.size)
    else:
        side = max(box, *im.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
    if side != size:
        # Pillow resizes RGBA in premultiplied alpha, so transparent colour does not bleed into edges.
        square = square.resize((size, size), RESAMPLE[resample])
    arr = np.asarray(square, dtype=np.uint8).copy()
    arr[arr[..., 3] == 0, :3] = 0
    return arr
