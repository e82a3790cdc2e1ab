"""Property tests over hostile input: target lists and pages that strangers wrote.

Target lists come from spreadsheets: any encoding, BOMs, NUL bytes, lines far past
the length limit, broken CSV quoting, line endings of every kind in one file. The
reader must never raise and must account for every line: each non-blank,
non-comment line gives exactly one record, at its own line number, in order.

Pages come from the internet: any bytes, any text, claimed in any charset, repeated
until they are large. Extraction must never raise and must take bounded time per
page (Hypothesis's ``deadline``, not a timed assertion).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.extract import Extractor
from crawler.targets import (
    MAX_LINE_LENGTH,
    MAX_ROW_LINES,
    Invalid,
    Record,
    TargetCounts,
    iter_targets,
)
from tests.test_extract_robustness import CHARSETS, PAGES, _check

FIRST_LINE = "example.com"  # a first line that is no CSV header: the file is a plain list
HUGE = MAX_LINE_LENGTH + 100

# Characters that look like line ends or space to someone (NEL, line and paragraph
# separators, vertical tab, form feed, file separators) but are not line ends here.
_TRICKY = ["\x00", "\ufeff", "\u200b", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\u3000",
           '"', '""', ",", ";", "\t", "#", " # ", "\\", "\ufffd", "ａ．ｃｎ", "中文.中国", "\ud7ff"]
_TEXT = st.lists(st.one_of(st.sampled_from(_TRICKY),
                           st.text(st.characters(exclude_characters="\r\n",
                                                 exclude_categories=("Cs",)), max_size=12)),
                 max_size=8).map("".join)
_GB_TEXT = st.text(st.sampled_from("abc.-#,\" \t\x00中文例子备案号京ＡＢ．"), max_size=30)
_PADDING = st.sampled_from([" ", "\x00", "\t", "a", "中", "#", '"', "\u3000"])


@st.composite
def _lines(draw: st.DrawFn, text: st.SearchStrategy[str]) -> str:
    """One line: blank, a comment, an entry, or an entry padded far past the limit."""
    kind = draw(st.sampled_from(["blank", "comment", "entry", "entry", "huge"]))
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "\t", "\x00", " \x00 ", "\u3000"]))
    if kind == "comment":
        return draw(st.sampled_from(["", " ", "\x00"])) + "#" + draw(text)
    if kind == "huge":
        padding = draw(_PADDING) * (HUGE // 3 + 1)  # 3 bytes a character at most
        return draw(st.sampled_from([padding + "a.cn", "a.cn" + padding, padding]))
    return draw(text)


def _is_entry(line: str, stored_length: int) -> bool:
    """What the reader must treat as an entry: anything but white space (NULs, which
    spreadsheets scatter through UTF-16 text, do not count) and ``#`` comments; a line
    too long to read whole is an entry unless it starts as a comment."""
    stripped = line.replace("\x00", "").strip()
    if stored_length > MAX_LINE_LENGTH:
        return not stripped.startswith("#")
    return bool(stripped) and not stripped.startswith("#")


_ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "utf-32", "gb18030"])


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16-be-bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return text.encode(encoding)


@st.composite
def _list_files(draw: st.DrawFn) -> tuple[bytes, list[str], str]:
    """A list file in some encoding with mixed line endings, its lines and encoding."""
    encoding = draw(_ENCODINGS)
    text = _GB_TEXT if encoding == "gb18030" else _TEXT
    lines = [FIRST_LINE, *draw(st.lists(_lines(text), max_size=25))]
    endings = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines),
                            max_size=len(lines)))
    content = "".join(line + end for line, end in zip(lines, endings))
    if draw(st.booleans()):
        content = content.rstrip("\r\n")  # no line end after the last line
    return _encode(content, encoding), _physical_lines(content), encoding


def _physical_lines(content: str) -> list[str]:
    """The lines of a file as documented: ended by CR LF, LF or a lone CR."""
    lines = re.split("\r\n|\r|\n", content)
    return lines[:-1] if lines[-1] == "" else lines


def _read(content: bytes, name: str) -> tuple[list[Record], TargetCounts]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, name)
        path.write_bytes(content)
        counts = TargetCounts()
        return list(iter_targets([str(path)], counts)), counts


TARGET_SETTINGS = settings(max_examples=300, deadline=None,
                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@TARGET_SETTINGS
@given(_list_files())
def test_every_entry_line_of_a_list_gives_exactly_one_record(
        file: tuple[bytes, list[str], str]) -> None:
    content, lines, encoding = file
    records, counts = _read(content, "sites.txt")
    stored = "gb18030" if encoding == "gb18030" else "utf-8"  # UTF-16/32 are read as UTF-8
    lengths = [len(line.encode(stored)) for line in lines]
    expected = [n for n, (line, size) in enumerate(zip(lines, lengths), 1) if _is_entry(line, size)]
    assert [record.line for record in records] == expected
    assert counts.lines_read == len(lines) == counts.skipped + counts.records
    for record in records:
        if lengths[record.line - 1] > MAX_LINE_LENGTH:
            assert isinstance(record, Invalid) and record.reason == "line_too_long"


_CELL = st.one_of(st.sampled_from(['"', '""', 'a"b', '"a', 'a.cn"', "\x00", ",", "#x", " ", ""]),
                  st.text(st.characters(exclude_characters="\r\n", exclude_categories=("Cs",)),
                          max_size=6))


@st.composite
def _csv_files(draw: st.DrawFn) -> tuple[bytes, list[str], str]:
    """A CSV file (any delimiter) whose rows may have broken quoting, and its lines."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    rows = draw(st.lists(st.one_of(
        st.lists(_CELL, min_size=1, max_size=4).map(delimiter.join),
        _lines(_TEXT)), max_size=20))
    lines = [delimiter.join(["domain", "owner"]), *rows]
    endings = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines),
                            max_size=len(lines)))
    content = "".join(line + end for line, end in zip(lines, endings))
    encoding = draw(_ENCODINGS.filter(lambda e: e != "gb18030"))
    return _encode(content, encoding), _physical_lines(content), delimiter


