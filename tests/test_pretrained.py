"""The shipped pretrained generator: loads offline from the package, small, and reproducible by seed."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from pokegan.generator.sprites import load_generator
from pokegan.generator.shipped import pretrained_path

CLI = [sys.executable, "-m", "pokegan.cli.main"]


def test_pretrained_is_shipped_small_and_documented():
    folder = pretrained_path()
    weights = folder / "weights.safetensors"
    assert weights.exists() and weights.stat().st_size < 20 * 2**20
    from safetensors import safe_open

    with safe_open(str(weights), framework="pt") as f:
        dtypes = {str(f.get_tensor(k).dtype) for k in f.keys()}
    assert "torch.float16" in dtypes and "torch.float32" not in dtypes
    state = json.loads((folder / "state.json").read_text())
    assert state["family"] == "fastgan" and state["resolution"] == 64
    card = (folder / "MODEL_CARD.md").read_text()
    assert "FID" in card and "kimg" in card


@pytest.mark.slow
def test_pretrained_generates_the_same_sprites_for_the_same_seed():
    a = load_generator().arrays(6, seed=7)
    b = load_generator().arrays(6, seed=7)
    assert a.shape == (6, 64, 64, 3) and np.array_equal(a, b)
    assert not np.array_equal(a, load_generator().arrays(6, seed=8))
    assert a.std() > 10  # images, not a constant


@pytest.mark.slow
def test_generate_without_a_run_uses_the_pretrained_model(tmp_path):
    for d in ("a", "b"):
        r = subprocess.run(CLI + ["generate", "--n", "4", "--seed", "0", "--out", str(tmp_path / d)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in (tmp_path / "a").glob("*.png"))
    assert files == ["0000.png", "0001.png", "0002.png", "0003.png", "grid.png", "sheet.png"]
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)


def test_pretrained_draws_its_white_background_exactly():
    raw = load_generator().arrays(16, seed=0, bg_tolerance=0).astype(int)
    snapped = load_generator().arrays(16, seed=0).astype(int)
    haze = (raw.min(-1) >= 250) & (raw.min(-1) < 255)
    assert haze.mean() > 0.05                          # tanh leaves much of the background at 250-254
    assert (snapped[haze] == 255).all()                # drawn as the background itself
    assert np.array_equal(snapped[~haze], raw[~haze])  # and nothing else changed
    assert not ((snapped.min(-1) >= 250) & (snapped.min(-1) < 255)).any()


def test_a_folder_named_like_the_default_where_pokegan_runs_does_not_hide_it(tmp_path, monkeypatch):
    from pokegan.core.errors import PokeganError

    (tmp_path / "pretrained").mkdir()
    (tmp_path / "pretrained" / "state.json").write_text("{}")       # someone's own folder, not a checkpoint
    monkeypatch.chdir(tmp_path)
    assert load_generator().source == str(pretrained_path())           # no model asked for: the shipped default
    r = subprocess.run(CLI + ["generate", "--n", "2", "--out", "out"], capture_output=True, text=True)
    assert r.returncode == 0 and (tmp_path / "out" / "0001.png").is_file(), r.stderr
    with pytest.raises(PokeganError, match="a path comes before the shipped model of that name"):
        load_generator("pretrained")                                   # named: the path here, and why it fails
