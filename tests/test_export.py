"""ONNX export (generator + the sprite pipeline in one graph) against PyTorch, every family that exports;
generator.json; the portable latent rule; the static web page in a real browser from file://."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from pokegan.config import SpriteOptions
from pokegan.core.errors import PokeganError
from pokegan.steps import automatic_off
from pokegan.export.onnx import export_onnx
from pokegan.generator.latents import portable_latents
from pokegan.generator.sprites import load_generator
from pokegan.training.loop import Trainer

from conftest import tiny_config

CLI = [sys.executable, "-m", "pokegan.cli.main"]


def _onnx_sprites(folder: Path, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = ort.InferenceSession(str(folder / "generator.onnx"))
    return tuple(s.run(["sprites", "image"], {"latents": z.astype(np.float32)}))


def _assert_parity(g, folder: Path, z) -> None:
    sprites, image = _onnx_sprites(folder, z.numpy())
    ref = g.sprites(z, SpriteOptions(transparent=g.background in ("white", "black"), **automatic_off()))
    ref = ref if ref.shape[-1] == 4 else np.concatenate([ref, np.full(ref.shape[:3] + (1,), 255, np.uint8)], -1)
    assert sprites.dtype == np.uint8 and sprites.shape == ref.shape
    diff = np.abs(sprites.astype(int) - ref.astype(int))
    assert diff.max() <= 1, f"{int((diff > 1).sum())} values differ by more than one level"
    assert np.abs(image - g.decode(z).numpy()).max() < 1e-4


@pytest.mark.slow
def test_the_shipped_model_exports_with_its_pipeline_in_the_graph(tmp_path):
    export_onnx(None, tmp_path)
    g = load_generator()
    _assert_parity(g, tmp_path, g.latents(32, 0))
    sprites, _ = _onnx_sprites(tmp_path, g.latents(5, 1).numpy())     # any batch size
    assert sprites.shape == (5, 64, 64, 4) and set(np.unique(sprites[..., 3])) == {0, 255}
    assert sprites[:, 0, 0, 3].max() == 0                                # the white corner is keyed out
    meta = json.loads((tmp_path / "generator.json").read_text())
    s = ort.InferenceSession(str(tmp_path / "generator.onnx"))
    assert [i.name for i in s.get_inputs()] == [i["name"] for i in meta["inputs"]] == ["latents"]
    assert [o.name for o in s.get_outputs()] == [o["name"] for o in meta["outputs"]] == ["sprites", "image"]
    assert meta["latent_dim"] == g.z_dim == s.get_inputs()[0].shape[1] and meta["image_size"] == 64
    assert meta["kimg"] == 900.0 and meta["opset"] == 15
    # no type inputs: its types come from the type sampler exported beside it, latents in, log p(type) out
    assert meta["types"]["sampler"]["model"] == "type-sampler.onnx" and len(meta["types"]["seen"]) == 18
    ts = ort.InferenceSession(str(tmp_path / "type-sampler.onnx"))
    logp = ts.run(["log_p"], {"latents": g.latents(3, 2).numpy()})[0]
    assert logp.shape == (3, 18) and np.allclose(np.exp(logp).sum(1), 1, atol=1e-5)
    assert meta["postprocess"]["automatic_in_pokegan"] == {"soft_edge": 2, "min_fragment": 24}
    assert meta["postprocess"]["in_graph"] == {"bg_tolerance": 5, "alpha_threshold": 128, "transparent": True,
                                               "key_tolerance": 32}
    assert "Pokémon" in meta["licence"] and meta["latents"]["name"] == "pokegan-portable-1"
    # its projection encoder goes along: the same guess as pokegan project's, on the Gaussian shell
    from pokegan.projection import refine
    from pokegan.projection.encoder import load_encoder

    enc = ort.InferenceSession(str(tmp_path / meta["encoder"]["model"]))
    x = g.decode(g.latents(3, 4))
    z, logits = enc.run(["latent", "type_logits"], {"sprite": x[:1].numpy()})
    want = refine.guess(g, load_encoder(g)[0], x[:1])
    assert z.shape == (1, g.z_dim) and logits.shape == (1, 0)
    assert np.abs(z - want.numpy()).max() < 1e-3 and abs(np.linalg.norm(z) - g.z_dim ** 0.5) < 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("preset,background", [("dcgan", "white"), ("wgan", "black"), ("wgan-gp", "transparent"),
                                               ("aegan", "white"), ("progan", "white"), ("fastgan", "transparent"),
                                               ("fastgan", "random")])
def test_every_family_exports_and_matches_pytorch(preset, background, tiny_data, tmp_path):
    t = Trainer.new(tiny_config(preset, background=background, kimg=0.016), str(tiny_data), tmp_path / "runs",
                    progress="quiet", log=lambda m: None)
    t.run()
    export_onnx(t.run_dir, tmp_path / "onnx", opset=13 if preset == "dcgan" else 17)
    g = load_generator(t.run_dir)
    _assert_parity(g, tmp_path / "onnx", g.latents(8, 0))


@pytest.mark.slow
def test_bad_export_requests_are_refused(tmp_path):
    with pytest.raises(PokeganError, match="--opset 12: pokegan exports opsets 13 to 17"):
        export_onnx(None, tmp_path, opset=12)
    (tmp_path / "file").write_text("x")
    with pytest.raises(PokeganError, match="that is a file"):
        export_onnx(None, tmp_path / "file")
    r = subprocess.run(CLI + ["export"], capture_output=True, text=True)
    assert r.returncode == 2 and "--onnx DIR" in r.stderr


@pytest.mark.slow
def test_the_cli_export_and_the_engine_snippet(tmp_path):
    r = subprocess.run(CLI + ["export", "--onnx", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    code = ("import onnxruntime as ort, numpy as np, json; m=json.load(open('generator.json')); "
            "s=ort.InferenceSession('generator.onnx'); print([o.shape for o in s.run(None, {s.get_inputs()[0].name: "
            "np.random.randn(4, m['latent_dim']).astype('float32')})])")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "[(4, 64, 64, 4), (4, 3, 64, 64)]", r.stderr


@pytest.mark.slow
def test_the_portable_rule_draws_known_words_and_the_cli_uses_it(tmp_path):
    from pokegan.generator.latents import _mulberry32

    # the reference mulberry32's first outputs for seed 0 (any JavaScript engine gives these)
    assert _mulberry32(0, 4).tolist() == [1144304738, 1416247, 958946056, 627933444]
    z = portable_latents(3, 7, 128)
    assert z.shape == (3, 128) and z.dtype.is_floating_point and bool((z == portable_latents(3, 7, 128)).all())
    assert abs(float(portable_latents(400, 1, 128).std()) - 1) < 0.02
    r = subprocess.run(CLI + ["generate", "--n", "3", "--seed", "7", "--latent-rule", "portable", "--out",
                              str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    g = load_generator()
    want = g.sprites(portable_latents(3, 7, g.z_dim))
    assert all(np.array_equal(np.asarray(Image.open(tmp_path / f"{i:04d}.png")), want[i]) for i in range(3))
    with pytest.raises(PokeganError, match="0 to 2\\^32 - 1"):
        portable_latents(1, 2 ** 32, 8)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _seen_alike(a: np.ndarray, b: np.ndarray) -> bool:
    """RGBA sprites alike as seen: alpha within one level and colour times alpha within 1.5 levels. A soft edge's
    colour is the drawn level un-mixed (divided by its alpha), so one level in the graph's output is several in a
    faint pixel's colour, and a canvas stores colours premultiplied; what shows on a scene is colour x alpha."""
    a, b = a.astype(float), b.astype(float)
    seen = lambda x: x[..., :3] * x[..., 3:] / 255
    return np.abs(a[..., 3] - b[..., 3]).max() <= 1 and np.abs(seen(a) - seen(b)).max() <= 1.5


