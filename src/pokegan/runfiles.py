"""Reading the files a run leaves (config.json, stats.jsonl, metrics.jsonl, per_type.json, state.json's
numbers, a model's card.json) defensively: any JSON shape may be there, because a run folder is a folder
anyone can edit, copy half-way or receive from someone else.

Every reader gives back the shape its callers use (an object, rows of objects, finite numbers) or a
`PokeganError` naming the file and the field; a torn or foreign line of a JSON-lines log is skipped, as a
crash can leave one. Nothing here imports the training stack.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from pokegan.core.errors import PokeganError

MAX_RUN_FILE = 256 * 2 ** 20   # a run's JSON files are kilobytes to a few megabytes; more is not a run's


def _text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_RUN_FILE:
            raise PokeganError(f"{path}: {path.stat().st_size:,} bytes is too large for a run file "
                               f"(at most {MAX_RUN_FILE:,}); is it the right folder?")
        return path.read_text(errors="replace")
    except OSError as e:
        raise PokeganError(f"{path}: cannot be read ({e.strerror or type(e).__name__})") from None


def read_object(path: str | Path, what: str = "run file") -> dict:
    """A JSON file that must hold an object: the object, or an error naming the file and what it holds."""
    path = Path(path)
    try:
        value = json.loads(_text(path))
    except (ValueError, RecursionError) as e:
        raise PokeganError(f"{path}: the {what} is not valid JSON ({type(e).__name__}); restore it from a copy "
                           "or delete the run folder") from None
    if not isinstance(value, dict):
        raise PokeganError(f"{path}: the {what} should be a JSON object, not {_kind(value)}; restore it from a copy "
                           "or delete the run folder")
    return value


def read_run_config(run: str | Path) -> dict:
    """A run folder's config.json (its `config` member an object), or {} where the run has none."""
    path = Path(run) / "config.json"
    if not path.exists():
        return {}
    cfg = read_object(path, "run's configuration")
    if not isinstance(cfg.get("config", {}), dict):
        raise PokeganError(f"{path}: field 'config' should be an object of settings, not {_kind(cfg['config'])}")
    return cfg


def read_rows(path: str | Path) -> list[dict]:
    """The rows of a JSON-lines log (stats.jsonl, metrics.jsonl) that are objects with a finite `kimg`;
    others (torn by a crash, or not a row at all) are skipped. Numbers that are not finite are dropped from
    their row, and `warnings` keeps only well-formed entries, so a plot or a table never meets them."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in _text(path).splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(row, dict) or not finite(row.get("kimg")):
            continue
        clean = {k: v for k, v in row.items() if not isinstance(v, float) or math.isfinite(v)}
        clean["warnings"] = [w for w in row.get("warnings") or [] if _warning(w)] \
            if isinstance(row.get("warnings"), list) else []
        rows.append(clean)
    return rows


def _warning(w) -> bool:
    return isinstance(w, dict) and finite(w.get("kimg")) and isinstance(w.get("kind"), str) \
        and isinstance(w.get("message"), str)


def finite(v) -> bool:
    """A real number (not a bool), finite."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def number(obj: dict, field: str, where, *, whole: bool = False, lo: float | None = None,
           hi: float | None = None, default=None):
    """`obj[field]` checked as the command line checks its numbers: a finite number (a whole one with
    `whole`) within [lo, hi]; `default` where the field is absent and a default is given."""
    if field not in obj and default is not None:
        return default
    v = obj.get(field)
    ok = finite(v) and (not whole or float(v).is_integer())
    if ok and ((lo is not None and v < lo) or (hi is not None and v > hi)):
        ok = False
    if not ok:
        span = f" from {lo:g}" if lo is not None else ""
        span += f" to {hi:g}" if hi is not None else (" or more" if lo is not None else "")
        raise PokeganError(f"{where}: field {field!r} should be a {'whole ' if whole else ''}number{span}, not "
                           f"{_short(v)}; the file is damaged: use an earlier checkpoint or snapshot")
    return int(v) if whole else float(v)


def _kind(v) -> str:
    return {list: "a list", str: "a string", type(None): "null", bool: "true/false"}.get(type(v), "a number")


def _short(v) -> str:
    text = json.dumps(v) if not isinstance(v, float) or math.isfinite(v) else str(v)
    return text if len(text) <= 40 else text[:37] + "..."


# A type sampler's files beside a generator's weights (pokegan.generator.type_sampler)
SAMPLER_WEIGHTS, SAMPLER_META = "type-sampler.safetensors", "type-sampler.json"


def sampler_types(folder: str | Path) -> tuple[str, ...]:
    """The types of the type sampler saved in `folder`, from its JSON alone (empty where there is none or it
    is unreadable: loading the model says what is wrong)."""
    from pokegan.core.type_names import TYPES

    try:
        types = json.loads((Path(folder) / SAMPLER_META).read_text()).get("types")
        return tuple(t for t in types if t in TYPES) if isinstance(types, list) else ()
    except (OSError, ValueError, AttributeError, TypeError):
        return ()


def model_info(state: dict, folder: str | Path | None = None) -> dict:
    """What a list of models shows of a checkpoint's (already checked) state: family, size, channels,
    background, kimg and the types it can be asked for (a conditional model's, or the type sampler's in
    `folder`), each of the right kind or left out. `typed`: it takes a type; `conditional`: as an input."""
    from pokegan.core.type_names import TYPES

    conditional = state["config"].get("conditional") == "types"
    seen = state.get("types_seen") if conditional else sampler_types(folder) if folder is not None else None
    types = [t for t in seen if t in TYPES] if isinstance(seen, (list, tuple)) else []
    kimg = state.get("kimg")
    return {"family": state["family"], "size": state["resolution"], "channels": state["channels"],
            "background": state["background"], "kimg": float(kimg) if finite(kimg) and kimg >= 0 else None,
            "conditional": conditional, "typed": bool(conditional or types), "types": types}


def read_card(folder: str | Path) -> dict:
    """A shipped model's card.json figures: the numbers that are finite numbers and the summary if a string;
    {} where there is no card. A damaged card loses its figures, never the model."""
    path = Path(folder) / "card.json"
    if not path.is_file():
        return {}
    try:
        card = read_object(path, "model card")
    except PokeganError:
        return {}
    return {k: v for k, v in card.items() if finite(v) or (isinstance(v, str) and len(v) < 500)}
