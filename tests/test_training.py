"""The training engine on tiny models and tiny data: every family, checkpoints, exact resume, signals,
the health monitor, and the CLI in a subprocess."""
from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file

from pokegan.core.errors import PokeganError
from pokegan.presets import PRESETS
from pokegan.models import checkpoint as ckpt
from pokegan.config import TrainConfig
from pokegan.training.loop import Trainer
from pokegan.training.monitor import HealthMonitor

from conftest import sigterm_after_ticks, tiny_config


@pytest.mark.slow
@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_trains_at_32px(preset, tiny_data, tmp_path):
    t = Trainer.new(tiny_config(preset), str(tiny_data), tmp_path / "runs", progress="quiet", log=lambda m: None)
    t.run()
    rows = [json.loads(l) for l in (t.run_dir / "stats.jsonl").read_text().splitlines()]
    assert rows and rows[-1]["kimg"] >= 0.064
    for r in rows:
        for k in ("loss_d", "loss_g", "img_per_sec", "d_real", "d_fake_after_g", "peak_mem_mb"):
            assert k in r and math.isfinite(r[k]), (k, r)
    # the collapse measures of the fixed-latent grid, against real sprites' (on white: a silhouette to find)
    assert rows[-1]["diversity"] >= 0 and 0 <= rows[-1]["overlap"] < 10
    out = t.sample()
    assert out.shape == (16, 3, 32, 32) and torch.isfinite(out).all()
    assert (t.run_dir / "samples" / "latest.png").exists() and (t.run_dir / "loss_curves.png").exists()
    assert (t.run_dir / "checkpoints" / "latest" / "weights.safetensors").exists()


def test_progan_grows_to_full_size(tiny_data, tmp_path):
    # level_kimg 0.016: 4x4 stable, then 8, 16 and 32 each fade + stable = 7 * 16 = 112 images
    t = Trainer.new(tiny_config("progan", kimg=0.128), str(tiny_data), tmp_path, progress="quiet", log=lambda m: None)
    t.run()
    assert (t.nets["G"].level, t.nets["G"].alpha) == (3, 1.0) and t.nets["D"].level == 3
    t2 = Trainer.resume(t.run_dir, progress="quiet")  # growth state comes back with the weights
    assert t2.nets["G"].level == 3


def test_rgba_training_outputs_four_channels(tiny_data, tmp_path):
    t = Trainer.new(tiny_config("dcgan", background="transparent", augment="flip,rotate,shift,zoom"),
                    str(tiny_data), tmp_path, progress="quiet", log=lambda m: None)
    t.run()
    assert t.sample().shape == (16, 4, 32, 32)


@pytest.mark.slow
def test_channels_last_is_a_layout_not_a_different_model(tiny_data, tmp_path):
    """channels_last changes how weights sit in memory (a speed choice), not the model: both layouts start
    from the same weights, train to nearly the same place, and the checkpoint tensors load either way."""
    runs = {}
    for cl in (True, False):
        t = Trainer.new(tiny_config("fastgan", kimg=0.032, channels_last=cl), str(tiny_data), tmp_path / str(cl),
                        progress="quiet", log=lambda m: None)
        # (a 1x1 kernel or a single input channel is laid out the same either way)
        convs = [p for m in t.nets.values() for p in m.parameters()
                 if p.dim() == 4 and p.shape[1] > 1 and p.shape[-1] > 1]
        assert convs and all(p.is_contiguous(memory_format=torch.channels_last) == cl for p in convs)
        assert all(p.is_contiguous() != cl for p in convs)
        t.run()
        runs[cl] = _weights(t.run_dir)
    a, b = runs[True], runs[False]
    assert a.keys() == b.keys()
    worst = max((a[k].float() - b[k].float()).abs().max().item() for k in a)
    assert worst < 1e-2  # float rounding may differ with the layout; nothing else does


@pytest.mark.parametrize("reuse", [True, False])
def test_fastgan_g_step_reuses_the_d_steps_fakes_only_when_asked(reuse, tiny_data, tmp_path):
    cfg = tiny_config("fastgan", kimg=0.016)
    cfg = replace(cfg, options={**cfg.options, "reuse_fakes": reuse})
    t = Trainer.new(cfg, str(tiny_data), tmp_path, progress="quiet", log=lambda m: None)
    fam, (d_phase, g_phase) = t.family, t.phases
    seen = []
    scored = fam.disc
    fam.disc = lambda x, real=False, c=None: seen.append(x) or scored(x, real, c)
    real = t.feed.next(cfg.batch, 0, 1)
    t._phase_grads(d_phase)
    loss, _ = d_phase.loss(real)
    loss.backward()
    G = t.nets["G"]
    assert all(p.grad is None for p in G.parameters())  # the D step never trains G
    assert (fam._fake is not None and fam._fake[0].requires_grad) == reuse  # (images, latents)
    d_fake = seen[-1]
    t._phase_grads(g_phase)
    loss, _ = g_phase.loss(None)
    loss.backward()
    g_fake = seen[-1]
    # reused: the same images (one G pass fewer); otherwise new latents give new images
    assert torch.equal(g_fake.detach(), d_fake) == reuse
    assert fam._fake is None and all(p.grad is not None for p in G.parameters() if p.requires_grad)
    t.run()  # and it trains
    assert (t.run_dir / "checkpoints" / "latest" / "weights.safetensors").exists()


