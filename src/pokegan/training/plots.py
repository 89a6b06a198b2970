"""Pictures of a run: sample grids from generator outputs, and loss curves from stats.jsonl."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch

from pokegan.data.show import grid
from pokegan.core.paths import atomic_write_bytes
from pokegan.generator.pipeline import to_uint8


def save_grid(images: torch.Tensor, path: str | Path, cols: int | None = None) -> None:
    arr = to_uint8(images)
    cols = cols or int(np.ceil(np.sqrt(len(arr))))
    buf = io.BytesIO()
    grid(arr, cols).save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())


def read_stats(path: str | Path) -> list[dict]:
    rows = []
    p = Path(path)
    if p.exists():
        for line in p.read_text().splitlines():
            line = line.strip()
            if line:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    continue  # a line cut short by a crash
    return rows


def loss_curves(stats_path: str | Path, out: str | Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in read_stats(stats_path) if "loss_d" in r or "loss_g" in r]
    if not rows:
        return
    kimg = [r["kimg"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.8))
    for key in ("loss_d", "loss_g"):
        a.plot(kimg, [r.get(key, np.nan) for r in rows], label=key)
    a.set_xlabel("kimg")
    a.set_title("losses")
    a.legend()
    for key, label in (("d_real", "D(x)"), ("d_fake", "D(G(z)) in D step"), ("d_fake_g", "D(G(z)) in G step"),
                       ("d_fake_after_g", "D(G(z)) after G step")):
        b.plot(kimg, [r.get(key, np.nan) for r in rows], label=label)
    b.set_xlabel("kimg")
    b.set_title("discriminator outputs")
    b.legend(fontsize=8)
    for r in rows:
        for w in r.get("warnings", []):
            for ax in (a, b):
                ax.axvline(r["kimg"], color="red", alpha=0.3, lw=1)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    atomic_write_bytes(out, buf.getvalue())
