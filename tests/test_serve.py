"""`pokegan serve`'s API, in-process (Starlette's test client): every route, every limit, the same bytes as
the command line, model ids that are not in the catalog, bodies, the bounded queue."""
from __future__ import annotations

import base64
import json
import subprocess
import sys

import anyio
import pytest

from starlette.testclient import TestClient  # the web extra: `make test` installs it

from pokegan.web import catalog as catalog_mod
from pokegan.web.catalog import Busy, Catalog
from pokegan.web.server import create_app


CLI = [sys.executable, "-m", "pokegan.cli.main"]


@pytest.fixture
def runs(trained):
    """A runs folder with one tiny RGBA dcgan run (conftest's `trained`)."""
    return trained.parent


@pytest.fixture
def client(runs):
    return TestClient(create_app(Catalog(runs=runs)))


def _png(uri: str) -> bytes:
    assert uri.startswith("data:image/png;base64,")
    return base64.b64decode(uri.split(",", 1)[1])


@pytest.mark.slow
def test_models_lists_the_shipped_model_and_every_run(client, runs):
    models = client.get("/api/models").json()
    assert [m["id"] for m in models] == ["pretrained", "00000-dcgan-tiny"]
    types = models[0].pop("types")
    assert models[0] == {"id": "pretrained", "family": "fastgan", "size": 64, "channels": 3, "background": "white",
                         "kimg": 900.0, "conditional": False, "typed": True}        # types by its type sampler
    assert len(types) == 18 and "fire" in types
    assert models[1]["size"] == 32 and models[1]["channels"] == 4 and not models[1]["typed"]


@pytest.mark.slow
def test_a_type_request_uses_the_type_and_is_checked(client):
    from pokegan.generator.sprites import load_generator

    r = client.get("/api/sprites", params={"model": "pretrained", "n": 2, "seed": 5, "type": ["fire", "flying"]})
    assert r.status_code == 200
    g = load_generator()
    from pokegan.config import SpriteOptions
    from pokegan.core.files import sprite_png

    opts = SpriteOptions(types=("fire", "flying"))
    assert _png(r.json()["sprites"][1]) == sprite_png(g.arrays(2, seed=5, options=opts)[1], opts.scale)
    bad = client.get("/api/sprites", params={"model": "pretrained", "type": "fyre"})
    assert bad.status_code == 422 and "did you mean fire" in bad.json()["error"]
    old = {"n": 2, "seed": 5, "type": ["fire", "flying"]}                 # the retired typed model's old link
    assert client.get("/api/sprites", params={**old, "model": "pretrained-types"}).json() == r.json()
    assert client.get("/api/sprites", params={"type": "fire", "n": 1}).status_code == 200   # the default takes types
    tiny = client.get("/api/sprites", params={"model": "00000-dcgan-tiny", "type": "fire"})
    assert tiny.status_code == 422 and "cannot be asked for a type" in tiny.json()["error"]
    q = {"n": 2, "seed": 5, "transparent": 1}                 # an old link's retired name: the default answers it
    assert client.get("/api/sprites", params={**q, "model": "pretrained-sprites"}).json()["sprites"] == \
        client.get("/api/sprites", params={**q, "model": "pretrained"}).json()["sprites"]


