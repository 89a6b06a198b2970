"""The page in a real browser: Debian's chromium driven by Playwright against `pokegan serve` started by
the test. Where chromium is missing the test is skipped, except under `.ci/run` (POKEGAN_REQUIRE_BROWSER=1),
which installs it and where a missing browser fails. Screenshots go to $POKEGAN_SCREENSHOTS (default: the
test's temporary folder)."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pokegan.training.loop import Trainer

from conftest import tiny_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]

if not CHROMIUM:
    if os.environ.get("POKEGAN_REQUIRE_BROWSER") == "1":
        raise RuntimeError("chromium is not installed, and .ci/run requires the browser test: apt-get install chromium")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(*args: str):
    """`pokegan serve ARGS` on a free port until the block ends; yields its URL once it answers."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "pokegan.cli.main", "serve", *args, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120  # a loaded 2-core machine takes a while to import torch
    while True:
        try:
            urllib.request.urlopen(url + "api/models", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read())
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"pokegan serve did not answer on {url} within 120 s")
            time.sleep(0.1)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def server(tiny_data, tmp_path):
    t = Trainer.new(tiny_config("dcgan", kimg=0.032), str(tiny_data), tmp_path / "runs", progress="quiet",
                    log=lambda m: None)
    t.run()
    with serving("--runs", str(tmp_path / "runs")) as url:
        yield url


def _sizes(page, selector: str) -> list[tuple[int, int]]:
    return page.eval_on_selector_all(selector, "els => els.map(e => [e.naturalWidth, e.naturalHeight, e.complete])")


