"""Type conditioning: tiny conditional models at 32px, type filtering, the classifier's grouped split, and every
bad type request's message."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import exported_page, tiny_config, write_tiny_dataset
from pokegan.core.errors import PokeganError


@pytest.fixture
def typed_data(tmp_path):
    return write_tiny_dataset(tmp_path / "typed.data", typed=True)


def train(data, runs, **kw):
    from pokegan.training.loop import Trainer

    cfg = tiny_config("fastgan", **{"conditional": "types", "cond_start_kimg": 0.0, "cond_end_kimg": 0.0,
                                    "ema_kimg": 0.0, **kw})
    t = Trainer.new(cfg, str(data), runs, progress="quiet", log=lambda m: None)
    t.run()
    return t


@pytest.fixture
def cond_run(typed_data, tmp_path):
    return train(typed_data, tmp_path / "runs").run_dir


def pokegan(*args):
    return subprocess.run([sys.executable, "-m", "pokegan.cli.main", *map(str, args)], capture_output=True, text=True)


def test_the_type_embedding_changes_the_output(cond_run):
    from pokegan import load_generator

    g = load_generator(cond_run)
    fire, water = g.arrays(4, seed=0, types=("fire",)), g.arrays(4, seed=0, types=("water",))
    assert (fire != water).any()  # the same noise, another type: other pixels
    assert np.array_equal(fire, g.arrays(4, seed=0, types=["Fire"]))  # same seed and type, same sprites
    assert len(g.generate(n=3, seed=0, types=["fire", "flying"])) == 3


def test_a_conditional_dcgan(typed_data, tmp_path):
    from pokegan import load_generator
    from pokegan.training.loop import Trainer

    cfg = tiny_config("dcgan", conditional="types", cond_start_kimg=0.0, cond_end_kimg=0.0)
    t = Trainer.new(cfg, str(typed_data), tmp_path, progress="quiet", log=lambda m: None)
    t.run()
    g = load_generator(t.run_dir)
    assert g.conditional and (g.arrays(4, seed=0, types=("fire",)) != g.arrays(4, seed=0, types=("grass",))).any()


def test_the_ramp_starts_unconditional():
    from pokegan.models.conditioning import ramp

    assert [ramp(k, 50, 200) for k in (0, 50, 125, 200, 900)] == [0.0, 0.0, 0.5, 1.0, 1.0]


def test_the_type_heads_loss_rewards_naming_the_asked_types():
    from pokegan.models.conditioning import TypeClassifier, multi_hot

    c = multi_hot([("normal", "flying")])
    right, half, wrong = (torch.full((1, 18), -4.0) for _ in range(3))
    right[0, [0, 9]] = 4.0       # normal and flying named
    half[0, 0] = 4.0             # normal alone
    wrong[0, [0, 1]] = 4.0       # normal and fire named
    head = TypeClassifier(8)
    head.weight.fill_(1.0)
    losses = [head.loss(x, c).item() for x in (right, half, wrong)]
    assert losses[0] < losses[1] < losses[2], losses  # both named < one < one right and one wrong
    head.weight.fill_(0.0)       # lambda 0: no pull before the ramp
    assert head.loss(wrong, c).item() == 0.0


def test_types_round_trip_through_checkpoints_and_load_generator(cond_run):
    from pokegan import load_generator
    from pokegan.models import checkpoint as ckpt

    state, weights, _ = ckpt.read(cond_run, train_state=False)
    seen = ("fire", "water", "grass", "flying")
    assert sorted(state["types_seen"]) == sorted(seen)
    g = load_generator(cond_run)
    assert g.conditional and sorted(g.types_seen) == sorted(seen)
    # fakes' type sets are drawn as often as the data has them: every set here is 1/4 of the data
    counts = weights["G.cond.counts"]
    assert float(counts.sum()) == 24 and float(counts.max()) == 6
    z = g.latents(2000, seed=1)
    sets = {tuple(np.flatnonzero(r).tolist()) for r in z[:, g.z_dim:].numpy()}
    assert len(sets) == 4 and z.shape[1] == g.z_dim + 18


@pytest.mark.slow
def test_resume_is_bit_exact_for_a_conditional_run(typed_data, tmp_path):
    from pokegan.models import checkpoint as ckpt
    from pokegan.training.loop import Trainer

    straight = train(typed_data, tmp_path / "a", cond_start_kimg=0.016, cond_end_kimg=0.048)
    from dataclasses import replace

    cfg = replace(tiny_config("fastgan", conditional="types", cond_start_kimg=0.016, cond_end_kimg=0.048,
                              ema_kimg=0.0), kimg=0.032)
    t = Trainer.new(cfg, str(typed_data), tmp_path / "b", progress="quiet", log=lambda m: None)
    t.run()
    t2 = Trainer.resume(t.run_dir, kimg=0.064)
    t2.run()
    _, wa, _ = ckpt.read(straight.run_dir, train_state=False)
    _, wb, _ = ckpt.read(t2.run_dir, train_state=False)
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert float(wa["D.proj.weight"]) == 1.0  # the ramp reached 1 at 0.048 kimg


def test_types_trains_on_exactly_the_labelled_sprites(typed_data, tmp_path):
    from pokegan.data import load_dataset
    from pokegan.training.loop import Trainer

    ds = load_dataset(typed_data)
    sub = ds.of_types(("fire",))
    assert len(sub) == sum("fire" in lab["types"] for lab in ds.labels) == 12
    assert all("fire" in lab["types"] for lab in sub.labels)
    t = Trainer(tiny_config("dcgan", types=("water", "grass")), str(typed_data), tmp_path, progress="quiet")
    assert len(t.ds) == 12 and {tuple(lab["types"]) for lab in t.ds.labels} == {("water",), ("grass",)}
    with pytest.raises(PokeganError, match="no sprite has the type ghost; its types are: fire, flying, grass, water"):
        ds.of_types(("ghost",))


def test_the_classifier_split_never_puts_one_species_on_both_sides(typed_data):
    from pokegan.data import load_dataset
    from pokegan.metrics.type_classifier import grouped_folds, species_groups

    ds = load_dataset(typed_data)
    groups = species_groups(ds)
    assert len(set(groups.tolist())) == 12  # a normal and a shiny sprite per species
    folds = grouped_folds(groups, 5, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(ds)))
    for held in folds:
        rest = np.setdiff1d(np.arange(len(ds)), held)
        assert not set(groups[held]) & set(groups[rest])


def test_the_wilson_interval():
    from pokegan.metrics.per_type import wilson

    lo, hi = wilson(20, 200)                       # 10% of 200: about 6.6% to 14.9%
    assert lo == pytest.approx(0.0659, abs=1e-3) and hi == pytest.approx(0.1495, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0 and 0.2 < wilson(0, 10)[1] < 0.35   # none hit: still not "exactly 0"
    a, b = wilson(100, 1000)
    assert b - a < (hi - lo) / 2                   # five times the sprites, under half the width


def test_a_shipped_classifier_is_used_before_the_cache_and_training(typed_data, tmp_path, monkeypatch):
    import shutil

    from pokegan.data import load_dataset
    from pokegan.metrics import type_classifier as tc

    monkeypatch.setenv("POKEGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(tc, "SHIPPED", tmp_path / "shipped")
    ds = load_dataset(typed_data)
    cfg = tc.ClassifierConfig(epochs=2, folds=2)
    logs = []
    trained = tc.type_classifier(ds, cfg, log=logs.append)
    assert any("training the type classifier" in m for m in logs)
    shutil.move(tmp_path / "cache" / "type-classifiers", tmp_path / "shipped")  # "ship" it; the cache is empty
    logs.clear()
    shipped = tc.type_classifier(ds, cfg, log=logs.append)
    assert logs == [] and shipped.ceiling == trained.ceiling
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    assert torch.equal(tc.scores(shipped.net, x), tc.scores(trained.net, x))
    for f in (tmp_path / "shipped").glob("*.safetensors"):
        f.write_bytes(b"damaged")                     # a damaged shipped file: trained again, not a crash
    tc.type_classifier(ds, cfg, log=logs.append)
    assert any("training the type classifier" in m for m in logs)


def test_bad_type_requests_get_their_messages(cond_run, typed_data, tmp_path):
    from pokegan import load_generator
    from pokegan.config import SpriteOptions

    g = load_generator(cond_run)
    with pytest.raises(PokeganError, match=r"unknown type 'fyre' \(did you mean fire\?\); the types are: normal, fire"):
        g.arrays(2, types=("fyre",))
    with pytest.raises(PokeganError, match="3 types .*one or two types"):
        SpriteOptions(types=("fire", "water", "grass"))
    with pytest.raises(PokeganError, match="never saw the type 'ghost'.*it knows: fire, water, grass, flying"):
        g.arrays(2, types=("ghost",))
    with pytest.raises(PokeganError, match="never saw the type 'fyre'|unknown type 'fyre'"):
        load_generator().arrays(2, types=("fyre",))                    # the flagship's type sampler checks too
    with pytest.raises(PokeganError, match="aegan cannot be type-conditioned; --conditional types works with: dcgan"):
        from pokegan.training.loop import Trainer

        Trainer(tiny_config("aegan", conditional="types"), str(typed_data), tmp_path, progress="quiet")
    r = pokegan("train", "--data", typed_data, "--types", "fire,wter", "--kimg", "0.01", "--run-dir", tmp_path)
    assert r.returncode == 2 and "unknown type 'wter' (did you mean water?)" in r.stderr
    untyped = write_tiny_dataset(tmp_path / "plain.data")
    with pytest.raises(PokeganError, match="no sprite carries a type"):
        Trainer(tiny_config("fastgan", conditional="types"), str(untyped), tmp_path, progress="quiet")


@pytest.mark.slow
def test_generate_by_type_and_a_walk_between_types(cond_run, tmp_path):
    from PIL import Image

    r = pokegan("generate", cond_run, "--by-type", "--seed", "0", "--out", tmp_path / "bt")
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "bt" / "by-type.json").read_text())
    assert meta["rows"] == ["fire", "water", "grass", "flying"] and meta["per_type"] == 8
    assert Image.open(tmp_path / "bt" / "by-type.png").size[1] == 4 * 34 + 2
    assert len(list((tmp_path / "bt" / "fire").glob("*.png"))) == 8
    r = pokegan("generate", cond_run, "--type", "fire", "--type", "flying", "--n", "4", "--out", tmp_path / "ff")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "ff" / "sheet.json").read_text())["meta"]["types"] == ["fire", "flying"]
    r = pokegan("interpolate", cond_run, "--types", "fire/flying", "water", "--seeds", "3", "--steps", "5",
                "--out", tmp_path / "w.gif")
    assert r.returncode == 0, r.stderr
    frames = Image.open(tmp_path / "w.gif").n_frames
    assert frames == 5
    r = pokegan("generate", "--by-type", "--n", "2", "--no-png", "--out", tmp_path / "shipped")  # no run given
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "shipped" / "by-type.json").read_text())
    assert meta["model"].endswith("pretrained") and len(meta["rows"]) == 18   # the flagship's type sampler


@pytest.mark.slow
def test_eval_per_type_reports_adherence_ceiling_and_kid(cond_run, typed_data, tmp_path):
    out = tmp_path / "e.json"
    r = pokegan("eval", cond_run, "--data", typed_data, "--per-type", "--num", "8", "--json", out)
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert set(res["per_type"]) == {"fire", "water", "grass", "flying"}
    for v in res["per_type"].values():
        assert 0 <= v["adherence"] <= 1 and 0 <= v["ceiling"] <= 1 and np.isfinite(v["kid"])
        assert v["num_generated"] == 8
        lo, hi = v["adherence_interval"]   # Wilson 95%: around the share, and wide for 8 sprites
        assert lo <= v["adherence"] <= hi and hi - lo > 0.3
    assert res["per_type"]["fire"]["num_real"] == 12
    s = res["per_type_summary"]
    assert s["chance_top2"] == pytest.approx(2 / 18) and s["types"] == 4
    assert s["mean_adherence"] == pytest.approx(np.mean([v["adherence"] for v in res["per_type"].values()]))
    from pokegan.report import build_report  # the run's report shows the by-type grid and this table

    page = build_report(cond_run)
    assert "<h2>By type</h2>" in page and f"{res['per_type']['grass']['ceiling']:.1%}" in page


@pytest.mark.slow
def test_a_conditional_model_exports_to_onnx_with_its_type_slots(cond_run, tmp_path):
    import onnxruntime as ort
    from pokegan import load_generator
    from pokegan.config import SpriteOptions
    from pokegan.export.onnx import export_onnx
    from pokegan.steps import automatic_off

    export_onnx(cond_run, tmp_path)
    meta = json.loads((tmp_path / "generator.json").read_text())
    g = load_generator(cond_run)
    assert meta["inputs"][0]["shape"] == ["n", g.z_dim + 18] and meta["types"]["slots"][1] == "fire"
    z = g.latents(4, seed=2, types=("fire", "flying"))
    out = ort.InferenceSession(str(tmp_path / "generator.onnx")).run(["sprites"], {"latents": z.numpy()})[0]
    ref = g.sprites(z, SpriteOptions(transparent=True, **automatic_off()))   # the graph keys; the clean-up follows it
    assert np.abs(out.astype(int) - ref.astype(int)).max() <= 1
    assert sum(map(sum, meta["types"]["counts"])) == int(g.G.cond.counts.sum()) > 0


def test_portable_type_sets_follow_the_counts_word_by_word():
    from pokegan.models.conditioning import TYPES
    from pokegan.generator.latents import _mulberry32, portable_type_sets

    counts = np.zeros((18, 18))
    fire, flying, water = (TYPES.index(t) for t in ("fire", "flying", "water"))
    counts[fire, flying], counts[water, water] = 3, 1               # 3 of 4 sprites fire/flying, 1 water alone
    sets = portable_type_sets(counts, 400, 9, 5)
    assert set(sets.nonzero()[:, 1].tolist()) == {fire, flying, water}
    is_pair = sets[:, fire] == 1
    assert bool((sets[is_pair, flying] == 1).all()) and bool((sets[~is_pair].sum(1) == 1).all())
    assert 0.68 < float(is_pair.float().mean()) < 0.82                # about 3/4
    words = _mulberry32(9, 400 * 5 + 400)[-400:]                       # the words after 400 x 5 noise values
    assert bool((is_pair.numpy() == ((words.astype(np.int64) * 4) >> 32 < 3)).all())
    with pytest.raises(PokeganError, match="no type sets"):
        portable_type_sets(np.zeros((18, 18)), 2, 0, 5)


@pytest.mark.slow
@pytest.mark.network  # onnxruntime-web comes from the npm registry (once, then the cache)
def test_the_exported_page_of_a_conditional_model_picks_types(cond_run, tmp_path):
    from pokegan import load_generator
    from pokegan.config import SpriteOptions
    from pokegan.export.web import export_web

    site = export_web(cond_run, tmp_path / "site", log=lambda m: None)
    g = load_generator(cond_run)
    with exported_page(site, "?seed=3&n=4&type=fire&type=flying") as (page, errors):
        seen = page.eval_on_selector_all("#types option", "os => os.map(o => o.value)")
        picked = page.eval_on_selector_all("#types option:checked", "os => os.map(o => o.value)")
        status = page.text_content("#status")
        typed = page.evaluate("window.pokegan.run(3, 4, 1, ['fire', 'flying']).then(r => Array.from(r.sprites))")
        drawn = page.evaluate("window.pokegan.run(7, 6, 1, []).then(r => Array.from(r.sprites))")
        z_js = page.evaluate("window.pokegan.latents(6, 7, 1, []).then(z => Array.from(z.data))")
        page.select_option("#types", ["fire", "water", "grass"])
        page.click("#make")
        page.wait_for_function("document.querySelector('#status').textContent.includes('at most two')")
    assert not errors, errors
    assert seen == list(g.types_seen) and picked == ["fire", "flying"]
    assert "--type fire --type flying" in status and "--latent-rule portable" in status
    z = g.latents(6, 7, rule="portable")                     # no types: drawn by the portable rule, as in Python
    assert np.array_equal(np.asarray(z_js, np.float32).reshape(z.shape), z.numpy())
    for got, lat in ((typed, g.latents(4, 3, rule="portable", types=("fire", "flying"))), (drawn, z)):
        want = g.sprites(lat, SpriteOptions(transparent=True))
        assert np.abs(np.asarray(got, np.uint8).reshape(want.shape).astype(int) - want.astype(int)).max() <= 1
