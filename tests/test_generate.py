"""Generation, export, interpolation, the Python API and the HTML report, on a tiny trained model."""
from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
import torch
from PIL import Image

from pokegan.core.errors import PokeganError
from pokegan.core.files import sprite_sheet
from pokegan.core.pixels import clean_alpha, key_background
from pokegan.steps.palette import reduce_palette
from pokegan.interpolate import walk
from pokegan.generator.sprites import load_generator
from pokegan.training.loop import Trainer

from conftest import tiny_config

CLI = [sys.executable, "-m", "pokegan.cli.main"]


@pytest.mark.slow
def test_generation_is_reproducible_and_batch_independent(trained):
    g = load_generator(trained)
    assert g.channels == 4 and g.G.training is False
    a = g.arrays(10, seed=3)
    b = g.arrays(10, seed=3, batch=3)
    assert np.array_equal(a, b) and a.shape == (10, 32, 32, 4)
    assert not np.array_equal(a, g.arrays(10, seed=4))
    assert np.array_equal(g.arrays(4, seed=3), a[:4])  # image i depends on the seed alone
    with pytest.raises(PokeganError):
        g.arrays(0)
    with pytest.raises(PokeganError, match="cannot be asked for a type"):
        g.generate(2, types=["fire"])


@pytest.mark.slow
def test_export_writes_its_two_files_into_a_folder_and_keeps_what_else_is_there(trained, tmp_path):
    out = tmp_path / "export"
    out.mkdir()
    (out / "MODEL_CARD.md").write_text("my notes")
    r = subprocess.run(CLI + ["export", str(trained), "--out", str(out), "--fp32"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["MODEL_CARD.md", "state.json", "weights.safetensors"]
    assert (out / "MODEL_CARD.md").read_text() == "my notes"
    assert np.array_equal(load_generator(out).arrays(4, seed=1), load_generator(trained).arrays(4, seed=1))
    r = subprocess.run(CLI + ["export", str(trained), "--out", str(out)], capture_output=True, text=True)  # fp16 over it
    assert r.returncode == 0, r.stderr
    from safetensors import safe_open

    with safe_open(str(out / "weights.safetensors"), framework="pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys() if f.get_tensor(k).is_floating_point()} == {torch.float16}
    assert (out / "MODEL_CARD.md").read_text() == "my notes" and len(list(out.iterdir())) == 3
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    r = subprocess.run(CLI + ["export", str(trained), "--out", str(a_file)], capture_output=True, text=True)
    assert r.returncode == 2 and "that is a file" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert a_file.read_text() == "keep me"


def test_alpha_and_palette_limits():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (16, 16, 4), dtype=np.uint8)
    c = clean_alpha(img, 128)
    assert set(np.unique(c[..., 3])) <= {0, 255}
    assert (c[c[..., 3] == 0, :3] == 0).all()
    p = reduce_palette(c, 6)
    visible = p[p[..., 3] > 0][:, :3]
    assert len({tuple(v) for v in visible}) <= 6
    assert np.array_equal(p[..., 3], c[..., 3])


def test_key_background_clears_only_the_background_the_border_reaches():
    """White outside a sprite's outline becomes transparent; white enclosed by it (eyes, highlights) and
    every other colour stay opaque; cleared pixels carry no colour."""
    img = np.full((9, 9, 3), 255, np.uint8)
    img[2:7, 2:7] = (20, 20, 20)          # an outlined block ...
    img[3:6, 3:6] = (255, 255, 255)       # ... with white inside it
    img[4, 4] = (200, 30, 30)
    img[0, 8] = (254, 255, 255)           # one level off white: not the background
    out = key_background(img, (255, 255, 255))
    assert out.shape == (9, 9, 4) and np.array_equal(out[..., :3][out[..., 3] == 255], img[out[..., 3] == 255])
    opaque = out[..., 3] == 255
    expected = np.zeros((9, 9), bool)
    expected[2:7, 2:7] = True
    expected[0, 8] = True
    assert np.array_equal(opaque, expected)
    assert set(np.unique(out[..., 3])) == {0, 255} and (out[~opaque, :3] == 0).all()
    fringed = img.copy()
    fringed[1, 2:7] = (236, 240, 238)     # a pale fringe above the outline, as resizing over white leaves
    fringed[4, 4] = (250, 250, 250)       # pale, but inside the outline
    exact, tol = key_background(fringed, (255, 255, 255)), key_background(fringed, (255, 255, 255), 32)
    assert (exact[1, 2:7, 3] == 255).all() and (tol[1, 2:7, 3] == 0).all()
    expected[0, 8] = False                # one level off white is within 32 of it
    assert np.array_equal(tol[..., 3] == 255, expected) and tol[4, 4, 3] == 255
    black = key_background(np.where(img == 255, 0, img).astype(np.uint8), (0, 0, 0))
    assert black[0, 0, 3] == 0 and black[4, 4, 3] == 255
    with pytest.raises(PokeganError, match="RGB image"):
        key_background(out, (255, 255, 255))
    with pytest.raises(PokeganError, match="tolerance 256"):
        key_background(img, (255, 255, 255), 256)


@pytest.mark.slow
def test_cli_generate_transparent_keys_out_the_white_of_an_rgb_model(tiny_data, tmp_path):
    plain, keyed, clean = tmp_path / "plain", tmp_path / "keyed", tmp_path / "clean"
    for out, extra in ((plain, []), (keyed, ["--transparent", "--soft-edge", "0", "--min-fragment", "0"]),
                       (clean, ["--transparent"])):
        r = subprocess.run(CLI + ["generate", "pretrained", "--n", "4", "--seed", "0", "--out", str(out), *extra],
                           capture_output=True, text=True)   # the shipped default model: RGB on white
        assert r.returncode == 0, r.stderr
    a = np.asarray(Image.open(plain / "0000.png"))
    b = np.asarray(Image.open(keyed / "0000.png"))
    assert a.shape == (64, 64, 3) and b.shape == (64, 64, 4) and Image.open(keyed / "sheet.png").mode == "RGBA"
    opaque = b[..., 3] == 255
    assert b[0, 0, 3] == 0 and 0.05 < opaque.mean() < 0.9      # the corner is background; a sprite remains
    assert np.array_equal(b[opaque][:, :3], a[opaque]) and (a[~opaque] >= 255 - 32).all()  # --key-tolerance 32
    kept = [(np.asarray(Image.open(d / f"{i:04d}.png"))[..., 3] == 255) for d in (keyed, clean) for i in range(4)]
    assert all((c <= k).all() for k, c in zip(kept[:4], kept[4:]))          # the automatic clean-up only clears
    assert sum(k.sum() for k in kept[:4]) > sum(c.sum() for c in kept[4:])
    meta = json.loads((keyed / "sheet.json").read_text())["meta"]
    assert meta["transparent"] is True and meta["key_tolerance"] == 32
    r = subprocess.run(CLI + ["generate", "--n", "2", "--out", str(tmp_path / "bad"), "--transparent",
                              "--key-tolerance", "300"], capture_output=True, text=True)
    assert r.returncode == 2 and "--key-tolerance 300" in r.stderr and not (tmp_path / "bad").exists()
    t = Trainer.new(tiny_config("dcgan", background="random", kimg=0.016), str(tiny_data), tmp_path / "runs",
                    progress="quiet", log=lambda m: None)
    t.run()
    r = subprocess.run(CLI + ["generate", str(t.run_dir), "--n", "2", "--out", str(tmp_path / "rand"),
                              "--transparent"], capture_output=True, text=True)
    assert r.returncode == 2 and "'random' background" in r.stderr


def test_sprite_sheet_index_matches_sheet():
    imgs = np.random.default_rng(1).integers(0, 256, (7, 8, 8, 4), dtype=np.uint8)
    sheet, index = sprite_sheet(imgs, 3, [f"s{i}" for i in range(7)])
    assert sheet.shape == (24, 24, 4) and index["count"] == 7
    for i, fr in enumerate(index["frames"]):
        assert np.array_equal(sheet[fr["y"]:fr["y"] + fr["h"], fr["x"]:fr["x"] + fr["w"]], imgs[i])


@pytest.mark.slow
def test_interpolation_endpoints_equal_generator_outputs(trained):
    g = load_generator(trained)
    keys = torch.cat([g.latents(1, 1), g.latents(1, 2)])
    z = walk(keys, 16, "slerp")
    assert z.shape == (16, g.z_dim)
    frames = g.decode(z)
    ends = g.decode(keys)
    assert torch.equal(frames[0], ends[0]) and torch.equal(frames[-1], ends[1])
    mid_norm = z[8].norm()
    assert abs(mid_norm - keys.norm(dim=1).mean()) < 0.2 * mid_norm  # slerp keeps the norm (lerp would not)


@pytest.mark.slow
def test_cli_generate_interpolate_report_and_api(trained, tmp_path):
    out = tmp_path / "sprites"
    r = subprocess.run(CLI + ["generate", str(trained), "--n", "12", "--seed", "0", "--out", str(out),
                              "--palette", "8", "--scale", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    pngs = sorted(out.glob("0*.png"))
    assert len(pngs) == 12 and (out / "grid.png").exists()
    im = Image.open(pngs[0])
    assert im.mode == "RGBA" and im.size == (64, 64)
    assert set(np.unique(np.asarray(im)[..., 3])) <= {0, 255}
    index = json.loads((out / "sheet.json").read_text())
    assert index["count"] == 12 and index["image"] == "sheet.png"
    again = tmp_path / "again"
    subprocess.run(CLI + ["generate", str(trained), "--n", "12", "--seed", "0", "--out", str(again), "--palette",
                          "8", "--scale", "2"], check=True, capture_output=True)
    assert all(a.read_bytes() == (again / a.name).read_bytes() for a in pngs)  # same seed, same files

    gif = tmp_path / "walk.gif"
    r = subprocess.run(CLI + ["interpolate", str(trained), "--seeds", "1", "2", "--steps", "16", "--out", str(gif)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert Image.open(gif).n_frames == 16 and gif.with_suffix(".png").exists()

    page = tmp_path / "report.html"
    r = subprocess.run(CLI + ["report", str(trained), "--out", str(page)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = page.read_text()

    class Check(HTMLParser):
        imgs, stack = [], []

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.imgs.append(dict(attrs)["src"])

    c = Check()
    c.feed(text)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert len(c.imgs) >= 4 and all(s.startswith("data:image/") for s in c.imgs)  # embedded, offline
    assert "http://" not in text and "https://" not in text

    r = subprocess.run([sys.executable, "-c", f"from pokegan import load_generator; g = load_generator({str(trained)!r}); "
                        "print(len(g.generate(n=4, seed=0)))"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "4"


@pytest.mark.slow
def test_bad_inputs_are_clear(trained, tmp_path):
    r = subprocess.run(CLI + ["generate", str(trained), "--n", "0", "--out", str(tmp_path / "x")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "between 1 and" in r.stderr
    r = subprocess.run(CLI + ["generate", str(tmp_path / "nope"), "--n", "2", "--out", str(tmp_path / "x")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "no checkpoint" in r.stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = subprocess.run(CLI + ["generate", str(trained), "--n", "2", "--out", str(blocker / "sub")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "cannot write" in r.stderr
    state = trained / "checkpoints" / "latest" / "state.json"
    s = json.loads(state.read_text())
    s["generator"]["args"]["base"] *= 2   # a description that does not fit the weights
    state.write_text(json.dumps(s))
    with pytest.raises(PokeganError, match="do not fit"):
        load_generator(trained)
    del s["generator"]                    # a run from before checkpoints named their generator: through its family
    s["family"] = "wgan-gp"
    s["config"]["family"] = "wgan-gp"
    s["config"]["options"] = {}
    state.write_text(json.dumps(s))
    with pytest.raises(PokeganError, match="re-save it once"):
        load_generator(trained)
    from pokegan.export.legacy import load_legacy

    with pytest.raises(PokeganError, match="do not fit"):
        load_legacy(trained)
    state.write_text("{not json")
    with pytest.raises(PokeganError, match="unreadable checkpoint"):
        load_generator(trained)


def test_background_snap_draws_a_solid_background_exactly_and_leaves_the_rest():
    from pokegan.generator.pipeline import snap_background

    def px(*levels):  # uint8 levels -> one pixel in [-1, 1], shape (1, 3, 1, 1)
        return torch.tensor(levels, dtype=torch.float32).view(1, 3, 1, 1) / 127.5 - 1

    x = torch.cat([px(254, 253, 250), px(249, 255, 255), px(254, 254, 240), px(120, 30, 200),
                   px(0, 3, 5), px(255, 255, 255)])
    white = snap_background(x, "white")
    assert torch.equal(white[0], torch.ones(3, 1, 1))                          # the haze becomes the background
    assert torch.equal(white[1:4], x[1:4]) and torch.equal(white[4:5], x[4:5])  # 6 levels off, one channel off, sprite
    black = snap_background(x, "black")
    assert torch.equal(black[4], -torch.ones(3, 1, 1)) and torch.equal(black[:4], x[:4])
    assert torch.equal(snap_background(x, "white", tolerance=0), x)
    assert torch.equal(snap_background(x, "random"), x)
    rgba = torch.cat([x, torch.ones(6, 1, 1, 1)], 1)
    assert torch.equal(snap_background(rgba, "white"), rgba)  # RGBA models threshold their alpha instead
    from pokegan.config import SpriteOptions

    with pytest.raises(PokeganError, match="bg_tolerance -1"):  # the range is checked where options are made
        SpriteOptions(bg_tolerance=-1)


@pytest.mark.slow
def test_eval_scores_the_rgba_sprites_generate_writes(trained, tiny_data, tmp_path):
    from pokegan.data import load_dataset
    from pokegan.metrics.evaluate import EvalConfig, generated_images

    ds = load_dataset(tiny_data)
    scored, what = generated_images(str(trained), ds, EvalConfig(num=4))
    r = subprocess.run(CLI + ["generate", str(trained), "--n", "4", "--seed", "0", "--out", str(tmp_path / "g")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    written = np.stack([np.asarray(Image.open(tmp_path / "g" / f"{i:04d}.png")) for i in range(4)])
    assert np.array_equal(scored, written) and "alpha made binary at 128" in what
    from pokegan.metrics.evaluate import load_image_folder

    assert (tmp_path / "g" / "grid-on-dark.png").is_file()       # the folder also holds grids and the sheet,
    assert np.array_equal(load_image_folder(tmp_path / "g", ds.size), written)   # which a folder eval leaves out
    from pokegan.config import SpriteOptions

    soft, _ = generated_images(str(trained), ds, EvalConfig(num=4, sprite=SpriteOptions(alpha_threshold=0)))
    assert np.array_equal(soft, load_generator(trained).arrays(4, seed=0, alpha_threshold=0))
    assert len(np.unique(soft[..., 3])) > 2  # the network's alpha is soft; only the written sprites are binary
    with pytest.raises(PokeganError, match="alpha_threshold 300"):
        SpriteOptions(alpha_threshold=300)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["pretrained", "rgba"])
def test_the_api_and_the_cli_make_the_same_png_bytes(model, trained, tmp_path):
    """One pipeline: `g.generate(...)` with the CLI's options gives the CLI's files, byte for byte (the
    shipped model `--transparent` picks without a run, and a tiny RGBA model)."""
    from pokegan.core.files import png_bytes

    src, flags = ([], ["--transparent"]) if model == "pretrained" else ([str(trained)], [])
    out = tmp_path / "cli"
    r = subprocess.run(CLI + ["generate", *src, "--n", "16", "--seed", "3", "--out", str(out), *flags,
                              "--palette", "16", "--scale", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    g = load_generator(*src) if src else load_generator(transparent=True)
    ims = g.generate(n=16, seed=3, transparent=bool(flags), palette=16, scale=2)
    assert len(ims) == 16 and ims[0].mode == "RGBA" and ims[0].size == (2 * g.resolution,) * 2
    assert all(png_bytes(np.asarray(im)) == (out / f"{i:04d}.png").read_bytes() for i, im in enumerate(ims))
    assert json.loads((out / "sheet.json").read_text())["meta"]["palette"] == 16
    plain = g.generate(n=2, seed=3, scale=2)  # without the options: not the same sprites
    assert not np.array_equal(np.asarray(plain[0]), np.asarray(ims[0]))


@pytest.mark.slow
def test_sprite_options_are_checked_and_unknown_ones_named(trained):
    from pokegan.config import SpriteOptions

    g = load_generator(trained)
    with pytest.raises(PokeganError, match="unknown sprite option 'pallete'.*palette"):
        g.generate(n=2, pallete=8)
    with pytest.raises(PokeganError, match="palette 1"):
        g.generate(n=2, palette=1)
    with pytest.raises(PokeganError, match="scale 0"):
        SpriteOptions(scale=0)
    with pytest.raises(PokeganError, match="cannot be asked for a type"):
        g.generate(n=2, types=["fire"])
    with pytest.raises(PokeganError, match="seed -1"):
        g.generate(n=2, seed=-1)
    rgb = load_generator()  # trained on white: keyable; an RGBA model needs no key (its alpha is its own)
    assert g.check(SpriteOptions(transparent=True)) and rgb.check(SpriteOptions(transparent=True))
    rgb.background = "random"
    with pytest.raises(PokeganError, match="'random' background"):
        rgb.generate(n=1, transparent=True)


def test_fragment_removal_and_outline_on_planted_sprites():
    from pokegan.steps.fragments import remove_fragments
    from pokegan.steps.outline import outline

    a = np.zeros((8, 8, 4), np.uint8)
    a[1:5, 1:5] = (240, 240, 240, 255)      # the body: 16 pixels, pale
    a[2:4, 2:4] = (200, 30, 30, 255)        # its inside, red
    a[6, 6] = (10, 200, 10, 255)            # a loose 1-pixel bit
    a[6:8, 0] = (10, 10, 200, 255)          # a loose 2-pixel bit
    kept = remove_fragments(a, 2)
    assert kept[6, 6, 3] == 0 and (kept[6, 6] == 0).all() and kept[6, 0, 3] == 255   # under 2 pixels: gone
    assert (remove_fragments(a, 100)[..., 3] > 0).sum() == 16                        # the largest always stays
    o = outline(kept)
    assert (o[1, 1, :3] == np.round(np.array([240, 240, 240]) * 0.3)).all()          # a pale edge, darkened
    assert (o[2:4, 2:4] == kept[2:4, 2:4]).all() and o[1, 1, 3] == 255               # inside and alpha untouched
    dark = kept.copy()
    dark[1, 1, :3] = 20
    assert (outline(dark)[1, 1] == dark[1, 1]).all()                                 # already dark: kept


def test_dehalo_clears_a_white_rim_but_not_a_white_body_behind_an_outline():
    from pokegan.steps.dehalo import dehalo
    from pokegan.metrics.sprite_shape import measure

    a = np.zeros((12, 12, 4), np.uint8)
    a[2:10, 2:10] = (250, 250, 250, 255)    # a two-pixel white rim ...
    a[4:8, 4:8] = (20, 20, 20, 255)         # ... around a dark outline ...
    a[5:7, 5:7] = (255, 255, 255, 255)      # ... around a white body
    a[0, 11] = (230, 230, 230, 255)         # a white fleck in a corner
    assert measure(a[None])["near_white_edge_share"] > 0.9
    one = dehalo(a, 1)
    assert (one[2, 2] == 0).all() and one[3, 3, 3] == 255 and one[0, 11, 3] == 0   # one ring (and the fleck) gone
    two = dehalo(a, 2)
    assert (two[..., 3] > 0).sum() == 16 and (two[5:7, 5:7] == 255).all()           # the outline and the body stay
    assert measure(two[None])["near_white_edge_share"] == 0.0
    assert np.array_equal(dehalo(two, 8), two) and np.array_equal(dehalo(a, 0), a)   # nothing more to clear


@pytest.mark.slow
def test_game_sprite_options_run_in_the_pipeline_and_need_transparency(tmp_path):
    g = load_generator()
    from pokegan.steps import automatic_off

    plain = g.arrays(4, seed=1, transparent=True, **automatic_off())     # keyed only
    clean = g.arrays(4, seed=1, transparent=True, min_fragment=24, outline=True)          # with the soft edge
    from pokegan.metrics.sprite_shape import measure

    assert measure(clean)["dark_edge_share"] == 1.0 and measure(plain)["dark_edge_share"] < 0.5
    assert not np.array_equal(g.arrays(4, seed=1, transparent=True, **{**automatic_off(), "dehalo": 2}), plain)
    with pytest.raises(PokeganError, match="add transparent"):
        g.arrays(2, seed=1, outline=True)
    r = subprocess.run(CLI + ["generate", "pretrained", "--n", "4", "--seed", "1", "--out", str(tmp_path),
                              "--transparent", "--min-fragment", "24", "--outline"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert all(np.array_equal(np.asarray(Image.open(tmp_path / f"{i:04d}.png")), clean[i]) for i in range(4))
