"""Which numerics a run trains in: fp32, or bf16 autocast where it is both native and faster.

Native bf16 instructions (AVX512-BF16, AMX) do not make oneDNN's bf16 convolutions faster everywhere:
on 2-core AMD EPYCs bf16 trained `fastgan` 1.3-1.5x faster, on a 2-core Intel Xeon (AVX512-BF16 without
AMX, under KVM) 0.79x. So a run that asks for
bf16 on a CPU (`amp_cpu`, the default preset's) times a few training iterations of its own model in both
before it starts, on a copy that leaves the run untouched, and takes bf16 only when it is clearly faster.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch

# bf16 must be at least this much faster: its gradients differ from fp32's a little (cosine 0.99+), which
# a few percent of speed does not pay for, and a margin keeps timing noise from flipping the choice
MIN_SPEEDUP = 1.1


def native_bf16(device: torch.device) -> bool:
    """Whether this CPU has bf16 instructions (otherwise oneDNN would emulate them, far slower)."""
    if device.type != "cpu":
        return False
    mod = getattr(torch, "cpu", None)
    return any(getattr(mod, f, lambda: False)() for f in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def bf16_autocast_ok(device: torch.device, cuda: bool = False, cpu: bool = False) -> bool:
    """Whether bf16 autocast may be used at all. On CUDA when asked (`amp`): off by default, since `fastgan` at
    64px is launch-bound on an H100 and bf16's casts made it slower (229 against 266 img/s at batch 16).
    On a CPU when asked (`amp_cpu`) and only with native bf16; whether it is then *used* is `choose_bf16`'s
    measurement. Gradients under bf16 match fp32's (cosine 0.997 for D, 0.990 for G; two batches' differ far
    more) and a CPU hour learned as much per image."""
    if device.type == "cuda":
        return cuda
    return cpu and native_bf16(device)


@dataclass
class Timing:
    fp32_ms: float   # the fastest of the timed iterations, fp32
    bf16_ms: float   # the same under bf16 autocast

    @property
    def speedup(self) -> float:
        return self.fp32_ms / self.bf16_ms

    @property
    def prefers_bf16(self) -> bool:
        return self.speedup >= MIN_SPEEDUP

    def to_dict(self) -> dict:
        return {"fp32_ms": round(self.fp32_ms, 2), "bf16_ms": round(self.bf16_ms, 2)}


def time_iterations(family, real: torch.Tensor, rounds: int = 3) -> Timing:
    """Milliseconds per training iteration (every phase: forward, backward, optimiser step) in fp32 and under
    bf16 autocast, the fastest of `rounds` each, after two warm-up iterations each (oneDNN builds its kernels
    on first use). Runs on a deep copy of the family (networks, augmentation, its own optimisers) inside a
    forked random generator, so the run being timed is left exactly as it was."""
    fam = copy.deepcopy(family)
    opts = fam.optimizers()
    own = {k: {id(p) for g in o.param_groups for p in g["params"]} for k, o in opts.items()}
    params = [p for m in fam.nets.values() for p in m.parameters()]
    phases = fam.phases()

    def iteration(bf16: bool) -> float:
        t0 = time.perf_counter()
        for ph in phases:
            wanted = set().union(*(own[k] for k in (ph.grads or (ph.optimizer,))))
            for p in params:
                p.requires_grad_(id(p) in wanted)
            for _ in range(ph.steps):
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    loss, _ = ph.loss(real if ph.uses_real else None)
                opts[ph.optimizer].zero_grad(set_to_none=True)
                loss.backward()
                opts[ph.optimizer].step()
        return (time.perf_counter() - t0) * 1000

    best = {False: float("inf"), True: float("inf")}
    with torch.random.fork_rng(devices=[]):
        for r in range(2 + rounds):
            for bf16 in ((False, True) if r % 2 == 0 else (True, False)):  # alternate, so drift hits both
                ms = iteration(bf16)
                if r >= 2:
                    best[bf16] = min(best[bf16], ms)
    return Timing(best[False], best[True])
