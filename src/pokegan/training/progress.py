"""How a run shows its progress: a bar in a terminal, a line per tick, JSON rows on stdout, or nothing."""
from __future__ import annotations

import json
import math
import sys

MODES = ("auto", "bar", "lines", "json", "quiet")


class Progress:
    def __init__(self, mode: str, log):
        if mode not in MODES:
            raise ValueError(f"progress {mode!r}: one of {', '.join(MODES)}")
        self.mode = ("bar" if sys.stderr.isatty() else "lines") if mode == "auto" else mode
        self.log = log
        self.bar = None

    def start(self, target_nimg: float, nimg: int) -> None:
        if self.mode != "bar":
            return
        from tqdm import tqdm

        total = target_nimg / 1000 if math.isfinite(target_nimg) else None
        self.bar = tqdm(total=total, initial=nimg / 1000, unit="kimg", dynamic_ncols=True,
                        bar_format="{l_bar}{bar}| {n:.1f}/{total_fmt} kimg [{elapsed}<{remaining}]{postfix}")

    def row(self, row: dict) -> None:
        """A stats row as it is written (json mode echoes it on stdout)."""
        if self.mode == "json":
            print(json.dumps(row), flush=True)

    def show(self, row: dict) -> None:
        brief = {k: row[k] for k in ("loss_d", "loss_g", "d_real", "d_fake_g") if k in row}
        if self.bar is not None:
            self.bar.n = row["kimg"]
            self.bar.set_postfix({"img/s": row["img_per_sec"], **{k: f"{v:.3f}" for k, v in brief.items()}})
        elif self.mode == "lines":
            self.log(f"kimg {row['kimg']:.2f} step {row['step']} " + " ".join(f"{k} {v:.4f}" for k, v in brief.items())
                     + f" img/s {row['img_per_sec']:.1f} sec/kimg {row['sec_per_kimg']:.1f}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
