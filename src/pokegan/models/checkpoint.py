"""Checkpoints: safetensors for every tensor, JSON for everything else; written atomically.

A checkpoint is a folder:
    weights.safetensors       network weights, keys `G.*`, `D.*`, ... and `G_ema.*` (the EMA generator)
    train_state.safetensors   optimiser tensors (`opt.NAME.PARAM.KEY`), random-generator states (`rng.*`),
                              the data feed's permutation and generator (`feed.*`)
    state.json                step, kimg, optimiser hyper-parameters and scalar state, the feed
                              position, monitor state, the resolved configuration, family, image size,
                              channels and the pokegan version

It is written to a temporary folder and renamed into place, so a crash leaves the previous checkpoint
intact. Nothing is ever unpickled.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from pokegan.core.errors import PokeganError

WEIGHTS, TRAIN_STATE, STATE = "weights.safetensors", "train_state.safetensors", "state.json"


def _cpu(t: torch.Tensor) -> torch.Tensor:
    return t.detach().to("cpu").contiguous().clone()


def module_tensors(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": _cpu(v) for k, v in module.state_dict().items()}


def optimizer_parts(name: str, opt: torch.optim.Optimizer) -> tuple[dict, dict[str, torch.Tensor]]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"opt.{name}.{pid}.{k}"] = _cpu(v)
            else:
                scalars[f"{pid}.{k}"] = v
    return {"param_groups": sd["param_groups"], "scalars": scalars}, tensors


def load_optimizer(name: str, opt: torch.optim.Optimizer, meta: dict, tensors: dict[str, torch.Tensor]):
    state: dict[int, dict] = {}
    prefix = f"opt.{name}."
    for key, v in tensors.items():
        if key.startswith(prefix):
            pid, k = key[len(prefix):].split(".", 1)
            state.setdefault(int(pid), {})[k] = v
    for key, v in meta["scalars"].items():
        pid, k = key.split(".", 1)
        state.setdefault(int(pid), {})[k] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    # safetensors stores contiguous tensors; moments of channels-last weights go back to the weights' layout
    # (a fresh optimiser creates them that way), or every later step runs on mismatched strides
    for group in opt.param_groups:
        for p in group["params"]:
            for k, v in opt.state.get(p, {}).items():
                if torch.is_tensor(v) and v.shape == p.shape and v.stride() != p.stride():
                    opt.state[p][k] = torch.empty_like(p, dtype=v.dtype).copy_(v)


def rng_tensors() -> dict[str, torch.Tensor]:
    out = {"rng.cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            out[f"rng.cuda.{i}"] = s
    return out


def set_rng(tensors: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(tensors["rng.cpu"])
    cuda = sorted(k for k in tensors if k.startswith("rng.cuda."))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda][: torch.cuda.device_count()])


def write(dest: Path, weights: dict[str, torch.Tensor], train_tensors: dict[str, torch.Tensor],
          state: dict) -> None:
    """Write a checkpoint folder atomically (temporary folder, then rename)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".tmp-{dest.name}-{os.getpid()}"
    old = dest.parent / f".old-{dest.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        for name, data in ((WEIGHTS, st_save(weights)), (TRAIN_STATE, st_save(train_tensors)),
                           (STATE, json.dumps(state, indent=1, sort_keys=True).encode())):
            with open(tmp / name, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        shutil.rmtree(old, ignore_errors=True)
        if dest.exists():
            dest.rename(old)
        tmp.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as e:  # a full disk, a read-only folder: say which file, and that nothing was lost
        raise PokeganError(f"{e.filename or tmp}: the checkpoint {dest.name} could not be written ({e.strerror or e}); "
                           f"the previous one is intact in {dest.parent}. Free some space and resume.") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def find(path: str | Path) -> Path:
    """A checkpoint folder from a checkpoint folder, a run folder (its latest) or a state.json path."""
    p = Path(path)
    if p.is_file() and p.name in (STATE, WEIGHTS):
        p = p.parent
    for cand in (p, p / "checkpoints" / "latest", p / "checkpoints" / ".old-latest", p.parent / f".old-{p.name}"):
        if (cand / STATE).is_file() and (cand / WEIGHTS).is_file():
            return cand
    raise PokeganError(f"{path}: no checkpoint here (expected a run folder with checkpoints/latest/, or a "
                       f"checkpoint folder holding {STATE} and {WEIGHTS}).")


def read(path: str | Path, train_state: bool = True) -> tuple[dict, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(state, weights, train tensors) of a checkpoint; clear errors for missing, damaged or misshapen files."""
    folder = find(path)
    try:
        state = json.loads((folder / STATE).read_text())
    except (OSError, ValueError, RecursionError) as e:
        raise PokeganError(f"{folder / STATE}: unreadable checkpoint state ({type(e).__name__}).") from None
    check_state(state, folder / STATE)
    weights = read_tensors(folder / WEIGHTS, "network weights")
    extra = read_tensors(folder / TRAIN_STATE, "training state (optimisers, random state, data order)") if train_state else {}
    return state, weights, extra


def read_tensors(path: Path, what: str) -> dict[str, torch.Tensor]:
    """One safetensors file of a checkpoint, or an error that says which one and whether it is missing or
    damaged."""
    if not path.is_file():
        raise PokeganError(f"{path}: missing; this checkpoint has no {what}. Use an earlier snapshot from "
                           f"{path.parent.parent}" + (" (a generator file, such as a shipped model or an export, holds no "
                                                      "training state and cannot be resumed)." if path.name == TRAIN_STATE
                                                      else "."))
    try:
        return st_load(path.read_bytes())
    except Exception as e:  # safetensors raises its own errors for truncated files
        raise PokeganError(f"{path}: damaged {what} ({type(e).__name__}: {str(e)[:120]}). Use an earlier snapshot "
                           f"from {path.parent.parent}.") from None


def check_state(state, where) -> dict:
    """The fields every checkpoint's state.json has, with their types, or an error naming the first wrong one."""
    if not isinstance(state, dict):
        raise PokeganError(f"{where}: not a pokegan checkpoint (a JSON {type(state).__name__}, not an object).")
    rules = {"family": (str, "a family name"), "config": (dict, "an object of settings"),
             "resolution": (int, "an image size"), "channels": (int, "3 or 4"),
             "background": (str, "white, black, random or transparent")}
    for key, (typ, what) in rules.items():
        v = state.get(key)
        if not isinstance(v, typ) or isinstance(v, bool):
            raise PokeganError(f"{where}: not a pokegan checkpoint ({key!r} should be {what}, not {v!r}).")
    if state["background"] not in ("white", "black", "random", "transparent"):
        raise PokeganError(f"{where}: damaged checkpoint state (background {state['background'][:40]!r}).")
    if state["channels"] not in (3, 4) or not 4 <= state["resolution"] <= 4096:
        raise PokeganError(f"{where}: damaged checkpoint state (channels {state['channels']}, resolution "
                           f"{state['resolution']}).")
    return state


def load_module(module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str, what: str) -> None:
    """Load `prefix.*` tensors into a module, or an error saying the weights do not fit it or are not finite."""
    part = subdict(tensors, prefix)
    broken = [k for k, v in part.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if broken:
        raise PokeganError(f"{what}: the saved weights hold NaN or Inf ({broken[0]}{' and more' if len(broken) > 1 else ''}); "
                           "the run diverged before this checkpoint was written. Use an earlier snapshot.")
    try:
        module.load_state_dict(part)
    except RuntimeError as e:
        raise PokeganError(f"{what}: the saved weights do not fit ({str(e).splitlines()[0]}). Is the checkpoint "
                           "from another pokegan version, or damaged?") from None


def subdict(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    p = prefix + "."
    return {k[len(p):]: v for k, v in tensors.items() if k.startswith(p)}


def snapshot_name(nimg: int) -> str:
    """`snapshot-000050kimg`, or with the images past the thousand when snapshots fall between whole kimg
    (`snapshot-000050.512kimg`), so a fractional --snapshot-every-kimg never overwrites one."""
    whole, rest = divmod(int(nimg), 1000)
    return f"snapshot-{whole:06d}kimg" if rest == 0 else f"snapshot-{whole:06d}.{rest:03d}kimg"


def clean_stale(folder: Path) -> list[Path]:
    """Tidy what a process killed while writing a checkpoint left in `folder`: temporary folders
    (`.tmp-NAME-PID` of a PID no longer running) are removed; a previous checkpoint set aside
    (`.old-NAME`) is put back where NAME is missing, else removed. Returns the paths it changed."""
    changed = []
    for p in Path(folder).glob(".tmp-*"):
        pid = p.name.rsplit("-", 1)[-1]
        alive = pid.isdigit() and int(pid) != os.getpid() and _running(int(pid))
        if p.is_dir() and not alive:
            shutil.rmtree(p, ignore_errors=True)
            changed.append(p)
    for p in Path(folder).glob(".old-*"):
        dest = p.with_name(p.name[len(".old-"):])
        if dest.exists():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.rename(dest)
        changed.append(p)
    return changed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_snapshots(folder: Path, keep: int) -> None:
    """Remove all but the newest `keep` snapshots; 0 keeps every one (an FID-against-minutes curve needs the
    early ones, and a machine twice as fast writes twice as many in the same hour)."""
    if keep <= 0:
        return
    snaps = sorted(p for p in folder.glob("snapshot-*") if p.is_dir())
    for p in snaps[: max(0, len(snaps) - keep)]:
        shutil.rmtree(p, ignore_errors=True)