@pytest.mark.slow
@pytest.mark.parametrize("native_bf16,bf16_ms", [(True, 50.0), (True, 95.0), (False, 50.0)])
def test_bf16_autocast_on_cpu_only_when_asked_native_and_measured_faster(native_bf16, bf16_ms, tiny_data, tmp_path,
                                                                         monkeypatch):
    """A CPU trains under bf16 autocast only with --amp-cpu, native bf16 (AVX512-BF16 or AMX; elsewhere it would
    be emulated) and a timing of the run's own iterations that finds it at least 1.1x faster (0.79x on one
    Xeon with native bf16); otherwise fp32. CUDA only with --amp. The run records the choice and the timing."""
    import pokegan.training.loop as loop
    from pokegan.training.precision import Timing, bf16_autocast_ok

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native_bf16, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    timed = []
    monkeypatch.setattr(loop, "time_iterations", lambda fam, real: timed.append(real.shape) or Timing(100.0, bf16_ms))
    cpu = torch.device("cpu")
    assert bf16_autocast_ok(cpu, cpu=True) == native_bf16 and not bf16_autocast_ok(cpu, cuda=True)
    cuda = torch.device("cuda")
    assert bf16_autocast_ok(cuda, cuda=True) and not bf16_autocast_ok(cuda, cpu=True)
    assert not bf16_autocast_ok(torch.device("mps"), cuda=True, cpu=True)
    assert TrainConfig().amp is False and TrainConfig().amp_cpu is False  # fp32 unless asked
    faster = native_bf16 and bf16_ms <= 100 / 1.1
    for amp_cpu in (True, False):
        said, timed[:] = [], []
        cfg = tiny_config("fastgan", kimg=0.016, amp_cpu=amp_cpu, deterministic=False)
        t = Trainer.new(cfg, str(tiny_data), tmp_path / str(amp_cpu), progress="lines", log=said.append)
        assert any("no native bf16" in m for m in said) == (amp_cpu and not native_bf16)  # asked, not had: told
        assert bool(timed) == (amp_cpu and native_bf16) and timed[:1] in ([], [(8, 3, 32, 32)])  # measured only then
        assert any("(1.05x), so training runs in fp32" in m for m in said) == (amp_cpu and native_bf16 and not faster)
        seen = []
        conv = next(m for m in t.nets["D"].modules() if isinstance(m, torch.nn.Conv2d))
        conv.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
        t.run()
        if amp_cpu and faster:  # the training steps (upkeep's health probes run D in fp32)
            assert seen.count(torch.bfloat16) >= 4
        else:
            assert seen and set(seen) == {torch.float32}
        assert all(p.dtype == torch.float32 for p in t.nets["G"].parameters())  # the weights stay fp32
        state = json.loads((t.run_dir / "checkpoints" / "latest" / "state.json").read_text())
        assert state["bf16_autocast"] == (amp_cpu and faster)
        assert state["bf16_timing"] == ({"fp32_ms": 100.0, "bf16_ms": bf16_ms} if timed else None)


def test_a_resumed_or_deterministic_run_does_not_remeasure_bf16(tiny_data, tmp_path, monkeypatch, capsys):
    """A resumed run keeps the numerics it started with (its checkpoint says which), and a deterministic run
    takes native bf16 without letting a clock decide: neither times anything."""
    import pokegan.training.loop as loop
    from pokegan.training.precision import Timing

    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    monkeypatch.setattr(loop, "time_iterations", lambda fam, real: Timing(100.0, 50.0))
    t = Trainer.new(tiny_config("fastgan", kimg=0.016, amp_cpu=True, deterministic=False), str(tiny_data),
                    tmp_path / "a", progress="quiet", log=lambda m: None)
    t.run()
    assert t.use_amp

    def no_timing(fam, real):
        raise AssertionError("timed again")

    monkeypatch.setattr(loop, "time_iterations", no_timing)
    capsys.readouterr()
    resumed = Trainer.resume(t.run_dir, kimg=0.032, progress="quiet")  # logs to stderr
    assert resumed.use_amp and "bf16, as this run started" in capsys.readouterr().err
    assert resumed.bf16_timing == Timing(100.0, 50.0)  # the start's timing, kept in later checkpoints
    det = Trainer.new(tiny_config("fastgan", kimg=0.016, amp_cpu=True, deterministic=True), str(tiny_data),
                      tmp_path / "b", progress="quiet", log=lambda m: None)
    assert det.use_amp and det.bf16_timing is None


def test_timing_bf16_leaves_the_run_exactly_as_it_was(tiny_data, tmp_path):
    """The measurement trains a copy: the run's weights, batch-norm buffers, optimiser state, random state and
    augmentation are untouched, so a run that measured trains as one that did not."""
    from pokegan.training.precision import time_iterations

    cfg = tiny_config("fastgan", kimg=0.016, options={**tiny_config("fastgan").options, "lecam_weight": 0.3})
    t = Trainer.new(cfg, str(tiny_data), tmp_path, progress="quiet", log=lambda m: None)
    before = {k: {n: v.clone() for n, v in m.state_dict().items()} for k, m in t.nets.items()}
    rng, lecam = torch.get_rng_state(), copy.deepcopy(t.family.lecam.state())
    tm = time_iterations(t.family, t.feed.fixed(8, 3), rounds=1)
    assert tm.fp32_ms > 0 and tm.bf16_ms > 0 and tm.to_dict()["fp32_ms"] == round(tm.fp32_ms, 2)
    assert torch.equal(torch.get_rng_state(), rng) and t.family.lecam.state() == lecam
    assert all(torch.equal(v, before[k][n]) for k, m in t.nets.items() for n, v in m.state_dict().items())
    assert not any(o.state for o in t.opts.values())
    assert all(p.grad is None for m in t.nets.values() for p in m.parameters())


