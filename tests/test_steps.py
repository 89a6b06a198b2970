"""The sprite options' registry (pokegan.steps): every entry point derives from it, recipes are defined
once, and a new finishing step is one file."""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pokegan
from pokegan.config import SpriteOptions
from pokegan.core.pixels import on_background
from pokegan.steps import OPTIONS, STEPS, as_flags, automatic, automatic_off, recipe

CLI = [sys.executable, "-m", "pokegan.cli.main"]


def test_sprite_options_are_the_registry():
    assert [f.name for f in dataclasses.fields(SpriteOptions)] == [o.name for o in OPTIONS] + ["types"]
    assert {s.name for s in STEPS} >= {"dehalo", "min_fragment", "outline", "palette", "training_palette"}
    assert [s.order for s in STEPS] == sorted(s.order for s in STEPS)
    for o in OPTIONS:
        assert getattr(SpriteOptions(), o.name) == (None if o.auto is not None else o.default)
        if o.kind is int:   # the bounds are the ones enforced
            SpriteOptions(**{o.name: int(o.hi)})
            with pytest.raises(pokegan.PokeganError, match=o.name):
                SpriteOptions(**{o.name: int(o.hi) + 1})


def test_every_option_is_a_flag_with_its_help():
    r = subprocess.run(CLI + ["generate", "--help"], capture_output=True, text=True)
    text = " ".join(r.stdout.split())
    for o in OPTIONS:
        if o.cli:
            assert o.flag in text and " ".join(o.help.split())[:30] in text, o.name
    assert "--recipe {game-ready}" in text


def test_clean_up_is_automatic_on_transparent_sprites_unless_switched_off():
    from pokegan.generator.pipeline import finish

    img = np.full((1, 32, 32, 3), 255, np.uint8)
    img[0, 8:24, 8:24] = (200, 60, 40)          # a body
    img[0, 7, 8:24] = (205, 205, 205)           # a near-white rim on its top edge (not keyed: 50 levels off)
    img[0, 2:4, 2:4] = (40, 40, 200)            # a loose 4-pixel fleck
    autos = {s.name: s.value(SpriteOptions(transparent=True), True, 32) for s in STEPS if s.auto is not None}
    assert autos["soft_edge"] >= 1 and autos["min_fragment"] == 24 and "dehalo" not in autos
    auto = finish(img, SpriteOptions(transparent=True), "white")
    assert np.array_equal(auto, finish(img, SpriteOptions(transparent=True, **autos), "white"))
    assert auto[0, 2, 2, 3] == 0 and auto[0, 12, 12, 3] == 255                           # the fleck gone
    assert 0 < auto[0, 7, 10, 3] < 128                      # the rim: the body's colour, mostly transparent
    assert np.abs(on_background(auto[0], (255, 255, 255))[5:].astype(int) - img[0, 5:]).max() <= 1   # on white: as drawn
    off = {k: (False if isinstance(v, bool) else 0) for k, v in autos.items()}
    raw = finish(img, SpriteOptions(transparent=True, **off), "white")
    assert raw[0, 2, 2, 3] == 255 and raw[0, 7, 10, 3] == 255                            # switched off: kept
    assert np.array_equal(finish(img, SpriteOptions(), "white"), img)                    # not transparent: untouched


def test_recipes_are_the_librarys_for_each_model():
    assert automatic(64) == {"soft_edge": 2, "min_fragment": 24} and automatic(96)["min_fragment"] == 48
    assert recipe("game-ready", 64, 3) == {"transparent": True, **automatic(64)} == recipe("game-ready", 64, 4)
    assert recipe("game-ready", 96, 4) == {"transparent": True, **automatic(96)}
    assert as_flags(recipe("game-ready", 64, 4)) == "--transparent --soft-edge 2 --min-fragment 24"
    assert automatic_off() == {"soft_edge": 0, "min_fragment": 0}
    with pytest.raises(pokegan.PokeganError, match="unknown recipe 'x'"):
        recipe("x", 64, 3)


