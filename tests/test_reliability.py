"""Reliability, the classes rather than the cases: property-based tests (Hypothesis) over every server route's
whole declared parameter space and over every run file pokegan reads, and the outputs that grow with a
request bounded by what is kept."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pokegan.core.errors import PokeganError

CLI = [sys.executable, "-m", "pokegan.cli.main"]
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
                derandomize=True)

# Any JSON value: the shapes a damaged, foreign or hand-edited run file may hold
JSON = st.recursive(st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70)
                    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


def _dumps(v) -> str:
    return json.dumps(v)  # NaN and Infinity as Python writes them: what a careless tool leaves


# -- the server ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A test client over a catalog holding the shipped models and one tiny RGBA run."""
    from starlette.testclient import TestClient

    from conftest import tiny_config, write_tiny_dataset
    from pokegan.training.loop import Trainer
    from pokegan.web.catalog import Catalog
    from pokegan.web.server import create_app

    root = tmp_path_factory.mktemp("served")
    data = write_tiny_dataset(root / "tiny.data")
    t = Trainer.new(tiny_config("dcgan", background="transparent"), str(data), root / "runs", progress="quiet",
                    log=lambda m: None)
    t.run()
    return TestClient(create_app(Catalog(runs=root / "runs")))


def _routes():
    from pokegan.web.query import LIMITS

    def num(name, limit=None, kind=int):
        lo, hi = LIMITS[limit or name]
        inner = st.integers(lo, hi) if kind is int else st.floats(lo, hi)
        return st.one_of(st.sampled_from([lo, hi]), inner)  # the corners, and anything between

    common = {"truncation": num("truncation", kind=float), "palette": st.sampled_from([0, 2, 16, 64]),
              "scale": num("scale"), "transparent": st.sampled_from(["0", "1"]), "min_fragment": num("min_fragment"),
              "dehalo": num("dehalo"), "outline": st.sampled_from(["0", "1"])}
    return {
        "/api/sprites": {"n": num("n"), "seed": num("seed"), **common},
        "/api/sprite": {"seed": num("seed"), "index": num("index"), **common},
        "/api/sheet": {"n": num("n", "sheet_n"), "seed": num("seed"), **common},
        "/api/variations": {"seed": num("seed"), "index": num("index"), "n": num("n"),
                            "strength": num("strength", kind=float), **common},
        "/api/interpolate": {"a_seed": num("seed"), "a_index": num("index"), "b_seed": num("seed"),
                             "b_index": num("index"), "steps": num("steps"), "duration": num("duration"),
                             "format": st.sampled_from(["json", "gif", "png"]), **common},
    }


@st.composite
def requests(draw):
    routes = _routes()
    route = draw(st.sampled_from(sorted(routes)))
    params = {k: draw(v) for k, v in routes[route].items() if draw(st.booleans())}
    return route, params


@pytest.mark.slow
@settings(max_examples=60, **SETTINGS)
@given(req=requests())
def test_every_route_answers_every_declared_value_without_a_5xx(served, req):
    """Within the declared ranges (and at their corners) a route answers 200 or a 422 that names the
    request's budget; derived quantities (variation seeds from seed and index) never overflow."""
    route, params = req
    params = {**params, "model": "00000-dcgan-tiny"}
    if params.get("transparent") != "1":
        params.pop("min_fragment", None), params.pop("dehalo", None), params.pop("outline", None)
    r = served.get(route, params=params)
    assert r.status_code in (200, 422), (route, params, r.status_code, r.text[:300])
    if r.status_code == 422:
        assert "budget" in r.json()["error"], (route, params, r.text)


def test_the_largest_seed_and_index_give_variations_on_the_shipped_model(served):
    r = served.get("/api/variations?model=pretrained&seed=9223372036854775807&index=4095&n=64&strength=2")
    assert r.status_code == 200 and len(r.json()["sprites"]) == 64
    from pokegan.interpolate import variation_seed

    assert variation_seed(5, 3) == 5 * 4096 + 3                       # unchanged below 2^51: the same sprites
    assert 0 <= variation_seed(2 ** 63 - 1, 4095) < 2 ** 63


def test_a_request_over_the_pixel_budget_is_refused_before_it_runs(served, monkeypatch):
    from pokegan.web import query
    from pokegan.web.query import BadParam, MAX_REQUEST_PIXELS, check_cost

    with pytest.raises(BadParam, match="at most 28 at scale 8"):       # a 96px model at its top
        check_cost(64, 96, 8, "sprites")
    assert check_cost(64, 64, 8, "sprites") == MAX_REQUEST_PIXELS        # a 64px model's top fits exactly
    assert served.get("/api/sprites?model=pretrained&n=64&scale=8").status_code == 200
    monkeypatch.setattr(query, "MAX_REQUEST_PIXELS", 64 * 64 * 10)     # the route asks before it runs
    r = served.get("/api/sprites?model=pretrained&n=11")
    assert r.status_code == 422 and "40,960 a request" in r.json()["error"] and "at most 10" in r.json()["error"]


