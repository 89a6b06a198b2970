"""The type sampler: a model without type inputs asked for a type keeps, per sprite, one of many latents in
proportion to p(type | latent) ** sharpness; fitted, saved beside the model, loaded with it, and refused clearly."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from conftest import exported_page, tiny_config, write_tiny_dataset
from pokegan.core.errors import PokeganError
from pokegan.core.type_names import TYPES
from pokegan.generator.type_sampler import TypeSampler


class FixedNet(nn.Module):
    """log p(type | z): z's first value says how Fire it is (index of fire), everything else flat."""

    def forward(self, z):
        logits = torch.zeros(*z.shape[:-1], len(TYPES))
        logits[..., TYPES.index("fire")] = z[..., 0]
        return torch.log_softmax(logits, -1)


def test_a_pick_follows_p_type_given_latent_to_the_power_of_the_sharpness():
    # two candidates a sprite: p(fire) = 0.8 for the first and 0.2 for the second (18 types, so solve for z[0])
    def z0(p):  # e^a / (e^a + 17) = p
        return float(np.log(17 * p / (1 - p)))
    cand = torch.zeros(1, 2, 4)
    cand[0, 0, 0], cand[0, 1, 0] = z0(0.8), z0(0.2)
    for sharpness, want in ((1.0, 0.8), (2.0, 0.8 ** 2 / (0.8 ** 2 + 0.2 ** 2))):
        s = TypeSampler(FixedNet(), ("fire", "water"), candidates=2, sharpness=sharpness, meta={})
        firsts = [bool((s.pick(cand, seed, ("fire",)) == cand[0, 0]).all()) for seed in range(3000)]
        assert abs(np.mean(firsts) - want) < 0.025, (sharpness, np.mean(firsts))
    # asked for water: p(water) = 1 / (e^a + 17), 1/85 for the first and 1/21.25 for the second, so the less
    # Fire one wins 0.8 of the draws
    s = TypeSampler(FixedNet(), ("fire", "water"), candidates=2, sharpness=1.0, meta={})
    second = np.mean([bool((s.pick(cand, seed, ("water",)) == cand[0, 1]).all()) for seed in range(3000)])
    assert abs(second - 0.8) < 0.025, second


def test_draw_is_a_function_of_the_seed_and_sprite_i_does_not_depend_on_n():
    s = TypeSampler(FixedNet(), ("fire",), candidates=8, sharpness=2.0, meta={})
    a, b = s.draw(5, 3, ("fire",), 16), s.draw(5, 3, ("fire",), 16)
    assert torch.equal(a, b) and not torch.equal(a, s.draw(5, 4, ("fire",), 16))
    assert torch.equal(s.draw(3, 3, ("fire",), 16), a[:3])
    assert torch.equal(s.draw(5, 3, ("fire",), 16, chunk=2), a)        # drawn in pieces: the same sprites
    candidates = torch.randn(5 * 8, 16, generator=torch.Generator().manual_seed(3))
    assert all(any(torch.equal(r, c) for c in candidates) for r in a)  # each pick is one of its seed's candidates
    big = s.draw(200, 3, ("fire",), 16)
    assert big[:, 0].mean() > 0.5   # the Fire direction is what the picks lean to (the prior's mean is 0)
    # two types the net cannot tell apart still draw apart: each type set has its own Gumbel noise, so a by-type
    # sheet does not repeat one winner down a column
    water, grass = s.draw(40, 3, ("water",), 16), s.draw(40, 3, ("grass",), 16)
    assert (water != grass).any(1).float().mean() > 0.6


@pytest.fixture(scope="module")
def typed_run(tmp_path_factory):
    from pokegan.training.loop import Trainer

    tmp = tmp_path_factory.mktemp("sampler")
    data = write_tiny_dataset(tmp / "typed.data", typed=True)
    t = Trainer.new(tiny_config("fastgan", ema_kimg=0.0), str(data), tmp / "runs", progress="quiet", log=lambda m: None)
    t.run()
    return t.run_dir, data


@pytest.fixture(scope="module")
def sampled(typed_run, tmp_path_factory):
    """A copy of the tiny model's checkpoint with a type sampler fitted by the library."""
    import shutil

    from pokegan.models import checkpoint as ckpt
    from pokegan import load_generator
    from pokegan.data import load_dataset
    from pokegan.type_sampler_fit import SamplerConfig, fit

    run, data = typed_run
    folder = tmp_path_factory.mktemp("sampled") / "ckpt"
    shutil.copytree(ckpt.find(run), folder)
    fit(load_generator(folder), load_dataset(data), SamplerConfig(samples=256, epochs=2), log=lambda m: None).save(folder)
    return folder


def pokegan(*args):
    return subprocess.run([sys.executable, "-m", "pokegan.cli.main", *map(str, args)], capture_output=True, text=True)


