"""The one training loop every model family plugs into.

Structure follows NVlabs/stylegan2-ada-pytorch `training/training_loop.py`: the family's phases run in
order every iteration; progress is counted in kimg (real images shown to the discriminator); once per
tick an upkeep block averages the statistics, runs the health monitor, and writes `stats.jsonl`, sample
grids from fixed latents, loss curves and checkpoints into a numbered run folder. There are no
per-family branches here.

Upkeep never changes training state: its forward passes run on a forked random generator with
batch-norm statistics restored afterwards, so a run stopped and resumed is bit-identical on CPU with
`deterministic` on.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from pokegan import __version__
from pokegan.models import checkpoint as ckpt
from pokegan.steps.palette import training_palette
from pokegan.augment import Augmenter
from pokegan.config import TrainConfig
from pokegan.data import load_dataset
from pokegan.core.errors import PokeganError
from pokegan.runfiles import number
from pokegan.models.registry import get_family
from pokegan.models.ema import EmaGenerator
from pokegan.generator.devices import resolve_device
from pokegan.generator.pipeline import snap_background
from pokegan.training import distributed as ddp
from pokegan.training.feed import RealFeed
from pokegan.core.pixels import diversity
from pokegan.training.monitor import HealthMonitor, silhouette_overlap
from pokegan.training.progress import Progress
from pokegan.training.upkeep import TickStats, Upkeep, next_run_dir, side_effect_free, trim_rows
from pokegan.training.precision import Timing, bf16_autocast_ok, time_iterations


class Trainer(Upkeep):
    def __init__(self, cfg: TrainConfig, data: str, run_dir: Path, progress: str = "auto", log=None,
                 evaluator=None, bf16: bool | None = None):
        """`bf16`: a choice of bf16 autocast on the CPU made earlier (a resumed run's), kept rather than timed."""
        self.cfg, self.data_path, self.run_dir = cfg, str(data), Path(run_dir)
        # evaluator(images uint8 (N, H, W, C)) -> dict of metrics; given by the caller (the CLI passes
        # pokegan.metrics), so the training package never touches the evaluation network itself.
        self.evaluator = evaluator
        self.progress = progress   # how run() shows progress: auto, bar, lines, json or quiet
        self.log = log or (lambda msg: print(msg, file=sys.stderr))
        # every setting checked before the dataset loads (and so before any run folder exists)
        cfg.validate()
        if not (cfg.kimg > 0 or cfg.epochs > 0 or cfg.minutes > 0):
            raise PokeganError("no stopping point: give --kimg, --epochs or --minutes")
        family_cls = get_family(cfg.family)
        family_cls.check_training(family_cls.check_options(cfg.options))
        self.augment = Augmenter(cfg.diffaug, cfg.diffaug_p, cfg.ada_target, cfg.ada_kimg, cfg.ada_interval,
                                 cfg.batch)
        self.device = resolve_device(cfg.device)
        # Data-parallel: one process per GPU, each with its share of every batch (training/distributed.py).
        self.rank, self.world = ddp.rank_world()
        if self.world > 1:
            if self.device.type == "cuda":
                self.device = torch.device("cuda", torch.cuda.current_device())
            if cfg.batch % self.world:
                raise PokeganError(f"batch {cfg.batch} does not split evenly over {self.world} processes; "
                                   f"use a batch divisible by {self.world}")
            if self.rank > 0:  # rank 0 speaks for all
                self.progress, self.log = "quiet", (lambda msg: None)
        self.local_batch = cfg.batch // self.world
        if cfg.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
            torch.backends.cudnn.benchmark = False
        elif self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        torch.manual_seed(cfg.seed)

        self.ds = load_dataset(data)
        if cfg.types:  # report 002's per-class training: only the sprites of these types
            self.ds = self.ds.of_types(cfg.types)
        # the family's options for data like this (pixel art: instance noise), where the user set none; kept
        # in the run's config, so a resumed run goes on with them
        taken = {k: v for k, v in family_cls.data_defaults(self.ds.info).items() if k not in cfg.options}
        if taken:
            cfg = self.cfg = replace(cfg, options={**cfg.options, **taken})
            self.log(f"{data}: {cfg.family} takes " + ", ".join(f"{k}={v}" for k, v in taken.items())
                     + " on data like this (its data_defaults; --set KEY=VALUE chooses another value)")
        # the colours the training sprites share, kept with the run for `--training-palette` (generator/sprites.py)
        self.palette = training_palette(self.ds.images).tolist()
        if cfg.conditional and not any(lab.get("types") for lab in self.ds.labels):
            raise PokeganError(f"{data}: no sprite carries a type, so a type-conditioned model has nothing to learn "
                               "from; prepare Pokémon sprites with `pokegan data prepare --preset gen5-64`, or train "
                               "without --conditional")
        self.feed = RealFeed(self.ds, cfg.background, self.device, cfg.seed, cfg.augment, cfg.aug_prob,
                             cfg.aug_rotate_deg, cfg.aug_shift, cfg.aug_zoom)
        # the family builds its fake batches at this process's share of the batch
        self.family = family_cls(replace(cfg, batch=self.local_batch), self.ds.size, self.feed.channels)
        self.augment.fill = self.feed.fill()
        if self.world > 1:  # ADA steers by the overfitting signal of the whole batch, the same p everywhere
            self.augment.reduce = lambda v: ddp.mean_scalars({"v": v})["v"]
        self.family.augment = self.augment
        # channels-last: oneDNN (CPU) and cuDNN (CUDA) convolve NHWC fastest; MPS keeps the default layout
        nhwc = cfg.channels_last and self.device.type in ("cpu", "cuda")
        fmt = torch.channels_last if nhwc else torch.contiguous_format
        self.nets = {k: m.to(self.device, memory_format=fmt) for k, m in self.family.build().items()}
        ddp.broadcast_modules(self.nets.values())  # every rank starts from rank 0's weights
        self.opts = self.family.optimizers()
        self.phases = self.family.phases()
        # Only the parameters of the optimiser being stepped need weight gradients in a phase.
        self._params = {k: {id(p) for g in o.param_groups for p in g["params"]} for k, o in self.opts.items()}
        self.G = self.nets["G"]
        k = getattr(self.G, "palette_size", 0)
        if k:  # a generator that draws in the training palette's colours (fastgan's palette_output): its first k
            pal = torch.tensor(self.palette, dtype=torch.float32) / 127.5 - 1   # (fewer: the last one repeated)
            pal = torch.cat([pal, pal[-1:].expand(k - len(pal), 3)]) if len(pal) < k else pal[:k]
            self.G.palette.copy_(pal.to(self.device))
        if self.family.conditional:  # fakes get type sets as often as the data has them
            from pokegan.models.conditioning import type_set_counts

            self.G.cond.counts.copy_(type_set_counts([lab.get("types") or () for lab in self.ds.labels]))
        self.ema = EmaGenerator(self.G, cfg, self.family.z_dim) if cfg.ema_kimg > 0 else None
        gen = torch.Generator().manual_seed(cfg.seed + 1)
        self.fixed_z = self.family.sample_z(cfg.grid_size, "cpu", generator=gen).to(self.device)
        real = self.feed.fixed(min(cfg.grid_size, self.ds.images.shape[0]), cfg.seed + 2)
        self.real_div, self.real_overlap = diversity(real), silhouette_overlap(real, self.feed.background)
        self.monitor = HealthMonitor(self.family.d_output)
        self._seed_rank(0)
        self.bf16_timing = None
        self.use_amp = self._choose_amp(bf16)
        self.step, self.nimg, self.tick, self.rollbacks = 0, 0, 0, 0
        self.stop_signal: str | None = None
        self._signal_t = 0.0
        self._sampled_at = -1
        self.elapsed_s = 0.0   # wall-clock seconds spent in run(), summed over resumes
        self._run_t0 = time.time()

    def _choose_amp(self, earlier: bool | None) -> bool:
        """bf16 autocast: on CUDA when asked (`amp`); on a CPU when asked (`amp_cpu`), native, and measured
        faster here (training/precision.py). A resumed run keeps its choice; a `deterministic` run does not
        let a clock decide (native bf16 is taken, as before the measurement existed)."""
        cfg = self.cfg
        ok = bf16_autocast_ok(self.device, cuda=cfg.amp, cpu=cfg.amp_cpu)
        if self.device.type != "cpu" or not cfg.amp_cpu:
            return ok
        what = "bf16 autocast (amp_cpu, the default preset's)"
        if not ok:
            self.log(f"{what}: this CPU has no native bf16 (AVX512-BF16 or AMX), so training runs in fp32")
            return False
        if earlier is not None:
            self.log(f"{what}: {'bf16' if earlier else 'fp32'}, as this run started")
            return bool(earlier)
        if cfg.deterministic:
            return True
        self.bf16_timing = time_iterations(self.family, self.feed.fixed(self.local_batch, cfg.seed + 3))
        use = bool(ddp.from_rank0(self.bf16_timing.prefers_bf16))  # every rank trains the same way
        tm = self.bf16_timing
        self.log(f"{what}: one iteration takes {tm.fp32_ms:.0f} ms in fp32 and {tm.bf16_ms:.0f} ms in bf16 on this "
                 f"CPU ({tm.speedup:.2f}x), so training runs in {'bf16' if use else 'fp32'}")
        return use

    def _seed_rank(self, salt: int) -> None:
        """Ranks after the first draw their own latents and augmentations (rank 0 keeps the single-process stream)."""
        if self.rank > 0:
            torch.manual_seed(self.cfg.seed + 1_000_003 * self.rank + salt)

    # -- run folder ------------------------------------------------------------------------------------
    @classmethod
    def new(cls, cfg: TrainConfig, data: str, runs_root: str | Path, **kw) -> "Trainer":
        t = cls(cfg, os.path.abspath(data), Path(runs_root), **kw)  # bad data fails here, before any folder
        run_dir = None
        if t.rank == 0:
            run_dir = next_run_dir(Path(runs_root), f"{cfg.preset}-{Path(data).stem}")
            (run_dir / "config.json").write_text(json.dumps(t.run_record(), indent=1, sort_keys=True))
        t.run_dir = Path(ddp.from_rank0(str(run_dir)))
        return t

    @classmethod
    def resume(cls, run_dir: str | Path, data: str | None = None, evaluator=None, **overrides) -> "Trainer":
        run = Path(run_dir)
        if (run / "checkpoints").is_dir():
            ckpt.clean_stale(run / "checkpoints")  # a kill while writing one leaves a folder to tidy
        folder = ckpt.find(run)
        home = run if (run / "config.json").exists() else folder.parent.parent
        if folder.parent.name != "checkpoints" or not (home / "config.json").exists():
            raise PokeganError(f"{run}: --resume continues a run folder (one with config.json and checkpoints/); "
                               "this checkpoint is not inside one. Train a new run instead.")
        state, weights, extra = ckpt.read(run)
        if not isinstance(state.get("data"), str) and not data:
            raise PokeganError(f"{folder / ckpt.STATE}: damaged state (no dataset path); give --data DATASET")
        cfg = TrainConfig.from_dict(state["config"])
        limits = {k: v for k, v in overrides.items() if k in ("kimg", "epochs", "minutes") and v is not None}
        machine = {k: v for k, v in overrides.items() if k == "device" and v is not None}
        progress = overrides.get("progress") or "auto"
        cfg = replace(cfg, **machine)
        if limits:  # a new limit replaces the old set: `--kimg 2` alone means "until 2 kimg"
            cfg = replace(cfg, **{k: float(limits.get(k, 0.0)) for k in ("kimg", "epochs", "minutes")})
        t = cls(cfg, data or state["data"], home, progress=progress, evaluator=evaluator,
                bf16=state.get("bf16_autocast"))
        if t.ds.size != state["resolution"]:
            raise PokeganError(f"{run}: the run trained on {state['resolution']}px images and "
                               f"{data or state['data']} holds {t.ds.size}px ones; resume on the run's own dataset")
        t.load(state, weights, extra)
        for name in ("stats.jsonl", "metrics.jsonl"):  # rows from after the checkpoint were lost with the kill
            trim_rows(home / name, t.nimg / 1000)
        return t

    def run_record(self) -> dict:
        return {"config": self.cfg.to_dict(), "data": self.data_path, "dataset": self.ds.info,
                "num_images": len(self.ds), "resolution": self.ds.size, "channels": self.feed.channels,
                "background": self.feed.background, "family": self.cfg.family, "version": __version__,
                "device": str(self.device), "processes": self.world,
                "types_seen": list(self.G.cond.seen()) if self.family.conditional else [], "bf16_autocast": self.use_amp,
                "bf16_timing": self.bf16_timing.to_dict() if self.bf16_timing else None,
                "palette": self.palette, "generator": self.family.generator_spec(),
                "encoder": self.family.encoder_spec()}

    # -- checkpoints -----------------------------------------------------------------------------------
    def save(self, dest: Path) -> None:
        weights = {}
        for k, m in self.nets.items():
            weights.update(ckpt.module_tensors(k, m))
        if self.ema is not None:
            weights.update(ckpt.module_tensors("G_ema", self.ema.refresh(self.device)))
        train, opt_meta = ckpt.rng_tensors(), {}
        for k, o in self.opts.items():
            meta, tensors = ckpt.optimizer_parts(k, o)
            opt_meta[k] = meta
            train.update(tensors)
        feed_meta, feed_tensors = self.feed.state()
        train.update(feed_tensors)
        state = {**self.run_record(), "step": self.step, "nimg": self.nimg, "kimg": self.nimg / 1000,
                 "tick": self.tick, "rollbacks": self.rollbacks,
                 "elapsed_s": self.elapsed_s + time.time() - self._run_t0, "optimizers": opt_meta, "feed": feed_meta,
                 "monitor": self.monitor.state(), "ema": self.ema is not None,
                 "augment": self.augment.state(), "family_state": self.family.state()}
        ckpt.write(dest, weights, train, state)

    def load(self, state: dict, weights: dict, extra: dict) -> None:
        """Restore everything `save` wrote; a clear error for a checkpoint that does not fit this run."""
        where = f"{self.run_dir}: checkpoint"
        if state["family"] != self.cfg.family:
            raise PokeganError(f"{where} is a {state['family']} model, not {self.cfg.family}")
        for k, m in self.nets.items():
            ckpt.load_module(m, weights, k, f"{where}: network {k}")
        if self.ema is not None:
            ckpt.load_module(self.ema.net, weights, "G_ema", f"{where}: the EMA generator")
            self.ema.fresh = True  # saved right after a refresh
        # the counters as the command line's numbers are checked: a damaged one names its file and field
        self.step, self.nimg, self.tick = (number(state, k, f"{where} {ckpt.STATE}", whole=True, lo=0, hi=2 ** 53)
                                           for k in ("step", "nimg", "tick"))
        if "kimg" in state and abs(number(state, "kimg", f"{where} {ckpt.STATE}", lo=0) - self.nimg / 1000) > 1e-3:
            raise PokeganError(f"{where} {ckpt.STATE}: field 'kimg' ({state['kimg']}) disagrees with 'nimg' ({self.nimg}); "
                               "the file is damaged: use an earlier checkpoint or snapshot")
        self.rollbacks = number(state, "rollbacks", f"{where} {ckpt.STATE}", whole=True, lo=0, hi=10 ** 6, default=0)
        self.elapsed_s = number(state, "elapsed_s", f"{where} {ckpt.STATE}", lo=0, default=0.0)
        try:
            for k, o in self.opts.items():
                ckpt.load_optimizer(k, o, state["optimizers"][k], extra)
            ckpt.set_rng(extra)
            self._seed_rank(self.step)
            self.feed.load_state(state["feed"], extra)
            self.monitor.load_state(state["monitor"])
            self.augment.load_state(state["augment"])
            self.family.load_state(state.get("family_state", {}))
            if state.get("bf16_timing") and self.bf16_timing is None:  # the start's figures stay in its checkpoints
                self.bf16_timing = Timing(**state["bf16_timing"])
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as e:
            raise PokeganError(f"{where}: damaged training state ({type(e).__name__}: {e}); resume from an earlier "
                               f"snapshot in {self.run_dir / 'checkpoints'}") from None

    # -- the loop --------------------------------------------------------------------------------------
    def _target_nimg(self) -> float:
        c, targets = self.cfg, []
        if c.kimg > 0:
            targets.append(c.kimg * 1000)
        if c.epochs > 0:
            targets.append(c.epochs * len(self.ds))
        return min(targets) if targets else math.inf

    def _phase_grads(self, ph) -> None:
        wanted = set().union(*(self._params[k] for k in (ph.grads or (ph.optimizer,))))
        for m in self.nets.values():
            for p in m.parameters():
                p.requires_grad_(id(p) in wanted)

    def _handle_signal(self, signum, _frame):
        # a second signal stops at once; one within 2 s of the first is the same request delivered twice
        # (to the process group and forwarded by a launcher)
        if self.stop_signal is not None:
            if time.time() - self._signal_t > 2.0:
                raise KeyboardInterrupt
            return
        self.stop_signal, self._signal_t = signal.Signals(signum).name, time.time()
        self.log(f"{self.stop_signal} received: finishing this step, saving a checkpoint, then stopping")

    def sample(self, z: torch.Tensor | None = None) -> torch.Tensor:
        """Images from the fixed latents (or `z`), as `pokegan generate` makes them: eval mode, EMA if kept,
        the background snapped to its exact colour."""
        G = self.ema.refresh(self.device) if self.ema is not None else self.G
        was_training = G.training
        G.eval()
        try:
            with side_effect_free([G], self.device):
                return snap_background(G(self.fixed_z if z is None else z).clamp(-1, 1), self.feed.background)
        finally:
            G.train(was_training)

    def run(self) -> dict:
        cfg = self.cfg
        target = self._target_nimg()
        deadline = time.time() + cfg.minutes * 60 if cfg.minutes > 0 else math.inf  # (a limit: checked at start)
        ckdir = self.run_dir / "checkpoints"
        if self.rank == 0 and not (ckdir / "latest").exists():
            self.save(ckdir / "latest")  # always a good state to roll back to
        ddp.barrier()  # the others wait until it is written
        old_handlers = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                old_handlers[sig] = signal.signal(sig, self._handle_signal)
            except ValueError:  # not the main thread (a notebook worker, a server): no signal handling
                pass
        bar = Progress(self.progress, self.log)
        bar.start(target, self.nimg)
        acc, t_tick = TickStats(), time.perf_counter()
        tick_nimg0 = self.nimg
        next_tick = (math.floor(self.nimg / (cfg.tick_kimg * 1000)) + 1) * cfg.tick_kimg * 1000
        amp = (lambda: torch.autocast(self.device.type, dtype=torch.bfloat16)) if self.use_amp else contextlib.nullcontext
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        reason = "done"
        self._run_t0 = time.time()
        try:
            while True:
                if self.nimg >= target:
                    break
                why = "time budget" if time.time() >= deadline else self.stop_signal
                if ddp.any_rank(why is not None):  # all processes stop at the same step
                    reason = ddp.first_reason(why) or "stopped with the other processes"
                    break
                self.family.set_progress(self.nimg / 1000)
                for ph in self.phases:
                    if self.step < ph.start_step:
                        continue
                    opt = self.opts[ph.optimizer]
                    self._phase_grads(ph)
                    for _ in range(ph.steps):
                        real = self.feed.next(cfg.batch, self.rank, self.world) if ph.uses_real else None
                        self.family.real_types = self.feed.last_types if ph.uses_real else None
                        with amp():
                            loss, stats = ph.loss(real)
                        opt.zero_grad(set_to_none=True)
                        loss.backward()
                        ddp.average_gradients(opt)
                        opt.step()
                        if ph.after_step is not None:
                            ph.after_step()
                        if ph.counts_kimg:
                            self.nimg += cfg.batch
                        acc.add(stats)
                if self.ema is not None:
                    self.ema.update(self.G, self.nimg)
                self.step += 1
                if self.nimg >= next_tick:
                    # the tick's time excludes upkeep: images/second measures training alone
                    self._upkeep(acc, self.nimg - tick_nimg0, time.perf_counter() - t_tick, bar)  # may roll back
                    acc, tick_nimg0 = TickStats(), self.nimg
                    next_tick = (math.floor(self.nimg / (cfg.tick_kimg * 1000)) + 1) * cfg.tick_kimg * 1000
                    t_tick = time.perf_counter()
            if acc.counts:  # a part tick at the end
                self._upkeep(acc, self.nimg - tick_nimg0, time.perf_counter() - t_tick, bar, final=True)
            if self.rank == 0:
                if self._sampled_at != self.nimg:
                    self._save_samples()
                self.save(ckdir / "latest")
                self._pictures()
            ddp.barrier()
        finally:
            for s, h in old_handlers.items():
                signal.signal(s, h)
            bar.close()
        self.elapsed_s += time.time() - self._run_t0
        self._run_t0 = time.time()
        summary = {"run_dir": str(self.run_dir), "kimg": self.nimg / 1000, "step": self.step, "stopped": reason}
        self.log(f"stopped ({reason}) at kimg {self.nimg / 1000:.2f}, step {self.step}; checkpoint: "
                 f"{ckdir / 'latest'}; resume: pokegan train --resume {self.run_dir}")
        return summary
