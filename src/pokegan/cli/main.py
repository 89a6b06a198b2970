"""Entry point of the `pokegan` command: one grammar, `pokegan GROUP [VERB] [options]`."""
from __future__ import annotations

import argparse
import difflib
import os
import re
import sys

from pokegan import __version__
from pokegan.core.errors import PokeganError, shown


# Command-line flags of settings that were removed (pokegan.config.RETIRED_SETTINGS says what replaced each).
RETIRED_FLAGS = {"--lr-decay": "lr_decay", "--average-tail": "average_tail", "--ada-ops": "ada_ops"}


class Parser(argparse.ArgumentParser):
    """argparse with examples kept verbatim and unknown options answered with the nearest valid ones."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        m = re.search(r"unrecognized arguments: (.+)", message)
        retired = [b.split("=")[0] for b in (m.group(1).split() if m else []) if b.split("=")[0] in RETIRED_FLAGS]
        if retired:  # an option that was removed: say what replaced it, not just that it is unknown
            from pokegan.config import RETIRED_SETTINGS

            flag = retired[0]
            self.exit(2, f"{self.prog}: error: {flag} was removed from pokegan: "
                         f"{RETIRED_SETTINGS[RETIRED_FLAGS[flag]][1]}\n")
        if m:
            valid = [s for a in self._actions for s in a.option_strings]
            hints = []
            for bad in m.group(1).split():
                if bad.startswith("-"):
                    close = difflib.get_close_matches(bad.split("=")[0], valid, n=3, cutoff=0.5)
                    if close:
                        hints.append(f"{bad}: did you mean {' or '.join(close)}?")
            if hints:
                message += "\n  " + "\n  ".join(hints)
        super().error(message)


def build_parser() -> Parser:
    from pokegan.cli import (data, encoder, eval as eval_cmd, export, fuse, generate, interpolate, models, project,
                             report, serve, train, types_fit)

    p = Parser(prog="pokegan", description=(
        "Generate new Pokémon sprites with GANs.\n\n"
        "examples:\n"
        "  pokegan data fetch                                   # the sprite package, once\n"
        "  pokegan data prepare --preset gen5-64 --out data/gen5-64.data\n"
        "  pokegan data show data/gen5-64.data --out sheet.png\n"
        "  pokegan train --data data/gen5-64.data --preset dcgan --kimg 10 --run-dir runs\n"
        "  pokegan train --list-presets\n"
        "  pokegan train --resume runs/00000-dcgan-gen5-64 --kimg 20\n"
        "  pokegan eval runs/00000-dcgan-gen5-64 --data data/gen5-64.data --json eval.json\n"
        "  pokegan generate --n 64 --seed 0 --out new-sprites/          # the pretrained model\n"
        "  pokegan generate --type fire --type flying --out fire-flying/  # the default, its type sampler picking\n"
        "  pokegan models                                       # the shipped models and their figures\n"
        "  pokegan project pikachu --data data/gen5-64.data --out pikachu/   # a Pokémon as the model draws it\n"
        "  pokegan generate --near pikachu/latent.json --n 16 --out near/    # variations of it\n"
        "  pokegan fuse pikachu charmander --data data/gen5-64.data --out fusion/\n"
        "  pokegan interpolate runs/00000-fastgan-gen5-64 --seeds 1 2 --steps 16 --out walk.gif\n"
        "  pokegan report runs/00000-fastgan-gen5-64 --out report.html\n"
        "  pokegan serve --runs runs                            # a web page at http://127.0.0.1:8000\n"))
    p.add_argument("--version", action="version", version=f"pokegan {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    data.add_parser(sub)
    train.add_parser(sub)
    eval_cmd.add_parser(sub)
    generate.add_parser(sub)
    interpolate.add_parser(sub)
    export.add_parser(sub)
    models.add_parser(sub)
    project.add_parser(sub)
    fuse.add_parser(sub)
    encoder.add_parser(sub)
    types_fit.add_parser(sub)
    report.add_parser(sub)
    serve.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # answered by the subcommand's parser, which knows the valid options to suggest
        getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    for name in (getattr(args, k, None) for k in ("model", "source")):
        if isinstance(name, str):
            from pokegan.generator.shipped import answered_by

            if note := answered_by(name):
                print(f"note: {note}", file=sys.stderr)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside these handlers, rather than at exit
        return code
    except PokeganError as e:
        print(f"error: {shown(e, limit=2000)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `pokegan ... | head` closed our output: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit-time flush must not fail too
        return 1
    except OSError as e:  # e.g. an unwritable output folder or a full disk: say which file
        where = f"{shown(e.filename)}: " if getattr(e, "filename", None) else ""
        print(f"error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except MemoryError:
        print("error: out of memory; use a smaller --batch or --n", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
