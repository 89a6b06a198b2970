"""`pokegan report`: one self-contained HTML file for a run, readable offline.

Configuration, loss curves, D(x) and D(G(z)), health warnings with the kimg they happened at, FID/KID
over time (when measured), the evolution of the fixed-latent samples as an animated GIF (as report 003
showed), and generated sprites beside their nearest real sprites (pixel space). Every picture is embedded
as a base64 data URI; plots are matplotlib.
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

from pokegan.core.errors import PokeganError
from pokegan.metrics.registry import curves
from pokegan.runfiles import finite, read_object, read_rows, read_run_config


def _e(v) -> str:
    return html.escape(str(v))


def _uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _fig_png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def _plot(rows: list[dict], series: list[tuple[str, str]], title: str, ylabel: str = "") -> bytes | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = [(k, label, [(r["kimg"], r[k]) for r in rows if finite(r.get(k))]) for k, label in series]
    pts = [p for p in pts if p[2]]
    if not pts:
        return None
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    for _, label, xy in pts:
        ax.plot([x for x, _ in xy], [y for _, y in xy], label=label, marker="o" if len(xy) < 30 else None)
    ax.set_xlabel("kimg")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    for r in rows:
        if r.get("warnings"):
            ax.axvline(r["kimg"], color="red", alpha=0.25, lw=1)
    fig.tight_layout()
    return _fig_png(fig)


def evolution_gif(run: Path, max_frames: int = 60) -> bytes | None:
    from PIL import Image

    from pokegan.core.files import gif_bytes

    shots = sorted(p for p in (run / "samples").glob("kimg*.png"))
    if not shots:
        return None
    if len(shots) > max_frames:
        pick = np.linspace(0, len(shots) - 1, max_frames).round().astype(int)
        shots = [shots[i] for i in sorted(set(pick))]
    try:
        frames = [np.asarray(Image.open(p).convert("RGB")) for p in shots]
    except (OSError, ValueError, Image.DecompressionBombError):  # a damaged sample grid: no animation
        return None
    h, w = frames[-1].shape[:2]
    frames = [f if f.shape[:2] == (h, w) else np.asarray(Image.fromarray(f).resize((w, h))) for f in frames]
    return gif_bytes(frames, duration_ms=250)


def nearest_real_png(run: Path, n: int = 16) -> tuple[bytes | None, str]:
    """Generated sprites beside their nearest real sprites (pixel L2), or a note saying why not."""
    from pokegan.data import load_dataset
    from pokegan.data.show import grid
    from pokegan.metrics.evaluate import as_rgb, real_rgb
    from pokegan.metrics.novelty import nearest
    from pokegan.generator.sprites import load_generator

    data = read_run_config(run).get("data")
    if not isinstance(data, str) or not Path(data).exists():
        return None, f"dataset {data!r} not found; nearest real sprites not shown"
    ds = load_dataset(data)
    g = load_generator(run)
    gen = as_rgb(g.arrays(n, seed=0), ds)
    real = real_rgb(ds)
    _, idx = nearest(gen.reshape(n, -1).astype(np.float32) / 255, real.reshape(len(real), -1).astype(np.float32) / 255)
    pairs = np.stack([x for i in range(n) for x in (gen[i], real[idx[i]])])
    img = grid(pairs, 8)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue(), f"seed 0, first {n} sprites (left) and their nearest of {len(ds)} real sprites (right)"


def sprite_shape_table(run: Path, n: int = 256) -> str:
    """One piece, stray pixels, white and dark edges, colours: n sprites of the run (seed 0, with their
    transparency as `pokegan generate --transparent` gives it) beside the real data (metrics.sprite_shape)."""
    from pokegan.data import load_dataset
    from pokegan.metrics.evaluate import with_alpha
    from pokegan.metrics.sprite_shape import measure
    from pokegan.generator.sprites import load_generator

    data = read_run_config(run).get("data")
    if not isinstance(data, str) or not Path(data).exists():
        raise PokeganError(f"dataset {data!r} not found; the sprite measures are not shown")
    ds = load_dataset(data)
    gen = with_alpha(load_generator(run).arrays(n, seed=0), ds)
    if gen is None:
        raise PokeganError("the run's background is not a solid colour to make transparent; no sprite measures")
    g, r = measure(gen), measure(ds.images)
    rows = [("sprites in one piece", "one_piece_share", "{:.1%}"), ("pixels outside the main body", "stray_pixel_share",
            "{:.2%}"), ("edge pixels near-white (halo)", "near_white_edge_share", "{:.1%}"),
            ("edge pixels dark (outline)", "dark_edge_share", "{:.1%}"), ("colours per sprite (median)",
            "colours_median", "{:.0f}")]
    return ("<table><tr><th></th><th>this run</th><th>real sprites</th></tr>" + "".join(
        f"<tr><td>{label}</td><td>{fmt.format(g[k])}</td><td>{fmt.format(r[k])}</td></tr>" for label, k, fmt in rows)
        + f"</table><p>{n} sprites of seed 0 against the {len(ds)} real ones; definitions in docs/guide.md.</p>")


def by_type_section(run: Path, img) -> str:
    """A conditional run's by-type grid (seed 0, one row per type) and the table `pokegan eval --per-type`
    left in the run folder (per_type.json), or how to make it."""
    from pokegan.data.dataset import composite_uint8
    from pokegan.data.show import labelled_rows
    from pokegan.generator.sprites import load_generator

    names, rows = load_generator(run).by_type(8, seed=0)
    pic = labelled_rows([composite_uint8(r, "white") if r.shape[-1] == 4 else r for r in rows], names)
    buf = io.BytesIO()
    pic.save(buf, format="PNG")
    out = img(buf.getvalue(), "image/png", "one row per type, the same 8 seeds in every row")
    table = run / "per_type.json"
    if not table.is_file():
        return out + ("<p><em>Type adherence not measured yet: run <code>pokegan eval RUN --data DATA --per-type"
                      "</code>.</em></p>")
    try:
        return out + _per_type_table(read_object(table, "per-type table"))
    except PokeganError as e:
        return out + f"<p><em>{html.escape(str(e))}</em></p>"
    except (KeyError, TypeError, ValueError, AttributeError):
        return out + (f"<p><em>{html.escape(str(table))}: not the table <code>pokegan eval --per-type</code> writes; "
                      "run it again to replace it.</em></p>")


def _per_type_table(res: dict) -> str:
    s = res["per_type_summary"]

    def interval(v):  # per_type.json files written before the intervals have none
        lo, hi = v.get("adherence_interval", (None, None))
        return f"{lo:.1%}-{hi:.1%}" if lo is not None else ""

    rows_html = "".join(
        f"<tr><td>{html.escape(t)}</td><td>{v['adherence']:.1%}</td><td>{interval(v)}</td><td>{v['ceiling']:.1%}</td>"
        f"<td>{v['kid']:.4f}</td><td>{v['diversity']:.2f}</td></tr>" for t, v in res["per_type"].items())
    return ("<table><tr><th>type</th><th>adherence (top-2)</th><th>95% interval</th><th>classifier ceiling</th>"
            "<th>KID vs the "
            "type's real sprites</th><th>diversity (gen / real)</th></tr>" + rows_html + "</table>"
            f"<p>Mean adherence {s['mean_adherence']:.1%} against a mean ceiling of {s['mean_ceiling']:.1%} "
            f"({s['adherence_over_ceiling']:.0%} of it; chance {s['chance_top2']:.1%}). The classifier was trained "
            "on real sprites only; its ceiling is its hit rate on held-out species.</p>")


def build_report(run_dir: str | Path) -> str:
    run = Path(run_dir)
    if not (run / "stats.jsonl").exists() and not (run / "config.json").exists():
        raise PokeganError(f"{run}: not a run folder (no config.json or stats.jsonl); give a folder made by "
                           "`pokegan train`")
    cfg = read_run_config(run)
    rows = read_rows(run / "stats.jsonl")
    metrics = read_rows(run / "metrics.jsonl")
    warnings = [w for r in rows for w in r.get("warnings", [])]
    last = rows[-1] if rows else {}
    parts = [f"<h1>pokegan run: {html.escape(run.name)}</h1>",
             f"<p>{html.escape(str(cfg.get('family', '?')))} (preset {html.escape(str(cfg.get('config', {}).get('preset')))}), "
             f"{_e(cfg.get('resolution', '?'))}x{_e(cfg.get('resolution', '?'))}, {_e(cfg.get('num_images', '?'))} images "
             f"on {_e(cfg.get('background', '?'))}; reached kimg {_e(last.get('kimg', 0))} at step "
             f"{_e(last.get('step', 0))}; {_e(last.get('img_per_sec', '?'))} img/s in the last tick.</p>"]

    def img(data: bytes | None, mime: str, alt: str) -> str:
        return f'<img alt="{html.escape(alt)}" src="{_uri(data, mime)}">' if data else f"<p><em>{html.escape(alt)}: no data yet</em></p>"

    parts.append("<h2>Losses</h2>" + img(_plot(rows, [("loss_d", "loss_d"), ("loss_g", "loss_g")], "losses"),
                                         "image/png", "loss curves"))
    parts.append("<h2>Discriminator outputs</h2>" + img(_plot(rows, [
        ("d_real", "D(x)"), ("d_fake", "D(G(z)) in D step"), ("d_fake_g", "D(G(z)) before G step"),
        ("d_fake_after_g", "D(G(z)) after G step")], "D(x) and D(G(z))"), "image/png", "D(x) and D(G(z))"))
    parts.append("<h2>Health warnings</h2>")
    if warnings:
        parts.append("<table><tr><th>kimg</th><th>kind</th><th>message</th></tr>" + "".join(
            f"<tr><td>{w['kimg']}</td><td>{html.escape(w['kind'])}</td><td>{html.escape(w['message'])}</td></tr>"
            for w in warnings) + "</table>")
    else:
        parts.append("<p>None: no discriminator win, divergence, NaN or mode collapse was detected.</p>")
    parts.append("<h2>FID and KID over time</h2>")
    if metrics:
        for key, floor in curves():  # every figure the metric registry plots, beside its real-vs-real floor
            name = key.upper()
            parts.append(img(_plot(metrics, [(key, name), (floor, "real-vs-real floor")], name), "image/png", name))
    else:
        parts.append("<p><em>Not measured during this run (train with --eval-every-kimg N, or run "
                     "<code>pokegan eval</code>).</em></p>")
    parts.append("<h2>Fixed-latent samples over training</h2>" + img(evolution_gif(run), "image/gif", "sample evolution"))
    try:
        nn_png, note = nearest_real_png(run)
    except PokeganError as e:
        nn_png, note = None, str(e)
    parts.append("<h2>New sprites beside their nearest real sprites</h2>" + img(nn_png, "image/png", note)
                 + f"<p>{html.escape(note)}</p>")
    try:
        shape = sprite_shape_table(run)
    except PokeganError as e:
        shape = f"<p><em>{html.escape(str(e))}</em></p>"
    parts.append("<h2>Sprites as a game gets them</h2>" + shape)
    if cfg.get("config", {}).get("conditional") == "types":
        try:
            parts.append("<h2>By type</h2>" + by_type_section(run, img))
        except PokeganError as e:
            parts.append(f"<h2>By type</h2><p><em>{html.escape(str(e))}</em></p>")
    flat = cfg.get("config", {})
    parts.append("<h2>Configuration</h2><table>" + "".join(
        f"<tr><td>{html.escape(str(k))}</td><td><code>{html.escape(json.dumps(v))}</code></td></tr>"
        for k, v in sorted(flat.items())) + "</table>")
    style = ("body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}img{max-width:100%;"
             "image-rendering:pixelated}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
             "font-size:13px;text-align:left}")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pokegan report: "
            f"{html.escape(run.name)}</title><style>{style}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
