"""A contact sheet of a dataset (random, or one row per type) and a short text summary."""
from __future__ import annotations

from collections import Counter

import numpy as np
from PIL import Image, ImageDraw

from pokegan.data.dataset import Dataset, composite_uint8
from pokegan.data.pokedex import all_types


def grid(images: np.ndarray, cols: int, pad: int = 2, bg=(255, 255, 255)) -> Image.Image:
    """Tile uint8 images (N, H, W, C) with C in {3, 4} into one picture, `cols` per row."""
    n, h, w, c = images.shape
    rows = max(1, -(-n // cols))
    mode = "RGBA" if c == 4 else "RGB"
    sheet = Image.new(mode, (cols * (w + pad) + pad, rows * (h + pad) + pad), bg + ((0,) if c == 4 else ()))
    for i in range(n):
        r, q = divmod(i, cols)
        sheet.paste(Image.fromarray(images[i], mode), (pad + q * (w + pad), pad + r * (h + pad)))
    return sheet


def contact_sheet(ds: Dataset, n: int = 64, by_type: bool = False, seed: int = 0, per_type: int = 8,
                  background: str | None = None) -> Image.Image:
    bg = background or ("white" if ds.background == "transparent" else ds.background)
    if not by_type:
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.choice(len(ds), size=min(n, len(ds)), replace=False))
        cols = int(np.ceil(np.sqrt(len(idx))))
        return grid(composite_uint8(ds.images[idx], bg, seed=seed), cols)
    rng = np.random.default_rng(seed)
    rows, names = [], []
    for t in all_types():
        members = [i for i, lab in enumerate(ds.labels) if t in (lab.get("types") or [])]
        if not members:
            continue
        pick = np.sort(rng.choice(members, size=min(per_type, len(members)), replace=False))
        row = np.zeros((per_type,) + ds.images.shape[1:], np.uint8)
        row[: len(pick)] = ds.images[pick]
        rows.append(row)
        names.append(t)
    if not rows:
        return contact_sheet(ds, n=n, seed=seed, background=background)
    return labelled_rows([composite_uint8(r, bg, seed=seed) for r in rows], names)


def labelled_rows(rows: list[np.ndarray], names: list[str], label_w: int = 64) -> Image.Image:
    """Rows of uint8 RGB images (each (cols, H, W, 3)), each row named on its left: a by-type grid."""
    cols = max(len(r) for r in rows)
    sheet = grid(np.concatenate([np.concatenate([r, np.full((cols - len(r),) + r.shape[1:], 255, np.uint8)])
                                 for r in rows]), cols)
    out = Image.new("RGB", (sheet.width + label_w, sheet.height), (255, 255, 255))
    out.paste(sheet, (label_w, 0))
    draw = ImageDraw.Draw(out)
    h = rows[0].shape[1] + 2
    for r, name in enumerate(names):
        draw.text((4, 2 + r * h + h // 2 - 6), name, fill=(0, 0, 0))
    return out




def summary(ds: Dataset) -> str:
    types = Counter(t for lab in ds.labels for t in (lab.get("types") or []))
    sources = Counter(lab.get("source", "?") for lab in ds.labels)
    shiny = sum(1 for lab in ds.labels if lab.get("shiny"))
    species = len({lab.get("dex") for lab in ds.labels if lab.get("dex") is not None})
    lines = [
        f"{ds.path}: {len(ds)} images, {ds.size}x{ds.size} RGBA, background {ds.background}",
        f"  preset: {ds.info.get('preset')}, species: {species}, shiny: {shiny}, "
        f"duplicates removed: {ds.info.get('duplicates_removed', 0)}, skipped: {ds.info.get('skipped') or 0}",
        "  sources: " + ", ".join(f"{k} ({v})" for k, v in sources.most_common()),
    ]
    if types:
        top = max(types.values())
        lines.append("  types:")
        for t in all_types():
            if types.get(t):
                lines.append(f"    {t:<9}{types[t]:>6}  " + "#" * max(1, round(30 * types[t] / top)))
    return "\n".join(lines)
