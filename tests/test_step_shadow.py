"""The drop-shadow step: on transparent pixels only, offset down-right, through every entry point."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from pokegan.config import SpriteOptions
from pokegan.core.errors import PokeganError
from pokegan.generator.pipeline import finish
from pokegan.steps.shadow import SHADOW, drop_shadow


def test_the_shadow_falls_down_right_on_transparent_pixels_only():
    img = np.zeros((8, 8, 4), np.uint8)
    img[2:4, 2:4] = (200, 100, 50, 255)
    out = drop_shadow(img, 2)
    assert (out[2:4, 2:4] == img[2:4, 2:4]).all()                       # the sprite is untouched
    assert (out[4:6, 4:6] == SHADOW).all() and (out[2:4, 4:6, 3] == 0).all()
    assert (out[out[..., 3] == SHADOW[3]]).shape[0] == 4                 # exactly the shifted silhouette
    edge = np.zeros((4, 4, 4), np.uint8)
    edge[3, 3] = 255
    assert (drop_shadow(edge, 1)[..., 3] == edge[..., 3]).all()          # what falls off the canvas is cut


@pytest.mark.slow
def test_the_shadow_is_an_option_everywhere(tmp_path):
    img = np.full((1, 6, 6, 3), 255, np.uint8)
    img[0, 1:3, 1:3] = (10, 200, 10)
    out = finish(img, SpriteOptions(transparent=True, shadow=1), "white")
    assert out[0, 3, 3, 3] == SHADOW[3] and out[0, 1, 1, 3] == 255
    with pytest.raises(PokeganError, match="shadow 9"):
        SpriteOptions(shadow=9)
    with pytest.raises(PokeganError, match="shadow: works on transparent sprites"):
        finish(img, SpriteOptions(shadow=1), "white")
    r = subprocess.run([sys.executable, "-m", "pokegan.cli.main", "generate", "--n", "2", "--transparent",
                        "--shadow", "2", "--out", str(tmp_path / "s")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    from PIL import Image

    alpha = np.asarray(Image.open(tmp_path / "s" / "0000.png"))[..., 3]
    assert (alpha == SHADOW[3]).any()
    from starlette.testclient import TestClient

    from pokegan.web.catalog import Catalog
    from pokegan.web.server import create_app

    c = TestClient(create_app(Catalog()))
    assert any(o["name"] == "shadow" and o["max"] == 8 for o in c.get("/api/options").json()["options"])
    import base64

    uris = c.get("/api/sprites?model=pretrained&n=2&transparent=1&shadow=2").json()["sprites"]
    assert base64.b64decode(uris[1].split(",", 1)[1]) == (tmp_path / "s" / "0001.png").read_bytes()
