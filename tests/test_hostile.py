"""Hostile input, damaged runs and killed processes: every command answers with exit code 1 or 2 and one
clear line (never a traceback or a hang), reads nothing it was not given, and a run killed at any moment
resumes to the same weights as a run never killed."""
from __future__ import annotations

import json
import os
import pickle
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from pokegan.cli.main import build_parser, main
from pokegan.core.errors import PokeganError
from pokegan.models import checkpoint as ckpt
from pokegan.data import load_dataset
from pokegan.training.loop import Trainer

from conftest import tiny_config
from hostile import SECRET, add_odd_broken_names, make_folder

CLI = [sys.executable, "-m", "pokegan.cli.main"]


def _clean_failure(code: int, err: str) -> None:
    """Exit 1 or 2 with exactly one line of error and no traceback."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code in (1, 2), (code, err)
    assert "Traceback" not in err and len(lines) == 1 and lines[0].startswith(("error:", "pokegan")), err


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    """The CLI in-process: (exit code, stdout, stderr); argparse's exits count as exit codes."""
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


# -- a folder of hostile files ---------------------------------------------------------------------------

@pytest.mark.slow
def test_prepare_takes_the_good_files_and_skips_every_bad_one(tmp_path):
    counts = make_folder(tmp_path / "in", tmp_path / "outside")
    add_odd_broken_names(tmp_path / "in")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    r = subprocess.run(CLI + ["data", "prepare", str(tmp_path / "in"), "--size", "32", "--out",
                              str(tmp_path / "out.data")], capture_output=True, timeout=300)
    peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    out, err = r.stdout.decode("utf-8"), r.stderr.decode("utf-8")   # what it prints is valid UTF-8
    assert r.returncode == 0 and "Traceback" not in out + err, err
    ds = load_dataset(tmp_path / "out.data")
    # good, wrong extension, four odd names and the animation's first frame are the usable ones
    assert len(ds) == counts["good"] + 1 + 4 + 1
    assert not (ds.images[..., :3] == SECRET).all(-1).any()            # nothing from outside the folder
    skips = [line for line in out.splitlines() if line.startswith("skip ")]
    assert len(skips) == 21 and "\x1b" not in out and "\x07" not in out   # every bad file but the folder
    assert any("bad\\udcff\\udcfe.png" in s for s in skips) and any("bad\\nname.png" in s for s in skips)
    for kind in ("a FIFO", "leads out of the folder", "refers to something outside itself", "decompression bomb",
                 "empty file", "unreadable"):
        assert any(kind in s for s in skips), kind
    assert peak_mb < 1500, f"peak memory {peak_mb:.0f} MB"