@pytest.mark.slow
def test_a_fitted_sampler_is_saved_beside_the_model_and_answers_every_type_entry_point(typed_run, tmp_path):
    from pokegan import load_generator
    from pokegan.runfiles import model_info
    from pokegan.models import checkpoint as ckpt

    run, data = typed_run
    g = load_generator(run)
    assert not g.typed
    with pytest.raises(PokeganError, match="types-fit"):
        g.arrays(2, seed=0, types=("fire",))
    r = pokegan("types-fit", run, "--data", data, "--samples", 256, "--epochs", 2)
    assert r.returncode == 0, r.stderr
    folder = ckpt.find(run)
    assert (folder / "type-sampler.safetensors").is_file() and "wrote" in r.stdout
    g = load_generator(run)
    assert g.typed and not g.conditional and set(g.types_seen) == {"fire", "water", "flying", "grass"}
    fire = g.arrays(4, seed=0, types=("fire",))
    assert np.array_equal(fire, g.arrays(4, seed=0, types=("fire",)))
    assert not np.array_equal(fire, g.arrays(4, seed=0)) and not np.array_equal(fire, g.arrays(4, seed=0, types=("grass",)))
    names, rows = g.by_type(per_type=2, seed=0)
    assert rows.shape[:2] == (4, 2) and np.array_equal(rows[names.index("fire")], fire[:2])
    with pytest.raises(PokeganError, match="never saw the type 'ghost'"):
        g.arrays(2, seed=0, types=("ghost",))
    port = g.latents(3, 7, rule="portable", types=("fire",))   # the exported page's rule: its own candidates
    assert torch.equal(port, g.latents(3, 7, rule="portable", types=("fire",)))
    assert not torch.equal(port, g.latents(3, 7, types=("fire",)))
    cands = {tuple(r) for r in g.noise(3 * g.sampler.candidates, 7, "portable").tolist()}
    assert all(tuple(r) in cands for r in port.tolist())
    state, _, _ = ckpt.read(run, train_state=False)
    info = model_info(state, folder)
    assert info["typed"] and not info["conditional"] and "fire" in info["types"]
    out = tmp_path / "fire"
    r = pokegan("generate", run, "--type", "fire", "--n", 4, "--seed", 0, "--out", out)
    assert r.returncode == 0, r.stderr
    from PIL import Image

    written = np.stack([np.asarray(Image.open(out / f"{i:04d}.png").convert("RGB")) for i in range(4)])
    assert np.array_equal(written, fire)                                  # the command draws the sampler's picks
    walk = tmp_path / "w.gif"
    assert pokegan("interpolate", run, "--types", "fire", "grass", "--seeds", 0, "--steps", 3, "--scale", 1,
                   "--out", walk).returncode == 0
    first = np.asarray(Image.open(walk.with_suffix(".png")).convert("RGB"))[:, :fire.shape[2]]
    assert np.abs(first.astype(int) - fire[0].astype(int)).max() <= 1     # from the seed's Fire pick (slerp's rounding)


@pytest.mark.slow
def test_a_type_swap_repaints_the_projection_in_the_colours_of_latents_of_the_type(sampled, monkeypatch):
    import pokegan.projection as proj
    from pokegan import load_generator
    from pokegan.projection import Projection, near

    g = load_generator(sampled)
    assert g.sampler is not None
    start = Projection(latent=g.noise(1, 5)[0], offsets=None, types=("water",), image=None, target=None, figures={})
    z, style = near(g, start, 4, 0.3, seed=1, types=("fire",))
    plain, none = near(g, start, 4, 0.3, seed=1)
    # the shapes are the projection and its variations, as without a type; the colours come from the sampler's
    # fire latents, drawn by the seed
    assert none is None and torch.equal(z, plain) and torch.equal(z[0], start.latent)
    assert torch.equal(style, g.sampler.draw(4, 1, ("fire",), g.z_dim))
    assert not torch.equal(style, g.sampler.draw(4, 1, ("water",), g.z_dim))
    assert not np.array_equal(g.sprites(z, style=style), g.sprites(z))
    # a generator that cannot mix styles: the sampler's pick among candidates around the projection
    monkeypatch.setattr(proj, "mixes_styles", lambda g: False)
    z, style = near(g, start, 4, 0.3, seed=1, types=("fire",))
    assert style is None and z.shape == (4, g.z_dim) and torch.equal(z, near(g, start, 4, 0.3, seed=1, types=("fire",))[0])
    # every pick is one of the candidates around the projection: closer to it than a fresh latent is
    assert (z - start.latent).norm(dim=1).max() < (g.noise(4, 9) - start.latent).norm(dim=1).min()


class Redness(nn.Module):
    """A stand-in projection encoder: the first latent value says how much redder than blue the image is."""

    def forward(self, x):
        z = torch.ones(len(x), 32)
        z[:, 0] = 20 * (x[:, 0].mean((1, 2)) - x[:, 2].mean((1, 2)))
        return z


