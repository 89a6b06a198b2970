"""Shared fixtures: tiny synthetic sprites made on the fly (no network, no real data)."""
from __future__ import annotations

import contextlib
import os
import shutil

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


TINY_TYPES = [["fire"], ["water"], ["fire", "flying"], ["grass"]]


def write_tiny_dataset(path, size: int = 32, n: int = 24, background: str = "white", resample: str = "bicubic",
                       typed: bool = False):
    """A dataset file of n synthetic sprites at size x size, in the real format; returns its path. `typed`:
    sprite i has TINY_TYPES[i % 4] and species i // 2 (a normal and a shiny sprite per species, as real data)."""
    from pokegan.data import save_dataset
    from pokegan.data.images import place

    imgs = np.stack([place(sprite(i, size * 3 // 4), "box96", size, resample, box=size * 7 // 8) for i in range(n)])
    labels = [{"file": f"{i}.png", "source": "test", "dex": (i // 2 + 1) if typed else None, "name": None,
               "form": None, "types": TINY_TYPES[(i // 2) % 4] if typed else [], "generation": None,
               "shiny": typed and i % 2 == 1, "female": False, "back": False, "frame": 0}
              for i in range(n)]
    save_dataset(path, imgs, labels, {"background": background, "preset": None,
                                      "config": {"size": size, "resample": resample}})
    return path


@pytest.fixture
def tiny_data(tmp_path):
    """A dataset file of 24 synthetic 32x32 sprites, written in the real format."""
    return write_tiny_dataset(tmp_path / "tiny.data")


@pytest.fixture
def tiny_data_48(tmp_path):
    """16 synthetic 48x48 transparent sprites: a 3 x 2^k size, as the sprites' native 96."""
    return write_tiny_dataset(tmp_path / "d48.data", size=48, n=16, background="transparent", resample="nearest")


@pytest.fixture
def trained(tiny_data, tmp_path):
    """A tiny dcgan trained a few steps on transparent sprites (4-channel output), with EMA, in runs/."""
    from pokegan.training.loop import Trainer

    t = Trainer.new(tiny_config("dcgan", background="transparent", ema_kimg=0.05), str(tiny_data), tmp_path / "runs",
                    progress="quiet", log=lambda m: None)
    t.run()
    return t.run_dir


# Family options that make every preset tiny (a few thousand parameters), for fast CPU tests.
TINY = {"dcgan": {"g_base": 4, "d_base": 4}, "wgan": {"g_base": 4, "d_base": 4},
        "wgan-gp": {"g_base": 4, "d_base": 4}, "aegan": {"g_base": 4, "d_base": 4},
        "progan": {"fmap_base": 64, "fmap_max": 8, "level_kimg": 0.016},
        "fastgan": {"g_base": 4, "d_base": 4, "w_max": 16}}


def tiny_config(preset: str, **kw):
    from pokegan.presets import preset_config

    cfg = preset_config(preset)
    opts = {**cfg.options, **TINY[cfg.family]}
    base = dict(batch=8, kimg=0.064, tick_kimg=0.032, sample_every_kimg=0.064, save_every_kimg=0.064,
                snapshot_every_kimg=0.064, grid_size=16, options=opts, deterministic=True)
    base.update(kw)
    from dataclasses import replace

    return replace(cfg, **base)


def sigterm_after_ticks(cmd: list[str], runs, ticks: int = 2, wait_s: float = 120):
    """Start a training command, send SIGTERM once its run has written `ticks` stats rows; returns
    (return code, stderr, the latest checkpoint's state)."""
    import json
    import signal
    import subprocess
    import time

    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + wait_s
    while time.time() < deadline:
        stats = list(runs.glob("*/stats.jsonl"))
        if stats and stats[0].read_text().count("\n") >= ticks:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=wait_s)
    latest = next(runs.iterdir()) / "checkpoints" / "latest" / "state.json"
    return proc.returncode, err, json.loads(latest.read_text()) if latest.exists() else None


def chromium() -> str:
    """Debian's chromium for the browser tests: the test is skipped where it is missing, except under `.ci/run`
    (POKEGAN_REQUIRE_BROWSER=1), where that is an error."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        if os.environ.get("POKEGAN_REQUIRE_BROWSER") == "1":
            raise RuntimeError("chromium is not installed, and .ci/run requires the browser tests")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


@contextlib.contextmanager
def exported_page(site, query: str = ""):
    """An exported static page (`pokegan export --web`) opened from disk in Chromium, once it has drawn its first
    sprites: (page, the page's errors so far)."""
    from playwright.sync_api import sync_playwright

    exe = chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        try:
            page, errors = browser.new_page(), []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((site / "index.html").as_uri() + query)
            page.wait_for_function("window.pokeganTiming !== undefined", timeout=120_000)
            yield page, errors
        finally:
            browser.close()
