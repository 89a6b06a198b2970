"""The dataset file: one safetensors file that training, evaluation and the web page all read.

Format (version 1), a standard safetensors file (https://github.com/huggingface/safetensors):
    tensor   `images`            uint8, shape (N, H, W, 4): RGBA, straight (not premultiplied) alpha,
                                 colour zeroed where alpha is 0
    metadata `pokegan.format`    "pokegan-dataset/1"
    metadata `pokegan.labels`    JSON list of N dicts, one per image: file, source, dex, name, form,
                                 types, generation, shiny, female, back, frame
    metadata `pokegan.info`      JSON dict: how it was made (source, options, preset), counts of what
                                 was skipped and why, duplicates removed, and `background`: the colour
                                 the images are composited on whenever they are shown to a model or a
                                 metric without alpha ("white" for the benchmark preset)

Any safetensors reader can open it; `load_dataset` returns a `Dataset`. The file holds no timestamps, so
preparing the same source with the same options gives the same bytes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pokegan.core.errors import PokeganError
from pokegan.core.paths import atomic_write_bytes

FORMAT = "pokegan-dataset/1"
BACKGROUNDS = ("white", "black", "random", "transparent")


@dataclass
class Dataset:
    images: np.ndarray                 # (N, H, W, 4) uint8 RGBA
    labels: list[dict]                 # N dicts
    info: dict = field(default_factory=dict)
    path: str | None = None

    def __len__(self) -> int:
        return len(self.images)

    @property
    def size(self) -> int:
        return int(self.images.shape[1])

    @property
    def background(self) -> str:
        return self.info.get("background", "white")

    def of_types(self, types) -> "Dataset":
        """The sprites that have any of `types` (report 002's per-class training), or an error if none does."""
        want = set(types)
        keep = [i for i, lab in enumerate(self.labels) if want & set(lab.get("types") or ())]
        if not keep:
            have = sorted({t for lab in self.labels for t in (lab.get("types") or ())})
            raise PokeganError(f"{self.path or 'this dataset'}: no sprite has the type {' or '.join(sorted(want))}"
                               + (f"; its types are: {', '.join(have)}" if have else "; its sprites carry no types"))
        info = {**self.info, "types": sorted(want), "selected_from": len(self)}
        return Dataset(self.images[keep], [self.labels[i] for i in keep], info, self.path)

    def rgb(self, background: str | None = None, seed: int = 0) -> np.ndarray:
        """The images composited on `background` (default: the dataset's own) as uint8 (N, H, W, 3)."""
        return composite_uint8(self.images, background or self.background, seed=seed)


def composite_uint8(rgba: np.ndarray, background: str, seed: int = 0) -> np.ndarray:
    """Alpha-composite uint8 RGBA (N, H, W, 4) on a solid background; 'random' draws one colour per image."""
    if background not in BACKGROUNDS or background == "transparent":
        raise ValueError(f"cannot composite on {background!r}; choose white, black or random")
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    if background == "white":
        bg = np.full((len(rgba), 1, 1, 3), 255.0, np.float32)
    elif background == "black":
        bg = np.zeros((len(rgba), 1, 1, 3), np.float32)
    else:
        bg = np.random.default_rng(seed).uniform(0, 255, (len(rgba), 1, 1, 3)).astype(np.float32)
    out = rgba[..., :3].astype(np.float32) * a + bg * (1.0 - a)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def save_dataset(path: str | Path, images: np.ndarray, labels: list[dict], info: dict) -> None:
    """Write a dataset file atomically (a reader never sees half a file; an old file survives a crash)."""
    if images.ndim != 4 or images.shape[-1] != 4 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W, 4), got {images.dtype} {images.shape}")
    if len(labels) != len(images):
        raise ValueError(f"{len(labels)} labels for {len(images)} images")
    meta = {
        "pokegan.format": FORMAT,
        "pokegan.labels": json.dumps(labels, sort_keys=True, separators=(",", ":")),
        "pokegan.info": json.dumps(info, sort_keys=True, separators=(",", ":")),
    }
    atomic_write_bytes(path, _safetensors_bytes(np.ascontiguousarray(images), meta))


def _safetensors_bytes(images: np.ndarray, meta: dict[str, str]) -> bytes:
    """A one-tensor safetensors file with its header keys in a fixed order.

    The safetensors library orders metadata keys by hash, which differs between runs; writing the
    (simple, documented) layout ourselves keeps preparation bit-for-bit reproducible.
    """
    header = {"__metadata__": meta,
              "images": {"dtype": "U8", "shape": list(images.shape), "data_offsets": [0, images.nbytes]}}
    blob = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)  # the data starts 8-byte aligned
    return len(blob).to_bytes(8, "little") + blob + images.tobytes()


def load_dataset(path: str | Path) -> Dataset:
    """Read a dataset file written by `pokegan data prepare`."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.is_file():
        raise PokeganError(f"{path}: no such dataset file. Make one with "
                           f"`pokegan data prepare --preset gen5-64 --out {path}`.")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
        if meta.get("pokegan.format") != FORMAT:
            raise PokeganError(f"{path}: not a pokegan dataset (format {meta.get('pokegan.format')!r}, "
                               f"expected {FORMAT!r}). Make one with `pokegan data prepare`.")
        images = load_file(str(path))["images"]
        labels = json.loads(meta["pokegan.labels"])
        info = json.loads(meta["pokegan.info"])
    except PokeganError:
        raise
    except Exception as e:  # safetensors raises its own error types for damaged headers
        raise PokeganError(f"{path}: cannot be read as a pokegan dataset ({type(e).__name__}: {e}). "
                           "Prepare it again with `pokegan data prepare`.") from None
    if images.ndim != 4 or images.shape[-1] != 4 or len(labels) != len(images):
        raise PokeganError(f"{path}: damaged dataset ({images.shape} images, {len(labels)} labels).")
    return Dataset(images=images, labels=labels, info=info, path=str(path))


def to_model_space(rgba_premul, background: str):
    """Premultiplied RGBA in [0, 1] (B, 4, H, W) -> what the model sees, in [-1, 1].

    'transparent' keeps 4 channels (straight colour, black under transparency); the others composite
    on a solid colour, one random colour per image for 'random'.
    """
    import torch

    rgb, a = rgba_premul[:, :3], rgba_premul[:, 3:4]
    if background == "transparent":
        straight = torch.where(a > 0, rgb / a.clamp_min(1e-6), torch.zeros_like(rgb)).clamp(0, 1)
        return torch.cat([straight, a], 1) * 2 - 1
    if background == "white":
        bg = torch.ones(1, 3, 1, 1, device=rgb.device, dtype=rgb.dtype)
    elif background == "black":
        bg = torch.zeros(1, 3, 1, 1, device=rgb.device, dtype=rgb.dtype)
    else:  # random
        bg = torch.rand(rgb.shape[0], 3, 1, 1, device=rgb.device, dtype=rgb.dtype)
    return (rgb + bg * (1 - a)) * 2 - 1
