"""The training health monitor: the reports' main pain was not noticing when training had gone wrong.

It reads each tick's averaged statistics and raises warnings for
- a discriminator that wins outright: D(x) near 1 and D(G(z)) near 0 for many ticks (report 000, fig. 3);
- a critic or loss that diverges: far above its early level for several ticks (report 000, fig. 11);
- NaN or Inf in any loss: the loop rolls back to the last good checkpoint (a bounded number of times);
- mode collapse: the fixed-latent samples far less diverse than real images, or one silhouette drawn again
  and again (their outlines overlapping far more than real sprites' do).
A warning is raised when a condition starts and again only after it has cleared.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

import torch


@dataclass
class MonitorConfig:
    win_real: float = 0.95       # D(x) above this ...
    win_fake: float = 0.05       # ... and D(G(z)) below this is a discriminator winning outright
    win_ticks: int = 5           # for this many ticks in a row
    diverge_factor: float = 10.0  # loss magnitude this many times its early level ...
    diverge_ticks: int = 3       # ... for this many ticks in a row
    baseline_ticks: int = 5      # ticks (after the first) that set the early level
    collapse_ratio: float = 0.25  # sample diversity below this fraction of the real data's
    # ... or the samples' silhouettes overlapping this many times as much as real ones (mean pairwise IoU; gen5:
    # real 0.37, a healthy model 0.38, a run drawing one shape in varying colours 0.80 while its pixel
    # diversity stayed at 0.4-0.7 of the real data's; benchmarks/ARCHIVE.md "palette generator, three seeds")
    overlap_factor: float = 1.5
    collapse_checks: int = 2     # for this many checks in a row


@dataclass
class HealthMonitor:
    d_output: str = "prob"
    cfg: MonitorConfig = field(default_factory=MonitorConfig)
    history: list[float] = field(default_factory=list)
    streaks: dict[str, int] = field(default_factory=dict)
    active: dict[str, bool] = field(default_factory=dict)

    def _streak(self, kind: str, condition: bool, needed: int, kimg: float, message: str) -> list[dict]:
        self.streaks[kind] = self.streaks.get(kind, 0) + 1 if condition else 0
        if not condition:
            self.active[kind] = False
            return []
        if self.streaks[kind] >= needed and not self.active.get(kind):
            self.active[kind] = True
            return [{"kind": kind, "kimg": round(kimg, 3), "message": message}]
        return []

    @staticmethod
    def nonfinite(stats: dict[str, float]) -> list[str]:
        return [k for k, v in stats.items() if isinstance(v, float) and not math.isfinite(v)]

    def update(self, stats: dict[str, float]) -> list[dict]:
        """Warnings for one tick's averaged stats (keys as in stats.jsonl)."""
        kimg = stats.get("kimg", 0.0)
        out: list[dict] = []
        bad = self.nonfinite(stats)
        if bad:
            return [{"kind": "nonfinite", "kimg": round(kimg, 3),
                     "message": f"NaN/Inf in {', '.join(bad)} at kimg {kimg:.1f}"}]
        c = self.cfg
        if self.d_output == "prob" and "d_real" in stats:
            fake = stats.get("d_fake_g", stats.get("d_fake", 0.5))
            out += self._streak("d_wins", stats["d_real"] > c.win_real and fake < c.win_fake, c.win_ticks, kimg,
                                f"discriminator wins outright: D(x)={stats['d_real']:.3f}, D(G(z))={fake:.3f} "
                                f"for {c.win_ticks} ticks; the generator gets no signal. Try augmentation "
                                f"(--augment flip,shift), a lower --lr-d, or a family with a critic (wgan-gp).")
        level = max(abs(stats.get("loss_d", 0.0)), abs(stats.get("loss_g", 0.0)))
        self.history.append(level)
        if len(self.history) > c.baseline_ticks + 1:
            base = max(statistics.median(self.history[1:c.baseline_ticks + 1]), 1.0)
            out += self._streak("diverging", level > c.diverge_factor * base, c.diverge_ticks, kimg,
                                f"losses diverging: {level:.3g} against an early level of {base:.3g} for "
                                f"{c.diverge_ticks} ticks. Lower the learning rates or try wgan-gp.")
        return out

    def collapse(self, sample_div: float, real_div: float, kimg: float, overlap: float | None = None,
                 real_overlap: float | None = None) -> list[dict]:
        """Mode collapse from the fixed-latent samples' pixel diversity and, where the sprites have a silhouette
        (`silhouette_overlap`), how much their silhouettes overlap, each against the same figure for real ones."""
        ratio = sample_div / max(real_div, 1e-8)
        same_shape = overlap is not None and bool(real_overlap) and overlap > self.cfg.overlap_factor * real_overlap
        if not same_shape:
            why = f"fixed-latent samples are {ratio:.2f}x as diverse as real sprites (many latents give the same image)"
        else:
            why = (f"fixed-latent samples share one silhouette: they overlap {overlap:.2f} (mean IoU) where real "
                   f"sprites overlap {real_overlap:.2f} (many latents give the same shape)")
        return self._streak("mode_collapse", ratio < self.cfg.collapse_ratio or same_shape, self.cfg.collapse_checks,
                            kimg, f"mode collapse: {why}. Try more data augmentation, a lower learning rate, or "
                                  "wgan-gp; an earlier snapshot may be the better model.")

    def state(self) -> dict:
        return {"history": self.history, "streaks": self.streaks, "active": self.active}

    def load_state(self, s: dict) -> None:
        self.history, self.streaks, self.active = list(s["history"]), dict(s["streaks"]), dict(s["active"])


def silhouette_overlap(images: torch.Tensor, background: str) -> float | None:
    """Mean pairwise IoU of sprites' silhouettes (B, C, H, W, model space): where alpha > 0 for RGBA, else the
    pixels off a solid white or black background by more than 0.1; None on a random background (no
    silhouette to find) or for fewer than two images."""
    if len(images) < 2:
        return None
    x = images.float()
    if x.shape[1] == 4:
        mask = x[:, 3] > 0
    elif background in ("white", "black"):
        bg = 1.0 if background == "white" else -1.0
        mask = (x[:, :3] - bg).abs().amax(dim=1) > 0.1
    else:
        return None
    m = mask.flatten(1).float()
    inter = m @ m.T
    area = m.sum(1)
    iou = inter / (area[:, None] + area[None] - inter).clamp(min=1)
    n = len(m)
    return float((iou.sum() - iou.diagonal().sum()) / (n * (n - 1)))