@pytest.mark.slow
def test_every_frame_of_an_animation_bomb_is_not_decoded(tmp_path):
    make_folder(tmp_path / "in", tmp_path / "outside")
    r = subprocess.run(CLI + ["data", "prepare", str(tmp_path / "in"), "--size", "32", "--frames", "all", "--out",
                              str(tmp_path / "out.data")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "frames0.gif: an animation of 100 frames of 1024x1024 is over the limit" in r.stdout


@pytest.mark.slow
@pytest.mark.parametrize("member,code,message", [
    ("travel", 0, "wrote"), ("zbomb", 1, "over the 64 MB limit"), ("corrupt", 2, "not a zip archive")])
def test_hostile_zips(member, code, message, tmp_path):
    make_folder(tmp_path / "in", tmp_path / "outside")
    r = subprocess.run(CLI + ["data", "prepare", str(tmp_path / "in" / f"{member}0.zip"), "--size", "32", "--out",
                              str(tmp_path / "out.data")], capture_output=True, text=True, timeout=300)
    assert r.returncode == code and message in r.stdout + r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not list(tmp_path.rglob("evil.png"))                          # a member's path is never a path here
    if code:
        _clean_failure(r.returncode, r.stderr)


def test_a_folder_of_only_bad_files_exits_1_and_writes_nothing(tmp_path):
    (tmp_path / "in").mkdir()
    add_odd_broken_names(tmp_path / "in")
    r = subprocess.run(CLI + ["data", "prepare", str(tmp_path / "in"), "--size", "32", "--out",
                              str(tmp_path / "out.data")], capture_output=True, text=True, timeout=120)
    _clean_failure(r.returncode, r.stderr)
    assert r.returncode == 1 and "no usable images" in r.stderr and not (tmp_path / "out.data").exists()


# -- damaged run folders -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    from conftest import write_tiny_dataset

    tmp = tmp_path_factory.mktemp("good")
    data = write_tiny_dataset(tmp / "tiny.data")
    t = Trainer.new(tiny_config("dcgan", kimg=0.032, ema_kimg=0.05), str(data), tmp / "runs",
                    progress="quiet", log=lambda m: None)
    t.run()
    return t.run_dir, data


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


STATE_DAMAGE = {
    "empty state": lambda s: "", "truncated state": lambda s: s[: len(s) // 2], "null": lambda s: "null",
    "a string": lambda s: '"state"', "a list": lambda s: "[]", "deep nesting": lambda s: _nested(200_000),
    "family a number": lambda s: json.dumps({**json.loads(s), "family": 3}),
    "resolution a string": lambda s: json.dumps({**json.loads(s), "resolution": "32"}),
    "channels 7": lambda s: json.dumps({**json.loads(s), "channels": 7}),
    "background plaid": lambda s: json.dumps({**json.loads(s), "background": "plaid"}),
    "config null": lambda s: json.dumps({**json.loads(s), "config": None}),
    "batch a string": lambda s: json.dumps({**json.loads(s), "config": {**json.loads(s)["config"], "batch": "x"}}),
    "z_dim 0": lambda s: json.dumps({**json.loads(s), "config": {**json.loads(s)["config"], "z_dim": 0}}),
    "options a list": lambda s: json.dumps({**json.loads(s), "config": {**json.loads(s)["config"], "options": []}}),
    "unknown family": lambda s: json.dumps({**json.loads(s), "config": {**json.loads(s)["config"], "family": "x"}}),
    "no optimizers": lambda s: json.dumps({k: v for k, v in json.loads(s).items() if k != "optimizers"}),
    "feed a string": lambda s: json.dumps({**json.loads(s), "feed": "x"}),
    "pickle as state": lambda s: pickle.dumps({"family": "dcgan"}).decode("latin-1"),
}


def _weights_damage(kind: str, path: Path) -> None:
    w = load_file(str(path))
    if kind == "empty weights":
        path.write_bytes(b"")
    elif kind == "truncated weights":
        path.write_bytes(path.read_bytes()[:1000])
    elif kind == "pickle as weights":
        path.write_bytes(pickle.dumps(w))
    elif kind == "wrong shapes":
        save_file({k: torch.zeros(3, 3) if v.ndim > 1 else v for k, v in w.items()}, str(path))
    elif kind == "NaN weights":
        save_file({k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in w.items()},
                  str(path))


# The training configuration and state only a resume reads: a generator is built from its own description
# ("generator" in state.json), so generate, eval, export and interpolate still work with these.
RESUME_ONLY = ("no optimizers", "feed a string", "batch a string", "z_dim 0", "options a list", "unknown family")
WEIGHT_DAMAGE = ("empty weights", "truncated weights", "pickle as weights", "wrong shapes", "NaN weights")


@pytest.mark.slow
@pytest.mark.parametrize("damage", list(STATE_DAMAGE) + list(WEIGHT_DAMAGE) + ["no checkpoints"])
def test_every_command_on_a_damaged_run_fails_with_one_line(damage, good_run, tmp_path, capsys):
    run, data = good_run
    bad = tmp_path / run.name
    shutil.copytree(run, bad)
    latest = bad / "checkpoints" / "latest"
    if damage in STATE_DAMAGE:
        (latest / "state.json").write_text(STATE_DAMAGE[damage]((latest / "state.json").read_text()),
                                           encoding="latin-1")
    elif damage in WEIGHT_DAMAGE:
        _weights_damage(damage, latest / "weights.safetensors")
    else:
        shutil.rmtree(bad / "checkpoints")
    commands = [["generate", str(bad), "--n", "2", "--out", str(tmp_path / "g")],
                ["eval", str(bad), "--data", str(data), "--num", "4"],
                ["train", "--resume", str(bad), "--kimg", "0.1", "--progress", "quiet"],
                ["export", str(bad), "--out", str(tmp_path / "x")],
                ["interpolate", str(bad), "--seeds", "1", "2", "--out", str(tmp_path / "w.gif")]]
    if damage in RESUME_ONLY:    # what only a resume reads: the others use the generator its file names
        commands = commands[2:3]
    for argv in commands:
        code, _, err = _run(argv, capsys)
        _clean_failure(code, err)
    assert not (tmp_path / "g" / "0000.png").exists()


# -- bad values for every numeric option of every command ------------------------------------------------

BAD_VALUES = ["-1", "-1e9", "nan", "inf", "1e309", "99999999999999999999999", "abc", "0x10"]


def _numeric_options() -> list[tuple[list[str], str, str]]:
    """(command words, option, type) for every int/float option of every command."""
    parser = build_parser()
    out = []

    def walk(p, words):
        for a in p._actions:
            if hasattr(a, "choices") and isinstance(a.choices, dict) and a.option_strings == []:
                for name, sub in a.choices.items():
                    walk(sub, words + [name])
            elif a.option_strings and a.type in (int, float):
                out.append((words, a.option_strings[0], a.type.__name__))
    walk(parser, [])
    return out


@pytest.mark.slow
def test_every_numeric_option_refuses_bad_values_in_one_line(tmp_path, tiny_data, capsys):
    missing = str(tmp_path / "missing.data")  # a value that passes its checks meets a clear missing-file error
    base = {"train": ["train", "--data", missing, "--run-dir", str(tmp_path / "runs")],
            "generate": ["generate", "--out", str(tmp_path / "g"), "--n", "1"],
            "interpolate": ["interpolate", "--seeds", "1", "2", "--out", str(tmp_path / "w.gif")],
            "eval": ["eval", str(tmp_path), "--data", missing], "export": ["export", "--onnx", str(tmp_path / "o")],
            "serve": ["serve", "--runs", str(tmp_path / "no-runs")], "data prepare": ["data", "prepare", missing,
                                                                                    "--out", str(tmp_path / "o.data")],
            "data show": ["data", "show", missing], "report": ["report", missing, "--out", str(tmp_path / "r.html")],
            "project": ["project", "pikachu", "--data", missing, "--out", str(tmp_path / "p")],
            "fuse": ["fuse", "pikachu", "charmander", "--data", missing, "--out", str(tmp_path / "f")],
            "train-encoder": ["train-encoder", str(tmp_path / "no-model"), "--out", str(tmp_path / "e")],
            "types-fit": ["types-fit", str(tmp_path / "no-model"), "--data", missing, "--out", str(tmp_path / "t")]}
    options = _numeric_options()
    assert len(options) > 30
    tried = 0
    for words, option, _ in options:
        argv = base[" ".join(words)]
        for value in BAD_VALUES:
            code, out, err = _run(argv + [option, value], capsys)
            tried += 1
            assert code in (1, 2), (argv, option, value, code, out)
            _clean_failure(code, err.splitlines()[-1] if err.startswith("usage") else err)
    assert not any((tmp_path / d).exists() for d in ("runs", "g", "p", "f", "e", "t")) and tried > 240


@pytest.mark.slow
def test_a_failed_start_leaves_no_run_folder(tiny_data, tmp_path):
    r = subprocess.run(CLI + ["train", "--data", str(tiny_data), "--preset", "dcgan", "--kimg", "1", "--batch", "0",
                              "--run-dir", str(tmp_path / "runs")], capture_output=True, text=True)
    _clean_failure(r.returncode, r.stderr)
    assert "batch=0" in r.stderr and not (tmp_path / "runs").exists()
    r = subprocess.run(CLI + ["generate", "--device", "cuda", "--out", str(tmp_path / "g")], capture_output=True,
                       text=True)
    _clean_failure(r.returncode, r.stderr)


# -- faults while training ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_full_disk_names_the_checkpoint_and_keeps_the_previous_one(tiny_data, tmp_path, monkeypatch):
    t = Trainer.new(tiny_config("dcgan", kimg=0.032), str(tiny_data), tmp_path, progress="quiet", log=lambda m: None)
    t.run()
    latest = t.run_dir / "checkpoints" / "latest"
    before = (latest / "state.json").read_bytes()

    def full(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ckpt.os, "fsync", full)
    with pytest.raises(PokeganError, match="could not be written .*No space left.*previous one is intact"):
        t.save(latest)
    assert (latest / "state.json").read_bytes() == before and not list(latest.parent.glob(".tmp-*"))


@pytest.mark.slow
def test_resume_refuses_a_checkpoint_outside_a_run_and_trims_rows_after_it(tiny_data, tmp_path):
    from pokegan.core.errors import PokeganError

    t = Trainer.new(tiny_config("dcgan", kimg=0.064, tick_kimg=0.008, save_every_kimg=0.032,
                                snapshot_every_kimg=0.012, keep_snapshots=0),
                    str(tiny_data), tmp_path / "runs", progress="quiet", log=lambda m: None)
    t.run()
    names = sorted(p.name for p in (t.run_dir / "checkpoints").glob("snapshot-*"))
    assert names == [f"snapshot-000000.{k:03d}kimg" for k in (16, 24, 40, 48, 64)]   # fractional: none overwritten
    bare = tmp_path / "bare"
    shutil.copytree(t.run_dir / "checkpoints" / "latest", bare)
    with pytest.raises(PokeganError, match="not inside one"):
        Trainer.resume(bare, kimg=0.1)
    stats = t.run_dir / "stats.jsonl"
    stats.write_text(stats.read_text() + json.dumps({"kimg": 9.0, "step": 999}) + "\n{torn")
    (t.run_dir / "checkpoints" / ".tmp-latest-999999").mkdir()
    Trainer.resume(t.run_dir, kimg=0.1)
    assert max(json.loads(line)["kimg"] for line in stats.read_text().splitlines()) <= 0.064
    assert not (t.run_dir / "checkpoints" / ".tmp-latest-999999").exists()


@pytest.mark.slow
def test_a_run_killed_at_twenty_random_points_resumes_to_the_same_weights(tiny_data, tmp_path):
    """SIGKILL at random moments (half at a random time after the start: start-up, steps, checkpoint writes;
    half a random moment after a random number of new ticks), each time resumed, ends bit-identical on the
    CPU with --deterministic to a run never killed, with no stray files and no repeated log rows."""
    args = ["--data", str(tiny_data), "--preset", "dcgan", "--set", "g_base=4", "--set", "d_base=4", "--batch", "8",
            "--kimg", "2.4", "--tick-kimg", "0.008", "--save-every-kimg", "0.008", "--sample-every-kimg", "0.1",
            "--snapshot-every-kimg", "0", "--deterministic", "--progress", "quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    ref = subprocess.run(CLI + ["train", *args, "--run-dir", str(tmp_path / "ref")], capture_output=True, text=True,
                         env=env, timeout=600)
    assert ref.returncode == 0, ref.stderr
    rng = random.Random(0)
    runs = tmp_path / "killed"

    def resumable(run) -> bool:   # a whole checkpoint to resume from (a kill inside the first write leaves none)
        try:
            return bool(ckpt.find(run))
        except PokeganError:
            return False

    def rows() -> int:
        found = list(runs.glob("*/stats.jsonl"))
        return found[0].read_text().count("\n") if found else 0

    kills = 0
    while kills < 20:
        started = runs.exists() and any(resumable(r) for r in runs.iterdir())
        if runs.exists() and not started:   # killed before its first whole checkpoint: nothing to resume, start again
            shutil.rmtree(runs)
        cmd = CLI + (["train", "--resume", str(next(runs.iterdir())), "--progress", "quiet"] if started
                     else ["train", *args, "--run-dir", str(runs)])
        before = rows()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        if kills % 2 == 0:
            time.sleep(rng.uniform(0.3, 3.0))
        else:
            want, deadline = before + rng.randint(1, 2), time.time() + 120
            while rows() < want and proc.poll() is None and time.time() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.2))
        if proc.poll() is not None:
            assert proc.returncode == 0, proc.stderr.read()
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    run = next(runs.iterdir())
    while json.loads((run / "checkpoints" / "latest" / "state.json").read_text())["kimg"] < 2.4:
        r = subprocess.run(CLI + ["train", "--resume", str(run), "--progress", "quiet"], capture_output=True, text=True,
                           env=env, timeout=600)
        assert r.returncode == 0, r.stderr
    a = load_file(str(next((tmp_path / "ref").iterdir()) / "checkpoints" / "latest" / "weights.safetensors"))
    b = load_file(str(run / "checkpoints" / "latest" / "weights.safetensors"))
    assert kills == 20 and a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["latest"]   # no .tmp-*, no .old-*
    kimgs = [json.loads(line)["kimg"] for line in (run / "stats.jsonl").read_text().splitlines()]
    assert kimgs == sorted(set(kimgs))                                              # no repeated rows
