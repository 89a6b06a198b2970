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
from pokegan.steps import OPTIONS, STEPS, as_flags, recipe

CLI = [sys.executable, "-m", "pokegan.cli.main"]


def test_sprite_options_are_the_registry():
    assert [f.name for f in dataclasses.fields(SpriteOptions)] == [o.name for o in OPTIONS] + ["types"]
    assert {s.name for s in STEPS} >= {"dehalo", "min_fragment", "outline", "palette", "training_palette"}
    assert [s.order for s in STEPS] == sorted(s.order for s in STEPS)
    for o in OPTIONS:
        assert getattr(SpriteOptions(), o.name) == o.default
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


def test_recipes_are_the_librarys_for_each_model():
    assert recipe("game-ready", 64, 3) == {"transparent": True, "dehalo": 3, "min_fragment": 24, "outline": True}
    assert recipe("game-ready", 96, 4) == {"transparent": True, "dehalo": 3, "min_fragment": 48}
    assert as_flags(recipe("game-ready", 64, 4)) == "--transparent --dehalo 3 --min-fragment 24"
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
    assert body["recipes"]["game-ready"]["pretrained-sprites"]["flags"] == "--transparent --dehalo 3 --min-fragment 24"
    assert c.get("/api/sprite?model=pretrained&min_fragment=257").status_code == 422
    same = c.get("/api/sprite?model=pretrained&seed=4&index=2&transparent=1&dehalo=3&min_fragment=24&outline=1")
    assert c.get("/api/sprite?model=pretrained&seed=4&index=2&recipe=game-ready").content == same.content
    # options beside a recipe win over its settings
    no_outline = c.get("/api/sprite?model=pretrained&seed=4&index=2&transparent=1&dehalo=3&min_fragment=24")
    assert c.get("/api/sprite?model=pretrained&seed=4&index=2&recipe=game-ready&outline=0").content == no_outline.content
    assert no_outline.content != same.content


@pytest.mark.slow
def test_generate_recipe_equals_its_flags(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out, flags in ((a, ["--recipe", "game-ready"]), (b, ["--transparent", "--dehalo", "3", "--min-fragment", "24"])):
        r = subprocess.run(CLI + ["generate", "--n", "3", "--seed", "5", "--out", str(out), *flags],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in ("0000.png", "0001.png", "0002.png"))


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
        "from pokegan.sprites import finish\n"
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
    from pokegan.sprites import finish

    img = np.zeros((1, 16, 16, 3), np.uint8) + 255
    img[0, 4:12, 4:12] = (200, 40, 40)
    with pytest.raises(pokegan.PokeganError, match="dehalo, min_fragment: work on transparent sprites"):
        finish(img, SpriteOptions(dehalo=1, min_fragment=3), "white")
    out = finish(img, SpriteOptions(transparent=True, outline=True), "white")
    assert out.shape[-1] == 4 and out[0, 4, 4, 0] == 60 and out[0, 8, 8, 0] == 200   # edge shaded x 0.3
