"""Data-parallel training, exercised on the CPU with two gloo processes (no GPU needed): the collectives
do what the loop relies on, and `pokegan train --gpus 2` trains, keeps the ranks identical, resumes, and
reports bad input clearly."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from pokegan.core.errors import PokeganError
from pokegan.training import distributed as ddp

from conftest import sigterm_after_ticks

CLI = [sys.executable, "-m", "pokegan"]  # the package runs as the command


def _collectives(out_dir: str) -> None:
    """Runs in each of two processes; writes what it saw to out_dir/rank.json."""
    import torch.distributed as dist

    rank, world = ddp.rank_world()
    torch.manual_seed(rank)  # different starting weights on each rank
    net = torch.nn.Linear(3, 2)
    ddp.broadcast_modules([net])
    weight0 = net.weight.detach().clone()
    ref = [weight0.clone()]
    dist.broadcast(ref[0], 0)

    def grads_for(r):
        g = torch.Generator().manual_seed(100 + r)
        x = torch.randn(5, 3, generator=g)
        net.zero_grad()
        net(x).pow(2).sum().backward()
        return net.weight.grad.clone()

    expected = (grads_for(0) + grads_for(1)) / 2  # what averaging must give, computed locally
    grads_for(rank)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    ddp.average_gradients(opt)
    averaged_ok = torch.allclose(net.weight.grad, expected, atol=1e-6)
    opt.step()
    ddp.check_consistency({"net": net})  # equal gradients keep equal weights: must not raise
    with torch.no_grad():
        if rank == 1:
            net.weight[0, 0] += 1e-3  # plant a divergence
    try:
        ddp.check_consistency({"net": net})
        caught = ""
    except PokeganError as e:
        caught = str(e)
    res = {"same_start": bool(torch.equal(weight0, ref[0])), "averaged_ok": averaged_ok, "caught": caught,
           "any": ddp.any_rank(rank == 1), "mean": ddp.mean_scalars({"x": float(rank)})["x"],
           "from0": ddp.from_rank0(f"rank{rank}"), "reason": ddp.first_reason("SIGTERM" if rank == 1 else None)}
    (Path(out_dir) / f"{rank}.json").write_text(json.dumps(res))


@pytest.mark.slow
def test_collectives_in_two_processes(tmp_path):
    ddp.launch(2, False, _collectives, str(tmp_path))
    for rank in (0, 1):
        r = json.loads((tmp_path / f"{rank}.json").read_text())
        assert r["same_start"] and r["averaged_ok"], r
        assert "network net differs" in r["caught"], r
        assert r["any"] is True and r["mean"] == 0.5 and r["from0"] == "rank0", r
        assert r["reason"] == "SIGTERM", r  # a signal only rank 1 got names the stop on rank 0 too


def _dies(out_dir: str, when: str) -> None:
    """Rank 1 aborts during its work, or only while its interpreter shuts down after the work is done."""
    import atexit

    rank, _ = ddp.rank_world()
    if rank == 1 and when == "working":
        os.abort()
    if rank == 1 and when == "exiting":
        atexit.register(os.abort)
    (Path(out_dir) / f"{rank}.json").write_text("{}")


@pytest.mark.slow
def test_a_death_after_every_rank_finished_is_not_a_failure_but_one_during_work_is(tmp_path, monkeypatch, capfd):
    meetings = tmp_path / "tmp"
    meetings.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(meetings))  # where launch makes the ranks' meeting folder
    ddp.launch(2, False, _dies, str(tmp_path), "exiting")
    assert "after every process had finished; nothing was lost" in capfd.readouterr().err
    assert (tmp_path / "0.json").exists() and (tmp_path / "1.json").exists()
    with pytest.raises(PokeganError, match="a training process died .*SIGABRT"):
        ddp.launch(2, False, _dies, str(tmp_path), "working")
    # the meeting folders are removed either way (torch may leave its own error files there)
    assert list(meetings.glob("pokegan-ranks-*")) == []


@pytest.mark.slow
def test_single_process_collectives_are_identity():
    net = torch.nn.Linear(2, 2)
    net(torch.ones(1, 2)).sum().backward()
    g = net.weight.grad.clone()
    ddp.average_gradients(torch.optim.SGD(net.parameters(), lr=0.1))
    assert torch.equal(net.weight.grad, g)
    assert ddp.any_rank(False) is False and ddp.mean_scalars({"a": 2.0}) == {"a": 2.0}


def _train(tiny_data, runs, *extra):
    return subprocess.run(CLI + ["train", "--data", str(tiny_data), "--preset", "fastgan-ada", "--batch", "8",
                                 "--set", "g_base=4", "--set", "d_base=4", "--set", "w_max=16",
                                 "--tick-kimg", "0.016", "--run-dir", str(runs), "--device", "cpu",
                                 "--progress", "lines", *extra], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_train_with_two_processes_then_resume(tiny_data, tmp_path):
    runs = tmp_path / "runs"
    r = _train(tiny_data, runs, "--gpus", "2", "--kimg", "0.048")
    assert r.returncode == 0, r.stderr
    (run,) = list(runs.iterdir())  # one run folder, written by rank 0 alone
    assert json.loads((run / "config.json").read_text())["processes"] == 2
    rows = [json.loads(l) for l in (run / "stats.jsonl").read_text().splitlines()]
    # kimg counts the whole batch (8 images per step over both ranks): 48 images in 6 steps;
    # every tick checked that both ranks hold the same weights, or training would have stopped
    assert [row["kimg"] for row in rows] == [0.016, 0.032, 0.048] and rows[-1]["step"] == 6
    assert r.stderr.count("stopped (done)") == 1  # one voice
    r = subprocess.run(CLI + ["train", "--resume", str(run), "--kimg", "0.08", "--gpus", "2", "--device", "cpu"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    state = json.loads((run / "checkpoints" / "latest" / "state.json").read_text())
    assert state["nimg"] == 80 and state["step"] == 10 and state["processes"] == 2


@pytest.mark.slow
def test_two_processes_refuse_an_uneven_batch(tiny_data, tmp_path):
    r = _train(tiny_data, tmp_path / "runs", "--gpus", "2", "--kimg", "0.016", "--batch", "7")
    assert r.returncode == 2, r.stderr
    assert "batch 7 does not split evenly over 2 processes" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_asking_for_more_gpus_than_there_are(tiny_data, tmp_path):
    r = _train(tiny_data, tmp_path / "runs", "--gpus", "64", "--kimg", "0.016", "--device", "cuda")
    assert r.returncode == 2 and "--gpus 64" in r.stderr, r.stderr


@pytest.mark.slow
def test_sigterm_to_the_launcher_stops_every_rank_with_one_checkpoint(tiny_data, tmp_path):
    runs = tmp_path / "runs"
    rc, err, state = sigterm_after_ticks(CLI + ["train", "--data", str(tiny_data), "--batch", "8", "--set", "g_base=4",
                                                "--set", "d_base=4", "--set", "w_max=16", "--tick-kimg", "0.016",
                                                "--minutes", "5", "--gpus", "2", "--device", "cpu",
                                                "--run-dir", str(runs), "--progress", "lines"], runs)
    assert rc == 0, err
    assert "stopped (SIGTERM)" in err and "Traceback" not in err
    assert state["step"] > 0 and state["nimg"] == 8 * state["step"]