@pytest.mark.slow
def test_images_are_the_bytes_pokegan_generate_writes(client, tmp_path):
    out = tmp_path / "cli"
    r = subprocess.run(CLI + ["generate", "pretrained", "--n", "16", "--seed", "0", "--out", str(out),
                              "--transparent", "--palette", "8", "--scale", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    q = "model=pretrained&seed=0&transparent=1&palette=8&scale=2"
    one = client.get(f"/api/sprite?{q}&index=3")
    assert one.status_code == 200 and one.headers["content-type"] == "image/png"
    assert one.content == (out / "0003.png").read_bytes()
    batch = client.get(f"/api/sprites?{q}&n=16").json()
    assert [_png(u) for u in batch["sprites"]] == [(out / f"{i:04d}.png").read_bytes() for i in range(16)]
    assert batch["width"] == batch["height"] == 128 and batch["rgba"]
    assert client.get(f"/api/sheet?{q}&n=16").content == (out / "sheet.png").read_bytes()
    index = client.get(f"/api/sheet.json?{q}&n=16").json()
    assert index["frames"] == json.loads((out / "sheet.json").read_text())["frames"] and index["meta"]["palette"] == 8
    download = client.get(f"/api/sprite?{q}&index=3&download=1")
    assert 'filename="pokegan-0-3.png"' in download.headers["content-disposition"]


@pytest.mark.slow
def test_walks_and_variations_come_from_the_pipeline(client, runs, tmp_path):
    gif = tmp_path / "walk.gif"
    r = subprocess.run(CLI + ["interpolate", str(runs / "00000-dcgan-tiny"), "--seeds", "1", "2", "--steps", "6",
                              "--out", str(gif)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    q = "model=00000-dcgan-tiny&a_seed=1&a_index=0&b_seed=2&b_index=0&steps=6&scale=2"
    assert client.get(f"/api/interpolate?{q}&format=gif").content == gif.read_bytes()
    assert client.get(f"/api/interpolate?{q}&format=png").content == gif.with_suffix(".png").read_bytes()
    frames = client.get(f"/api/interpolate?{q}").json()["frames"]
    assert len(frames) == 6
    near = client.get("/api/variations?model=00000-dcgan-tiny&seed=1&index=0&n=5&strength=0.2").json()["sprites"]
    again = client.get("/api/variations?model=00000-dcgan-tiny&seed=1&index=0&n=5&strength=0.2").json()["sprites"]
    far = client.get("/api/variations?model=00000-dcgan-tiny&seed=1&index=0&n=5&strength=1.5").json()["sprites"]
    assert len(near) == 5 and near == again and near != far


@pytest.mark.slow
@pytest.mark.parametrize("query,message", [
    ("/api/sprites?n=0", "n=0: must be between 1 and 64"), ("/api/sprites?n=65", "n=65"),
    ("/api/sheet?n=257", "n=257"), ("/api/sprites?seed=-1", "seed=-1"),
    ("/api/sprites?seed=9223372036854775808", "seed=9223372036854775808"), ("/api/sprite?index=4096", "index=4096"),
    ("/api/sprites?scale=9", "scale=9"), ("/api/sprites?scale=1e9", "expected a whole number"),
    ("/api/sprites?palette=1", "palette 1: give 2 to 256"), ("/api/sprites?palette=65", "palette=65"),
    ("/api/sprites?truncation=0", "truncation=0"), ("/api/sprites?truncation=nan", "truncation=nan"),
    ("/api/sprites?seed=abc", "expected a whole number"), ("/api/interpolate?steps=1", "steps=1"),
    ("/api/interpolate?steps=33", "steps=33"), ("/api/interpolate?format=bmp", "format='bmp'"),
    ("/api/variations?strength=0", "strength=0"), ("/api/sprites?path=/etc/passwd", "unknown parameter 'path'"),
    ("/api/sprites?type=fire&model=00000-dcgan-tiny", "cannot be asked for a type")])
def test_every_limit_is_answered_422_naming_it(client, query, message):
    r = client.get(query + ("" if "model=" in query else ("&" if "?" in query else "?") + "model=pretrained"))
    assert r.status_code == 422 and message in r.json()["error"], r.text


@pytest.mark.slow
@pytest.mark.parametrize("model", ["nope", "../00000-dcgan-tiny", "/etc/passwd", "..%2F..%2Fetc", "pretrained/../x"])
def test_models_are_chosen_by_id_never_by_path(client, model):
    r = client.get(f"/api/sprite?model={model}&seed=0")
    valid = "valid: pretrained, 00000-dcgan-tiny"
    assert r.status_code == 404 and valid in r.json()["error"]


@pytest.mark.slow
def test_bodies_are_refused_and_nothing_is_written(client, runs, tmp_path):
    before = sorted((p, p.stat().st_mtime_ns) for p in runs.rglob("*"))
    assert client.post("/api/sprites", content=b"x" * 5000).status_code == 413
    assert client.post("/api/sprites", content=b"{}").status_code == 405
    assert client.get("/api/sprites?model=00000-dcgan-tiny&n=4").status_code == 200
    assert sorted((p, p.stat().st_mtime_ns) for p in runs.rglob("*")) == before


@pytest.mark.slow
def test_the_page_and_its_files_load_nothing_from_elsewhere(client):
    import re

    for path, kind in (("/", "text/html"), ("/style.css", "text/css"), ("/app.js", "text/javascript"),
                       ("/start.js", "text/javascript")):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}|@import|url\(", r.text), path


@pytest.mark.slow
def test_one_generation_at_a_time_per_model_and_a_bounded_queue(runs, monkeypatch):
    """More concurrent requests for one model than the queue holds get Busy (503); the others run one at a
    time; the cache keeps at most MAX_LOADED generators."""
    import threading
    import time

    cat = Catalog(runs=runs)
    active, peak, lock = [0], [0], threading.Lock()

    def work(_g):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return "done"

    async def main():
        results = []

        async def one():
            try:
                results.append(await cat.run("pretrained", work))
            except Busy:
                results.append("busy")

        async with anyio.create_task_group() as tg:
            for _ in range(catalog_mod.MAX_WAITING + 3):
                tg.start_soon(one)
        return results

    results = anyio.run(main)
    assert results.count("busy") == 3 and results.count("done") == catalog_mod.MAX_WAITING and peak[0] == 1
    monkeypatch.setattr(catalog_mod, "MAX_LOADED", 1)
    for mid in ("pretrained", "00000-dcgan-tiny", "pretrained"):
        cat.generator(cat.entry(mid))
    assert list(cat._loaded) == ["pretrained"]


@pytest.mark.slow
def test_serve_refuses_what_it_cannot_serve(tmp_path):
    r = subprocess.run(CLI + ["serve", "--runs", str(tmp_path / "missing")], capture_output=True, text=True)
    assert r.returncode == 2 and "--runs" in r.stderr and "not a folder" in r.stderr
    r = subprocess.run(CLI + ["serve", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2 and "no checkpoint here" in r.stderr
    r = subprocess.run(CLI + ["serve", "--port", "70000"], capture_output=True, text=True)
    assert r.returncode == 2 and "--port 70000" in r.stderr


@pytest.mark.slow
def test_game_ready_options_are_the_clis(client, tmp_path):
    out = tmp_path / "cli"
    r = subprocess.run(CLI + ["generate", "pretrained", "--n", "4", "--seed", "2", "--out", str(out),
                              "--transparent", "--dehalo", "2", "--min-fragment", "8", "--outline"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    q = "model=pretrained&seed=2&transparent=1&dehalo=2&min_fragment=8&outline=1"
    assert client.get(f"/api/sprite?{q}&index=1").content == (out / "0001.png").read_bytes()
    r = client.get("/api/sprite?model=pretrained&seed=2&min_fragment=300")
    assert r.status_code == 422 and "min_fragment=300" in r.json()["error"]
    r = client.get("/api/sprite?model=pretrained&seed=2&dehalo=9")
    assert r.status_code == 422 and "dehalo=9" in r.json()["error"]
