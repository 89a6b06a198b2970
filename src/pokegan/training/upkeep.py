"""The training loop's upkeep, once per tick: the health monitor, the stats row, sample grids, evaluation,
checkpoints and rollbacks (a part of `Trainer`, kept apart from the loop itself); and the run folder's small
helpers. Nothing here changes training state: forward passes run under `side_effect_free`."""
from __future__ import annotations

import contextlib
import json
import math
import re
import resource
import time
from pathlib import Path

import torch

from pokegan.models import checkpoint as ckpt
from pokegan.core.errors import PokeganError
from pokegan.generator.pipeline import SpriteOptions, finish, to_uint8
from pokegan.training import distributed as ddp
from pokegan.core.pixels import diversity
from pokegan.training.monitor import silhouette_overlap
from pokegan.training.plots import loss_curves, save_grid
from pokegan.training.progress import Progress


@contextlib.contextmanager
def side_effect_free(modules, device: torch.device):
    """Forward passes inside leave no trace: random state and batch-norm buffers are restored."""
    saved = [{k: v.clone() for k, v in m.named_buffers()} for m in modules]
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        yield
    for m, bufs in zip(modules, saved):
        for k, v in m.named_buffers():
            v.copy_(bufs[k])


class TickStats:
    """Running sums of detached per-step statistics; averaged (one sync) at the end of a tick."""

    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, stats: dict[str, torch.Tensor]) -> None:
        for k, v in stats.items():
            v = v.detach().float()
            self.sums[k] = self.sums[k] + v if k in self.sums else v
            self.counts[k] = self.counts.get(k, 0) + 1

    def mean(self) -> dict[str, float]:
        return {k: float(v) / self.counts[k] for k, v in self.sums.items()}


def trim_rows(path: Path, kimg: float) -> int:
    """Drop the rows of a JSON-lines log written after `kimg` (and any torn last line); returns how many."""
    if not path.exists():
        return 0
    keep, dropped = [], 0
    for line in path.read_text(errors="replace").splitlines():
        try:
            row = json.loads(line)
            late = float(row.get("kimg", 0)) > kimg + 1e-9
        except (ValueError, TypeError, AttributeError):
            late = True
        if late:
            dropped += 1
        else:
            keep.append(line)
    if dropped:
        from pokegan.core.paths import atomic_write_bytes

        atomic_write_bytes(path, ("\n".join(keep) + ("\n" if keep else "")).encode())
    return dropped


