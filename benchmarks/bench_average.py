"""Does averaging a run's last few EMA snapshots beat its last EMA generator alone?

    .venv/bin/python benchmarks/bench_average.py runs/00015-fastgan-gen5-64-reuse --data data/gen5-64.data --counts 1 3 5

For each run and each count K: the EMA generator weights of the run's latest checkpoint and its K-1 newest
snapshots before it, averaged uniformly (a longer averaging window than the EMA's own half-life, as
Yazici et al. 2019 study for GANs), batch-norm statistics recomputed for the averaged weights, then FID,
KID, precision, recall and near-copies with as many generated images as the dataset has (the same
protocol as bench_default.py). K = 1 is the latest checkpoint alone (its batch-norm statistics recomputed
once more, which moves precision and recall by a few thousandths). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def average_generators(paths: list[str | Path], device: str = "cpu"):
    """The uniform average of several checkpoints' generators (EMA if kept) from one run, e.g. its latest
    checkpoint and the snapshots before it: a longer averaging window than the EMA's half-life (Yazici et
    al. 2019, "The Unusual Effectiveness of Averaging in GAN Training"). Batch-norm statistics and
    spectral-norm vectors are not averaged; they are recomputed for the averaged weights, starting from the
    first checkpoint's. The first checkpoint's state describes the result, with `averaged_from` added."""
    import torch

    from pokegan.errors import PokeganError
    from pokegan.models.base import recalibrate_ema
    from pokegan.sampling import load_generator
    from pokegan.training.config import TrainConfig

    if not paths:
        raise PokeganError("average_generators: no checkpoints given")
    first = load_generator(paths[0], device="cpu")
    total = {k: v.double() for k, v in first.G.state_dict().items()
             if v.is_floating_point() and not k.endswith(("_u", "_v", "running_mean", "running_var"))}
    for path in paths[1:]:
        other = load_generator(path, device="cpu")
        same = ("family", "resolution", "channels")
        if any(getattr(other, a) != getattr(first, a) for a in same) or other.state["config"].get("options") != \
                first.state["config"].get("options"):
            raise PokeganError(f"{path}: cannot be averaged with {paths[0]}: a different model "
                               f"({other.family} {other.resolution}px, {other.channels} channels, options "
                               f"{other.state['config'].get('options')}); average checkpoints of one run")
        theirs = other.G.state_dict()
        for k in total:
            total[k] += theirs[k].double()
    first.G.load_state_dict({k: (v / len(paths)).float() for k, v in total.items()}, strict=False)
    cfg = TrainConfig.from_dict(first.state["config"])
    recalibrate_ema(first.G, first.z_dim, cfg)
    first.G = first.G.eval().to(torch.device(device))
    first.device = torch.device(device)
    first.state = {**first.state, "averaged_from": [str(p) for p in paths]}
    return first


def main() -> None:
    from pokegan.data import load_dataset
    from pokegan.metrics.evaluate import EvalConfig, evaluate_arrays
    from pokegan.metrics.inception import InceptionFeatures

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+")
    p.add_argument("--data", required=True)
    p.add_argument("--counts", type=int, nargs="+", default=[1, 3, 5])
    args = p.parse_args()
    ds = load_dataset(args.data)
    ext = InceptionFeatures()
    print("| run | checkpoints averaged | kimg span | FID | KID | precision | recall | near-copies (real's own) |")
    print("|---|---|---|---|---|---|---|---|")
    for run in map(Path, args.runs):
        ckpts = [run / "checkpoints" / "latest"] + sorted((run / "checkpoints").glob("snapshot-*"), reverse=True)
        kimg = [json.loads((ck / "state.json").read_text())["kimg"] for ck in ckpts]
        if max(args.counts) > len(ckpts):
            p.error(f"{run}: {len(ckpts)} checkpoints (latest and snapshots), fewer than --counts {max(args.counts)}")
        for k in args.counts:
            g = average_generators(ckpts[:k])
            imgs = g.arrays(len(ds), seed=0)
            res, _ = evaluate_arrays(imgs, ds, EvalConfig(), extractor=ext, log=lambda m: None)
            print(f"| {run.name} | {k} | {kimg[k - 1]:.1f}-{kimg[0]:.1f} | {res['fid']:.1f} | {res['kid']:.4f} | "
                  f"{res['precision']:.3f} | {res['recall']:.3f} | {res['near_copy_share']:.3f} "
                  f"({res['real_near_copy_share']:.3f}) |", flush=True)


if __name__ == "__main__":
    main()