@pytest.mark.slow
def test_the_page_makes_walks_and_downloads_sprites_offline(server, tmp_path):
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("POKEGAN_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    requested = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # bypass_csp: the page's policy forbids eval, which Playwright's own wait_for_function uses
        page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True, bypass_csp=True)
        page.on("request", lambda r: requested.append(r.url))
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server + "?seed=3&n=12&scale=2&transparent=1&preview=dark")
        page.wait_for_function("document.querySelectorAll('#grid img').length === 12")
        page.wait_for_function("Array.from(document.querySelectorAll('#grid img')).every(i => i.complete)")
        assert [s[:2] for s in _sizes(page, "#grid img")] == [[128, 128]] * 12   # the shipped model: 64px x2
        first = page.get_attribute("#grid img", "src")

        page.fill("#seed", "4")                                                  # a new seed: new sprites
        page.click("#make")
        page.wait_for_function(f"document.querySelector('#grid img').src !== {first!r}")
        assert "seed=4" in page.url and "transparent=1" in page.url              # the link keeps the settings

        page.locator("#grid button").nth(1).click()                             # choose two: a walk
        page.click("#pick-a")
        page.locator("#grid button").nth(6).click()
        page.click("#pick-b")
        page.wait_for_selector("#walk:not([hidden])")
        start = page.get_attribute("#walk-img", "src")
        slider = page.locator("#walk-slider")
        slider.scroll_into_view_if_needed()
        box = slider.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.95, box["y"] + box["height"] / 2)   # drag to the far end
        assert int(slider.input_value()) >= 9 and page.get_attribute("#walk-img", "src") != start
        page.locator("#grid button").nth(5).click()
        with page.expect_download() as dl:
            page.click("#detail-png")
        data = Path(dl.value.path()).read_bytes()
        assert data.startswith(b"\x89PNG") and dl.value.suggested_filename == "pokegan-4-5.png"
        page.click("#vary")
        page.wait_for_function("document.querySelectorAll('#variations img').length === 8")
        page.screenshot(path=str(shots / "page-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        wide = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(shots / "page-phone.png"), full_page=True)

        page.select_option("#model", "00000-dcgan-tiny")                         # another model: its own size
        page.wait_for_function("document.querySelector('#grid img') && "
                               "document.querySelector('#grid img').naturalWidth === 64")
        assert "model=00000-dcgan-tiny" in page.url
        assert page.is_hidden("#types-box")                                      # an unconditional model: no types

        page.select_option("#model", "pretrained")                               # the flagship: it takes types
        page.wait_for_selector("#types-box:not([hidden])")
        assert len(page.locator("#types option").all()) == 18
        page.select_option("#types", ["fire", "flying"])
        page.click("#make")
        page.wait_for_function("location.search.includes('type=fire')")
        page.wait_for_function("document.querySelectorAll('#grid img').length === 12 && Array.from("
                               "document.querySelectorAll('#grid img')).every(i => i.complete && i.naturalWidth === 128)")
        assert any("/api/sprites" in u and "type=fire" in u and "type=flying" in u for u in requested)
        # the clean-up steps are automatic on transparent sprites: empty controls, their automatic value shown
        assert page.input_value("#soft_edge") == "" and page.get_attribute("#soft_edge", "placeholder") == "auto (2)"
        page.select_option("#types", [])                                         # no type: as the data has them
        page.click("#make")
        page.wait_for_function("document.querySelector('#grid img') && !location.search.includes('type=')")
        page.check("#clean")                                                     # the library's recipe
        page.wait_for_function("document.querySelector('#status').textContent.includes('game-ready')")
        assert page.input_value("#model") == "pretrained"                       # the same model, keyed and cleaned
        last = [u for u in requested if "/api/sprites" in u][-1]
        assert "model=pretrained" in last and "recipe=game-ready" in last        # by name, not its settings
        recipes = json.loads(urllib.request.urlopen(server + "api/options").read())["recipes"]["game-ready"]
        assert recipes["pretrained"]["flags"] in page.text_content("#status")
        page.select_option("#model", "00000-dcgan-tiny")                         # a 32px model: its own settings
        page.wait_for_function("document.querySelector('#status').textContent.includes('--min-fragment 24')")
        last = [u for u in requested if "/api/sprites" in u][-1]
        assert "model=00000-dcgan-tiny" in last and "recipe=game-ready" in last
        page.click("#steps-box summary")                                         # the finishing steps' fold
        page.fill("#soft_edge", "0")                                                # an automatic step switched off
        page.click("#make")
        page.wait_for_function("location.search.includes('soft_edge=0')")
        assert "soft_edge=0" in [u for u in requested if "/api/sprites" in u][-1]
        browser.close()
    assert not errors, errors
    assert wide <= 390, f"the page is {wide}px wide on a 390px phone"
    outside = [u for u in requested if not u.startswith((server, "data:", "blob:"))]
    assert not outside, outside                                                  # nothing left the machine
    downloaded = tmp_path / "one.png"
    downloaded.write_bytes(data)
    from PIL import Image

    assert Image.open(downloaded).size == (128, 128) and Image.open(downloaded).mode == "RGBA"


@pytest.fixture
def start_server(tmp_path):
    """pokegan serve with a tiny FastGAN and a named dataset (--data), for starting from a Pokémon."""
    from conftest import write_tiny_dataset
    from pokegan.data import load_dataset, save_dataset

    data = write_tiny_dataset(tmp_path / "named.data", typed=True)
    ds = load_dataset(data)
    for lab in ds.labels:
        lab["name"] = f"mon{lab['dex']}"
    save_dataset(data, ds.images, ds.labels, ds.info)
    t = Trainer.new(tiny_config("fastgan", kimg=0.032), str(data), tmp_path / "runs", progress="quiet",
                    log=lambda m: None)
    t.run()
    with serving(str(t.run_dir), "--data", str(data)) as url:
        yield url, t.run_dir.name, tmp_path


@pytest.mark.slow
def test_the_page_starts_from_a_pokemon_or_an_image(start_server):
    import json

    import numpy as np
    from PIL import Image
    from playwright.sync_api import sync_playwright

    url, model, tmp_path = start_server
    requested, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True, bypass_csp=True)
        page.on("request", lambda r: requested.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + f"?model={model}&from=mon2&spread=0.5&fuse=mon3")        # a link with the settings
        page.wait_for_function("document.querySelectorAll('#start-variations img').length === 8", timeout=120_000)
        page.wait_for_function("document.querySelectorAll('#fusion-row img').length === 8", timeout=120_000)
        assert page.is_visible("#start-result") and len(page.locator("#fusion-mix img").all()) == 2
        assert "mon2" in page.text_content("#start-figures") and "silhouette IoU" in page.text_content("#start-figures")
        assert "from=mon2" in page.url and "fuse=mon3" in page.url and "spread=0.5" in page.url
        assert page.locator("#pokemon-names option").count() == 12                  # the dataset's names, offline
        shots = Path(os.environ.get("POKEGAN_SCREENSHOTS", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "page-start.png"), full_page=True)
        with page.expect_download() as dl:
            page.click("#start-latent")
        assert json.loads(Path(dl.value.path()).read_text())["source"]["name"] == "mon2"
        with page.expect_download() as dl:
            page.click("#fusion-gif")
        assert Path(dl.value.path()).read_bytes()[:3] == b"GIF"
        before = page.get_attribute("#start-projection", "src")
        sprite = np.full((40, 40, 3), 255, np.uint8)                                # an image on white: keyed
        sprite[8:34, 10:30] = (60, 120, 200)
        Image.fromarray(sprite).save(tmp_path / "mine.png")
        page.set_input_files("#start-file", str(tmp_path / "mine.png"))
        page.wait_for_function(f"document.querySelector('#start-projection').src !== {before!r}", timeout=120_000)
        assert "the uploaded image" in page.text_content("#start-figures")
        page.set_input_files("#start-file", [])
        page.fill("#start-name", "nobody")
        page.click("#start-go")
        page.wait_for_function("document.querySelector('#start-note').textContent.includes('no sprite named')")
        browser.close()
    assert not errors, errors
    outside = [u for u in requested if not u.startswith((url, "data:", "blob:"))]
    assert not outside, outside
