"""Data preparation speed: gen5-64 from the cached tarball, and every front animation frame at 64x64.

    .venv/bin/python benchmarks/bench_data.py

Times, each in a fresh cache folder so nothing is reused: (1) unpacking the cached tarball, (2) preparing
gen5-64 from it, (3) preparing every front animation frame (normal and shiny) at 64x64, and (4) loading
the resulting dataset files. Prints a Markdown table.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    from pokegan.data import load_dataset
    from pokegan.data.fetch import TARBALL_NAME, fetch, package_root
    from pokegan.data.prepare import preset, prepare
    from pokegan.core.paths import cache_dir

    cached = cache_dir() / TARBALL_NAME
    if not cached.exists():
        sys.exit(f"run `pokegan data fetch` first (no {cached})")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["POKEGAN_CACHE"] = str(Path(tmp) / "cache")
        t = time.perf_counter()
        fetch(tarball=cached, log=lambda *_: None)
        rows.append(("unpack the cached tarball", time.perf_counter() - t, ""))
        for name, label in (("gen5-64", "gen5-64 (first frames)"), ("gen5-64-frames", "every front frame, 64x64")):
            out = Path(tmp) / f"{name}.data"
            t = time.perf_counter()
            rep = prepare(preset(name), str(out), preset_name=name, log=lambda *_: None)
            rows.append((f"prepare {label}", time.perf_counter() - t,
                         f"{rep.images} images from {rep.files} files, {rep.duplicates} duplicates removed"))
            t = time.perf_counter()
            ds = load_dataset(out)
            rows.append((f"load {name}", time.perf_counter() - t,
                         f"{ds.images.shape}, {out.stat().st_size / 2**20:.0f} MB"))
        shutil.rmtree(package_root(), ignore_errors=True)
    print(f"machine: {os.cpu_count()} CPUs\n")
    print("| step | seconds | what |\n|---|---|---|")
    for step, sec, what in rows:
        print(f"| {step} | {sec:.2f} | {what} |")


if __name__ == "__main__":
    main()