def test_keep_snapshots_keeps_the_newest_and_zero_keeps_every_one(tiny_data, tmp_path):
    folder = tmp_path / "checkpoints"
    names = [f"snapshot-{k:06d}kimg" for k in (10, 20, 30, 40)]
    for n in names:
        (folder / n).mkdir(parents=True)
    (folder / "latest").mkdir()
    ckpt.prune_snapshots(folder, 0)  # 0: an FID-against-minutes curve needs every one
    assert sorted(p.name for p in folder.iterdir()) == ["latest"] + names
    ckpt.prune_snapshots(folder, 2)
    assert sorted(p.name for p in folder.iterdir()) == ["latest"] + names[2:]
    with pytest.raises(PokeganError, match="keep_snapshots=-1"):
        Trainer.new(tiny_config("dcgan", keep_snapshots=-1), str(tiny_data), tmp_path / "runs", progress="quiet")
    assert not (tmp_path / "runs").exists()  # refused before any run folder is written


def test_lecam_regulariser_and_its_anchors():
    """Planted values: only outputs that have crossed the other side's anchor are penalised, quadratically;
    the anchors follow D's latest outputs until `start`, then move as a 0.99 moving average."""
    from pokegan.losses import LeCam

    a = LeCam(decay=0.99, start=2)
    a.load_state({"real": 0.5, "fake": -0.5, "updates": 3})
    reg = a(torch.tensor([1.0, -1.0]), torch.tensor([0.0, 1.0]))
    assert reg.item() == pytest.approx((1.5 ** 2 + 0) / 2 + (0.5 ** 2 + 0) / 2)
    b = LeCam(decay=0.99, start=2)
    for n, r in enumerate((1.0, 3.0), start=1):
        b.update(torch.tensor([r]), torch.tensor([-r]))
        assert b.state() == {"real": r, "fake": -r, "updates": n} and not b.active
    b.update(torch.tensor([5.0]), torch.tensor([-5.0]))
    assert b.state()["real"] == pytest.approx(0.99 * 3 + 0.01 * 5) and b.state()["fake"] == -b.state()["real"]
    assert b.active


@pytest.mark.slow
def test_fastgan_lecam_trains_only_when_asked_and_resumes_exactly(tiny_data, tmp_path):
    """With lecam_weight, D's loss gains the regulariser once its anchors have started; the anchors are
    saved with the checkpoint, so a resumed run continues bit for bit (it would not if they restarted)."""
    from pokegan.config import apply_options
    from pokegan.models.fastgan import FastGANOptions

    def cfg(kimg, lecam):
        c = tiny_config("fastgan", kimg=kimg, ema_kimg=0.05)
        return replace(c, options={**c.options, "lecam_weight": lecam, "lecam_start": 2})

    full = Trainer.new(cfg(0.128, 0.3), str(tiny_data), tmp_path / "a", progress="quiet", log=lambda m: None)
    full.run()
    rows = [json.loads(line) for line in (full.run_dir / "stats.jsonl").read_text().splitlines()]
    assert all(r["lecam"] > 0 for r in rows)
    state = json.loads((full.run_dir / "checkpoints" / "latest" / "state.json").read_text())
    assert state["family_state"]["lecam"]["updates"] == state["step"] == 16
    half = Trainer.new(cfg(0.064, 0.3), str(tiny_data), tmp_path / "b", progress="quiet", log=lambda m: None)
    half.run()
    resumed = Trainer.resume(half.run_dir, kimg=0.128, progress="quiet")
    resumed.log = lambda m: None
    assert resumed.family.lecam.state() == half.family.lecam.state()
    resumed.run()
    a, b = _weights(full.run_dir), _weights(half.run_dir)
    assert not [k for k in a if not torch.equal(a[k], b[k])]
    off = Trainer.new(cfg(0.032, 0.0), str(tiny_data), tmp_path / "c", progress="quiet", log=lambda m: None)
    off.run()
    assert "lecam" not in (off.run_dir / "stats.jsonl").read_text()
    with pytest.raises(PokeganError, match="lecam_weight=-1"):
        apply_options(FastGANOptions, {}, {"lecam_weight": "-1"})