def _blank_row(line: str, delimiter: str) -> bool:
    cells = next(csv.reader([line.replace("\x00", "")], delimiter=delimiter), [])
    return not any(cell.strip() for cell in cells)


@TARGET_SETTINGS
@given(_csv_files())
def test_no_csv_line_is_lost(file: tuple[bytes, list[str], str]) -> None:
    """Each row gives one record at its first line; a line without a record of its own
    is blank, a comment, or inside a quoted cell opened at most MAX_ROW_LINES - 1 lines
    above (a row of quoted blank cells spanning lines is a blank row)."""
    content, lines, delimiter = file
    records, counts = _read(content, "sites.csv")
    numbers = [record.line for record in records]
    assert numbers == sorted(set(numbers))
    assert counts.lines_read == len(lines)
    assert counts.lines_read == counts.skipped + counts.headers + counts.joined + counts.records
    assert counts.headers == 1 and 1 not in numbers
    quoted = [n for n, line in enumerate(lines, 1) if '"' in line]
    for number, line in enumerate(lines[1:], 2):
        if number in numbers or not _is_entry(line, 0) or _blank_row(line, delimiter):
            continue
        assert any(0 < number - start < MAX_ROW_LINES for start in quoted), (number, line)


# --- pages -------------------------------------------------------------------------

# A page must be read well within this even on a loaded two-core machine; the
# pathological cases this guards against take minutes, not seconds.
PAGE_SETTINGS = settings(max_examples=60, deadline=dt.timedelta(seconds=5),
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PAGE_SETTINGS
@given(text=PAGES, repeat=st.integers(1, 400), charset=CHARSETS,
       encoding=st.sampled_from(["utf-8", "gb18030", "utf-16", "latin-1"]))
def test_large_repeated_pages_are_read_in_bounded_time(
        text: str, repeat: int, charset: str | None, encoding: str, extractor: Extractor) -> None:
    body = (text * repeat).encode(encoding, errors="replace")
    content_type = None if charset is None else f"text/html; charset={charset}"
    _check(extractor.extract(body, content_type=content_type), len(body) * 4)


@PAGE_SETTINGS
@given(body=st.binary(max_size=4096), repeat=st.integers(1, 200), charset=CHARSETS)
def test_arbitrary_bytes_are_read_in_bounded_time(body: bytes, repeat: int, charset: str | None,
                                                 extractor: Extractor) -> None:
    content_type = None if charset is None else f"text/html; charset={charset}"
    _check(extractor.extract(body * repeat, content_type=content_type), len(body) * repeat * 4)


@PAGE_SETTINGS
@given(text=st.text(max_size=2000), repeat=st.integers(1, 100))
def test_arbitrary_text_is_read_in_bounded_time(text: str, repeat: int,
                                                extractor: Extractor) -> None:
    _check(extractor.extract(text * repeat, base_url="https://例子.中国/a/"), len(text) * repeat)
