"""Projection, variations, type swaps and fusions on tiny FastGAN models (32px, a few training steps)."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import tiny_config, write_tiny_dataset
from pokegan.core.errors import PokeganError
from pokegan.core.pixels import on_background


@pytest.fixture(autouse=True)
def few_steps(monkeypatch):
    """Short refinements: these tests check behaviour, not how close a real model gets (benchmarks/)."""
    from pokegan.projection import refine

    monkeypatch.setattr(refine, "STEPS_TOGETHER", 8)
    monkeypatch.setattr(refine, "STEPS_ALONE", 25)
    monkeypatch.setattr(refine, "RANDOM_POOL", 16)


def train(data, runs, **kw):
    from pokegan.training.loop import Trainer

    t = Trainer.new(tiny_config("fastgan", ema_kimg=0.0, **kw), str(data), runs, progress="quiet", log=lambda m: None)
    t.run()
    return t.run_dir


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny unconditional FastGAN on 32px sprites with names and types, and its dataset."""
    tmp = tmp_path_factory.mktemp("proj")
    data = write_tiny_dataset(tmp / "typed.data", typed=True)
    ds_named(data)
    return train(data, tmp / "runs"), data


@pytest.fixture(scope="module")
def cond_model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cproj")
    data = write_tiny_dataset(tmp / "typed.data", typed=True)
    ds_named(data)
    return train(data, tmp / "runs", conditional="types", cond_start_kimg=0.0, cond_end_kimg=0.0), data


def ds_named(path):
    """Give the tiny dataset's species names (mon1, mon2, ...), as real data has."""
    from pokegan.data import load_dataset, save_dataset

    ds = load_dataset(path)
    for lab in ds.labels:
        lab["name"] = f"mon{lab['dex']}"
    save_dataset(path, ds.images, ds.labels, ds.info)


def own_sprite(g, seed: int = 3) -> np.ndarray:
    from pokegan.projection import transparent_sprites

    return transparent_sprites(g, g.latents(1, seed))[0]


def png(tmp_path, arr, name="t.png"):
    p = tmp_path / name
    Image.fromarray(arr).save(p)
    return p


def test_a_projection_comes_closer_than_where_it_started_and_its_files_read_back(model, tmp_path):
    from pokegan.projection import project, read_latent
    from pokegan.projection.refine import figures
    from pokegan.generator.sprites import load_generator

    g = load_generator(model[0])
    target = own_sprite(g)
    p = project(g, str(png(tmp_path, target)))
    start = figures(own_sprite(g, seed=11), p.target.rgba)
    got = p.figures["refined"]
    assert got["psnr_white"] > start["psnr_white"] + 1 and got["iou"] >= start["iou"]
    assert p.offsets and sorted(p.offsets) == [8, 16]           # FastGAN's extended latent
    out = p.save(tmp_path / "p")
    assert {f.name for f in out.iterdir()} == {"target.png", "projection.png", "latent.json"}
    meta = json.loads((out / "latent.json").read_text())
    assert meta["format"] == "pokegan-latent/1" and len(meta["latent"]) == g.z_dim
    assert meta["model"]["id"] == p.model["id"] and meta["figures"]["refined"]["iou"] == got["iou"]
    back = read_latent(g, out / "latent.json", warn=pytest.fail)
    assert np.abs(back.image.astype(int) - p.image.astype(int)).max() <= 1   # the file holds what was drawn
    assert np.array_equal(np.asarray(Image.open(out / "projection.png")), p.image)


def test_noise_alone_is_the_fallback_and_is_less_close(model, tmp_path):
    from pokegan.projection import project
    from pokegan.generator.sprites import load_generator

    g = load_generator(model[0])
    src = str(png(tmp_path, own_sprite(g, seed=5)))
    plain = project(g, src, extended=False)
    full = project(g, src)
    assert plain.offsets is None and plain.to_json()["offsets"] == {}
    assert full.figures["refined"]["loss"] < plain.figures["refined"]["loss"]