def _weights(run):
    return load_file(str(run / "checkpoints" / "latest" / "weights.safetensors"))


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["dcgan", "wgan", "aegan", "progan", "fastgan-ada"])
def test_resume_is_bit_exact(preset, tiny_data, tmp_path):
    cfg = tiny_config(preset, kimg=0.128, ema_kimg=0.05)
    full = Trainer.new(cfg, str(tiny_data), tmp_path / "a", progress="quiet", log=lambda m: None)
    full.run()
    half = Trainer.new(tiny_config(preset, kimg=0.064, ema_kimg=0.05), str(tiny_data), tmp_path / "b",
                       progress="quiet", log=lambda m: None)
    half.run()
    resumed = Trainer.resume(half.run_dir, kimg=0.128, progress="quiet")
    resumed.log = lambda m: None
    # the optimiser's moments come back in their weights' layout (channels-last), as a fresh run has them
    moments = [(p, v) for o in resumed.opts.values() for p, st in o.state.items() for v in st.values()
               if torch.is_tensor(v) and v.shape == p.shape]
    assert moments and all(v.stride() == p.stride() for p, v in moments)
    resumed.run()
    a, b = _weights(full.run_dir), _weights(half.run_dir)
    assert a.keys() == b.keys() and any(k.startswith("G_ema.") for k in a)
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]


def test_recalibrate_gives_the_generators_own_batch_statistics():
    """After recalibrate, each batch norm's running mean/variance are the statistics of its own input over
    the recalibration latents (not whatever was there before), and a generator without batch norm is left
    as it was."""
    from pokegan.models.ema import recalibrate
    from pokegan.models.fastgan import FastGenerator
    from pokegan.models.progan import ProGenerator

    torch.manual_seed(0)
    G = FastGenerator(8, 32, 3, base=4, w_max=16).eval()
    bn = G.init[1]
    bn.running_mean.fill_(5.0)
    bn.running_var.fill_(9.0)
    seen = []
    hook = bn.register_forward_hook(lambda m, inp, out: seen.append(inp[0].detach().clone()))
    assert recalibrate(G, 8, images=40, batch=16, seed=3)
    hook.remove()
    assert [len(b) for b in seen] == [16, 16, 8] and not G.training  # all 40 latents, mode restored
    # momentum=None keeps a plain average of the batches' means and (unbiased) variances
    torch.testing.assert_close(bn.running_mean, torch.stack([b.mean(dim=(0, 2, 3)) for b in seen]).mean(0))
    torch.testing.assert_close(bn.running_var, torch.stack([b.var(dim=(0, 2, 3)) for b in seen]).mean(0))
    assert bn.momentum == 0.1                              # momentum restored
    a, b = copy.deepcopy(G), copy.deepcopy(G)             # the same weights and vectors: the same result
    b.init[1].running_mean.fill_(-3.0)                     # whatever statistics were there before
    recalibrate(a, 8, images=40, batch=16, seed=3)
    recalibrate(b, 8, images=40, batch=16, seed=3)
    z = torch.randn(4, 8)
    assert torch.equal(a(z), b(z))

    P = ProGenerator(8, 32, 3, 64, 8)                      # pixel norm, no batch norm
    state = {k: v.clone() for k, v in P.state_dict().items()}
    assert not recalibrate(P, 8)
    assert all(torch.equal(v, P.state_dict()[k]) for k, v in state.items())


@pytest.mark.slow
def test_saved_ema_generator_has_its_own_statistics(tiny_data, tmp_path):
    """The EMA generator in a checkpoint carries batch-norm statistics recomputed for its weights, not the
    training generator's copied ones; ema_bn_images=0 keeps the copy."""
    stats = {}
    for n in (64, 0):
        t = Trainer.new(tiny_config("fastgan", kimg=0.064, ema_kimg=0.05, ema_bn_images=n), str(tiny_data),
                        tmp_path / str(n), progress="quiet", log=lambda m: None)
        t.run()
        w = _weights(t.run_dir)
        key = next(k for k in w if k.startswith("G.") and k.endswith("running_mean"))
        stats[n] = (w[key], w["G_ema." + key[2:]])
    g, ema = stats[64]
    assert not torch.equal(g, ema)
    g0, ema0 = stats[0]
    assert torch.equal(g0, ema0)


@pytest.mark.slow
def test_older_checkpoints_are_re_saved_by_export_with_their_statistics(tiny_data, tmp_path):
    """A checkpoint saved before checkpoints named their generator is refused by load_generator with the
    command that re-saves it; `export --out` rebuilds it through its family (recomputing the EMA generator's
    batch-norm statistics where it predates them) and the re-saved copy loads like any other."""
    from pokegan.export.slim import export_generator
    from pokegan.generator.sprites import load_generator

    t = Trainer.new(tiny_config("fastgan", kimg=0.064, ema_kimg=0.05, ema_bn_images=0), str(tiny_data),
                    tmp_path / "runs", progress="quiet", log=lambda m: None)
    t.run()
    ck = t.run_dir / "checkpoints" / "latest"
    saved = _weights(t.run_dir)
    key = next(k for k in saved if k.startswith("G_ema.") and k.endswith("running_mean"))
    as_saved = load_generator(ck).G.state_dict()[key[len("G_ema."):]]
    assert torch.equal(as_saved, saved[key])
    state = json.loads((ck / "state.json").read_text())
    del state["config"]["ema_bn_images"]
    del state["generator"]       # as saved then: before checkpoints named their generator
    (ck / "state.json").write_text(json.dumps(state))
    with pytest.raises(PokeganError, match="before checkpoints named their generator.*pokegan export"):
        load_generator(ck)
    out = export_generator(ck, tmp_path / "resaved", half=False)
    assert "generator" in json.loads((out / "state.json").read_text())
    again = load_generator(out).G.state_dict()[key[len("G_ema."):]]
    assert not torch.equal(again, saved[key])     # recomputed, not copied


