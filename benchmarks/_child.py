"""Shared by the benchmark scripts: run a measurement in a fresh process, so one measurement's threads,
caches and allocator state cannot colour the next. The child prints one `RESULT {json}` line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GRIDS = Path(__file__).parent / "grids"  # sample grids, kept in git beside RESULTS.md


def grid_problem(grid_name: str | None, paths: list[Path], overwrite: bool) -> str | None:
    """Why a benchmark must stop before minutes of evaluation, or None: a --grid-name with folders in it, or
    grids that exist already (run numbers restart in a fresh checkout, so a run folder's name is not unique)."""
    if grid_name and Path(grid_name).name != grid_name:
        return f"--grid-name {grid_name!r}: a file name, without folders (grids go in {GRIDS})"
    taken = [str(p) for p in paths if p.exists()]
    if taken and not overwrite:
        return (f"these grids exist already and would be overwritten: {', '.join(taken)}; name this run's grids "
                "with --grid-name, or give --overwrite-grids to replace them")
    return None


def run_child(script: str, *argv) -> dict:
    r = subprocess.run([sys.executable, script, *argv], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(r.stderr[-2000:])


def train_speed(data: str, preset: str, kimg: float = 1.0, bf16: bool | None = None, **overrides) -> dict:
    """Images/second of `kimg` of a preset's training (with `overrides`), over the ticks after the first
    quarter kimg (one-time costs: oneDNN kernel choice, allocator), upkeep excluded. `bf16` fixes the CPU's
    choice of bf16 autocast (with `amp_cpu` and native bf16) instead of the run's own timing at the start."""
    import tempfile
    from dataclasses import replace

    from pokegan.presets import preset_config
    from pokegan.training.loop import Trainer

    cfg = replace(preset_config(preset), kimg=kimg, tick_kimg=0.25, sample_every_kimg=100, save_every_kimg=100,
                  snapshot_every_kimg=0, **overrides)
    with tempfile.TemporaryDirectory() as tmp:
        t = Trainer.new(cfg, data, tmp, progress="quiet", log=lambda m: None, bf16=bf16)
        t.run()
        rows = [json.loads(line) for line in (t.run_dir / "stats.jsonl").read_text().splitlines()]
    timed = [r["sec_per_kimg"] for r in rows[1:]]
    return {"img_per_sec": 1000 * len(timed) / sum(timed), "bf16_autocast": t.use_amp}
