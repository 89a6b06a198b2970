"""The folder `pokegan generate` writes: each sprite as a PNG, a grid, the grid on a dark and a light scene
(transparent sprites), a sprite sheet with its JSON index; or, by type, one row per type and a folder per type."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from pokegan.core.errors import PokeganError
from pokegan.core.files import (BY_TYPE, GRID, PREVIEWS, SHEET, check_output_dir, preview_file, save_png,
                                save_sheet, sprite_png)
from pokegan.core.paths import atomic_write_bytes
from pokegan.core.pixels import on_background, upscale

SHEET_MAX = 4096   # sprites on the sprite sheet (and the grid's source): the first this many
GRID_MAX = 256     # sprites on the grid


def write_sprites(g, z, opts, out: str | Path, numbered: int, batch: int = 256, png: bool = True,
                  offsets: dict | None = None, style=None, meta: dict | None = None) -> str:
    """Sprites of the latents `z` (a projection's feature `offsets` and a type swap's `style` latents with them) finished by `opts` into the
    folder `out`: NNNN.png each (unless not `png`; names as wide as `numbered`, the count asked for), grid.png,
    grid-on-dark/light.png for transparent sprites, sheet.png + sheet.json (the first SHEET_MAX;
    `meta` and the options in its JSON).
    Drawn, finished and written in chunks, so any count fits in memory. Returns a line saying what was written."""
    from pokegan.data.show import grid

    g.check(opts)  # a model that cannot honour the options says so before anything is written
    out = check_output_dir(out)
    digits = max(4, len(str(numbered - 1)))
    kept, chunk = [], max(batch, 1024)
    for start in range(0, len(z), chunk):
        part = None if style is None else style[start:start + chunk]
        for j, img in enumerate(g.sprites(z[start:start + chunk], opts, batch, offsets, part)):
            if png:
                atomic_write_bytes(out / f"{start + j:0{digits}d}.png", sprite_png(img, opts.scale))
            if len(kept) < SHEET_MAX:
                kept.append(img)
    imgs = np.stack(kept)
    cols = int(np.ceil(np.sqrt(min(len(imgs), GRID_MAX))))
    save_png(upscale(np.asarray(grid(imgs[:GRID_MAX], cols, bg=(255, 255, 255))), opts.scale), out / GRID)
    previews = []
    if imgs.shape[-1] == 4:  # how the sprites look in a game: on a dark scene (where a halo shows) and a light one
        for name, colour in PREVIEWS.items():
            scene = on_background(np.asarray(grid(imgs[:GRID_MAX], cols, bg=(0, 0, 0))), colour)
            save_png(upscale(scene, opts.scale), out / preview_file(name))
            previews.append(preview_file(name))
    save_sheet(imgs, out / SHEET, out / "sheet.json", [f"{i:0{digits}d}" for i in range(len(imgs))],
               {**(meta or {}), **dataclasses.asdict(opts)})
    return (f"wrote {numbered if png else 0} sprites ({g.resolution}x{g.resolution}"
            f"{' RGBA' if imgs.shape[-1] == 4 else ''}{f', x{opts.scale}' if opts.scale > 1 else ''}) to {out}/, "
            f"grid.png, {''.join(p + ', ' for p in previews)}sheet.png + sheet.json ({len(imgs)} frames)")


def write_by_type(g, per_type: int, seed: int, opts, out: str | Path, png: bool = True,
                  meta: dict | None = None) -> str:
    """`per_type` sprites of each type the model draws (or of `opts.types`) into `out`: by-type.png (one
    labelled row per type), by-type.json and TYPE/NNN.png (unless not `png`). Returns a line saying so."""
    from pokegan.data.dataset import composite_uint8
    from pokegan.data.show import labelled_rows

    if not 1 <= per_type <= 256:
        raise PokeganError(f"--n {per_type}: with --by-type, sprites per type: 1 to 256")
    names, rows = g.by_type(per_type, seed, opts, types=opts.types or None)
    out = check_output_dir(out)
    flat = [composite_uint8(r, "white") if r.shape[-1] == 4 else r for r in rows]
    save_png(upscale(np.asarray(labelled_rows(flat, names)), opts.scale), out / BY_TYPE)
    if png:
        for name, row in zip(names, rows):
            (out / name).mkdir(exist_ok=True)
            for j, img in enumerate(row):
                atomic_write_bytes(out / name / f"{j:03d}.png", sprite_png(img, opts.scale))
    meta = {**(meta or {}), "per_type": per_type, "rows": names, **dataclasses.asdict(opts)}
    atomic_write_bytes(out / "by-type.json", json.dumps(meta, indent=1).encode())
    return (f"wrote by-type.png ({len(names)} types x {per_type}) and by-type.json to {out}/"
            + ("" if not png else ", each type's sprites in a folder of its own"))