def next_run_dir(root: Path, name: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    ids = [int(m.group(1)) for p in root.iterdir() if (m := re.match(r"^(\d{5})-", p.name))]
    run = root / f"{max(ids, default=-1) + 1:05d}-{name}"
    run.mkdir()
    return run


class Upkeep:
    """The per-tick upkeep of `Trainer` (which holds the networks, the run folder and the counters)."""

    def _peak_mem_mb(self) -> float:
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2 ** 20
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB

    def _upkeep(self, acc: TickStats, tick_nimg: int, tick_s: float, bar: Progress, final: bool = False) -> None:
        self.tick += 1
        stats = ddp.mean_scalars(acc.mean())
        if self.world > 1:
            ddp.average_buffers(self.nets.values())
            ddp.check_consistency(self.nets)
        # rank 0 writes the run folder; a rollback it decides on happens on every rank
        rollback = self._upkeep_main(stats, tick_nimg, tick_s, bar, final) if self.rank == 0 else None
        rollback = ddp.from_rank0(rollback)
        if rollback:
            self._rollback(rollback)

    def _upkeep_main(self, stats: dict, tick_nimg: int, tick_s: float, bar: Progress, final: bool) -> str | None:
        """Monitor, stats row, samples, evaluation, checkpoints; returns a rollback reason or None."""
        cfg = self.cfg
        with side_effect_free(list(self.nets.values()), self.device):
            z = self.fixed_z[: min(len(self.fixed_z), cfg.batch)]
            stats["d_fake_after_g"] = float(self.family.to_display(self.family.discriminate(self.G(z))).mean())
        row = {"kimg": round(self.nimg / 1000, 4), "step": self.step, "tick": self.tick, "epoch": self.feed.epoch,
               **{k: round(v, 6) if math.isfinite(v) else v for k, v in stats.items()},
               **{f"lr_{k}": o.param_groups[0]["lr"] for k, o in self.opts.items()},
               "minutes": round((self.elapsed_s + time.time() - self._run_t0) / 60, 3),
               "img_per_sec": round(tick_nimg / max(tick_s, 1e-9), 2),
               "sec_per_kimg": round(tick_s / max(tick_nimg / 1000, 1e-9), 3),
               "peak_mem_mb": round(self._peak_mem_mb(), 1)}
        if self.augment.active:
            row["aug_p"] = round(self.augment.p, 4)
        warnings = self.monitor.update(row)
        if any(w["kind"] == "nonfinite" for w in warnings):
            self._write_row({**{k: (v if not isinstance(v, float) or math.isfinite(v) else str(v))
                                for k, v in row.items()}, "warnings": warnings}, bar)
            return warnings[0]["message"]
        kimg = self.nimg / 1000
        def crossed(every: float) -> bool:  # did this tick pass a multiple of `every` kimg?
            return every > 0 and int(kimg / every) != int((self.nimg - tick_nimg) / 1000 / every)

        if crossed(cfg.sample_every_kimg) or final:
            div, overlap = self._save_samples()
            row["diversity"] = round(div / max(self.real_div, 1e-8), 4)
            if overlap is not None and self.real_overlap:
                row["overlap"] = round(overlap / self.real_overlap, 4)
            warnings += self.monitor.collapse(div, self.real_div, kimg, overlap, self.real_overlap)
        if crossed(cfg.eval_every_kimg) and self.evaluator is not None:
            row.update(self._evaluate())
        row["warnings"] = warnings
        for w in warnings:
            self.log(f"warning (kimg {w['kimg']}): {w['message']}")
        self._write_row(row, bar)
        if crossed(cfg.save_every_kimg) and not final:  # the end of run() saves anyway
            self.save(self.run_dir / "checkpoints" / "latest")
        if crossed(cfg.snapshot_every_kimg):
            self.save(self.run_dir / "checkpoints" / ckpt.snapshot_name(self.nimg))
            ckpt.prune_snapshots(self.run_dir / "checkpoints", cfg.keep_snapshots)
        if crossed(cfg.sample_every_kimg) and not final:
            self._pictures()
        bar.show(row)
        return None

    def _evaluate(self) -> dict:
        """Metrics of the current generator (eval mode, EMA if kept); appended to metrics.jsonl too."""
        n = self.cfg.eval_num or len(self.ds)
        z = self.family.sample_z(n, "cpu", generator=torch.Generator().manual_seed(self.cfg.seed + 3))
        images = torch.cat([self.sample(z[i:i + 256].to(self.device)) for i in range(0, n, 256)])
        t0 = time.perf_counter()
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            # finished as `pokegan generate` writes them and `pokegan eval` scores them
            arr = finish(to_uint8(images), SpriteOptions(), self.feed.background)
            res = self.evaluator(arr)
        res = {"kimg": round(self.nimg / 1000, 4), **{k: v for k, v in res.items() if isinstance(v, (int, float))},
               "eval_seconds": round(time.perf_counter() - t0, 1)}
        with open(self.run_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(res) + "\n")
        # the evaluator names its headline figures (metrics.registry); a bare function gives all of them
        headline = getattr(self.evaluator, "headline", None) or [k for k in res if k not in ("kimg", "eval_seconds")]
        self.log(f"kimg {res['kimg']:.1f}: " + ", ".join(f"{k} {res[k]:.4g}" for k in headline if k in res))
        return {f"eval_{k}": res[k] for k in headline if k in res}

    def _save_samples(self) -> tuple[float, float | None]:
        """The fixed-latent grid, as samples/kimgNNNNN.NN.png and samples/latest.png; returns its diversity and
        its silhouettes' overlap (the monitor's collapse measures)."""
        imgs = self.sample()
        save_grid(imgs, self.run_dir / "samples" / f"kimg{self.nimg / 1000:08.2f}.png")
        save_grid(imgs, self.run_dir / "samples" / "latest.png")
        self._sampled_at = self.nimg
        return diversity(imgs), silhouette_overlap(imgs, self.feed.background)

    def _write_row(self, row: dict, bar: Progress) -> None:
        with open(self.run_dir / "stats.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
        bar.row(row)

    def _pictures(self) -> None:
        loss_curves(self.run_dir / "stats.jsonl", self.run_dir / "loss_curves.png")

    def _rollback(self, message: str) -> None:
        self.rollbacks += 1
        if self.rollbacks > self.cfg.max_rollbacks:
            raise PokeganError(f"{message}. Rolled back {self.cfg.max_rollbacks} times and it came back; stopping. "
                               f"The last good checkpoint is {self.run_dir / 'checkpoints' / 'latest'}. Lower the "
                               "learning rates (--lr-g/--lr-d) or try a more stable family (wgan-gp).")
        state, weights, extra = ckpt.read(self.run_dir / "checkpoints" / "latest")
        rollbacks = self.rollbacks
        self.load(state, weights, extra)
        self.rollbacks = rollbacks
        torch.manual_seed(self.cfg.seed + 7919 * rollbacks)  # a different path from the same good state
        self._seed_rank(7919 * rollbacks)
        self.log(f"warning: {message}; rolled back to kimg {self.nimg / 1000:.2f} "
                 f"(rollback {rollbacks} of at most {self.cfg.max_rollbacks})")
