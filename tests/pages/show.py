"""Print the extractor's current output for page fixtures, in the shape of expected.json.

    python -m tests.pages.show NAME [NAME ...]

For review only: compare it with the fixture's expected.json by eye and judge each
difference against LICENSE_FORMATS.md. Nothing is ever written.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from crawler.extract import Extractor
from patterns import load_catalogue
from tests.conftest import AUDIT_YEAR
from tests.pages import as_expected, compare, fixture_names, load


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.pages.show", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", metavar="NAME", help=f"fixture folder, one of: {', '.join(fixture_names())}")
    args = parser.parse_args(argv)
    extractor = Extractor(load_catalogue(), AUDIT_YEAR)
    status = 0
    for name in args.names:
        try:
            fixture = load(name)
        except ValueError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            status = 2
            continue
        actual = as_expected(extractor.extract(fixture.body, base_url=fixture.base_url))
        print(f"== {name}")
        print(json.dumps(actual, ensure_ascii=False, indent=2))
        for difference in compare(fixture.expected, actual):
            print(f"   differs from expected.json: {difference}")
    return status


if __name__ == "__main__":
    sys.exit(main())
