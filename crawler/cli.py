"""The ``footer-audit`` command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from crawler.extract import Extractor, PageExtract
from patterns import CatalogueError, load_catalogue

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or unreadable input: reported in one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="footer-audit",
        description="Audit the licence and filing numbers in the footers of China-facing sites.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    extract = commands.add_parser("extract", help="extract numbers from local HTML files")
    extract.add_argument("files", nargs="+", metavar="FILE", help="HTML file, or - for standard input")
    extract.add_argument("--base-url", help="URL the pages came from (resolves relative links)")
    extract.add_argument("--format", choices=("table", "jsonl"),
                         help="output format (default: table on a terminal, else jsonl)")
    _common(extract)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patterns", action="append", type=Path, default=[], metavar="DIR",
                        help="extra directory of pattern files (a file replaces the built-in "
                             "category of the same name); may be repeated")
    parser.add_argument("--audit-year", type=int, default=None, metavar="YEAR",
                        help="year that numbers' years are judged against (default: this year)")


def _extractor(args: argparse.Namespace) -> Extractor:
    try:
        catalogue = load_catalogue(args.patterns)
    except CatalogueError as exc:
        raise UsageError(f"bad pattern file: {exc}") from exc
    year = args.audit_year or dt.datetime.now(dt.timezone.utc).year
    return Extractor(catalogue, year)


def _read(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    return Path(source).read_bytes()


def _table(source: str, page: PageExtract, out: TextIO) -> None:
    selector = page.footer.selector or "(none: end of page used)"
    out.write(f"{source}  footer: {selector}  encoding: {page.encoding}\n")
    if not page.findings:
        out.write("  no licence or filing number found\n")
    for f in page.findings:
        problems = ", ".join(f.problems + f.warnings) or "-"
        out.write(f"  {f.category:<22} {f.number:<32} {f.status:<11} link:{f.link_status:<12} "
                  f"{f.location:<7} {problems}\n")


def run_extract(args: argparse.Namespace, out: TextIO) -> int:
    extractor = _extractor(args)
    fmt = args.format or ("table" if out.isatty() else "jsonl")
    status = EXIT_OK
    for source in args.files:
        try:
            body = _read(source)
        except OSError as exc:
            status = EXIT_USAGE
            error = f"cannot read {source}: {exc.strerror or exc}"
            if fmt == "jsonl":
                out.write(json.dumps({"source": source, "error": error}, ensure_ascii=False) + "\n")
            else:
                out.write(f"{source}  error: {error}\n")
            continue
        page = extractor.extract(body, base_url=args.base_url)
        if fmt == "jsonl":
            out.write(json.dumps({"source": source, **page.to_dict()}, ensure_ascii=False) + "\n")
        else:
            _table(source, page, out)
    return status


COMMANDS = {"extract": run_extract}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of the ``footer-audit`` console script; returns the exit status."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out)
    except UsageError as exc:
        print(f"footer-audit: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