def test_checkpoint_round_trip_and_damage(tiny_data, tmp_path):
    t = Trainer.new(tiny_config("dcgan"), str(tiny_data), tmp_path, progress="quiet", log=lambda m: None)
    t.run()
    before = t.sample()
    state, weights, extra = ckpt.read(t.run_dir)
    assert state["family"] == "dcgan" and state["config"]["preset"] == "dcgan" and "version" in state
    assert any(k.startswith("opt.D.") for k in extra) and "rng.cpu" in extra and "feed.perm" in extra
    t2 = Trainer.resume(t.run_dir, progress="quiet")
    assert torch.equal(t2.sample(), before)
    w = t.run_dir / "checkpoints" / "latest" / "weights.safetensors"
    w.write_bytes(w.read_bytes()[:100])
    with pytest.raises(PokeganError, match="damaged network weights"):
        ckpt.read(t.run_dir)
    with pytest.raises(PokeganError, match="no checkpoint"):
        ckpt.read(tmp_path / "nothing-here")


def test_nan_rolls_back_then_gives_up(tiny_data, tmp_path):
    t = Trainer.new(tiny_config("dcgan", kimg=0.128), str(tiny_data), tmp_path / "once", progress="quiet",
                    log=lambda m: None)
    d_phase = t.phases[0]
    real_loss, fired = d_phase.loss, []

    def poisoned(real):
        loss, stats = real_loss(real)
        if t.step == 5 and not fired:  # one bad step
            fired.append(1)
            return loss * float("nan"), {**stats, "loss_d": loss * float("nan")}
        return loss, stats

    d_phase.loss = poisoned
    t.run()
    assert t.rollbacks == 1 and t.nimg >= 128
    assert all(torch.isfinite(p).all() for p in t.G.parameters())
    rows = [json.loads(l) for l in (t.run_dir / "stats.jsonl").read_text().splitlines()]
    assert any(w["kind"] == "nonfinite" for r in rows for w in r["warnings"])

    t = Trainer.new(tiny_config("dcgan", kimg=0.5, max_rollbacks=2), str(tiny_data), tmp_path / "always",
                    progress="quiet", log=lambda m: None)
    always = t.phases[0].loss
    t.phases[0].loss = lambda real: tuple((lambda l, s: (l * float("nan"), {**s, "loss_d": l * float("nan")}))(*always(real)))
    with pytest.raises(PokeganError, match="Rolled back 2 times"):
        t.run()


def test_monitor_flags_planted_traces():
    m = HealthMonitor("prob")
    warned = []
    for i in range(8):
        warned += m.update({"kimg": float(i), "d_real": 0.99, "d_fake_g": 0.01, "loss_d": 0.05, "loss_g": 5.0})
    assert [w["kind"] for w in warned] == ["d_wins"] and warned[0]["kimg"] == 4.0  # 5th tick, once
    healthy = HealthMonitor("prob")
    assert not any(healthy.update({"kimg": float(i), "d_real": 0.7, "d_fake_g": 0.3, "loss_d": 1.2,
                                   "loss_g": 1.0}) for i in range(20))
    assert HealthMonitor("score").update({"kimg": 1.0, "loss_d": float("nan")})[0]["kind"] == "nonfinite"
    critic = HealthMonitor("score")
    kinds = []
    for i in range(15):
        kinds += [w["kind"] for w in critic.update({"kimg": float(i), "loss_d": -1.0 if i < 7 else -50.0 * i,
                                                    "loss_g": 0.5})]
    assert kinds == ["diverging"]
    c = HealthMonitor("prob")
    assert not c.collapse(0.9, 1.0, 1.0) and not c.collapse(0.1, 1.0, 2.0)
    assert c.collapse(0.1, 1.0, 3.0)[0]["kind"] == "mode_collapse"
    # one silhouette in varying colours: pixel diversity looks fine, the overlap of the outlines does not
    shapes = HealthMonitor("prob")
    assert not shapes.collapse(0.6, 1.0, 1.0, overlap=0.5, real_overlap=0.37)     # 1.35x: a run still finding shapes
    assert not shapes.collapse(0.6, 1.0, 2.0, overlap=0.8, real_overlap=0.37)     # first check of two
    w = shapes.collapse(0.6, 1.0, 3.0, overlap=0.8, real_overlap=0.37)
    assert w[0]["kind"] == "mode_collapse" and "silhouette" in w[0]["message"]
    assert not HealthMonitor("prob").collapse(0.6, 1.0, 1.0, overlap=None, real_overlap=None)


