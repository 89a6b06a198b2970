"""The hostile-input suite at scale: about 1,000 generated bad files through `pokegan data prepare`, every
damaged run folder through every command that reads a run, and bad values for every numeric option of
every command. Prints the counts as Markdown (for benchmarks/RESULTS.md).

    .venv/bin/python benchmarks/bench_hostile.py --scale 36

Each case passes when the command exits 0 (prepare, with the good files), 1 or 2 with one line of error and
no traceback, within the time limit. The prepare run includes the large cases (a 3 GB sparse file, a zip
member of 1.5 GiB) and reports its peak memory.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hostile import SECRET, add_odd_broken_names, make_folder  # noqa: E402


def in_process(argv: list[str]) -> tuple[object, list[str]]:
    from pokegan.cli.main import main

    err, out = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(argv)
    except SystemExit as e:
        code = e.code
    except Exception as e:  # a traceback in the real CLI
        code = f"{type(e).__name__}"
    return code, [line for line in err.getvalue().splitlines() if line.strip()]


def clean(code, lines) -> bool:
    return code in (1, 2) and (len(lines) == 1 or (lines and lines[0].startswith("usage")))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=36, help="repetitions of each bad kind (36: about 1,000 files)")
    ap.add_argument("--json-cases", type=int, default=400,
                    help="run files rewritten with random JSON (config, stats, state fields, per-type, card)")
    ap.add_argument("--only-json", action="store_true", help="only the random-JSON run files")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        if args.only_json:
            return json_cases(tmp, args.json_cases)
        counts = make_folder(tmp / "in", tmp / "outside", scale=args.scale, big=True)
        add_odd_broken_names(tmp / "in")
        files = sum(counts.values()) + 3
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "pokegan.cli.main", "data", "prepare", str(tmp / "in"), "--size", "32",
                            "--out", str(tmp / "out.data")], capture_output=True, timeout=1800)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        out = r.stdout.decode("utf-8", "replace")
        from pokegan.data import load_dataset

        ds = load_dataset(tmp / "out.data") if r.returncode == 0 else None
        secret = bool(ds is not None and (ds.images[..., :3] == SECRET).all(-1).any())
        reasons = Counter(line.split(": ", 1)[1].split(" (")[0][:60] for line in out.splitlines()
                          if line.startswith("skip "))
        print(f"## data prepare on {files} files ({sum(v for k, v in counts.items() if k != 'good')} bad, "
              f"{counts['good']} good)\n")
        print(f"exit {r.returncode}, {seconds:.1f} s, peak memory {peak:.0f} MB, traceback: "
              f"{'Traceback' in r.stderr.decode('utf-8', 'replace')}, images kept: {len(ds) if ds else 0}, "
              f"the outside file's pixels in the dataset: {secret}\n")
        print("| skipped because | files |\n|---|---|")
        for k, v in reasons.most_common():
            print(f"| {k} | {v} |")

        zips = Counter()
        for z in sorted((tmp / "in").glob("*.zip")):
            code, lines = in_process(["data", "prepare", str(z), "--size", "32", "--out", str(tmp / "z.data")])
            zips[f"exit {code}" + ("" if code == 0 or clean(code, lines) else " NOT clean")] += 1
        print(f"\n## data prepare on each of {sum(zips.values())} hostile zips (traversal, member bombs, corrupt, "
              "one member of 1.5 GiB)\n")
        print(", ".join(f"{k}: {v}" for k, v in sorted(zips.items())))

        sys.argv = [sys.argv[0]]
        import test_hostile as th  # the damaged runs and options the tests use

        from pokegan.training.loop import Trainer
        from conftest import tiny_config
        import pytest  # noqa: F401

        from conftest import write_tiny_dataset

        data = write_tiny_dataset(tmp / "tiny.data")
        t = Trainer.new(tiny_config("dcgan", kimg=0.032, ema_kimg=0.05), str(data), tmp / "runs", progress="quiet",
                        log=lambda m: None)
        t.run()
        results = Counter()
        bad_cases = []
        damages = list(th.STATE_DAMAGE) + list(th.WEIGHT_DAMAGE) + ["no checkpoints"]
        for damage in damages:
            bad = tmp / "damaged" / damage.replace(" ", "_") / t.run_dir.name
            shutil.copytree(t.run_dir, bad)
            latest = bad / "checkpoints" / "latest"
            if damage in th.STATE_DAMAGE:
                (latest / "state.json").write_text(th.STATE_DAMAGE[damage]((latest / "state.json").read_text()),
                                                   encoding="latin-1")
            elif damage in th.WEIGHT_DAMAGE:
                th._weights_damage(damage, latest / "weights.safetensors")
            else:
                shutil.rmtree(bad / "checkpoints")
            for argv in (["generate", str(bad), "--n", "2", "--out", str(tmp / "g")],
                         ["eval", str(bad), "--data", str(data), "--num", "4"],
                         ["train", "--resume", str(bad), "--kimg", "0.1", "--progress", "quiet"],
                         ["export", str(bad), "--out", str(tmp / "x")], ["report", str(bad), "--out", str(tmp / "r.html")],
                         ["interpolate", str(bad), "--seeds", "1", "2", "--out", str(tmp / "w.gif")]):
                code, lines = in_process(argv)
                # a report shows what it can; what only a resume reads leaves the model usable elsewhere
                ok = clean(code, lines) or (code == 0 and (argv[0] == "report" or
                                                           (damage in th.RESUME_ONLY
                                                            and argv[0] != "train")))
                results["clean" if ok else "NOT clean"] += 1
                if not ok:
                    bad_cases.append((damage, argv[0], code, lines[-1:] if lines else []))
        print(f"\n## {len(damages)} damaged run folders x 6 commands\n")
        print(", ".join(f"{k}: {v}" for k, v in results.items()))
        for case in bad_cases:
            print("-", case)

        missing = str(tmp / "missing.data")
        base = {"train": ["train", "--data", missing, "--run-dir", str(tmp / "runs2")],
                "generate": ["generate", "--out", str(tmp / "g2"), "--n", "1"],
                "interpolate": ["interpolate", "--seeds", "1", "2", "--out", str(tmp / "w2.gif")],
                "eval": ["eval", str(tmp), "--data", missing], "export": ["export", "--onnx", str(tmp / "o")],
                "serve": ["serve", "--runs", str(tmp / "no-runs")],
                "data prepare": ["data", "prepare", missing, "--out", str(tmp / "o.data")],
                "data show": ["data", "show", missing], "report": ["report", missing, "--out", str(tmp / "r2.html")]}
        opts = th._numeric_options()
        fuzz = Counter()
        for words, option, _ in opts:
            for value in th.BAD_VALUES:
                code, lines = in_process(base[" ".join(words)] + [option, value])
                fuzz["clean" if clean(code, lines) else "NOT clean"] += 1
        print(f"\n## {len(opts)} numeric options x {len(th.BAD_VALUES)} bad values\n")
        print(", ".join(f"{k}: {v}" for k, v in fuzz.items()))
        json_cases(tmp, args.json_cases)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def random_json(rng, depth: int = 0):
    """Any JSON value: the shapes a damaged, foreign or hand-edited run file may hold."""
    kinds = ["null", "bool", "int", "big", "float", "nan", "str"] + (["list", "dict"] if depth < 3 else [])
    k = rng.choice(kinds)
    return {"null": lambda: None, "bool": lambda: rng.random() < 0.5, "int": lambda: rng.randint(-5, 5000),
            "big": lambda: rng.choice([-1e9, 2 ** 63, 10 ** 30, -(2 ** 70)]), "float": lambda: rng.uniform(-1e6, 1e6),
            "nan": lambda: rng.choice([float("nan"), float("inf"), -float("inf")]),
            "str": lambda: rng.choice(["", "x", "../../etc/passwd", "fastgan", "white", "\u0000", "9" * 40]),
            "list": lambda: [random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))],
            "dict": lambda: {rng.choice(["kimg", "config", "a", "warnings", "types"]): random_json(rng, depth + 1)
                             for _ in range(rng.randint(0, 3))}}[k]()


def json_cases(tmp: Path, cases: int) -> int:
    """Run files rewritten with random JSON, through every command that reads them: each must answer with
    exit 0 or one clean line, never a traceback, within 60 s."""
    import json
    import random

    sys.argv = [sys.argv[0]]
    from conftest import tiny_config, write_tiny_dataset
    from pokegan.training.loop import Trainer

    data = write_tiny_dataset(tmp / "tiny-json.data", typed=True)
    t = Trainer.new(tiny_config("fastgan", kimg=0.032, conditional="types", cond_start_kimg=0.0, cond_end_kimg=0.0),
                    str(data), tmp / "runs-json", progress="quiet", log=lambda m: None)
    t.run()
    rng = random.Random(0)
    fields = ["step", "nimg", "tick", "kimg", "rollbacks", "elapsed_s", "config", "family", "resolution", "channels",
              "background", "generator", "types_seen", "palette", "ema", "feed", "monitor", "optimizers"]
    results, slow, bad_cases = Counter(), 0, []
    for i in range(cases):
        run = tmp / "json" / f"{i:04d}" / t.run_dir.name
        shutil.copytree(t.run_dir, run)
        latest = run / "checkpoints" / "latest"
        what = rng.choice(["config", "stats", "state", "per_type", "state"])
        if what == "config":
            (run / "config.json").write_text(json.dumps(random_json(rng)))
        elif what == "stats":
            with open(run / "stats.jsonl", "a") as f:
                f.write("".join(json.dumps(random_json(rng)) + "\n" for _ in range(3)))
        elif what == "per_type":
            (run / "per_type.json").write_text(json.dumps(random_json(rng)))
        else:
            state = json.loads((latest / "state.json").read_text())
            state[rng.choice(fields)] = random_json(rng)
            (latest / "state.json").write_text(json.dumps(state))
        for argv in (["report", str(run), "--out", str(tmp / "r.html")],
                     ["generate", str(run), "--n", "2", "--out", str(tmp / "g")],
                     ["train", "--resume", str(run), "--kimg", "0.04", "--progress", "quiet"]):
            t0 = time.perf_counter()
            code, lines = in_process(argv)
            took = time.perf_counter() - t0
            slow += took > 60
            # one error line last (a resume may first say how it trains), no traceback anywhere
            told = code in (1, 2) and lines and lines[-1].startswith("error: ") and not any("Traceback" in x for x in lines)
            ok = (code == 0 or told) and took <= 60
            results["clean" if ok else "NOT clean"] += 1
            if not ok:
                bad_cases.append((what, argv[0], code, lines[-1:] if lines else []))
        shutil.rmtree(run.parent, ignore_errors=True)
    print(f"\n## {cases} run folders with a random JSON value in a run file x 3 commands (report, generate, resume)\n")
    print(", ".join(f"{k}: {v}" for k, v in results.items()) + f"; over 60 s: {slow}")
    for case in bad_cases[:20]:
        print("-", case)
    return 1 if bad_cases else 0


if __name__ == "__main__":
    sys.exit(main())
