"""The one sprite pipeline every caller shares, after the network: the background snapped to its exact colour,
uint8, binary alpha (RGBA models) or the background keyed to transparency, then the finishing steps of the
registry (pokegan.steps) in their order. Training's samples and evaluation use it too."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pokegan.config import SpriteOptions
from pokegan.core.errors import PokeganError
from pokegan.core.pixels import clean_alpha, key_background
from pokegan.steps import STEPS


def snap_background(images: torch.Tensor, background: str, tolerance: int = SpriteOptions.bg_tolerance) -> torch.Tensor:
    """Images (N, 3, H, W) in [-1, 1] with near-background pixels set exactly to a white or black
    background. RGBA models (their alpha is thresholded instead), random backgrounds and tolerance 0 are
    left as they are. With 5 levels, a pixel becomes white where every channel would be written as 250-255."""
    if tolerance == 0 or images.shape[1] != 3 or background not in ("white", "black"):
        return images
    target = 1.0 if background == "white" else -1.0
    near = ((images - target).abs() <= (tolerance + 0.5) / 127.5).all(dim=1, keepdim=True)
    return torch.where(near, torch.full_like(images, target), images)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] (N, C, H, W) -> uint8 (N, H, W, C)."""
    x = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def key_colour(opts: SpriteOptions, background: str, channels: int, source: str = "this model"):
    """The RGB colour `transparent` keys out for a model, None when nothing is keyed; an error where there
    is no solid background to key."""
    if not opts.transparent or channels == 4:
        return None
    colour = {"white": (255, 255, 255), "black": (0, 0, 0)}.get(background)
    if colour is None:
        raise PokeganError(f"transparent: {source} was trained on a {background!r} background, not a solid white or "
                           "black one, so there is no background colour to make transparent")
    return colour


def finish(images: np.ndarray, opts: SpriteOptions, background: str, source: str = "this model",
           palette: np.ndarray | None = None) -> np.ndarray:
    """The network's uint8 images (N, H, W, C) -> finished sprites at their own size: binary alpha (RGBA
    models) or the background keyed to transparency, then every finishing step of the registry
    (pokegan.steps) that `opts` turns on, in its order (`palette`: the training sprites' colours, for
    `training_palette`). `scale` is applied by the caller that writes or returns them (`upscale`), so grids
    and sheets stay at the sprites' own size."""
    key = key_colour(opts, background, images.shape[-1], source)
    steps = [(s, v) for s in STEPS if (v := s.value(opts, opts.transparent, images.shape[1]))]
    alpha_only = [s.name for s, _ in steps if s.needs_transparent]
    if alpha_only and images.shape[-1] == 3 and key is None:
        raise PokeganError(f"{', '.join(alpha_only)}: work{'s' if len(alpha_only) == 1 else ''} on transparent "
                           "sprites: add transparent (--transparent)")
    if opts.training_palette and palette is None:
        raise PokeganError(f"training_palette: no training palette was given for {source}")
    ctx = StepContext(palette=palette, key=key)
    out = []
    for img in images:
        if img.shape[-1] == 4 and opts.alpha_threshold:
            img = clean_alpha(img, opts.alpha_threshold)
        elif key is not None:
            img = key_background(img, key, opts.key_tolerance)
        for step, value in steps:
            img = step.run(img, value, ctx)
        out.append(img)
    return np.stack(out) if out else images


@dataclass(frozen=True)
class StepContext:
    """What a finishing step may need beyond the sprite and its value."""
    palette: np.ndarray | None   # the training sprites' shared colours (training_palette)
    key: tuple[int, int, int] | None = None   # the background colour keyed to transparency (None: none keyed)
