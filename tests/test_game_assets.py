"""Sprites a game can use: the training sprites' palette, the shipped asset model, previews on a dark and a
light scene. Tiny models at 32px; the shipped models where the routing to them is what is checked."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pokegan.core.files import PREVIEWS
from pokegan.core.pixels import on_background
from pokegan.steps.palette import snap_to_palette, training_palette
from pokegan.core.errors import PokeganError
from pokegan.generator.shipped import default_model, shipped_models
from pokegan.generator.sprites import load_generator

CLI = [sys.executable, "-m", "pokegan.cli.main"]


def colours(img: np.ndarray) -> set[tuple[int, int, int]]:
    return {tuple(int(v) for v in c) for c in img[img[..., 3] > 0][:, :3]}


def test_training_palette_is_the_sprites_colours_and_snapping_draws_in_them():
    rgba = np.zeros((3, 8, 8, 4), np.uint8)
    rgba[0, :4, :, :] = (200, 10, 10, 255)     # red, green, blue bodies; a hidden colour under alpha 0
    rgba[1, :, :4, :] = (10, 200, 10, 255)
    rgba[2, 2:6, 2:6, :] = (10, 10, 200, 255)
    rgba[2, 0, 0] = (250, 250, 250, 0)
    pal = training_palette(rgba, colours=8)
    assert {tuple(c) for c in pal.tolist()} == {(200, 10, 10), (10, 200, 10), (10, 10, 200)}
    assert np.array_equal(pal, training_palette(rgba, colours=8))          # the same sprites, the same palette
    img = np.zeros((2, 3, 4), np.uint8)
    img[0] = [(190, 30, 20, 255), (0, 180, 40, 255), (240, 240, 240, 0)]
    img[1] = [(30, 30, 170, 255), (200, 10, 10, 255), (0, 0, 0, 0)]
    snapped = snap_to_palette(img, pal)
    assert snapped[0, 0, :3].tolist() == [200, 10, 10] and snapped[0, 1, :3].tolist() == [10, 200, 10]
    assert snapped[1, 0, :3].tolist() == [10, 10, 200]
    assert np.array_equal(snapped[..., 3], img[..., 3]) and np.array_equal(snapped[0, 2], img[0, 2])  # clear: as it was
    with pytest.raises(PokeganError, match="no opaque pixels"):
        training_palette(np.zeros((1, 4, 4, 4), np.uint8))


@pytest.mark.slow
def test_a_run_keeps_its_palette_and_sprites_come_out_in_it(trained, tmp_path):
    state = json.loads((trained / "config.json").read_text())
    pal = np.asarray(state["palette"], np.uint8)
    assert 1 < len(pal) <= 64 and pal.shape[1] == 3
    g = load_generator(trained)
    plain = g.arrays(6, seed=1)
    snapped = g.arrays(6, seed=1, training_palette=True)
    allowed = {tuple(c) for c in pal.tolist()}
    assert all(colours(s) <= allowed for s in snapped)
    assert not all(colours(s) <= allowed for s in plain)                  # it was not so before
    assert np.array_equal(snapped[..., 3], plain[..., 3])                 # the shape is the model's
    few = g.arrays(6, seed=1, training_palette=True, palette=3)          # 3 per sprite, all from the palette
    assert all(len(colours(s)) <= 3 and colours(s) <= allowed for s in few)

    from pokegan.export.slim import export_generator

    copy = export_generator(trained, tmp_path / "copy")
    assert json.loads((copy / "state.json").read_text())["palette"] == state["palette"]
    assert all(colours(s) <= allowed for s in load_generator(copy).arrays(4, seed=2, training_palette=True))

    cut = json.loads((copy / "state.json").read_text())          # a copy without its palette or its dataset
    del cut["palette"]
    cut["data"] = str(tmp_path / "gone.data")
    (copy / "state.json").write_text(json.dumps(cut))
    with pytest.raises(PokeganError, match="keeps no training palette.*--palette K"):
        load_generator(copy).arrays(1, training_palette=True)
    r = subprocess.run(CLI + ["generate", str(copy), "--n", "2", "--out", str(tmp_path / "o"), "--training-palette"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "keeps no training palette" in r.stderr and not (tmp_path / "o" / "0000.png").exists()


@pytest.mark.slow
def test_a_request_without_a_model_picks_the_shipped_model_and_a_retired_name_still_answers(capsys, tmp_path):
    from pokegan.cli.main import main
    from pokegan.generator.shipped import DEFAULT_MODEL, RETIRED, answered_by, pretrained_path

    assert default_model() == default_model(transparent=True) == default_model(conditional=True) == DEFAULT_MODEL
    assert list(shipped_models()) == [DEFAULT_MODEL]                            # one flagship
    for old in ("pretrained-sprites", "pretrained-types"):
        assert old in RETIRED and pretrained_path(old) == shipped_models()[DEFAULT_MODEL]
        assert "pretrained answers it" in answered_by(old)
    assert answered_by(DEFAULT_MODEL) is None
    g = load_generator("pretrained-types")
    assert g.channels == 3 and g.typed and not g.conditional and len(g.types_seen) == 18
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "also answers the retired names pretrained-sprites, pretrained-types" in out and "18 types" in out
    r = subprocess.run(CLI + ["generate", "pretrained-sprites", "--n", "1", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "note: pretrained-sprites is retired" in r.stderr and "pretrained answers it" in r.stderr


@pytest.mark.slow
def test_transparent_sprites_come_with_previews_on_a_dark_and_a_light_scene(trained, tmp_path):
    r = subprocess.run(CLI + ["generate", str(trained), "--n", "4", "--seed", "0", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "grid-on-dark.png" in r.stdout
    first = np.asarray(Image.open(tmp_path / "0000.png"))
    for name, colour in PREVIEWS.items():
        pic = np.asarray(Image.open(tmp_path / f"grid-on-{name}.png"))
        assert pic.shape[-1] == 3 and tuple(pic[0, 0]) == colour                  # the padding is the scene
        h = first.shape[0]
        assert np.array_equal(pic[2:2 + h, 2:2 + h], on_background(first, colour))  # the first sprite on it
    rgb = tmp_path / "rgb"
    r = subprocess.run(CLI + ["generate", "pretrained", "--n", "2", "--out", str(rgb)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not (rgb / "grid-on-dark.png").exists()                                # nothing to preview: no alpha


def test_on_background_composites_alpha():
    px = np.array([[[100, 200, 50, 255], [100, 200, 50, 0], [0, 0, 0, 128]]], np.uint8)
    out = on_background(px, (10, 20, 30))
    assert out[0, 0].tolist() == [100, 200, 50] and out[0, 1].tolist() == [10, 20, 30]
    assert out[0, 2].tolist() == [round(10 * 127 / 255), round(20 * 127 / 255), round(30 * 127 / 255)]
