"""Crawl results as JSON Lines: one result object per line, UTF-8, Chinese kept readable.

``results.jsonl`` is the source every other report can be rebuilt from, so reading it
streams and a damaged line stops with an error that names the line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO


class ResultsFileError(ValueError):
    """A results file line that is not one JSON object; the message names the line."""


def write_results(stream: TextIO, results: Iterable[Mapping[str, Any]]) -> int:
    """Write each result as one line to a text file object; return how many.

    >>> import io
    >>> out = io.StringIO()
    >>> write_results(out, [{"host": "例子.cn", "line": 2}])
    1
    >>> out.getvalue()
    '{"host": "例子.cn", "line": 2}\\n'
    """
    count = 0
    for result in results:
        stream.write(json.dumps(result, ensure_ascii=False))
        stream.write("\n")
        count += 1
    return count


def parse_results(lines: Iterable[str | bytes], name: str = "results") -> Iterator[dict[str, Any]]:
    """Parse JSON Lines (a file object is an iterable of lines); skip blank lines.

    >>> list(parse_results(['{"line": 1}\\n', '\\n', '{"line": 3}\\n']))
    [{'line': 1}, {'line': 3}]
    >>> list(parse_results(['{"line": 1}\\n', '{"line": 2']))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    reports.jsonl.ResultsFileError: results line 2: not valid JSON: Expecting ',' delimiter...
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            result = json.loads(line)
        except ValueError as exc:  # bad JSON, or bytes that are not UTF-8
            raise ResultsFileError(f"{name} line {number}: not valid JSON: {exc}") from None
        if not isinstance(result, dict):
            kind = type(result).__name__
            raise ResultsFileError(f"{name} line {number}: expected an object, got {kind}")
        yield result


def read_results(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the results stored in a ``results.jsonl`` file."""
    with path.open("rb") as stream:  # bytes, so that bad UTF-8 is blamed on its line
        yield from parse_results(stream, name=str(path))
