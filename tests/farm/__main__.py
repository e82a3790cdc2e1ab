"""``python -m tests.farm --sites FILE_OR_DIR [--port N]``: print the proxy URL, serve.

The first line on stdout is the proxy URL (``http://127.0.0.1:PORT``); the farm then
serves until it is killed. ``--generate N [--seed S]`` adds ``generate_sites(N, S)``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from tests.farm.generate import generate_sites
from tests.farm.server import serve
from tests.farm.sites import SiteError, check_unique, load_sites


def main(argv: list[str] | None = None) -> int:
    """Run the farm CLI; returns 2 when the sites cannot be loaded."""
    parser = argparse.ArgumentParser(prog="python -m tests.farm", description=__doc__)
    parser.add_argument("--sites", action="append", default=[], metavar="FILE_OR_DIR",
                        help="a sites file (.toml or .json) or a directory of .toml files")
    parser.add_argument("--generate", type=int, default=0, metavar="N",
                        help="also serve N generated sites")
    parser.add_argument("--seed", type=int, default=0, help="seed for --generate")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--proxy-auth", metavar="USER:PASSWORD",
                        help="the proxy asks for these Basic credentials (407 without them)")
    args = parser.parse_args(argv)
    if not args.sites and not args.generate:
        parser.error("give --sites and/or --generate")
    try:
        sites = check_unique([*load_sites(*args.sites),
                              *(generate_sites(args.generate, args.seed) if args.generate else [])])
    except SiteError as exc:
        print(f"farm: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(sites, args.port, on_ready=lambda url: print(url, flush=True),
                          proxy_auth=args.proxy_auth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
