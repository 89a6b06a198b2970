"""Does bf16 autocast change what a training step learns? Gradients of one checkpoint's D and G steps in fp32
and under bf16 autocast, on the same batch, latents and augmentation, compared by cosine similarity.

    .venv/bin/python benchmarks/bench_bf16_grads.py runs/00035-fastgan-gen5-64/checkpoints/snapshot-000300kimg [--batches 4]

For scale, each row also gives the cosine between the fp32 gradients of two different batches (what the
noise of a minibatch already is) and between two fp32 repeats (1: the comparison itself is exact). If
bf16's gradients sit near 1 while two batches' sit far below, bf16 changes each step by much less than
the data does, and any difference over a run is in how many images it sees, not in what each teaches.
Runs on the CPU; asks for native bf16 (AVX512-BF16 or AMX), since emulated bf16 is not what training uses.
"""
from __future__ import annotations

import argparse
import copy


def main() -> None:
    import torch

    from pokegan.training.loop import Trainer, bf16_autocast_ok

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="a run folder or checkpoint of a GAN trained by pokegan")
    p.add_argument("--data", help="the dataset (default: the one the run was trained on)")
    p.add_argument("--batches", type=int, default=4, help="batches to compare, each on its own latents")
    args = p.parse_args()
    if args.batches < 2:
        p.error("--batches must be at least 2 (two batches are compared with each other for scale)")
    if not bf16_autocast_ok(torch.device("cpu"), cpu=True):
        raise SystemExit("this CPU has no native bf16 (AVX512-BF16 or AMX): nothing to compare with what training uses")
    t = Trainer.resume(args.checkpoint, data=args.data, progress="quiet", device="cpu")
    start = {k: copy.deepcopy(m.state_dict()) for k, m in t.nets.items()}  # spectral norm's vectors move per call
    batches = [t.feed.next(t.cfg.batch, 0, 1) for _ in range(args.batches)]

    def grads(phase, i: int, bf16: bool) -> torch.Tensor:
        for k, m in t.nets.items():
            m.load_state_dict(start[k])
            for q in m.parameters():
                q.grad = None
        t._phase_grads(phase)
        t.family._fake = None  # with reuse_fakes the G step would score the last D step's fakes: draw its own
        torch.manual_seed(i)  # latents and augmentation
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss, _ = phase.loss(batches[i] if phase.uses_real else None)
        loss.backward()
        return torch.cat([q.grad.flatten().float() for q in t.nets[phase.optimizer].parameters() if q.grad is not None])

    def cos(a: torch.Tensor, b: torch.Tensor) -> float:
        return float(torch.nn.functional.cosine_similarity(a, b, dim=0))

    print(f"{args.checkpoint} (kimg {t.nimg / 1000:.1f}), {args.batches} batches of {t.cfg.batch}: cosine similarity of gradients")
    print("| step | fp32 vs fp32 repeated | fp32 vs bf16 (mean, min) | two batches in fp32 (mean) | norm bf16 / fp32 |")
    print("|---|---|---|---|---|")
    for phase in t.family.phases():
        fp32 = [grads(phase, i, False) for i in range(args.batches)]
        bf16 = [grads(phase, i, True) for i in range(args.batches)]
        same = cos(fp32[0], grads(phase, 0, False))
        vs = [cos(a, b) for a, b in zip(fp32, bf16)]
        pairs = [cos(fp32[i], fp32[i + 1]) for i in range(args.batches - 1)]
        ratio = sum(float(b.norm() / a.norm()) for a, b in zip(fp32, bf16)) / args.batches
        print(f"| {phase.name} | {same:.4f} | {sum(vs) / len(vs):.4f}, {min(vs):.4f} | {sum(pairs) / len(pairs):.4f} | "
              f"{ratio:.3f} |", flush=True)


if __name__ == "__main__":
    main()
