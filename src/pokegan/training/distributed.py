"""Data-parallel training over several processes (one per GPU), for the one training loop.

The design follows NVlabs/stylegan2-ada-pytorch rather than wrapping networks in
DistributedDataParallel: a GAN iteration runs several phases, each stepping one optimiser through
networks whose other weights are frozen, which DDP's reducer handles badly. Instead every rank runs the
same loop on its share of the batch and, after each backward pass, the gradients of the optimiser about
to step are averaged across ranks in one flat all-reduce. Weights start equal (broadcast from rank 0)
and stay equal because every rank applies the same averaged gradient; `check_consistency` proves it at
every tick. Rank 0 alone writes the run folder (stats, samples, checkpoints, evaluation).

Batch-norm statistics are computed per rank on the local batch (as DDP without SyncBatchNorm) and their
running buffers are averaged once per tick.

Launch: `pokegan train --gpus N` starts N processes on this machine (NCCL on CUDA; gloo on CPU, which is
how the tests exercise this code without a GPU), or run `torchrun --nproc-per-node N -m pokegan train ...`
and pokegan joins the process group torchrun describes (several machines sharing one file system).
"""
from __future__ import annotations

import datetime
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist

from pokegan.core.errors import PokeganError

# Rank 0 may evaluate FID for minutes while the others wait at the next collective.
TIMEOUT = datetime.timedelta(hours=2)


def rank_world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def from_environment() -> bool:
    """Join the process group that torchrun (or another launcher) described in the environment."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or (dist.is_available() and dist.is_initialized()):
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend, timeout=TIMEOUT)
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", dist.get_rank())))
    return True


def _worker(rank: int, world: int, backend: str, meeting: str, fn: Callable, args: tuple) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    if backend == "nccl":
        torch.cuda.set_device(rank)
    # The ranks meet through a file, not a TCP port: a free port picked by the launcher could be taken
    # before rank 0 binds it, and no rank hosts a store server that the others depend on while leaving.
    dist.init_process_group(backend, init_method=f"file://{os.path.join(meeting, 'store')}", rank=rank,
                            world_size=world, timeout=TIMEOUT)
    fn(*args)
    Path(meeting, f"finished-{rank}").touch()  # this rank's work is done and saved
    barrier()  # leave together: a rank tearing gloo down while another still talks aborts it
    dist.destroy_process_group()


def launch(world: int, use_cuda: bool, fn: Callable, *args) -> None:
    """Run `fn(*args)` in `world` new processes joined in one process group; errors come back as PokeganError."""
    import torch.multiprocessing as mp

    if world < 2:
        raise PokeganError(f"--gpus {world}: data-parallel training needs at least 2 processes")
    if use_cuda and torch.cuda.device_count() < world:
        raise PokeganError(f"--gpus {world} was asked for but this machine has {torch.cuda.device_count()} CUDA "
                           "GPU(s); use fewer, or --device cpu to run the processes on the CPU (for testing)")
    backend = "nccl" if use_cuda else "gloo"
    meeting = tempfile.mkdtemp(prefix="pokegan-ranks-")
    try:
        ctx = mp.start_processes(_worker, args=(world, backend, meeting, fn, args), nprocs=world, join=False,
                                 start_method="spawn")
    except BaseException:
        shutil.rmtree(meeting, ignore_errors=True)
        raise
    # Ctrl-C in a terminal reaches every process: the workers save and stop together, this one waits.
    # A SIGTERM sent to this process alone (a job scheduler, `kill`) is passed on to the workers.
    def forward(signum, _frame):
        for p in ctx.processes:
            if p.is_alive():
                os.kill(p.pid, signum)

    old = {signal.SIGINT: signal.signal(signal.SIGINT, lambda *_: None),
           signal.SIGTERM: signal.signal(signal.SIGTERM, forward)}
    try:
        while not ctx.join():
            pass
    except mp.ProcessRaisedException as e:
        msg = str(e)
        tag = "pokegan.core.errors.PokeganError: "
        lines = [ln for ln in msg.splitlines() if ln.startswith(tag)]
        if lines:
            raise PokeganError(lines[-1][len(tag):]) from None
        raise PokeganError(f"a training process failed:\n{msg}") from None
    except mp.ProcessExitedException as e:
        if all(Path(meeting, f"finished-{r}").exists() for r in range(world)):
            # Every rank had finished its work (and rank 0 saved it) before this one died on the way out.
            # On a CPU gloo aborts a process ("terminate called without an active exception") on the way
            # out a few times in a hundred launches here, after every rank has finished.
            print(f"pokegan: a process died while shutting down ({e}), after every process had finished; "
                  "nothing was lost", file=sys.stderr)
            return
        raise PokeganError(f"a training process died ({e}); the last checkpoint is in the run folder") from None
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        shutil.rmtree(meeting, ignore_errors=True)


# -- collectives used by the loop (all no-ops for a single process) ------------------------------------
def _device() -> torch.device:
    """Where small tensors for a collective must live: NCCL only moves CUDA tensors."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def _flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.detach().reshape(-1).float() for t in tensors])


