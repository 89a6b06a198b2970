"""Metrics against hand computations and constructed cases; the Inception network offline; eval CLI."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pokegan.metrics.fid import fid, frechet_distance, stats
from pokegan.metrics.kid import kid, mmd2_unbiased
from pokegan.metrics.novelty import novelty
from pokegan.metrics.precision_recall import precision_recall


def test_fid_of_a_set_with_itself_is_zero():
    x = np.random.default_rng(0).normal(size=(300, 16))
    assert abs(fid(x, x)) < 1e-8


def test_fid_matches_hand_computation_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    hand = ((mu1 - mu2) ** 2).sum() + (v1 + v2 - 2 * np.sqrt(v1 * v2)).sum()  # 5 + (1 + 1 + 4) = 11
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(hand, abs=1e-9)
    assert hand == pytest.approx(11.0)


def test_fid_matches_pytorch_fid_formula_with_scipy_sqrtm():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 32))
    b = rng.normal(size=(400, 32)) @ rng.normal(size=(32, 32)) * 0.3 + 0.5
    m1, s1 = stats(a)
    m2, s2 = stats(b)
    covmean = scipy_linalg.sqrtm(s1.dot(s2))  # pytorch-fid's calculate_frechet_distance (its disp=False is deprecated)
    ref = ((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real)
    assert fid(a, b) == pytest.approx(ref, rel=1e-7)


def test_kid_unbiased_against_hand_computation():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([[0.0, 0.0], [2.0, 0.0]])
    k = lambda a, b: (a @ b / 2 + 1) ** 3
    xx = sum(k(x[i], x[j]) for i in range(3) for j in range(3) if i != j) / 6
    yy = (k(y[0], y[1]) + k(y[1], y[0])) / 2
    xy = sum(k(a, b) for a in x for b in y) / 6
    assert mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy)
    rng = np.random.default_rng(2)
    same = rng.normal(size=(400, 8))
    other = rng.normal(size=(400, 8))
    assert abs(kid(same, other, subsets=20, subset_size=200)[0]) < 0.02   # same distribution: ~0
    assert kid(same, other + 1.0, subsets=20, subset_size=200)[0] > 0.1


def test_kid_from_whole_kernels_equals_kid_per_subset(monkeypatch):
    """KID sums blocks of kernels computed once; the same draws computed subset by subset agree."""
    import pokegan.metrics.kid as kid_mod

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(300, 16)), rng.normal(0.3, 1.0, size=(250, 16))
    fast = kid(a, b, subsets=7, subset_size=120, seed=5)
    monkeypatch.setattr(kid_mod, "_WHOLE_KERNEL_MAX", 0)
    slow = kid(a, b, subsets=7, subset_size=120, seed=5)
    assert fast[0] > 0.01 and fast == pytest.approx(slow, rel=1e-9)


def test_precision_recall_constructed_cases():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(500, 2))
    p, r = precision_recall(real, rng.normal(size=(500, 2)))
    assert p > 0.8 and r > 0.8
    p, r = precision_recall(real, rng.normal(size=(500, 2)) + 20)   # all fakes far away
    assert p == 0.0 and r == 0.0
    p, r = precision_recall(real, rng.normal(size=(500, 2)) * 0.1)  # good but collapsed: precise, no recall
    assert p > 0.95 and r < 0.4


def test_novelty_flags_planted_copies():
    rng = np.random.default_rng(4)
    train_f, train_px = rng.normal(size=(200, 16)), rng.uniform(size=(200, 48))
    new_f, new_px = rng.normal(size=(100, 16)), rng.uniform(size=(100, 48))
    clean = novelty(new_f, train_f, new_px, train_px)
    copies = np.arange(30)
    gen_f, gen_px = new_f.copy(), new_px.copy()
    gen_f[:30] = train_f[copies] + 1e-3
    gen_px[:30] = train_px[copies] + 1e-3
    planted = novelty(gen_f, train_f, gen_px, train_px)
    assert clean.near_copy_share < 0.05
    assert planted.near_copy_share == pytest.approx(0.3, abs=0.03)
    assert (planted.nearest_px[:30] == copies).all()


def test_training_never_imports_the_evaluation_network():
    src = Path(__file__).parent.parent / "src" / "pokegan"
    for pkg in ("training", "models", "augment"):
        for f in (src / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(f.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                assert not any(n.startswith("pokegan.metrics") for n in names), f"{f} imports {names}"


@pytest.fixture(scope="module")
def inception():
    from pokegan.metrics.inception import InceptionFeatures

    return InceptionFeatures(batch=8)


def test_inception_loads_offline_and_gives_2048_features(inception):
    imgs = np.random.default_rng(5).integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    f = inception(imgs)
    assert f.shape == (3, 2048) and f.dtype == np.float64 and np.isfinite(f).all()
    assert (f >= 0).all() and f.std() > 0  # pool features after ReLU, and not constant
    assert np.allclose(inception(imgs[:1]), f[:1], atol=1e-4)  # batch-independent


@pytest.mark.slow
def test_eval_cli_end_to_end(tiny_data, tmp_path):
    from pokegan.data import load_dataset

    ds = load_dataset(tiny_data)
    folder = tmp_path / "gen"
    folder.mkdir()
    from PIL import Image

    for i in range(6):  # six training sprites, saved as if generated
        Image.fromarray(ds.images[i], "RGBA").save(folder / f"copy{i}.png")
    out = tmp_path / "out.json"
    r = subprocess.run([sys.executable, "-m", "pokegan.cli.main", "eval", str(folder), "--data", str(tiny_data),
                        "--json", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    for key in ("fid", "kid", "precision", "recall", "near_copy_share", "num_generated", "num_real",
                "floor_fid", "floor_kid"):
        assert key in res
    assert res["num_generated"] == 6 and res["num_real"] == 24
    assert res["near_copy_share"] == 1.0       # every one of them is a training sprite
    assert Path(res["nearest_png"]).exists()
    assert "FID" in r.stdout and "floor" in r.stdout
    from pokegan.metrics.sprite_shape import measure   # game-readiness, of the files and of the real data

    assert res["sprite_one_piece_share"] == measure(ds.images[:6])["one_piece_share"]
    assert res["real_sprite_dark_edge_share"] == measure(ds.images)["dark_edge_share"] and "one piece" in r.stdout


@pytest.mark.slow
def test_evaluation_during_training_writes_metrics(tiny_data, tmp_path):
    from pokegan.data import load_dataset
    from pokegan.metrics.evaluate import EvalConfig, evaluate_arrays
    from pokegan.training.loop import Trainer

    from conftest import tiny_config

    ds = load_dataset(tiny_data)
    calls = []

    def evaluator(images):
        calls.append(images.shape)
        return evaluate_arrays(images, ds, EvalConfig(kid_subsets=5), log=lambda m: None)[0]

    t = Trainer.new(tiny_config("dcgan", eval_every_kimg=0.064, eval_num=8), str(tiny_data), tmp_path,
                    progress="quiet", log=lambda m: None, evaluator=evaluator)
    t.run()
    rows = [json.loads(l) for l in (t.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert calls == [(8, 32, 32, 3)] and rows[0]["num_generated"] == 8 and np.isfinite(rows[0]["fid"])
    stats = [json.loads(l) for l in (t.run_dir / "stats.jsonl").read_text().splitlines()]
    assert any("eval_fid" in r for r in stats)


def test_fid_weights_override_names_its_file_and_keeps_its_own_cache(monkeypatch, tmp_path, tiny_data):
    from pokegan.data import load_dataset
    from pokegan.core.errors import PokeganError
    from pokegan.metrics.evaluate import cached_real_features
    from pokegan.metrics.inception import weights_path

    standard = weights_path()
    assert standard.name == "default_1.pt"
    monkeypatch.setenv("POKEGAN_FID_WEIGHTS", str(tmp_path / "missing.pt"))
    with pytest.raises(PokeganError, match="missing.pt"):
        weights_path()
    other = tmp_path / "other.pt"
    other.write_bytes(b"x")
    monkeypatch.setenv("POKEGAN_FID_WEIGHTS", str(other))
    assert weights_path() == other

    # real features computed under another network are cached apart from the standard network's
    monkeypatch.setenv("POKEGAN_CACHE", str(tmp_path / "cache"))
    ds = load_dataset(tiny_data)
    calls = []

    def fake(value):
        return lambda rgb, progress=None: calls.append(value) or np.full((len(rgb), 2048), value)

    assert cached_real_features(ds, fake(1.0), log=lambda m: None)[0, 0] == 1.0
    monkeypatch.delenv("POKEGAN_FID_WEIGHTS")
    assert cached_real_features(ds, fake(2.0), log=lambda m: None)[0, 0] == 2.0
    assert cached_real_features(ds, fake(3.0), log=lambda m: None)[0, 0] == 2.0  # the standard cache, reused
    assert calls == [1.0, 2.0] and len(list((tmp_path / "cache" / "features").glob("*.npy"))) == 2


def test_in_training_evaluation_scores_rgba_sprites_as_generate_writes_them(tiny_data, tmp_path):
    from pokegan.training.loop import Trainer

    from conftest import tiny_config

    seen = []

    def evaluator(images):
        seen.append(images)
        return {"fid": 1.0}

    t = Trainer.new(tiny_config("dcgan", background="transparent", eval_every_kimg=0.064, eval_num=8),
                    str(tiny_data), tmp_path, progress="quiet", log=lambda m: None, evaluator=evaluator)
    t.run()
    assert len(seen) == 1 and seen[0].shape == (8, 32, 32, 4)
    alpha = seen[0][..., 3]
    assert set(np.unique(alpha)) <= {0, 255}            # binary, as `pokegan generate` writes it
    assert (seen[0][alpha == 0, :3] == 0).all()


def test_sprite_shape_measures_on_planted_sprites():
    """One piece or not (8-connected), stray pixels, the white and dark shares of edge pixels, colours."""
    from pokegan.metrics.sprite_shape import measure

    a = np.zeros((2, 8, 8, 4), np.uint8)
    a[0, 2:6, 2:6] = (250, 250, 250, 255)       # a 4x4 white square: one piece, every edge pixel near-white
    a[0, 3:5, 3:5] = (120, 10, 10, 255)         # its inside, not edge, red
    a[1, 1:4, 1:4] = (20, 20, 20, 255)          # a dark 3x3 block (edge: 8 dark pixels, centre not edge)
    a[1, 4, 4] = (20, 20, 20, 255)              # touching it only diagonally: still the same piece
    a[1, 7, 0] = (90, 200, 30, 200)             # a stray pixel alone in a corner
    a[1, 0, 7] = (1, 2, 3, 100)                 # under the alpha threshold: not there
    m = measure(a)
    assert m["one_piece_share"] == 0.5                          # the second sprite has a stray
    assert m["stray_pixel_share"] == pytest.approx((0 + 1 / 11) / 2)
    assert m["near_white_edge_share"] == pytest.approx(12 / (12 + 9 + 1))
    assert m["dark_edge_share"] == pytest.approx(9 / (12 + 9 + 1))   # 8 of the block and the diagonal one
    assert m["colours_median"] == 2.0
    with pytest.raises(ValueError, match="RGBA"):
        measure(a[..., :3])