# -- the run files -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def a_run(tmp_path_factory):
    from conftest import tiny_config, write_tiny_dataset
    from pokegan.training.loop import Trainer

    root = tmp_path_factory.mktemp("arun")
    data = write_tiny_dataset(root / "tiny.data")
    t = Trainer.new(tiny_config("dcgan"), str(data), root / "runs", progress="quiet", log=lambda m: None)
    t.run()
    return t.run_dir


def _copy(run, tmp_path):
    dst = tmp_path / "run"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(run, dst)
    return dst


@pytest.mark.slow
@pytest.mark.parametrize("text", ["[]", "null", "5", '"x"', "{", ""])
def test_report_names_a_config_of_another_shape(a_run, tmp_path, text):
    from pokegan.report import build_report

    run = _copy(a_run, tmp_path)
    (run / "config.json").write_text(text)
    with pytest.raises(PokeganError, match=r"config\.json: the run's configuration"):
        build_report(run)


@pytest.mark.slow
@settings(max_examples=12, **SETTINGS)
@given(config_field=JSON, rows=st.lists(JSON, max_size=4), per_type=JSON)
def test_report_reads_any_json_in_the_run_files(a_run, tmp_path, config_field, rows, per_type):
    """Whatever JSON the stats, metrics, per-type table or the config's `config` hold, the report is written
    or refused with a PokeganError; it never raises anything else."""
    from pokegan.report import build_report

    run = _copy(a_run, tmp_path)
    cfg = json.loads((run / "config.json").read_text())
    cfg["config"] = config_field
    (run / "config.json").write_text(_dumps(cfg))
    with open(run / "stats.jsonl", "a") as f:
        f.write("".join(_dumps(r) + "\n" for r in rows) + "[1, 2]\n")
    (run / "metrics.jsonl").write_text("".join(_dumps(r) + "\n" for r in rows))
    (run / "per_type.json").write_text(_dumps(per_type))
    try:
        page = build_report(run)
    except PokeganError as e:
        assert "config.json" in str(e)
        assert not isinstance(config_field, dict)
    else:
        assert page.startswith("<!DOCTYPE html>")


@settings(max_examples=25, **SETTINGS)
@given(field=st.sampled_from(["step", "nimg", "tick", "kimg", "rollbacks", "elapsed_s"]), value=JSON)
def test_resume_validates_every_counter_of_the_state(a_run, tmp_path, field, value):
    from pokegan.training.loop import Trainer

    run = _copy(a_run, tmp_path)
    path = run / "checkpoints" / "latest" / "state.json"
    state = json.loads(path.read_text())
    good = state.get(field)
    state[field] = value
    path.write_text(_dumps(state))
    try:
        t = Trainer.resume(run, progress="quiet")
    except PokeganError as e:
        assert "state.json" in str(e) and repr(field) in str(e)
    else:  # only a value that means the same as the saved one may pass
        assert value == good or (field in ("rollbacks", "elapsed_s") and isinstance(value, (int, float)))
        assert t.nimg >= 0 and t.step >= 0


def test_resume_refuses_a_negative_kimg_naming_the_field(a_run, tmp_path):
    from pokegan.training.loop import Trainer

    run = _copy(a_run, tmp_path)
    path = run / "checkpoints" / "latest" / "state.json"
    state = json.loads(path.read_text())
    state["nimg"], state["kimg"] = -10 ** 12, -1e9
    path.write_text(json.dumps(state))
    with pytest.raises(PokeganError, match=r"state\.json: field 'nimg' should be a whole number from 0"):
        Trainer.resume(run, progress="quiet")


def test_a_missing_training_state_is_called_missing(a_run, tmp_path):
    from pokegan.training.loop import Trainer

    run = _copy(a_run, tmp_path)
    (run / "checkpoints" / "latest" / "train_state.safetensors").unlink()
    with pytest.raises(PokeganError, match=r"train_state\.safetensors: missing; this checkpoint has no training"):
        Trainer.resume(run, progress="quiet")