def _unflat(flat: torch.Tensor, tensors: list[torch.Tensor]) -> None:
    i = 0
    for t in tensors:
        n = t.numel()
        t.copy_(flat[i:i + n].view(t.shape))
        i += n


def average_gradients(optimizer: torch.optim.Optimizer) -> None:
    """Average the gradients of `optimizer`'s parameters over all ranks (one all-reduce)."""
    _, world = rank_world()
    if world == 1:
        return
    grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
    if not grads:
        return
    flat = _flat(grads)
    dist.all_reduce(flat)
    flat /= world
    with torch.no_grad():
        _unflat(flat, grads)


def average_buffers(modules) -> None:
    """Average floating-point buffers (batch-norm running statistics) over all ranks."""
    _, world = rank_world()
    if world == 1:
        return
    bufs = [b for m in modules for b in m.buffers() if b.is_floating_point()]
    if bufs:
        flat = _flat(bufs)
        dist.all_reduce(flat)
        with torch.no_grad():
            _unflat(flat / world, bufs)


def broadcast_modules(modules) -> None:
    """Copy rank 0's parameters and buffers to every rank."""
    _, world = rank_world()
    if world == 1:
        return
    with torch.no_grad():
        for m in modules:
            for t in list(m.parameters()) + list(m.buffers()):
                flat = t.detach().contiguous()
                dist.broadcast(flat, 0)
                if flat.data_ptr() != t.data_ptr():
                    t.copy_(flat)


def check_consistency(named_modules: dict) -> None:
    """Raise if any rank's parameters differ from rank 0's (they must stay bit-identical)."""
    rank, world = rank_world()
    if world == 1:
        return
    for name, m in named_modules.items():
        params = [p for p in m.parameters()]
        if not params:
            continue
        mine = _flat(params)
        ref = mine.clone()
        dist.broadcast(ref, 0)
        diff = (mine - ref).abs().max()
        dist.all_reduce(diff, op=dist.ReduceOp.MAX)
        if float(diff) > 0:
            raise PokeganError(f"data-parallel ranks disagree: network {name} differs from rank 0 by up to "
                               f"{float(diff):.3g} (rank {rank}); gradients were not averaged the same way")


def mean_scalars(values: dict[str, float]) -> dict[str, float]:
    """The mean over ranks of a dict of scalars (same keys on every rank)."""
    _, world = rank_world()
    if world == 1 or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=_device())
    dist.all_reduce(t)
    return {k: float(v) / world for k, v in zip(keys, t)}


def any_rank(flag: bool) -> bool:
    """True on every rank if it is true on any (a stop asked for by one stops all together)."""
    _, world = rank_world()
    if world == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def first_reason(reason: str | None) -> str | None:
    """The lowest rank's non-empty reason, on every rank: why the processes stop, when one signal reached
    some ranks a moment before the others (a collective; call it only when stopping)."""
    _, world = rank_world()
    if world == 1:
        return reason
    box = [None] * world
    dist.all_gather_object(box, reason)
    return next((r for r in box if r), None)


def barrier() -> None:
    """Wait until every rank gets here (nothing for a single process)."""
    if rank_world()[1] > 1:
        dist.barrier()


def from_rank0(obj):
    """Rank 0's value of `obj`, on every rank."""
    _, world = rank_world()
    if world == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, 0)
    return box[0]