@pytest.mark.slow
def test_the_server_takes_its_options_and_recipes_from_the_registry():
    from starlette.testclient import TestClient

    from pokegan.web.catalog import Catalog
    from pokegan.web.server import create_app

    c = TestClient(create_app(Catalog()))
    body = c.get("/api/options").json()
    served = {o["name"]: o for o in body["options"]}
    assert {"dehalo", "min_fragment", "outline", "palette", "transparent", "scale", "truncation"} <= set(served)
    assert served["palette"]["max"] == 64 and served["min_fragment"]["max"] == 256 and served["dehalo"]["max"] == 8
    assert body["recipes"]["game-ready"]["pretrained"]["flags"] == as_flags(recipe("game-ready", 64, 3))
    assert served["soft_edge"]["auto"] == 2 and served["dehalo"]["auto"] is None and served["min_fragment"]["auto"] == 24 and served["palette"]["auto"] is None
    assert c.get("/api/sprite?model=pretrained&min_fragment=257").status_code == 422
    at = "/api/sprite?model=pretrained&seed=4&index=2&"
    auto = c.get(at + "transparent=1").content                           # the clean-up is automatic
    assert c.get(at + "recipe=game-ready").content == auto               # the recipe spells it out
    spelt = "&".join(f"{k}={int(v)}" for k, v in recipe("game-ready", 64, 3).items())
    assert c.get(at + spelt).content == auto
    off = c.get(at + "transparent=1&soft_edge=0&min_fragment=0").content     # switched off, one by one
    assert off != auto and c.get(at + "recipe=game-ready&soft_edge=0&min_fragment=0").content == off   # options win


@pytest.mark.slow
def test_generate_recipe_equals_its_flags(tmp_path):
    a, b, c, d = tmp_path / "a", tmp_path / "b", tmp_path / "c", tmp_path / "d"
    for out, flags in ((a, ["--recipe", "game-ready"]), (b, ["--transparent", "--soft-edge", "2", "--min-fragment", "24"]),
                       (c, ["--transparent"]), (d, ["--transparent", "--soft-edge", "0"])):
        r = subprocess.run(CLI + ["generate", "--n", "3", "--seed", "5", "--out", str(out), *flags],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    files = ("0000.png", "0001.png", "0002.png")
    assert all((a / f).read_bytes() == (b / f).read_bytes() == (c / f).read_bytes() for f in files)
    assert any((a / f).read_bytes() != (d / f).read_bytes() for f in files)        # switched off: not the same


STEP = '''"""A test step: every opaque pixel's red channel set to 7."""
from pokegan.steps import Option, register


def redden(img, value, ctx):
    out = img.copy()
    out[out[..., 3] > 0, 0] = 7
    return out


register(Option("redden", bool, False, "set red to 7 (a test)", needs_transparent=True, order=99, run=redden))
'''


@pytest.mark.slow
def test_a_new_step_is_one_file(tmp_path):
    """A copy of the package with one more file in steps/: the step is a SpriteOptions field, a flag, a served
    option with its help, part of finish() in its order, and eval describes it; nothing else was edited."""
    pkg = Path(pokegan.__file__).parent
    dst = tmp_path / "src" / "pokegan"
    shutil.copytree(pkg, dst, ignore=shutil.ignore_patterns("assets", "__pycache__"))
    (dst / "steps" / "redden.py").write_text(STEP)
    code = (
        "import dataclasses, numpy as np\n"
        "from pokegan.config import SpriteOptions\n"
        "from pokegan.generator.pipeline import finish\n"
        "from pokegan.steps import BY_NAME\n"
        "assert 'redden' in [f.name for f in dataclasses.fields(SpriteOptions)]\n"
        "img = np.full((1, 8, 8, 4), 200, np.uint8)\n"
        "out = finish(img, SpriteOptions(redden=True), 'transparent')\n"
        "assert (out[..., 0] == 7).all() and (out[..., 1] == 200).all()\n"
        "assert BY_NAME['redden'].to_json()['step'] and BY_NAME['redden'].describe(True) == 'redden'\n"
        "from pokegan.cli.main import main\n"
        "main(['generate', '--help'])\n")
    env = {"PYTHONPATH": str(tmp_path / "src"), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert "--redden" in r.stdout and "set red to 7" in r.stdout, r.stderr
    # and the package as shipped has no such step
    assert not hasattr(SpriteOptions(), "redden")


def test_steps_run_in_their_order_on_transparent_sprites_only():
    from pokegan.generator.pipeline import finish

    img = np.zeros((1, 16, 16, 3), np.uint8) + 255
    img[0, 4:12, 4:12] = (200, 40, 40)
    with pytest.raises(pokegan.PokeganError, match="dehalo, min_fragment: work on transparent sprites"):
        finish(img, SpriteOptions(dehalo=1, min_fragment=3), "white")
    out = finish(img, SpriteOptions(transparent=True, outline=True), "white")
    assert out.shape[-1] == 4 and out[0, 4, 4, 0] == 60 and out[0, 8, 8, 0] == 200   # edge shaded x 0.3
