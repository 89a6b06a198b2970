"""`pokegan models`: the pretrained generators shipped with pokegan, with their model cards' figures."""
from __future__ import annotations

import argparse
import json


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list the shipped pretrained models and their figures",
                       description="The pretrained generators inside this install: name, what they make, their "
                                   "measured FID/KID (from each model card) and which one a command uses by default.")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=run, parser=p)


def describe() -> list[dict]:
    from pokegan.models import checkpoint as ckpt
    from pokegan.runfiles import model_info, read_card
    from pokegan.generator.shipped import DEFAULT_MODEL, RETIRED, shipped_models

    out = []
    for name, path in shipped_models().items():
        state, _, _ = ckpt.read(path, train_state=False)
        card = read_card(path)
        out.append({"name": name, "path": str(path), **model_info(state, path),
                    "projection_encoder": (path / "encoder.safetensors").is_file(),
                    "default_for": ("every request: plain, --transparent, --type and --by-type"
                                    if name == DEFAULT_MODEL else ""),
                    "answers": sorted(k for k, (to, _) in RETIRED.items() if to == name and k not in shipped_models()),
                    **{k: card[k] for k in ("summary", "fid", "kid", "type_adherence", "adherence_ceiling",
                                            "transparent_fid", "one_piece_share", "near_white_edge_share",
                                            "dark_edge_share")
                       if k in card}})
    return out


def run(args: argparse.Namespace) -> int:
    models = describe()
    if args.json:
        print(json.dumps(models, indent=1))
        return 0
    if not models:
        print("no pretrained model is shipped in this install; train one with `pokegan train`")
        return 0
    for m in models:
        figures = ", ".join(f"{k.upper()} {m[k]}" for k in ("fid", "kid") if k in m)
        if "type_adherence" in m and "adherence_ceiling" in m:
            figures += f", type adherence {m['type_adherence']:.0%} (classifier ceiling {m['adherence_ceiling']:.0%})"
        if "transparent_fid" in m:
            figures += f"; --transparent: FID {m['transparent_fid']} on white"
        if all(k in m for k in ("one_piece_share", "near_white_edge_share", "dark_edge_share")):
            figures += (f", {m['one_piece_share']:.0%} in one piece, {m['near_white_edge_share']:.1%} near-white and "
                        f"{m['dark_edge_share']:.0%} dark edge pixels")
        what = f"{m['family']}, {m['size']}x{m['size']} {'RGBA' if m['channels'] == 4 else 'RGB on ' + m['background']}"
        what += (f", type-conditioned ({len(m['types'])} types)" if m["conditional"] else
                 f", {len(m['types'])} types by its type sampler" if m["typed"] else "")
        kimg = f"{m['kimg']:.0f} kimg" if m["kimg"] is not None else "kimg not recorded"
        print(f"{m['name']}: {what}; {kimg}" + (f"; {figures}" if figures else ""))
        if m.get("summary"):
            print(f"  {m['summary']}")
        if m["default_for"]:
            print(f"  used for {m['default_for']}")
        if m["answers"]:
            print(f"  also answers the retired name{'s' if len(m['answers']) > 1 else ''} {', '.join(m['answers'])}")
        if m["projection_encoder"]:
            print("  has a projection encoder: instant projections (pokegan project --fast, the exported page)")
        print(f"  model card: {m['path']}/MODEL_CARD.md")
    return 0
