"""`pokegan serve`: the web page for making, exploring and downloading sprites, on this machine."""
from __future__ import annotations

import argparse
import sys

EXAMPLES = """examples:
  pokegan serve                                   # the shipped model, at http://127.0.0.1:8000
  pokegan serve --runs runs --port 8765           # and every run under runs/
  pokegan serve runs/00003-fastgan-gen5-64        # one run (and the shipped model)
"""
LOCAL = ("127.0.0.1", "localhost", "::1")


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="a web page to make, explore and download sprites (offline)",
                       description="Serve a page that makes sprites with the shipped model, the runs given and "
                                   "every run under --runs. Everything it loads comes from this server: it works "
                                   "with no internet. Needs the web extra: pip install 'pokegan[web]'.",
                       epilog=EXAMPLES)
    p.add_argument("models", nargs="*", metavar="RUN_OR_MODEL", help="run or checkpoint folders to offer")
    p.add_argument("--runs", help="a folder of run folders (as `pokegan train --run-dir` writes); each is offered")
    p.add_argument("--data", help="a prepared dataset whose Pokémon the page offers to start from (project by name)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (8000)")
    p.set_defaults(func=run, parser=p)


def run(args: argparse.Namespace) -> int:
    from pokegan.core.errors import PokeganError

    try:
        import uvicorn

        from pokegan.web.server import create_app
    except ImportError as e:
        raise PokeganError(f"serve needs the web extra ({e.name} is missing): pip install 'pokegan[web]'") from None
    if not 1 <= args.port <= 65535:
        raise PokeganError(f"--port {args.port}: give 1 to 65535")
    from pokegan.web.catalog import Catalog

    catalog = Catalog(args.models, runs=args.runs)
    if args.data:
        from pokegan.data import load_dataset

        load_dataset(args.data)  # a clear error now, not on the first request
    import socket

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:  # a clear line, not a server log, if it is taken
        try:
            probe.bind((args.host, args.port))
        except OSError as e:
            raise PokeganError(f"--host {args.host} --port {args.port}: cannot listen there ({e.strerror or e}); "
                               "is another server using the port? Choose another --port") from None
    if args.host not in LOCAL:
        print(f"warning: --host {args.host} makes the page reachable from other machines; pokegan serve has no "
              "log-in, so anyone who can reach it can use it", file=sys.stderr)
    url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/"
    print(f"serving {len(catalog.entries)} model(s) ({', '.join(catalog.entries)}) at {url}  (Ctrl-C stops)",
          flush=True)
    uvicorn.run(create_app(catalog, data=args.data), host=args.host, port=args.port, log_level="warning", access_log=False,
                limit_concurrency=64, timeout_keep_alive=5)
    return 0
