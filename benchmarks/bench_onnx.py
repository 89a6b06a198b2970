"""Sprites per second for the shipped model: PyTorch, onnxruntime (CPU) and onnxruntime-web in headless
Chromium (timed by the exported page itself), and the size of what `pokegan export` writes.

    .venv/bin/python benchmarks/bench_onnx.py

PyTorch is pokegan's own pipeline (`SpriteGenerator.sprites`, transparent); onnxruntime runs the exported
graph, pipeline inside. Each figure is the median of REPS timed runs after one warm-up. Prints Markdown.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(fn, reps: int) -> float:
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    import onnxruntime as ort
    import torch

    from pokegan.config import SpriteOptions
    from pokegan.generator.sprites import load_generator

    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        subprocess.run([sys.executable, "-m", "pokegan.cli.main", "export", "--onnx", str(tmp / "onnx"), "--web",
                        str(tmp / "web")], check=True, capture_output=True)
        g = load_generator()
        opts = SpriteOptions(transparent=True)
        sess = ort.InferenceSession(str(tmp / "onnx" / "generator.onnx"))
        print(f"torch threads {torch.get_num_threads()}, onnxruntime {ort.__version__}\n")
        print("| runtime | batch | seconds per batch | sprites/s |")
        print("|---|---|---|---|")
        for batch in (1, 64):
            z = g.latents(batch, 0)
            for name, fn in (("PyTorch (pokegan's pipeline)", lambda: g.sprites(z, opts)),
                             ("onnxruntime CPU (pipeline in the graph)",
                              lambda: sess.run(["sprites"], {"latents": z.numpy()}))):
                s = timed(fn, args.reps)
                print(f"| {name} | {batch} | {s:.4f} | {batch / s:.1f} |")
        chromium = shutil.which("chromium")
        if chromium:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu",
                                                                      "--disable-background-networking"])
                page = b.new_page()
                page.goto((tmp / "web" / "index.html").as_uri() + "?n=1")
                page.wait_for_function("window.pokeganTiming !== undefined", timeout=120_000)
                for batch in (1, 64):
                    ms = []
                    for _ in range(args.reps + 1):
                        ms.append(page.evaluate(f"window.pokegan.run(0, {batch}, 1).then(r => r.ms)"))
                    s = statistics.median(ms[1:]) / 1000
                    print(f"| onnxruntime-web in Chromium (WebAssembly, 1 thread) | {batch} | {s:.4f} | "
                          f"{batch / s:.1f} |")
                b.close()
        sizes = {p.name: p.stat().st_size for p in (tmp / "web").iterdir()}
        print(f"\n--onnx: generator.onnx {(tmp / 'onnx' / 'generator.onnx').stat().st_size / 2**20:.1f} MB; "
              f"--web folder {sum(sizes.values()) / 2**20:.1f} MB: " +
              ", ".join(f"{k} {v / 2**20:.1f} MB" for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])[:4]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