def test_silhouette_overlap_tells_one_shape_from_many():
    from pokegan.training.monitor import silhouette_overlap

    x = -torch.ones(4, 4, 8, 8)                       # RGBA in model space, all transparent
    for i in range(4):
        x[i, :, 2 * i:2 * i + 2, :] = 1.0             # four disjoint bars
    assert silhouette_overlap(x, "transparent") == 0.0
    same = x[:1].repeat(4, 1, 1, 1)
    same[1:, :3] = torch.rand(3, 3, 8, 8) * 2 - 1      # same outline, other colours inside: still one shape
    same[:, :3] *= (same[:, 3:] > 0)
    assert silhouette_overlap(same, "transparent") == pytest.approx(1.0)
    half = x[:2].clone()
    half[1, 3, 0:2, :] = 1.0                           # 16 shared pixels of 16 and 32
    assert silhouette_overlap(half, "transparent") == pytest.approx(16 / 32)
    on_white = torch.ones(2, 3, 8, 8)                  # RGB on white: the silhouette is what is off-white
    on_white[:, :, :4] = -1.0
    assert silhouette_overlap(on_white, "white") == pytest.approx(1.0)
    on_white[1] = 1.0
    on_white[1, :, 4:] = -1.0                           # the other half: no pixel shared
    assert silhouette_overlap(on_white, "white") == 0.0
    assert silhouette_overlap(on_white, "random") is None and silhouette_overlap(on_white[:1], "white") is None


def test_augmentation_keeps_alpha_consistent():
    from pokegan.augment import classic_augment

    torch.manual_seed(0)
    x = torch.zeros(8, 4, 32, 32)
    x[:, :, 8:24, 10:20] = 1.0  # an opaque white box, premultiplied
    y = classic_augment(x, {"flip", "rotate", "shift", "zoom"}, 1.0, 10.0, 0.1, 0.1)
    assert y.shape == x.shape
    assert (y[:, :3] <= y[:, 3:4] + 1e-5).all()  # premultiplied: colour never exceeds alpha
    assert not torch.equal(y, x)
    flipped = classic_augment(x, {"flip"}, 1.0, 0, 0, 0)
    assert torch.equal(flipped, x.flip(3))


@pytest.mark.parametrize("augment, mirrored_expected", [(None, True), ("", False)])
def test_default_preset_mirrors_some_reals_exactly(tiny_data, augment, mirrored_expected):
    """The default preset shows D each real sprite either as it is or as its exact mirror image, both
    happening; `--augment ''` turns that off."""
    from pokegan.data import load_dataset
    from pokegan.presets import preset_config
    from pokegan.training.feed import RealFeed, to_model_space

    cfg = preset_config("fastgan")
    ds = load_dataset(tiny_data)
    torch.manual_seed(0)
    feed = RealFeed(ds, cfg.background, torch.device("cpu"), seed=0,
                    augment=cfg.augment if augment is None else augment, aug_prob=cfg.aug_prob)
    idx = feed.perm[: feed.n].clone()          # the first batch's images, in order
    batch = feed.next(feed.n)
    plain = to_model_space(feed.premultiplied(idx), feed.background)
    asym = [i for i in range(feed.n) if not torch.equal(plain[i], plain[i].flip(2))]
    assert len(asym) >= 16                     # the synthetic sprites are off-centre: a flip shows
    same = [i for i in asym if torch.equal(batch[i], plain[i])]
    mirrored = [i for i in asym if torch.equal(batch[i], plain[i].flip(2))]
    assert len(same) + len(mirrored) == len(asym)   # nothing but exact mirrors: no resampling blur
    assert (len(mirrored) > 0 and len(same) > 0) if mirrored_expected else not mirrored


CLI = [sys.executable, "-m", "pokegan.cli.main"]