@pytest.mark.slow
def test_a_type_swap_keeps_the_repaint_the_encoder_and_sampler_read_most_as_the_type(sampled, monkeypatch):
    import pokegan.projection.encoder as enc
    from pokegan import load_generator
    from pokegan.projection import SWAP_CANDIDATES, SWAP_SHARPNESS, Projection, near

    g = load_generator(sampled)
    g.sampler.net = FixedNet()                        # p(fire | z) grows with z[0], so: the reddest repaint wins
    monkeypatch.setattr(enc, "load_encoder", lambda g, warn=print: (Redness(), {}))
    start = Projection(latent=g.noise(1, 5)[0], offsets=None, types=("water",), image=None, target=None, figures={})
    z, style = near(g, start, 3, 0.3, seed=1, types=("fire",))
    from dataclasses import replace

    k = SWAP_CANDIDATES
    candidates = replace(g.sampler, sharpness=SWAP_SHARPNESS).draw(3 * k, 1, ("fire",), g.z_dim).reshape(3, k, -1)
    for i in range(3):
        mine = [j for j in range(k) if torch.equal(candidates[i, j], style[i])]
        assert mine, f"sprite {i}'s style is not one of its own candidates"
        x = g.decode(z[i:i + 1].repeat(k, 1), style=candidates[i])
        red = (x[:, 0].mean((1, 2)) - x[:, 2].mean((1, 2)))
        assert red[mine[0]] >= red.max() - 1e-6                                # the reddest of its candidates
    assert any(not torch.equal(style[i], candidates[i, 0]) for i in range(3))  # not simply the first draw


@pytest.mark.slow
def test_a_damaged_sampler_names_its_file_and_the_fix(sampled, tmp_path):
    import shutil

    from pokegan import load_generator

    copy = tmp_path / "copy"
    shutil.copytree(sampled, copy)
    meta = json.loads((copy / "type-sampler.json").read_text())
    (copy / "type-sampler.json").write_text(json.dumps({**meta, "types": ["fire", "lava"]}))
    with pytest.raises(PokeganError, match=r"type sampler .* is damaged.*types-fit"):
        load_generator(copy)
    (copy / "type-sampler.json").write_text(json.dumps(meta))
    (copy / "type-sampler.safetensors").write_bytes(b"not weights")
    with pytest.raises(PokeganError, match="type-sampler.safetensors"):
        load_generator(copy)


@pytest.mark.slow
def test_the_onnx_export_carries_the_sampler_and_its_picks_match_pokegans(sampled, tmp_path):
    import onnxruntime as ort

    from pokegan import load_generator
    from pokegan.export.onnx import export_onnx
    from pokegan.generator.latents import portable_gumbel

    export_onnx(sampled, tmp_path)
    meta = json.loads((tmp_path / "generator.json").read_text())
    g = load_generator(sampled)
    s = meta["types"]["sampler"]
    assert meta["inputs"][0]["shape"] == ["n", g.z_dim] and s["candidates"] == g.sampler.candidates
    assert set(meta["types"]["seen"]) == set(g.types_seen)
    n, k = 3, s["candidates"]
    cand = g.noise(n * k, 11, "portable")
    logp = ort.InferenceSession(str(tmp_path / "type-sampler.onnx")).run(["log_p"], {"latents": cand.numpy()})[0]
    assert np.abs(logp - g.sampler.net(cand).numpy()).max() < 1e-4
    # generator.json's rule followed by hand, on the graph's scores, gives pokegan's portable picks
    mask = 1 << TYPES.index("water")
    score = s["sharpness"] * logp[:, TYPES.index("water")].astype(np.float64) + portable_gumbel(n * k, 11, g.z_dim, mask).numpy()
    picks = cand.reshape(n, k, -1)[np.arange(n), score.reshape(n, k).argmax(1)]
    assert torch.equal(picks, g.latents(n, 11, rule="portable", types=("water",)))


@pytest.mark.slow
@pytest.mark.network  # onnxruntime-web comes from the npm registry (once, then the cache)
def test_the_exported_page_picks_types_with_the_sampler_as_pokegan_does(sampled, tmp_path):
    from pokegan import load_generator
    from pokegan.config import SpriteOptions
    from pokegan.export.web import export_web

    site = export_web(sampled, tmp_path / "site", log=lambda m: None)
    g = load_generator(sampled)
    with exported_page(site, "?seed=3&n=4&type=fire") as (page, errors):
        seen = page.eval_on_selector_all("#types option", "os => os.map(o => o.value)")
        z_js = page.evaluate("window.pokegan.latents(4, 3, 1, ['fire']).then(z => Array.from(z.data))")
        typed = page.evaluate("window.pokegan.run(3, 4, 1, ['fire']).then(r => Array.from(r.sprites))")
    assert not errors, errors
    assert seen == list(g.types_seen)
    z = g.latents(4, 3, rule="portable", types=("fire",))
    assert np.array_equal(np.asarray(z_js, np.float32).reshape(z.shape), z.numpy())
    assert not torch.equal(z, g.latents(4, 3, rule="portable"))
    want = g.sprites(z, SpriteOptions(transparent=True))
    assert np.abs(np.asarray(typed, np.uint8).reshape(want.shape).astype(int) - want.astype(int)).max() <= 1