@settings(max_examples=30, **SETTINGS)
@given(card=JSON, seen=JSON, kimg=JSON)
def test_model_lists_read_any_card_and_state_values(tmp_path, card, seen, kimg):
    from pokegan.runfiles import model_info, read_card

    (tmp_path / "card.json").write_text(_dumps(card))
    got = read_card(tmp_path)
    assert all(isinstance(v, (int, float, str)) for v in got.values())
    info = model_info({"family": "fastgan", "resolution": 64, "channels": 3, "background": "white",
                       "config": {}, "types_seen": seen, "kimg": kimg})
    assert all(isinstance(t, str) for t in info["types"])
    assert info["kimg"] is None or info["kimg"] >= 0


@settings(max_examples=40, **SETTINGS)
@given(lines=st.lists(JSON, max_size=6))
def test_log_rows_are_objects_with_finite_numbers(tmp_path, lines):
    from pokegan.runfiles import finite, read_rows

    p = tmp_path / "stats.jsonl"
    p.write_text("".join(_dumps(v) + "\n" for v in lines) + '{"kimg": 1.0, "loss_d": NaN, "warnings": 3}\n')
    rows = read_rows(p)
    assert rows[-1] == {"kimg": 1.0, "warnings": []}
    for r in rows:
        assert finite(r["kimg"]) and isinstance(r["warnings"], list)
        assert all(finite(v) for v in r.values() if isinstance(v, float))


@settings(max_examples=20, **SETTINGS)
@given(options=st.dictionaries(st.sampled_from(["g_base", "lecam_weight", "reuse_fakes", "palette_output"]), JSON,
                               max_size=3))
def test_family_options_from_a_file_are_type_checked(options):
    from pokegan.models.registry import get_family

    try:
        get_family("fastgan").check_options(options)
    except PokeganError as e:
        assert "not supported" not in str(e)   # never Python's raw comparison error


@pytest.mark.slow
def test_bad_option_values_are_named(tmp_path, tiny_data):
    for kv, message in (("lecam_weight=nan", "expected a finite float"), ("g_base=1.5", "expected int")):
        r = subprocess.run(CLI + ["train", "--data", str(tiny_data), "--kimg", "0.01", "--run-dir", str(tmp_path),
                                  "--set", kv], capture_output=True, text=True)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = subprocess.run(CLI + ["data", "prepare", str(tmp_path), "--max-pixels", "0", "--out", str(tmp_path / "x.data")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "max_pixels 0" in r.stderr


# -- outputs bounded by what is kept -------------------------------------------------------------------------------

@pytest.mark.slow
def test_generate_no_png_makes_only_the_sheet_it_keeps(a_run, tmp_path):
    out = tmp_path / "many"
    r = subprocess.run(CLI + ["generate", str(a_run), "--n", "1000000", "--no-png", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "making those, not 1,000,000" in r.stdout
    index = json.loads((out / "sheet.json").read_text())
    assert len(index["frames"]) == 4096 and not list(out.glob("0*.png"))


@pytest.mark.slow
def test_a_walk_over_the_pixel_budget_is_refused_and_long_strips_wrap(a_run, tmp_path):
    import numpy as np

    from pokegan.interpolate import STRIP_ROW, strip

    r = subprocess.run(CLI + ["interpolate", str(a_run), "--seeds", *map(str, range(40)), "--steps", "1000",
                              "--out", str(tmp_path / "w.gif")], capture_output=True, text=True)
    assert r.returncode == 2 and "over the budget" in r.stderr and not (tmp_path / "w.gif").exists()
    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(STRIP_ROW + 3)]
    s = strip(frames)
    assert s.shape == (8, 4 * STRIP_ROW, 3) and s[4, 0, 0] == STRIP_ROW and s[4, -1, 0] == 255


@pytest.mark.slow
def test_export_runs_what_it_writes_and_refuses_a_non_finite_graph(a_run, tmp_path):
    from safetensors.torch import load_file, save_file

    run = _copy(a_run, tmp_path)
    w = run / "checkpoints" / "latest" / "weights.safetensors"
    tensors = load_file(w)
    for k in tensors:  # finite weights whose output overflows
        if k.startswith(("G.", "G_ema.")) and tensors[k].is_floating_point() and tensors[k].ndim == 4:
            tensors[k] = tensors[k] * 1e30
    save_file(tensors, w)
    out = tmp_path / "engine"
    r = subprocess.run(CLI + ["export", str(run), "--onnx", str(out)], capture_output=True, text=True)
    assert r.returncode == 2 and "not finite" in r.stderr and not (out / "generator.onnx").exists(), r.stderr
    r = subprocess.run(CLI + ["export", str(a_run), "--onnx", str(out)], capture_output=True, text=True)
    assert r.returncode == 0 and (out / "generator.onnx").is_file(), r.stderr
