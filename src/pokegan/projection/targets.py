"""What a projection starts from: a Pokémon of a prepared dataset by name, or any image file, read through
the same bounded decoder as `data prepare` and put on the canvas the model's training sprites had.

An image without transparency has its background keyed when its border is a solid white or black (the
background region joined to the border); anything else (a photo, a scene) is projected whole, with a
warning, since a sprite model can only draw sprites.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from pokegan.data.images import DEFAULT_MAX_PIXELS, SkipImage, decode, place
from pokegan.core.errors import PokeganError
from pokegan.core.pixels import key_background

MAX_BYTES = 32 << 20       # an image file to project: sprites are kilobytes; this is a mistake or an attack
MIN_SIDE = 4               # a sprite smaller than 4x4 pixels (alpha's box) holds nothing to project
SPRITE_BOX = 96            # the Black/White sprite box: an image this size or smaller is placed as `data prepare` does
LARGE_EXTENT = 0.65        # a larger image's sprite fills this share of the canvas (gen5 sprites' typical extent)
KEY_TOLERANCE = 24         # levels from pure white or black that count as background in a keyed image


@dataclass
class Target:
    rgba: np.ndarray                  # (R, R, 4) uint8, straight alpha: the source as the model sees it
    label: str                        # what it is: "pikachu", "my.png"
    kind: str                         # "species" or "image"
    types: tuple[str, ...] = ()       # the species' types (names from a dataset)
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> dict:
        return {"kind": self.kind, "name": self.label, "types": list(self.types)}


def read_target(source: str, size: int, data: str | None = None, shiny: bool = False) -> Target:
    """The sprite `source` names, at `size` pixels: an image file, or a Pokémon's name in the dataset `data`."""
    if not isinstance(source, str) or not source.strip():
        raise PokeganError("give a Pokémon's name (with --data DATASET) or an image file to start from")
    path = Path(source)
    if path.suffix.lower() == ".json":
        raise PokeganError(f"{source}: a latent file is already a projection; use it with generate --near or fuse")
    if path.is_file():
        return read_image_file(path, size)
    if path.exists():
        raise PokeganError(f"{source}: not a file (give an image file or a Pokémon's name)")
    if any(ch in source for ch in "/\\") or path.suffix.lower() in (".png", ".gif", ".jpg", ".jpeg", ".webp", ".bmp"):
        raise PokeganError(f"{source}: no such image file")
    return read_species(source, size, data, shiny)


def read_species(name: str, size: int, data, shiny: bool = False) -> Target:
    """A Pokémon of a prepared dataset (a path, or a loaded `Dataset`) by name: its first frame, normal colours
    (shiny with `shiny`)."""
    if data is None or data == "":
        raise PokeganError(f"{name!r}: to start from a Pokémon by name, give --data DATASET (made with "
                           "`pokegan data prepare --preset gen5-64 --out DATASET`), or give an image file")
    from pokegan.data import Dataset, load_dataset
    from pokegan.interpolate import find_sprite

    ds = data if isinstance(data, Dataset) else load_dataset(data)
    i = find_sprite(ds, name)
    lab = ds.labels[i]
    if shiny != bool(lab.get("shiny")):
        same = [j for j, other in enumerate(ds.labels) if other.get("name") == lab.get("name")
                and bool(other.get("shiny")) == shiny]
        if not same:
            raise PokeganError(f"{ds.path}: {lab.get('name')} has no {'shiny' if shiny else 'normal'} sprite")
        i = min(same, key=lambda j: (ds.labels[j].get("form") is not None, ds.labels[j].get("frame", 0)))
        lab = ds.labels[i]
    rgba = ds.images[i]
    if rgba.shape[0] != size:
        rgba = np.asarray(Image.fromarray(rgba, "RGBA").resize((size, size), Image.Resampling.BICUBIC))
    label = str(lab.get("name") or lab.get("file")) + (" (shiny)" if lab.get("shiny") else "")
    return Target(rgba=rgba, label=label, kind="species", types=tuple(lab.get("types") or ()))


def read_image_file(path: Path, size: int) -> Target:
    """An image file of any size and format `data prepare` reads, as a sprite on the model's canvas."""
    try:
        nbytes = path.stat().st_size
        if nbytes > MAX_BYTES:
            raise PokeganError(f"{path}: {nbytes:,} bytes is over the {MAX_BYTES >> 20} MB limit for an image to "
                               "project (sprites are a few kilobytes)")
        raw = path.read_bytes()
    except OSError as e:
        raise PokeganError(f"{path}: cannot be read ({e.strerror or e})") from None
    return decode_target(raw, size, path.name)


def decode_target(raw: bytes, size: int, label: str) -> Target:
    """Image bytes (an upload, a file's contents) -> a Target; the checks `read_image_file` makes."""
    try:
        dec = decode(raw, all_frames=False, max_pixels=DEFAULT_MAX_PIXELS)
    except SkipImage as e:
        raise PokeganError(f"{label}: {e}") from None
    warnings = []
    if dec.total_frames > 1:
        warnings.append(f"{label}: animated ({dec.total_frames} frames); projecting the first")
    im = dec.frames[0]
    arr = np.asarray(im, np.uint8)
    if arr[..., 3].min() == 255:  # no transparency: key a solid white or black background, if it has one
        arr, note = _key_plain_background(arr, label)
        if note:
            warnings.append(note)
        im = Image.fromarray(arr, "RGBA")
    bbox = im.getchannel("A").point(lambda a: 255 if a >= 128 else 0).getbbox()
    if bbox is None:
        raise PokeganError(f"{label}: fully transparent; there is no sprite in it to project")
    w, h = bbox[2] - bbox[0], bbox[3] - bbox[1]
    if max(w, h) < MIN_SIDE:
        raise PokeganError(f"{label}: the sprite in it is {w}x{h} pixels; give one at least {MIN_SIDE} pixels across")
    if max(im.size) <= SPRITE_BOX:
        rgba = place(im, "box96", size, "bicubic", box=SPRITE_BOX)   # a game sprite: exactly as the data was made
    else:
        crop = im.crop(bbox)
        scale = LARGE_EXTENT * size / max(crop.size)
        crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))),
                           Image.Resampling.LANCZOS)
        canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        canvas.paste(crop, ((size - crop.width) // 2, (size - crop.height) // 2))
        rgba = np.asarray(canvas, np.uint8).copy()
        rgba[rgba[..., 3] == 0, :3] = 0
    return Target(rgba=rgba, label=label, kind="image", warnings=warnings)


def _key_plain_background(arr: np.ndarray, label: str) -> tuple[np.ndarray, str | None]:
    """An opaque RGBA image with its white or black border region made transparent, or (unchanged) a warning."""
    border = np.concatenate([arr[0, :, :3], arr[-1, :, :3], arr[:, 0, :3], arr[:, -1, :3]]).astype(np.int16)
    for colour in ((255, 255, 255), (0, 0, 0)):
        if (np.abs(border - np.asarray(colour)) <= KEY_TOLERANCE).all(-1).mean() >= 0.9:
            return key_background(arr[..., :3], colour, KEY_TOLERANCE), None
    return arr, (f"{label}: no transparency and no plain white or black background; projecting the whole picture "
                 "(a sprite model can only draw sprites: expect a loose match)")
