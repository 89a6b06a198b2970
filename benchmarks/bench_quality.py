"""The quality benchmark: every preset trained on gen5-64 under the same budget, then `pokegan eval`.

    .venv/bin/python benchmarks/bench_quality.py --data data/gen5-64.data --minutes 5 --kimg 1000
    .venv/bin/python benchmarks/bench_quality.py --data data/gen5-64.data --minutes 5 --presets dcgan fastgan
    # recipe variants: an entry may carry `pokegan train` options after the preset name
    .venv/bin/python benchmarks/bench_quality.py --data data/gen5-64.data --minutes 10 --presets fastgan "fastgan --batch 16"

Each preset trains with `pokegan train --minutes M --kimg K` (the first limit reached stops it; both are
recorded), then `pokegan eval` measures FID, KID, precision, recall and near-copies with as many generated
images as the dataset has. Prints a Markdown table with the real-vs-real floor and report 001's FID, and
copies each entry's final sample grid to --grids (benchmarks/grids/PRESET.png). Runs go to --runs (not committed).
"""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
PKG = [sys.executable, "-m", "pokegan.cli.main"]


def main() -> None:
    from pokegan.presets import PRESETS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--minutes", type=float, default=5.0, help="CPU wall-clock budget per preset")
    p.add_argument("--kimg", type=float, default=1000.0, help="kimg budget per preset")
    p.add_argument("--presets", nargs="*", default=[k for k in PRESETS if k != "dcgan-128"],
                   help="preset names; an entry may add train options: \"fastgan --batch 16\"")
    p.add_argument("--runs", default=str(HERE / "out" / "quality-runs"))
    p.add_argument("--grids", default=str(HERE / "grids"), help="where each entry's final sample grid is copied")
    p.add_argument("--num", type=int, default=0, help="generated images per eval (0 = dataset size)")
    args = p.parse_args()
    rows = []
    for entry in args.presets:
        preset, *extra = shlex.split(entry)
        name = "_".join([preset] + [a.lstrip("-").replace("=", "-").replace(",", "+") for a in extra])
        runs = Path(args.runs) / name
        shutil.rmtree(runs, ignore_errors=True)
        t0 = time.time()
        r = subprocess.run(PKG + ["train", "--data", args.data, "--preset", preset, *extra, "--minutes", str(args.minutes),
                                  "--kimg", str(args.kimg), "--run-dir", str(runs), "--progress", "quiet",
                                  "--sample-every-kimg", "10"], capture_output=True, text=True)
        train_min = (time.time() - t0) / 60
        if r.returncode != 0:
            rows.append({"preset": name, "error": r.stderr.strip().splitlines()[-1]})
            print(f"{name}: training failed: {rows[-1]['error']}", flush=True)
            continue
        run = next(runs.iterdir())
        stats = [json.loads(l) for l in (run / "stats.jsonl").read_text().splitlines() if l.strip()]
        last = stats[-1]
        ips = sum(s["img_per_sec"] for s in stats) / len(stats)
        out = Path(args.runs) / f"{name}.json"
        t0 = time.time()
        r = subprocess.run(PKG + ["eval", str(run), "--data", args.data, "--json", str(out), "--num", str(args.num)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            rows.append({"preset": name, "error": "eval: " + r.stderr.strip().splitlines()[-1]})
            continue
        eval_min = (time.time() - t0) / 60
        res = json.loads(out.read_text())
        Path(args.grids).mkdir(parents=True, exist_ok=True)
        shutil.copy(run / "samples" / "latest.png", Path(args.grids) / f"{name}.png")
        warnings = sorted({w["kind"] for s in stats for w in s.get("warnings", [])})
        rows.append({"preset": entry, "family": json.loads((run / "config.json").read_text())["family"],
                     "kimg": last["kimg"], "cpu_min": train_min, "img_s": ips, **res, "warnings": warnings,
                     "eval_min": eval_min})
        print(f"{name}: kimg {last['kimg']:.1f}, FID {res['fid']:.1f}, KID {res['kid']:.4f}, "
              f"eval {eval_min:.1f} min", flush=True)
    (Path(args.runs) / "results.json").write_text(json.dumps(rows, indent=1, default=str))
    ok = [r for r in rows if "fid" in r]
    print(f"\nbudget: {args.minutes} CPU minutes or {args.kimg} kimg per preset, whichever first\n")
    print("| preset | family | kimg | train min | img/s | FID | KID | precision | recall | near-copies | warnings "
          "| eval min |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(ok, key=lambda r: r["fid"]):
        print(f"| {r['preset']} | {r['family']} | {r['kimg']:.1f} | {r['cpu_min']:.1f} | {r['img_s']:.0f} | "
              f"{r['fid']:.1f} | {r['kid']:.4f} | {r['precision']:.3f} | {r['recall']:.3f} | "
              f"{r['near_copy_share']:.3f} | {', '.join(r['warnings']) or '-'} | {r['eval_min']:.1f} |")
    if ok:
        print(f"| real vs real (floor) | | | | | {ok[0]['floor_fid']:.1f} | {ok[0]['floor_kid']:.4f} | | | "
              f"{ok[0]['real_near_copy_share']:.3f} | | |")
        print("| report 001 (DCGAN, 130 epochs) | | | | | 182.62 | | | | | | |")
    for r in rows:
        if "error" in r:
            print(f"\n{r['preset']}: {r['error']}")


if __name__ == "__main__":
    main()
