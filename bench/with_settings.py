"""Run ``footer-audit`` with some project settings changed, to measure a variant.

``python -m bench.with_settings -s NAME=VALUE [-s NAME=VALUE ...] -- crawl ARGS...``
sets each ``crawler.settings.NAME`` to VALUE (a Python literal, else the text as is)
and then runs ``footer-audit crawl ARGS...`` exactly as the console script would.
"""

from __future__ import annotations

import argparse
import ast
import sys
from typing import Any

import crawler.settings
from crawler.cli import main as footer_audit


def setting_value(text: str) -> Any:
    """A Python literal (number, bool, None, string, list, dict), else the text itself.

    >>> setting_value("0"), setting_value("False"), setting_value("scrapy.pqueues.X")
    (0, False, 'scrapy.pqueues.X')
    """
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_setting(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` as a name and a value; a name that is not upper case is refused."""
    name, equals, value = text.partition("=")
    if not equals or not name.isupper():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with an upper-case NAME: {text!r}")
    return name, setting_value(value)


def settings_parser(prog: str) -> argparse.ArgumentParser:
    """A parser of repeated ``-s NAME=VALUE`` options (shared with ``bench.bare_spider``)."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("-s", dest="settings", action="append", type=parse_setting, default=[],
                        metavar="NAME=VALUE", help="a project setting to change")
    return parser


def main(argv: list[str]) -> int:
    """Change the settings given before ``--``, then run the command line after it."""
    split = argv.index("--") if "--" in argv else len(argv)
    for name, value in settings_parser("python -m bench.with_settings").parse_args(
            argv[:split]).settings:
        setattr(crawler.settings, name, value)
    return footer_audit(argv[split + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