@pytest.mark.slow
def test_cli_train_resume_and_list(tiny_data, tmp_path):
    runs = tmp_path / "runs"
    base = ["train", "--data", str(tiny_data), "--preset", "dcgan", "--batch", "8", "--set", "g_base=4",
            "--set", "d_base=4", "--tick-kimg", "0.032", "--run-dir", str(runs), "--progress", "lines"]
    r = subprocess.run(CLI + base + ["--kimg", "0.064", "--amp"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    run = next(runs.iterdir())
    assert (run / "config.json").exists() and (run / "checkpoints" / "latest").is_dir()
    cfg = json.loads((run / "config.json").read_text())["config"]
    state = json.loads((run / "checkpoints" / "latest" / "state.json").read_text())
    assert cfg["amp"] and not cfg["amp_cpu"] and state["bf16_autocast"] is False  # --amp is CUDA's switch only
    assert list((run / "samples").glob("*.png"))
    row = json.loads((run / "stats.jsonl").read_text().splitlines()[-1])
    assert {"kimg", "loss_g", "loss_d", "img_per_sec"} <= row.keys()
    r = subprocess.run(CLI + ["train", "--resume", str(run), "--kimg", "0.128"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads((run / "stats.jsonl").read_text().splitlines()[-1])["kimg"] >= 0.128
    r = subprocess.run(CLI + ["train", "--resume", str(run), "--kimg", "1", "--lr-g", "1e-3", "--betas", "0,0.99"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--lr-g, --betas would be ignored" in r.stderr and "--progress, --gpus apply" in r.stderr
    assert json.loads((run / "stats.jsonl").read_text().splitlines()[-1])["kimg"] < 0.2  # it did not train
    r = subprocess.run(CLI + base + ["--kimg", "0.032", "--betas", "0,0.99", "--run-dir", str(tmp_path / "rb")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cfg = json.loads(next((tmp_path / "rb").iterdir()).joinpath("config.json").read_text())["config"]
    assert cfg["betas_g"] == cfg["betas_d"] == [0.0, 0.99]
    r = subprocess.run(CLI + base + ["--kimg", "1", "--betas", "0.9"], capture_output=True, text=True)
    assert r.returncode == 2 and "--betas" in r.stderr and "two numbers" in r.stderr
    r = subprocess.run(CLI + ["train", "--list-presets"], capture_output=True, text=True)
    assert r.returncode == 0 and all(p in r.stdout for p in PRESETS)
    reader, writer = os.pipe()
    os.close(reader)  # `pokegan train --list-presets | head -0`: the reader is gone before anything is written
    r = subprocess.run(CLI + ["train", "--list-presets"], stdout=writer, stderr=subprocess.PIPE, text=True)
    os.close(writer)
    assert r.returncode == 1 and r.stderr == ""  # no "error: Broken pipe", no traceback at exit
    r = subprocess.run(CLI + base + ["--kimg", "1", "--set", "nope=1"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown option 'nope'" in r.stderr
    r = subprocess.run(CLI + ["train", "--data", str(tmp_path / "missing.data"), "--run-dir", str(tmp_path / "r2")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "missing.data" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "r2").exists() or not any((tmp_path / "r2").iterdir())  # no empty run folder left


@pytest.mark.slow
def test_sigterm_saves_and_exits_cleanly(tiny_data, tmp_path):
    runs = tmp_path / "runs"
    rc, err, state = sigterm_after_ticks(CLI + ["train", "--data", str(tiny_data), "--batch", "8", "--set", "g_base=4",
                                                "--set", "d_base=4", "--tick-kimg", "0.016", "--minutes", "5",
                                                "--run-dir", str(runs), "--progress", "lines"], runs)
    assert rc == 0, err
    assert "SIGTERM" in err and "Traceback" not in err
    assert state["step"] > 0



def test_removed_settings_load_at_their_noop_value_and_are_refused_otherwise(tiny_data, tmp_path):
    """A saved config carrying a removed setting at the value where it did nothing still loads (the shipped
    model's carries lr_decay 0.0); any other value, a --set or a flag is refused naming what replaced it."""
    from pokegan.config import apply_options
    from pokegan.models.fastgan import FastGAN, FastGANOptions

    d = TrainConfig().to_dict()
    assert TrainConfig.from_dict({**d, "lr_decay": 0.0, "average_tail": 0.0, "ada_ops": ""}) == TrainConfig()
    with pytest.raises(PokeganError, match="lr_decay=0.25 was removed.*constant"):
        TrainConfig.from_dict({**d, "lr_decay": 0.25})
    assert FastGAN.check_options({"snap_fakes": 0, "glu": True, "loss": "hinge"}) == FastGANOptions()
    with pytest.raises(PokeganError, match="composite=True was removed.*--background transparent"):
        FastGAN.check_options({"composite": True})
    with pytest.raises(PokeganError, match="--set r1_gamma: removed"):
        apply_options(FastGANOptions, {}, {"r1_gamma": "0.05"})
    r = subprocess.run([sys.executable, "-m", "pokegan.cli.main", "train", "--data", str(tiny_data), "--lr-decay",
                        "0.25", "--kimg", "1", "--run-dir", str(tmp_path / "runs")], capture_output=True, text=True)
    assert r.returncode == 2 and "--lr-decay was removed" in r.stderr and "constant" in r.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("setting,value,message", [
    ("batch", 0, "batch=0"), ("tick_kimg", 0.0, "tick_kimg=0.0"), ("z_dim", 0, "z_dim=0"), ("lr_g", -1.0, "lr_g=-1.0"),
    ("ada_target", 5.0, "ada_target=5.0"), ("kimg", -5.0, "kimg=-5.0"), ("seed", 2 ** 64, "seed="),
    ("background", "plaid", "background='plaid'"), ("diffaug", "spin", "unknown augmentation spin")])
def test_every_setting_is_checked_before_data_loads_or_a_run_folder_exists(setting, value, message, tmp_path):
    missing = tmp_path / "no-such.data"  # never opened: the settings are refused first
    with pytest.raises(PokeganError, match=message):
        Trainer.new(tiny_config("dcgan", **{setting: value}), str(missing), tmp_path / "runs", progress="quiet")
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_fastgan_trains_at_sizes_that_are_not_powers_of_two(tiny_data_48, tmp_path):
    """3 x 2^k sizes (48 here; 96 is the Black/White sprites' own) build from 3x3; other sizes are refused
    with the list of those that work."""
    from pokegan.models.fastgan import FastDiscriminator, FastGenerator
    from pokegan.generator.sprites import load_generator

    t = Trainer.new(tiny_config("fastgan", kimg=0.016), str(tiny_data_48), tmp_path / "runs",
                    progress="quiet", log=lambda m: None)
    t.run()
    g = load_generator(t.run_dir)
    assert g.G.s0 == 3 and g.arrays(2, seed=0).shape == (2, 48, 48, 4)
    G96 = FastGenerator(8, 96, 4, base=4, w_max=16)
    assert G96(torch.randn(1, 8)).shape == (1, 4, 96, 96) and G96.sle_pairs == [(3, 24), (6, 48), (12, 96)]
    assert FastDiscriminator(96, 4, base=4, w_max=16)(torch.zeros(2, 4, 96, 96)).shape == (2,)
    with pytest.raises(PokeganError, match="trains at 32, 48, 64, 96, 128, 192, 256 pixels; 80x80 is not one of them"):
        FastGenerator(8, 80, 3)


def test_fastgan_instance_noise_is_what_d_sees_and_only_when_asked(tiny_data, tmp_path):
    """instance_noise adds Gaussian noise of that deviation to D's inputs, real and fake; 0 leaves them as
    DiffAugment made them; a negative value is refused by name."""
    from pokegan.config import apply_options
    from pokegan.models.fastgan import FastGANOptions

    def trainer(sigma, name):
        c = tiny_config("fastgan", kimg=0.032, diffaug="")
        c = replace(c, options={**c.options, "instance_noise": sigma})
        return Trainer.new(c, str(tiny_data), tmp_path / name, progress="quiet", log=lambda m: None)

    x = torch.zeros(64, 3, 32, 32)
    firsts, runs = [], []
    for sigma, name in ((0.2, "a"), (0.0, "b")):  # the first thing D sees in each run: the same reals, noisy or not
        t = trainer(sigma, name)  # (each run seeds the process's generator when it is made)
        runs.append(t)
        seen = []
        hook = t.family.nets["D"].register_forward_pre_hook(lambda m, args: seen.append(args[0].detach()))
        t.run()
        hook.remove()
        firsts.append(seen[0])
    noisy, clean = runs
    assert (firsts[0] - firsts[1]).std().item() == pytest.approx(0.2, rel=0.1)
    assert noisy.family.seen(x).std().item() == pytest.approx(0.2, rel=0.05)
    assert torch.equal(clean.family.seen(x), x)
    rows = [json.loads(line) for line in (noisy.run_dir / "stats.jsonl").read_text().splitlines()]
    assert rows and all(math.isfinite(r["loss_d"]) for r in rows)
    with pytest.raises(PokeganError, match="instance_noise=-1"):
        apply_options(FastGANOptions, {}, {"instance_noise": "-1"})


@pytest.mark.slow
def test_fastgan_takes_instance_noise_on_pixel_art_unless_told(tiny_data, tiny_data_48, tmp_path):
    """Data prepared without resampling (pixel art) gives fastgan instance noise by default, kept in the run's
    config and used by D; an explicit value wins; resampled data keeps none."""
    from pokegan.models.fastgan import PIXEL_ART_INSTANCE_NOISE

    def made(data, name, **options):
        c = tiny_config("fastgan", kimg=0.016, diffaug="")
        c = replace(c, options={**c.options, **options})
        t = Trainer.new(c, str(data), tmp_path / name, progress="quiet", log=lambda m: None)
        t.run()
        return t, json.loads((t.run_dir / "config.json").read_text())["config"]["options"]

    x = torch.zeros(8, 4, 48, 48)
    pixel, saved = made(tiny_data_48, "a")
    assert saved["instance_noise"] == PIXEL_ART_INSTANCE_NOISE
    assert pixel.family.seen(x).std().item() == pytest.approx(PIXEL_ART_INSTANCE_NOISE, rel=0.1)
    told, saved = made(tiny_data_48, "b", instance_noise=0.0)
    assert saved["instance_noise"] == 0.0 and torch.equal(told.family.seen(x), x)
    _, saved = made(tiny_data, "c")
    assert "instance_noise" not in saved


@pytest.mark.slow
def test_fastgan_palette_output_draws_sprites_in_the_training_palette(tiny_data_48, tmp_path):
    """palette_output: G's colours are the run's training palette, mixed in training and chosen (one colour a
    pixel) when sampling, so every opaque pixel of a generated sprite is a palette colour."""
    import numpy as np

    from pokegan.models.fastgan import FastGANOptions
    from pokegan.generator.sprites import load_generator

    c = tiny_config("fastgan", kimg=0.016, diffaug="")
    c = replace(c, options={**c.options, "palette_output": 8})
    with pytest.raises(PokeganError, match="palette_output needs LeCam from the first step.*add --set lecam_start=0"):
        Trainer.new(c, str(tiny_data_48), tmp_path / "p", progress="quiet", log=lambda m: None)
    c = replace(c, options={**c.options, "lecam_start": 0})
    t = Trainer.new(c, str(tiny_data_48), tmp_path / "p", progress="quiet", log=lambda m: None)
    t.run()
    pal = np.asarray(t.palette, np.uint8)[:8]
    assert torch.allclose(t.G.palette, torch.tensor(pal, dtype=torch.float32) / 127.5 - 1)
    g = load_generator(str(t.run_dir))
    sprites = g.arrays(6, seed=0)
    opaque = sprites[sprites[..., 3] > 0][:, :3]
    assert len(opaque) > 0
    # uint8 rounding of a palette colour stays within one level of it
    dist = np.abs(opaque[:, None, :].astype(int) - pal[None].astype(int)).max(-1).min(-1)
    assert dist.max() <= 1
    t.G.train()
    mixed = t.G(torch.randn(2, t.family.z_dim))
    assert mixed.shape == (2, 4, 48, 48) and mixed[:, :3].abs().max() <= 1
    with pytest.raises(ValueError, match="palette_output"):
        FastGANOptions(palette_output=65)
    rgb = replace(c, background="white")  # no alpha: the palette has no background colour to draw
    with pytest.raises(PokeganError, match="background transparent"):
        Trainer.new(rgb, str(tiny_data_48), tmp_path / "rgb", progress="quiet", log=lambda m: None)

