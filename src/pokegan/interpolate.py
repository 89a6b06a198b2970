"""Moving through latent space: walks (spherical or linear interpolation through key latents) rendered
through the sprite pipeline, variations around a latent, and finding a real sprite in a dataset by
Pokémon name or file name (for AEGAN's encode-interpolate-decode)."""
from __future__ import annotations

import numpy as np
import torch

from pokegan.core.pixels import upscale
from pokegan.config import SpriteOptions
from pokegan.data import Dataset
from pokegan.core.errors import PokeganError


# Outputs that grow with the request have a pixel budget, as inputs do: 2,048 frames of 64px sprites at 2x
# (a 4 MB GIF); 40 seeds x 1,000 steps would otherwise write a 128 MB GIF and a 159-megapixel strip.
MAX_WALK_PIXELS = 2 ** 25
STRIP_ROW = 64       # frames per row of a walk's strip PNG (a long walk wraps instead of growing one row)


def strip(frames: list[np.ndarray]) -> np.ndarray:
    """A walk's frames side by side, STRIP_ROW to a row (the last row padded with transparent or white)."""
    rows = []
    for i in range(0, len(frames), STRIP_ROW):
        row = list(frames[i:i + STRIP_ROW])
        if rows and len(row) < STRIP_ROW:
            fill = 0 if row[0].shape[-1] == 4 else 255
            row += [np.full_like(row[0], fill)] * (STRIP_ROW - len(row))
        rows.append(np.concatenate(row, axis=1))
    return np.concatenate(rows, axis=0)


def save_walk(frames: list[np.ndarray], out, duration_ms: int = 80):
    """A walk as the GIF `out` (`duration_ms` a frame) and its strip (`strip`) beside it as a PNG; returns the
    strip's path."""
    from pathlib import Path

    from pokegan.core.files import gif_bytes, save_png
    from pokegan.core.paths import atomic_write_bytes

    out = Path(out)
    atomic_write_bytes(out, gif_bytes(frames, duration_ms))
    save_png(strip(frames), out.with_suffix(".png"))
    return out.with_suffix(".png")


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between latents a and b (z,), at fractions t (T,) -> (T, z).

    Gaussian latents live near a shell; a straight line between two of them passes through the
    low-norm middle, which the generator rarely saw, so slerp gives evener walks (White 2016).
    """
    na, nb = a.norm(), b.norm()
    cos = torch.clamp((a @ b) / (na * nb + 1e-12), -1.0, 1.0)
    omega = torch.acos(cos)
    if omega.abs() < 1e-6:  # (nearly) the same direction: a straight line is the same thing
        return lerp(a, b, t)
    so = torch.sin(omega)
    w_a = torch.sin((1 - t) * omega) / so
    w_b = torch.sin(t * omega) / so
    return w_a[:, None] * a[None] + w_b[:, None] * b[None]


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return (1 - t)[:, None] * a[None] + t[:, None] * b[None]


def walk(keys: torch.Tensor, steps: int, mode: str = "slerp", z_dim: int | None = None) -> torch.Tensor:
    """Latents visiting keys[0], keys[1], ... with `steps` frames per leg, endpoints exact and not repeated.
    `z_dim`: only the first z_dim values are noise (slerped); the rest, a conditional model's type slots, are
    blended linearly, so a walk can go from one type to another."""
    f = slerp if mode == "slerp" else lerp
    t = torch.linspace(0, 1, steps, dtype=keys.dtype)
    d = keys.shape[1] if z_dim is None else z_dim
    legs = []
    for i in range(len(keys) - 1):
        leg = torch.cat([f(keys[i, :d], keys[i + 1, :d], t), lerp(keys[i, d:], keys[i + 1, d:], t)], 1)
        leg[0], leg[-1] = keys[i], keys[i + 1]  # exact endpoints, free of rounding
        legs.append(leg if i == 0 else leg[1:])
    return torch.cat(legs)


def find_sprite(ds: Dataset, query: str) -> int:
    """Index of a sprite by Pokémon name (normal colouring, first frame preferred) or by file name."""
    q = query.lower().strip()
    by_name = [i for i, lab in enumerate(ds.labels) if (lab.get("name") or "").lower() == q]
    if by_name:
        by_name.sort(key=lambda i: (bool(ds.labels[i].get("shiny")), ds.labels[i].get("form") is not None,
                                    ds.labels[i].get("frame", 0)))
        return by_name[0]
    by_file = [i for i, lab in enumerate(ds.labels)
               if lab.get("file", "").lower() == q or lab.get("file", "").lower().endswith("/" + q)]
    if by_file:
        return by_file[0]
    import difflib

    names = sorted({lab.get("name") for lab in ds.labels if lab.get("name")})
    close = difflib.get_close_matches(q, names, n=3)
    raise PokeganError(f"no sprite named {query!r} in {ds.path}" + (f"; did you mean {', '.join(close)}?" if close
                                                                     else "; give a Pokémon name or a file name"))


def walk_sprites(g, keys: torch.Tensor, steps: int, opts: SpriteOptions, mode: str = "slerp",
                 z_dim: int | None = None) -> list[np.ndarray]:
    """The frames of a walk through `keys` (already truncated, with their types), finished by the sprite
    pipeline and scaled: what `pokegan interpolate` writes as a GIF and a strip."""
    if not 2 <= steps <= 1000:
        raise PokeganError(f"steps {steps}: give 2 to 1000 frames per leg")
    frames = (len(keys) - 1) * (steps - 1) + 1
    side = g.resolution * opts.scale
    if frames * side * side > MAX_WALK_PIXELS:
        fits = MAX_WALK_PIXELS // (side * side)
        raise PokeganError(f"a walk of {frames} frames of {side}x{side} pixels is {frames * side * side:,} pixels, over "
                           f"the budget of {MAX_WALK_PIXELS:,} for one GIF and strip; at this scale it holds "
                           f"{fits} frames: fewer seeds or steps, or a smaller scale")
    plain = SpriteOptions.of(opts, truncation=1.0, types=())  # the keys carry the truncation and types already
    return [upscale(f, opts.scale) for f in g.sprites(walk(keys, steps, mode, z_dim), plain)]


def variation_seed(seed: int, index: int) -> int:
    """The noise seed of sprite `index`'s variations in the batch of `seed`: seed * 4096 + index, folded into
    torch's 63-bit seed range (unchanged for every seed below 2^51), so every allowed seed and index work."""
    return (int(seed) * 4096 + int(index)) % (2 ** 63)


def variations(z: torch.Tensor, n: int, strength: float, seed: int, z_dim: int | None = None) -> torch.Tensor:
    """n latents near z (z,): z plus `strength` times standard normal noise drawn from `seed`, renormalised
    to z's norm so they stay on the Gaussian shell the generator knows. `z_dim`: only the first z_dim values
    are noise; a conditional model's type slots after them are kept."""
    d = z.shape[-1] if z_dim is None else z_dim
    noise = torch.randn(n, d, generator=torch.Generator().manual_seed(int(seed)))
    out = z[None, :d] + strength * noise
    out = out * (z[:d].norm() / out.norm(dim=1, keepdim=True).clamp_min(1e-12))
    return torch.cat([out, z[None, d:].expand(n, -1)], 1)