def test_a_species_by_name_with_its_types_and_shiny(model, tmp_path):
    from pokegan.projection import project
    from pokegan.generator.sprites import load_generator

    g, data = load_generator(model[0]), model[1]
    p = project(g, "mon2", data=str(data))
    s = project(g, "mon2", data=str(data), shiny=True)
    assert p.source == {"kind": "species", "name": "mon2", "types": ["water"]} and p.types == ("water",)
    assert s.source["name"] == "mon2 (shiny)" and not np.array_equal(p.target.rgba, s.target.rgba)
    with pytest.raises(PokeganError, match="no sprite named 'pikachu'"):
        project(g, "pikachu", data=str(data))
    with pytest.raises(PokeganError, match="give --data DATASET"):
        project(g, "pikachu")


def test_images_that_are_not_sprites_get_a_clear_answer(model, tmp_path, monkeypatch):
    from pokegan.projection import targets

    rgb = np.full((40, 40, 3), 255, np.uint8)
    rgb[10:30, 12:28] = (200, 40, 40)
    t = targets.read_target(str(png(tmp_path, rgb, "white.png")), 32)
    assert t.rgba[0, 0, 3] == 0 and t.rgba[16, 16, 3] == 255 and not t.warnings   # white keyed away
    black = np.zeros((40, 40, 3), np.uint8)
    black[10:30, 12:28] = (40, 200, 40)
    assert targets.read_target(str(png(tmp_path, black, "black.png")), 32).rgba[0, 0, 3] == 0
    photo = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    t = targets.read_target(str(png(tmp_path, photo, "photo.png")), 32)
    assert "no plain white or black background" in t.warnings[0] and t.rgba.shape == (32, 32, 4)
    with pytest.raises(PokeganError, match="empty.png: fully transparent"):
        targets.read_target(str(png(tmp_path, np.zeros((20, 20, 4), np.uint8), "empty.png")), 32)
    dot = np.zeros((20, 20, 4), np.uint8)
    dot[5:7, 5:7] = 255
    with pytest.raises(PokeganError, match="dot.png: the sprite in it is 2x2 pixels"):
        targets.read_target(str(png(tmp_path, dot, "dot.png")), 32)
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(PokeganError, match="notes.png: not an image"):
        targets.read_target(str(tmp_path / "notes.png"), 32)
    frames = [Image.fromarray(np.full((24, 24, 3), c, np.uint8)) for c in (30, 90)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    assert "animated (2 frames)" in targets.read_target(str(tmp_path / "anim.gif"), 32).warnings[0]
    monkeypatch.setattr(targets, "MAX_BYTES", 100)
    with pytest.raises(PokeganError, match="photo.png: .* bytes is over the"):
        targets.read_target(str(tmp_path / "photo.png"), 32)
    with pytest.raises(PokeganError, match="missing.png: no such image file"):
        targets.read_target(str(tmp_path / "missing.png"), 32)


@pytest.mark.slow
def test_a_latent_of_another_model_is_refused_or_flagged(model, cond_model, tmp_path):
    from pokegan.projection import project, read_latent
    from pokegan.generator.sprites import load_generator

    g, c = load_generator(model[0]), load_generator(cond_model[0])
    p = project(c, "mon1", data=str(cond_model[1]))
    p.save(tmp_path / "c")
    with pytest.raises(PokeganError, match=r"a latent of \d+ values.*takes \d+"):
        read_latent(g, tmp_path / "c" / "latent.json")
    meta = json.loads((tmp_path / "c" / "latent.json").read_text())
    meta["model"]["id"] = "something else"
    (tmp_path / "c" / "latent.json").write_text(json.dumps(meta))
    said = []
    read_latent(c, tmp_path / "c" / "latent.json", warn=said.append)
    assert "draw a different creature" in said[0]
    meta["offsets"]["8"]["values"] = meta["offsets"]["8"]["values"][:-1]
    (tmp_path / "c" / "latent.json").write_text(json.dumps(meta))
    with pytest.raises(PokeganError, match="offsets at side 8 should have shape"):
        read_latent(c, tmp_path / "c" / "latent.json", warn=said.append)


def test_variations_keep_the_projection_first_and_a_type_swap_needs_types(model, cond_model, tmp_path):
    from pokegan.projection import near, project
    from pokegan.generator.sprites import load_generator

    g = load_generator(model[0])
    p = project(g, "mon3", data=str(model[1]))
    z, style = near(g, p, 6, spread=0.5, seed=1)
    assert style is None
    sprites = g.sprites(z, offsets=p.offsets)
    assert torch.equal(z[0], p.latent) and not torch.equal(z[1], z[2])
    assert np.array_equal(g.sprites(z[:1], offsets=p.offsets), g.sprites(p.latent[None], offsets=p.offsets))
    assert len({s.tobytes() for s in sprites}) == 6
    assert torch.equal(near(g, p, 3, spread=0.0)[0][2], p.latent)
    with pytest.raises(PokeganError, match="spread 9"):
        near(g, p, 3, spread=9)
    with pytest.raises(PokeganError, match="a type swap needs a model that can be asked for a type"):
        near(g, p, 3, types=("water",))
    c = load_generator(cond_model[0])
    q = project(c, "mon1", data=str(cond_model[1]))
    assert q.types == ("fire",)
    swapped, style = near(c, q, 2, types=("water",))
    assert style is None
    assert swapped[0, c.z_dim:].tolist() == c.with_types(q.latent[None], ("water",))[0, c.z_dim:].tolist()
    assert torch.equal(swapped[0, :c.z_dim], q.latent[:c.z_dim])
    assert not np.array_equal(c.sprites(swapped[:1], offsets=q.offsets), c.sprites(q.latent[None], offsets=q.offsets))


def test_a_fusion_runs_from_one_to_the_other_and_mixes_shape_and_colour(model, tmp_path):
    from pokegan.projection import fuse, project
    from pokegan.generator.sprites import load_generator

    g = load_generator(model[0])
    a, b = project(g, "mon1", data=str(model[1])), project(g, "mon4", data=str(model[1]))
    f = fuse(g, a, b, steps=5)
    assert f["row"].shape == (5, 32, 32, 4) and np.array_equal(f["row"][0], a.image)
    assert np.array_equal(f["row"][-1], b.image) and f["mix"].shape == (2, 32, 32, 4)
    assert not np.array_equal(f["middle"], a.image) and not np.array_equal(f["middle"], b.image)
    assert not np.array_equal(f["mix"][0], a.image)
    with pytest.raises(PokeganError, match="steps 2"):
        fuse(g, a, b, steps=2)


def test_style_and_zero_offsets_leave_the_generator_unchanged(model):
    from pokegan.generator.sprites import load_generator

    g = load_generator(model[0])
    z = g.latents(3, 0)
    plain = g.G(z)
    assert torch.equal(g.G(z, style=z), plain)
    assert torch.equal(g.G(z, offsets={8: torch.zeros(1, g.G.w[8], 8, 8)}), plain)
    assert not torch.equal(g.G(z, style=z.flip(0)), plain)


@pytest.mark.slow
def test_an_encoder_trained_on_the_models_samples_gives_an_instant_projection(model, tmp_path):
    from pokegan.projection import project
    from pokegan.projection.encoder import load_encoder, model_id, save_encoder, train_encoder
    from pokegan.generator.sprites import load_generator

    g = load_generator(model[0])
    with pytest.raises(PokeganError, match="has no projection encoder"):
        project(g, "mon1", data=str(model[1]), refine=False)
    E, meta = train_encoder(g, minutes=0.05, bank=256, batch=32, log=lambda m: None)
    assert meta["model_id"] == model_id(g) and meta["trained"]["samples"] >= 256   # one whole bank, whatever the load
    assert meta["figures"]["latent_mse"] < 1.5
    save_encoder(E, meta, model[0] / "encoder")
    loaded, _ = load_encoder(g, warn=pytest.fail)
    x = g.decode(g.latents(2, 0))
    assert torch.allclose(loaded(x), E(x))
    p = project(g, "mon1", data=str(model[1]), refine=False)
    assert set(p.figures) == {"encoder"} and p.offsets is None
    meta["encoder"]["args"]["z_dim"] = 7                                    # a damaged encoder: said, then done without
    (model[0] / "encoder" / "encoder.json").write_text(json.dumps(meta))
    said = []
    assert load_encoder(load_generator(model[0]), warn=said.append) == (None, None)
    assert "encoder.json: the weights do not fit" in said[0] and "projecting without it" in said[0]
    (model[0] / "encoder" / "encoder.json").write_text("{not json")
    said.clear()
    p = project(load_generator(model[0]), "mon1", data=str(model[1]), warn=said.append)
    assert "encoder description is not valid JSON" in said[0] and "refined" in p.figures
    (model[0] / "encoder" / "encoder.json").unlink()


@pytest.mark.slow
def test_the_commands(model, tmp_path, capsys):
    from pokegan.cli.main import main
    from pokegan.generator.sprites import load_generator

    run, data = model
    src = png(tmp_path, own_sprite(load_generator(run)), "mine.png")
    assert main(["project", str(src), "--model", str(run), "--out", str(tmp_path / "p")]) == 0
    assert "silhouette IoU" in capsys.readouterr().out
    assert main(["generate", "--near", str(tmp_path / "p" / "latent.json"), "--n", "5", "--seed", "0",
                 "--out", str(tmp_path / "near")]) == 0
    first = np.asarray(Image.open(tmp_path / "near" / "0000.png"))
    projection = np.asarray(Image.open(tmp_path / "p" / "projection.png"))
    bg = (0, 0, 0) if load_generator(run).background == "black" else (255, 255, 255)
    assert np.abs(on_background(projection, bg).astype(int) - first).max() <= 1     # the same sprite, soft edge
    assert json.loads((tmp_path / "near" / "sheet.json").read_text())["meta"]["near"]["name"] == "mine.png"
    assert main(["fuse", "mon1", str(tmp_path / "p" / "latent.json"), "--data", str(data), "--model", str(run),
                 "--steps", "4", "--out", str(tmp_path / "f")]) == 0
    assert {"fusion.gif", "fusion.png", "middle.png", "mix.png", "fusion.json"} <= {
        f.name for f in (tmp_path / "f").iterdir()}
    assert Image.open(tmp_path / "f" / "fusion.png").size == (4 * 32 * 2, 32 * 2)
    capsys.readouterr()
    assert main(["generate", str(run), "--spread", "0.3", "--out", str(tmp_path / "x")]) != 0
    assert "--spread, --data and --shiny go with --near" in capsys.readouterr().err


@pytest.mark.slow
def test_the_servers_projection_routes(model, tmp_path, monkeypatch):
    from starlette.testclient import TestClient

    from pokegan.generator.sprites import load_generator
    from pokegan.web import server, starting
    from pokegan.web.catalog import Catalog

    run, data = model
    cat = Catalog([str(run)], pretrained=False)
    mid = next(iter(cat.entries))
    client = TestClient(server.create_app(cat, data=str(data)))
    assert "mon1" in client.get("/api/pokemon").json()["names"]
    r = client.get("/api/project", params={"model": mid, "name": "mon1"})
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["name"] == "mon1" and a["target"].startswith("data:image/png") and a["figures"]["iou"] >= 0
    body = png(tmp_path, own_sprite(load_generator(run)), "up.png").read_bytes()
    b = client.post("/api/project", params={"model": mid}, content=body).json()
    assert b["name"] == "the uploaded image"
    near = client.get("/api/near", params={"model": mid, "id": a["id"], "n": 4, "spread": 0.5}).json()
    assert len(near["sprites"]) == 4
    f = client.get("/api/fuse", params={"model": mid, "a": a["id"], "b": b["id"], "steps": 4}).json()
    assert len(f["row"]) == 4 and len(f["mix"]) == 2
    assert client.get("/api/fuse", params={"model": mid, "a": a["id"], "b": b["id"], "format": "gif"}).content[:3] == b"GIF"
    assert client.get("/api/latent", params={"id": a["id"]}).json()["format"] == "pokegan-latent/1"
    # bad input: clear answers, nothing kept
    r = client.post("/api/project", params={"model": mid}, content=b"not an image at all")
    assert r.status_code == 422 and "the uploaded image: not an image" in r.json()["error"]
    r = client.post("/api/project", params={"model": mid}, content=b"x" * (starting.MAX_UPLOAD + 1))
    assert r.status_code == 413
    r = client.get("/api/near", params={"model": mid, "id": "feedbeef"})
    assert r.status_code == 422 and "no projection 'feedbeef'" in r.json()["error"]
    r = client.get("/api/project", params={"model": mid, "name": "pikachu"})
    assert r.status_code == 422 and "no sprite named 'pikachu'" in r.json()["error"]
    r = client.get("/api/near", params={"model": mid, "id": a["id"], "spread": "9"})
    assert r.status_code == 422 and "spread=9" in r.json()["error"]
    monkeypatch.setattr(starting, "MAX_PROJECTIONS", 2)        # the oldest projection is dropped, not kept forever
    for _ in range(2):
        client.get("/api/project", params={"model": mid, "name": "mon2"})
    assert client.get("/api/near", params={"model": mid, "id": a["id"]}).status_code == 422
    bare = TestClient(server.create_app(cat))
    assert bare.get("/api/pokemon").json()["names"] == []
    r = bare.get("/api/project", params={"model": mid, "name": "mon1"})
    assert r.status_code == 422 and "without --data" in r.json()["error"]


def test_a_burst_of_projections_waits_in_its_own_lane(monkeypatch):
    import anyio

    from pokegan.web.catalog import Busy
    from pokegan.web.starting import PROJECT_WAITING, Projections

    lane = Projections()
    started = []

    def slow():
        import time

        started.append(1)
        time.sleep(0.2)
        return "done"

    async def burst():
        results = []

        async def one():
            try:
                results.append(await lane.run(slow))
            except Busy:
                results.append("busy")

        async with anyio.create_task_group() as tg:
            for _ in range(PROJECT_WAITING + 3):
                tg.start_soon(one)
        return results

    results = anyio.run(burst)
    assert results.count("done") == PROJECT_WAITING + 1 and results.count("busy") == 2


def test_other_families_project_by_their_noise_and_some_cannot(tiny_data, tmp_path):
    from pokegan.projection import fuse, project
    from pokegan.generator.sprites import load_generator

    g = load_generator(_dcgan(tiny_data, tmp_path))
    p = project(g, str(png(tmp_path, own_sprite(g))))
    assert p.offsets is None and p.figures["refined"]["iou"] >= 0          # noise only: no feature offsets
    f = fuse(g, p, p, steps=3)
    assert "mix" not in f and f["row"].shape[0] == 3                        # no skip-layer excitation to mix
    g.G.palette_size = 4                                                     # a palette-output generator
    with pytest.raises(PokeganError, match="no gradient to follow"):
        project(g, str(tmp_path / "t.png"))
    g.G.palette_size, g.background = 0, "random"
    with pytest.raises(PokeganError, match="trained on 'random' backgrounds"):
        project(g, str(tmp_path / "t.png"))


def _dcgan(data, tmp_path):
    from pokegan.training.loop import Trainer

    t = Trainer.new(tiny_config("dcgan", ema_kimg=0.0), str(data), tmp_path / "runs", progress="quiet", log=lambda m: None)
    t.run()
    return t.run_dir


def test_an_aegan_model_starts_from_its_own_encoder(tiny_data, tmp_path):
    from pokegan.projection import project
    from pokegan.generator.sprites import load_generator
    from pokegan.training.loop import Trainer

    t = Trainer.new(tiny_config("aegan", ema_kimg=0.0), str(tiny_data), tmp_path / "runs", progress="quiet",
                    log=lambda m: None)
    t.run()
    g = load_generator(t.run_dir)
    p = project(g, str(png(tmp_path, own_sprite(g))), refine=False)     # instant: AEGAN's encoder, no training
    assert set(p.figures) == {"encoder"} and p.latent.shape == (g.z_dim,)
    assert abs(float(p.latent.norm()) - g.z_dim ** 0.5) < 1e-3
