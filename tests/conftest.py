"""Shared fixtures: tiny synthetic sprites made on the fly (no network, no real data)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def sprite(seed: int, size: int = 24, shape: str = "disc") -> Image.Image:
    """A small RGBA 'creature': a coloured blob on transparency, different for each seed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    cy, cx = rng.uniform(size * 0.35, size * 0.65, 2)
    r = rng.uniform(size * 0.2, size * 0.35)
    mask = ((yy - cy) ** 2 + (xx - cx) ** 2) < r ** 2 if shape == "disc" else \
        (abs(yy - cy) < r) & (abs(xx - cx) < r * 0.7)
    arr = np.zeros((size, size, 4), np.uint8)
    arr[..., :3] = rng.integers(0, 256, 3)
    arr[..., 3] = mask * 255
    return Image.fromarray(arr, "RGBA")


@pytest.fixture
def sprite_folder(tmp_path):
    """A folder of 12 good sprites in several formats, named like dex numbers."""
    root = tmp_path / "sprites"
    (root / "shiny").mkdir(parents=True)
    for i in range(1, 9):
        sprite(i).save(root / f"{i}.png")
    sprite(20).save(root / "shiny" / "1.png")
    sprite(21, shape="box").convert("RGB").save(root / "photo.jpg")
    sprite(22).save(root / "pal.gif", transparency=0)  # palette GIF
    sprite(23).save(root / "x.webp")
    return root