@pytest.mark.slow
@pytest.mark.network  # onnxruntime-web comes from the npm registry (once, then the cache)
def test_the_exported_page_makes_the_cli_sprites_in_a_browser_from_disk(tmp_path):
    if not CHROMIUM:
        if os.environ.get("POKEGAN_REQUIRE_BROWSER") == "1":
            raise RuntimeError("chromium is not installed, and .ci/run requires the browser tests")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    site = tmp_path / "site"
    r = subprocess.run(CLI + ["export", "--web", str(site)], capture_output=True, text=True)
    assert r.returncode == 0 and (site / "index.html").exists(), r.stderr
    g = load_generator()
    requested = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                    "--disable-background-networking", "--disable-component-update", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.on("request", lambda req: requested.append(req.url))
        page.goto((site / "index.html").as_uri() + "?seed=5&n=6&scale=2")
        page.wait_for_function("window.pokeganTiming !== undefined", timeout=120_000)
        sizes = page.eval_on_selector_all("#grid canvas", "cs => cs.map(c => [c.width, c.height])")
        assert sizes == [[128, 128]] * 6
        for seed in (0, 5, 123456789):                                    # the page's latents are Python's
            js = page.evaluate(f"Array.from(window.pokegan.portableLatents(2, {seed}, {g.z_dim}))")
            assert np.array_equal(np.asarray(js, np.float32), portable_latents(2, seed, g.z_dim).numpy().ravel())
        got = np.asarray(page.evaluate("window.pokegan.run(5, 6, 1).then(r => Array.from(r.sprites))"), np.uint8)
        timing = page.evaluate("window.pokeganTiming")
        with page.expect_download() as dl:
            page.locator("#grid a").nth(2).click()
        png = Image.open(dl.value.path())
        assert page.is_visible("#start")                                  # the shipped model has an encoder:
        mine = tmp_path / "mine.png"                                      # a sprite dropped in, variations out
        Image.fromarray(g.arrays(1, seed=9, transparent=True)[0]).save(mine)
        page.set_input_files("#start-file", str(mine))
        page.wait_for_function("document.querySelectorAll('#start-grid canvas').length === 8", timeout=60_000)
        assert "mine.png: the model's closest sprite" in page.text_content("#start-note")
        firsts = page.evaluate("Array.from(document.querySelectorAll('#start-grid canvas')).map(c => c.toDataURL())")
        assert len(set(firsts)) == 8                                      # the projection and 7 different ones
        browser.close()
    cli = tmp_path / "cli"
    r = subprocess.run(CLI + ["generate", "pretrained", "--n", "6", "--seed", "5", "--latent-rule", "portable",
                              "--transparent", "--out", str(cli)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    want = np.stack([np.asarray(Image.open(cli / f"{i:04d}.png")) for i in range(6)])
    assert _seen_alike(got.reshape(want.shape), want)                     # the same sprites
    assert png.size == (128, 128) and png.mode == "RGBA"
    assert _seen_alike(np.asarray(png)[::2, ::2], want[2])                # downloaded through a canvas
    assert timing["n"] == 6 and timing["spritesPerSecond"] > 0
    outside = [u for u in requested if not u.startswith(("file:", "blob:", "data:"))]
    assert not outside, outside                                           # no request left the page


@pytest.mark.slow
def test_a_96_style_size_exports_too(tiny_data_48, tmp_path):
    """FastGAN at 48 (3 x 2^k, as 96): its skip-layer pooling divides the 3x3 start, so ONNX can express it."""
    t = Trainer.new(tiny_config("fastgan", kimg=0.016), str(tiny_data_48), tmp_path / "runs",
                    progress="quiet", log=lambda m: None)
    t.run()
    export_onnx(t.run_dir, tmp_path / "onnx")
    g = load_generator(t.run_dir)
    _assert_parity(g, tmp_path / "onnx", g.latents(4, 0))
