"""Read the list of sites to audit and normalise every entry.

``footer-audit crawl TARGETS...`` takes file paths and inline entries. A file is a
plain list (one entry a line, ``#`` comments, blank lines) or a CSV file whose header
names a ``domain`` or ``url`` column; its other columns ride along with each row.
Files come from spreadsheets, so they are decoded robustly (UTF-8 with or without a
BOM, UTF-16/32 with a BOM, GBK/GB18030, NUL bytes, any line endings) and never make
the reader fail: a line that cannot be used becomes an :class:`Invalid` record that
says why.

:func:`iter_targets` streams exactly one record per non-blank, non-comment line (a
CSV row that spans lines is one record): a :class:`Target` for the first occurrence
of a site, a :class:`Duplicate` for a later one, or an :class:`Invalid`. The only
state kept per entry is an 8-byte digest of each target's key.

Nothing here imports Scrapy or touches the network.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import ipaddress
import itertools
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Literal, NamedTuple
from urllib.parse import SplitResult, quote, urlsplit

import idna

from crawler.redact import redact
from patterns.normalise import normalise

INLINE_SOURCE = "<arg>"
MAX_LINE_LENGTH = 8192  # bytes of one physical line, or characters of one CSV row
MAX_URL_LENGTH = 2083  # Scrapy's default URLLENGTH_LIMIT
MAX_ROW_LINES = 10  # physical lines one quoted CSV cell may span
TARGET_COLUMNS = ("url", "domain")  # in order of preference when a row fills both
CSV_DELIMITERS = (",", ";", "\t")
CSV_SUFFIXES = (".csv", ".tsv")
LIST_SUFFIXES = (*CSV_SUFFIXES, ".txt", ".lst", ".list")
NO_COLUMNS: Mapping[str, str] = MappingProxyType({})

REASONS: Mapping[str, str] = MappingProxyType(
    {
        "line_too_long": f"the line is longer than {MAX_LINE_LENGTH} bytes",
        "csv_error": "the CSV row is broken (usually a stray or unclosed quote)",
        "empty": "the target cell is empty",
        "whitespace": "white space inside the entry",
        "url_too_long": f"the URL is longer than {MAX_URL_LENGTH} characters",
        "unsupported_scheme": "only http:// and https:// addresses can be audited",
        "missing_scheme": "a path without http:// or https://",
        "bad_url": "the address cannot be parsed",
        "bad_port": "the port is not a number from 1 to 65535",
        "no_host": "no host name",
        "bad_character": "a character that is not allowed in a host name",
        "bad_label": "a label that is not a valid (internationalised) host name label",
        "empty_label": "two dots in a row, or a leading dot",
        "label_too_long": "a label longer than 63 characters",
        "name_too_long": "a host name longer than 253 characters",
        "single_label": "a host name without a dot",
        "bad_ip": "ends in a number but is not a valid IP address",
    }
)


class TargetFileError(Exception):
    """A target file that cannot be used at all; the message names the file."""


class InvalidEntry(ValueError):
    """An entry that is not a site we can audit, with a code from :data:`REASONS`."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise KeyError(f"unknown reason code {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a record comes from: the source (file path or ``<arg>``), the line
    (for an inline argument: its position), the entry as given and, for a CSV row,
    the other columns."""

    source: str
    line: int
    text: str
    columns: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Target(Entry):
    """A site to audit, first occurrence of its ``key``.

    ``kind`` is ``domain`` for an entry without a scheme (``urls`` then tries https
    before http) and ``url`` for an address fetched exactly as given. ``host`` is
    ASCII (punycode), ``display_host`` its Unicode form.
    """

    kind: Literal["domain", "url"]
    key: str
    host: str
    display_host: str
    port: int | None
    urls: tuple[str, ...]
    is_ip: bool


@dataclass(frozen=True, slots=True)
class Duplicate(Entry):
    """A later occurrence of the target whose key is ``key``; not crawled again."""

    key: str
    status: ClassVar[str] = "duplicate"


@dataclass(frozen=True, slots=True)
class Invalid(Entry):
    """An entry that cannot be audited: a code from :data:`REASONS` and a message."""

    reason: str
    message: str
    status: ClassVar[str] = "invalid_input"


Record = Target | Duplicate | Invalid


@dataclass
class TargetCounts:
    """What the reader saw. Every physical line is counted once:
    ``lines_read == skipped + headers + joined + records``."""

    lines_read: int = 0
    skipped: int = 0  # blank and comment lines
    headers: int = 0  # CSV header rows
    joined: int = 0  # extra lines of CSV rows that span lines
    kept: int = 0
    merged: int = 0
    rejected: int = 0

    @property
    def records(self) -> int:
        return self.kept + self.merged + self.rejected


# --- normalising one entry ---------------------------------------------------------

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_WHITESPACE = re.compile(r"\s")
_BAD_HOST_CHARACTER = re.compile(r"[^a-z0-9_-]")
_UNPRINTABLE = re.compile(r"[^\x21-\x7e]+")
_QUOTE_PAIRS = {'"': '"', "'": "'", "“": "”", "‘": "’", "<": ">"}


def normalise_entry(
    text: str,
    source: str = INLINE_SOURCE,
    line: int = 1,
    columns: Mapping[str, str] = NO_COLUMNS,
) -> Target:
    """The :class:`Target` an entry stands for; :class:`InvalidEntry` if it is none.

    >>> for text in ["Example.COM.", "ｗｗｗ．ＥＸＡＭＰＬＥ。ｃｏｍ", "中文.中国:8080",
    ...              "HTTP://Example.com/Path?q=1#top", "[::1]:8080", "  <127.0.0.1/>"]:
    ...     target = normalise_entry(text)
    ...     print(target.kind, target.key, target.display_host, target.urls[0])
    domain example.com example.com https://example.com/
    domain www.example.com www.example.com https://www.example.com/
    domain xn--fiq228c.xn--fiqs8s:8080 中文.中国 https://xn--fiq228c.xn--fiqs8s:8080/
    url http://example.com/Path?q=1 example.com http://example.com/Path?q=1
    domain [::1]:8080 ::1 https://[::1]:8080/
    domain 127.0.0.1 127.0.0.1 https://127.0.0.1/
    >>> for text in ["ftp://example.com", "example.com/about", "exa mple.com", "a..b",
    ...              "example.com:0", "example.999", "exam$ple.com", "intranet"]:
    ...     try:
    ...         normalise_entry(text)
    ...     except InvalidEntry as invalid:
    ...         print(invalid.reason)
    unsupported_scheme
    missing_scheme
    whitespace
    empty_label
    bad_port
    bad_ip
    bad_character
    single_label
    """
    cleaned = _unwrap(normalise(text).strip())
    if not cleaned:
        raise InvalidEntry("empty", "the entry is empty")
    if _WHITESPACE.search(cleaned):
        raise InvalidEntry("whitespace", "white space inside the entry")
    if len(cleaned) > MAX_URL_LENGTH:
        raise InvalidEntry("url_too_long", REASONS["url_too_long"])
    scheme = _SCHEME.match(cleaned)
    after_scheme = cleaned[scheme.end() :] if scheme else ""
    if scheme and after_scheme.startswith("//"):
        kind: Literal["domain", "url"] = "url"
        parts = _split_url(cleaned)
        if parts.scheme not in ("http", "https"):
            raise InvalidEntry(
                "unsupported_scheme", f"{parts.scheme}:// is not http:// or https://"
            )
    elif scheme and "." not in scheme.group(1) and after_scheme[:1].isalpha():
        raise InvalidEntry("unsupported_scheme", f"{scheme.group(1)}: is not http:// or https://")
    else:
        kind = "domain"
        parts = _split_url("//" + cleaned)
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise InvalidEntry(
                "missing_scheme", f"a path needs a scheme: write https://{cleaned} to fetch it"
            )
    host, port = _split_authority(parts.netloc)
    ascii_host, display_host, is_ip = check_host(host)
    authority = _authority(ascii_host, port)
    if kind == "domain":
        key = authority
        urls: tuple[str, ...] = (f"https://{authority}/", f"http://{authority}/")
    else:
        key = f"{parts.scheme}://{authority}{_escape(parts.path) or '/'}"
        key += f"?{_escape(parts.query)}" if parts.query else ""
        urls = (key,)
    return Target(
        source=source,
        line=line,
        text=text,
        columns=columns,
        kind=kind,
        key=key,
        host=ascii_host,
        display_host=display_host,
        port=port,
        urls=urls,
        is_ip=is_ip,
    )


def www_variant(target: Target) -> Target | None:
    """The same target on ``www.`` + its host, for a crawler whose bare-domain fetch
    failed; ``None`` for URLs, IP addresses, single labels and ``www.`` hosts.

    >>> www_variant(normalise_entry("中文.中国:8080")).urls
    ('https://www.xn--fiq228c.xn--fiqs8s:8080/', 'http://www.xn--fiq228c.xn--fiqs8s:8080/')
    >>> [www_variant(normalise_entry(text)) for text in ["www.a.cn", "1.2.3.4", "https://a.cn"]]
    [None, None, None]
    """
    host = target.host
    if target.kind != "domain" or target.is_ip or host.startswith("www.") or "." not in host:
        return None
    authority = _authority(f"www.{host}", target.port)
    return replace(
        target,
        host=f"www.{host}",
        display_host=f"www.{target.display_host}",
        urls=(f"https://{authority}/", f"http://{authority}/"),
    )


def check_host(host: str) -> tuple[str, str, bool]:
    """``(ASCII host, Unicode host, is_ip)`` for a host name or IP address.

    Case, trailing dots and ideographic full stops are folded; labels are checked
    (letters, digits, ``-`` and ``_``; at most 63 characters; IDNA 2008 with UTS 46
    mapping for non-ASCII labels). Raises :class:`InvalidEntry`.

    >>> check_host("Bücher。Example.COM.")
    ('xn--bcher-kva.example.com', 'bücher.example.com', False)
    >>> check_host("XN--FIQ228C.xn--fiqs8s")
    ('xn--fiq228c.xn--fiqs8s', '中文.中国', False)
    >>> check_host("2001:DB8:0:0::1")
    ('2001:db8::1', '2001:db8::1', True)
    """
    host = host.replace("。", ".").rstrip(".")
    if not host:
        raise InvalidEntry("no_host", "no host name")
    if ":" in host:
        try:
            if "%" in host:
                raise ValueError("a zone index cannot be fetched")
            address = str(ipaddress.IPv6Address(host))
        except ValueError as error:
            raise InvalidEntry("bad_ip", f"{host!r} is not a valid IPv6 address") from error
        return address, address, True
    labels = host.lower().split(".")
    if labels[-1].isascii() and labels[-1].isdigit():
        try:
            address = str(ipaddress.IPv4Address(host))
        except ValueError as error:
            raise InvalidEntry(
                "bad_ip", f"{host!r} ends in a number but is not an IPv4 address"
            ) from error
        return address, address, True
    if "" in labels:
        raise InvalidEntry("empty_label", f"{host!r} has an empty label (two dots in a row?)")
    pairs = [_check_label(label) for label in labels]
    ascii_host = ".".join(ascii_label for ascii_label, _ in pairs)
    if len(ascii_host) > 253:
        raise InvalidEntry("name_too_long", f"the host name has {len(ascii_host)} characters")
    if len(labels) == 1 and ascii_host != "localhost":
        raise InvalidEntry("single_label", f"{host!r} has no dot: not a public host name")
    return ascii_host, ".".join(display for _, display in pairs), False


def _check_label(label: str) -> tuple[str, str]:
    """``(ASCII label, Unicode label)`` for one lower-case label."""
    if not label.isascii():
        return _check_unicode_label(label)
    bad = _BAD_HOST_CHARACTER.search(label)
    if bad:
        raise InvalidEntry("bad_character", f"{bad.group()!r} is not allowed in a host name")
    if len(label) > 63:
        raise InvalidEntry("label_too_long", f"{label[:20]}... has {len(label)} characters")
    if label.startswith("-") or label.endswith("-"):
        raise InvalidEntry("bad_label", f"{label!r} starts or ends with a hyphen")
    if not label.startswith("xn--"):
        return label, label
    try:
        return label, idna.decode(label)
    except idna.IDNAError as error:
        raise InvalidEntry("bad_label", f"{label!r} is not valid punycode: {error}") from error


def _check_unicode_label(label: str) -> tuple[str, str]:
    """IDNA 2008 with UTS 46 mapping: checks the code points, hyphens and length."""
    try:
        unicode_label = idna.uts46_remap(label, std3_rules=False, transitional=False)
        return idna.alabel(unicode_label).decode("ascii"), unicode_label
    except idna.IDNAError as error:
        raise InvalidEntry("bad_label", f"{label!r} is not a valid label: {error}") from error


def _unwrap(text: str) -> str:
    """Drop one pair of quotes or angle brackets around an entry."""
    if len(text) >= 2 and _QUOTE_PAIRS.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return text


def _escape(text: str) -> str:
    """Percent-encode (UTF-8) what is not printable ASCII in a path or query, as
    browsers and Scrapy do before fetching.

    >>> _escape("/关于?a=b")
    '/%E5%85%B3%E4%BA%8E?a=b'
    """
    return _UNPRINTABLE.sub(lambda match: quote(match.group()), text)


def _split_url(text: str) -> SplitResult:
    try:
        return urlsplit(text)
    except ValueError as error:
        raise InvalidEntry("bad_url", f"cannot parse the address: {error}") from error


def _split_authority(netloc: str) -> tuple[str, int | None]:
    """``(host, port)`` from ``host``, ``host:port``, ``[v6]:port`` or a bare IPv6."""
    if "@" in netloc:
        raise InvalidEntry("bad_url", "a user name or password in the address")
    if netloc.startswith("["):
        host, bracket, rest = netloc[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise InvalidEntry("bad_url", f"{netloc!r}: a bracketed IPv6 address is malformed")
        return host, _parse_port(rest[1:]) if rest else None
    if netloc.count(":") > 1:
        return netloc, None
    host, colon, port = netloc.partition(":")
    return host, _parse_port(port) if colon else None


def _parse_port(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 65536):
        raise InvalidEntry("bad_port", f"port {text!r} is not a number from 1 to 65535")
    return int(text)


def _authority(host: str, port: int | None) -> str:
    bracketed = f"[{host}]" if ":" in host else host
    return bracketed if port is None else f"{bracketed}:{port}"


# --- reading sources ---------------------------------------------------------------


def iter_targets(arguments: Iterable[str], counts: TargetCounts | None = None) -> Iterator[Record]:
    """Stream one record per entry of the target arguments, in order.

    An argument naming an existing file, or looking like a path to a list (a
    ``.txt``/``.csv``... name, ``./``, ``/``), is a file; anything else is an inline
    entry. Every file is opened and its header read here, before the first record,
    so an unusable file raises :class:`TargetFileError` at once. ``counts``, if
    given, is filled in while the records are read.
    """
    sources = [_open_source(argument, position) for position, argument in enumerate(arguments, 1)]
    return _records(sources, TargetCounts() if counts is None else counts)


class _Row(NamedTuple):
    """One entry before normalisation, or a problem found while reading its line."""

    line: int
    text: str
    columns: Mapping[str, str]
    problem: InvalidEntry | None = None


class _Header(NamedTuple):
    line: int
    delimiter: str
    names: tuple[str, ...]
    target_indexes: tuple[int, ...]


@dataclass(frozen=True)
class _InlineSource:
    text: str
    position: int
    name: str = INLINE_SOURCE

    def rows(self, counts: TargetCounts) -> Iterator[_Row]:
        counts.lines_read += 1
        text = self.text.strip()
        if text:
            yield _Row(self.position, text, NO_COLUMNS)
        else:
            counts.skipped += 1


@dataclass(frozen=True)
class _FileSource:
    path: Path
    name: str
    header: _Header | None

    def rows(self, counts: TargetCounts) -> Iterator[_Row]:
        lines = _numbered_lines(self.path, counts)
        if self.header is None:
            return _list_rows(lines, counts)
        return _csv_rows(lines, self.header, counts)


def _records(
    sources: Sequence[_InlineSource | _FileSource], counts: TargetCounts
) -> Iterator[Record]:
    seen: set[bytes] = set()
    for source in sources:
        for row in source.rows(counts):
            yield _record(source.name, row, seen, counts)


def _record(source: str, row: _Row, seen: set[bytes], counts: TargetCounts) -> Record:
    try:
        if row.problem:
            raise row.problem
        target = normalise_entry(row.text, source, row.line, row.columns)
    except InvalidEntry as invalid:
        counts.rejected += 1
        # a login pasted into the entry is no part of any report
        return Invalid(source, row.line, redact(row.text), row.columns, invalid.reason,
                       invalid.message)
    digest = hashlib.blake2b(target.key.encode(), digest_size=8).digest()
    if digest in seen:
        counts.merged += 1
        return Duplicate(source, row.line, row.text, row.columns, target.key)
    seen.add(digest)
    counts.kept += 1
    return target


def _open_source(argument: str, position: int) -> _InlineSource | _FileSource:
    if "://" in argument or not (os.path.exists(argument) or _looks_like_path(argument)):
        return _InlineSource(argument, position)
    path = Path(argument).expanduser()
    return _FileSource(path, argument, _read_header(path))


def _looks_like_path(argument: str) -> bool:
    """Whether a missing argument was meant as a file rather than a site.

    >>> [_looks_like_path(text) for text in ["sites.CSV", "./sites", "example.com/", "a.cn"]]
    [True, True, False, False]
    """
    return (
        argument.lower().endswith(LIST_SUFFIXES)
        or argument.startswith(("/", "./", "../", "~"))
        or "\\" in argument
    )


def _read_header(path: Path) -> _Header | None:
    """The CSV header of a file (its first content line, if it names a target column
    for one of the delimiters), or ``None`` for a plain list. A ``.csv`` file whose
    first line has several cells but no target column is an error.

    >>> _read_header(Path("/no/such/list.txt"))
    Traceback (most recent call last):
    crawler.targets.TargetFileError: cannot read the target list /no/such/list.txt: No such file or directory
    """
    for line, text, _ in _numbered_lines(path, TargetCounts()):
        if _is_blank_or_comment(text):
            continue
        headers = []
        for delimiter in CSV_DELIMITERS:
            cells = next(csv.reader([text], delimiter=delimiter), [])
            names = [normalise(cell).strip().lower() for cell in cells]
            indexes = tuple(
                i for column in TARGET_COLUMNS for i, name in enumerate(names) if name == column
            )
            headers.append(_Header(line, delimiter, _column_names(cells), indexes))
        matching = [header for header in headers if header.target_indexes]
        if matching:
            return max(matching, key=lambda header: len(header.names))
        widest = max(headers, key=lambda header: len(header.names))
        if len(widest.names) > 1 and path.name.lower().endswith(CSV_SUFFIXES):
            raise TargetFileError(
                f"{path}: the header row has no 'domain' or 'url' column"
                f" (found: {', '.join(widest.names)})"
            )
        return None
    return None


def _column_names(cells: Sequence[str]) -> tuple[str, ...]:
    """Header names, with a name made up for an empty cell and a repeated one.

    >>> _column_names(["Owner", "", "owner", " Notes "])
    ('Owner', 'column_2', 'owner_3', 'Notes')
    """
    names: list[str] = []
    for index, cell in enumerate(cells, 1):
        name = normalise(cell).strip() or f"column_{index}"
        names.append(f"{name}_{index}" if name.lower() in map(str.lower, names) else name)
    return tuple(names)


def _is_blank_or_comment(text: str, cut: bool = False) -> bool:
    """Whether a line is skipped. Of a line cut at :data:`MAX_LINE_LENGTH` only the
    start is known, so only a comment is skipped: blank space may have pushed an
    entry past the cut (it becomes a ``line_too_long`` record).

    >>> [_is_blank_or_comment(" # x"), _is_blank_or_comment("\u3000"),
    ...  _is_blank_or_comment("\u3000", cut=True), _is_blank_or_comment("#", cut=True)]
    [True, True, False, True]
    """
    stripped = text.strip()
    return stripped.startswith("#") if cut else not stripped or stripped.startswith("#")


_TRAILING_COMMENT = re.compile(r"\s#.*")


def _without_comment(text: str) -> str:
    """An entry without its trailing `` # comment`` and outer white space."""
    return _TRAILING_COMMENT.sub("", text).strip()


_Line = tuple[int, str, bool]  # line number, text, cut at MAX_LINE_LENGTH


def _list_rows(lines: Iterator[_Line], counts: TargetCounts) -> Iterator[_Row]:
    for line, text, cut in lines:
        if _is_blank_or_comment(text, cut):
            counts.skipped += 1
        elif cut:
            yield _Row(line, text, NO_COLUMNS, _too_long())
        else:
            yield _Row(line, _without_comment(text), NO_COLUMNS)


def _csv_rows(lines: Iterator[_Line], header: _Header, counts: TargetCounts) -> Iterator[_Row]:
    """The rows of a CSV file, skipping its header, blank rows and comment lines."""
    pending: deque[_Line] = deque()
    while (item := pending.popleft() if pending else next(lines, None)) is not None:
        line, text, cut = item
        if line == header.line:
            counts.headers += 1
        elif _is_blank_or_comment(text, cut):
            counts.skipped += 1
        elif cut:
            yield _Row(line, text, NO_COLUMNS, _too_long())
        else:
            try:
                cells, extra_lines = _read_row(text, header.delimiter, pending, lines)
            except InvalidEntry as problem:
                yield _Row(line, text, NO_COLUMNS, problem)
                continue
            counts.joined += extra_lines
            row = _csv_row(line, cells, header)
            if row is None:
                counts.skipped += 1
            else:
                yield row


def _read_row(
    text: str, delimiter: str, pending: deque[_Line], lines: Iterator[_Line]
) -> tuple[list[str], int]:
    """The cells of the row that starts with ``text`` and how many more lines it took.

    A quoted cell may span up to :data:`MAX_ROW_LINES` lines. When the quote never
    closes, the lines read ahead go back to ``pending`` to be read as rows of their
    own, so no line is lost, and :class:`InvalidEntry` is raised for the first one.
    """
    taken: list[_Line] = []
    while True:
        try:
            return next(csv.reader([text], delimiter=delimiter, strict=True), []), len(taken)
        except csv.Error as error:
            problem = f"broken CSV quoting: {error}"
        if not text.count('"') % 2 or len(taken) == MAX_ROW_LINES - 1:
            break
        extra = pending.popleft() if pending else next(lines, None)
        if extra is None:
            break
        if extra[2] or len(text) + len(extra[1]) >= MAX_LINE_LENGTH:
            pending.appendleft(extra)
            break
        taken.append(extra)
        text = f"{text}\n{extra[1]}"
    pending.extendleft(reversed(taken))
    if text.count('"') % 2:
        raise InvalidEntry("csv_error", "a quote opens a cell that is never closed")
    raise InvalidEntry("csv_error", problem)


def _csv_row(line: int, cells: Sequence[str], header: _Header) -> _Row | None:
    """The entry of one parsed CSV row, ``None`` if every cell is blank. The first
    non-empty target cell (less a trailing comment) is the entry; the other cells
    become its columns, named by the header (a cell beyond it gets a made-up name)."""
    if not any(cell.strip() for cell in cells):
        return None
    targets = (_without_comment(cells[i]) for i in header.target_indexes if i < len(cells))
    text = next((target for target in targets if target), "")
    extra_names = (f"column_{i}" for i in range(len(header.names) + 1, len(cells) + 1))
    names = (*header.names, *extra_names)
    padded = (*cells, *[""] * (len(names) - len(cells)))
    columns = {
        name: cell
        for index, (name, cell) in enumerate(zip(names, padded))
        if index not in header.target_indexes
    }
    problem = None if text else InvalidEntry("empty", "the target cell is empty")
    return _Row(line, text, columns, problem)


def _too_long() -> InvalidEntry:
    return InvalidEntry("line_too_long", REASONS["line_too_long"])


# --- decoding lines ----------------------------------------------------------------

_CHUNK_SIZE = 1 << 16
_NEWLINE = re.compile(rb"\r\n?|\n")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _numbered_lines(path: Path, counts: TargetCounts) -> Iterator[tuple[int, str, bool]]:
    """``(line number, text, cut)`` for each physical line of a file; ``cut`` says the
    line was longer than :data:`MAX_LINE_LENGTH` and was shortened."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(_CHUNK_SIZE)
            encoding, bom_length = _sniff_encoding(head)
            chunks = itertools.chain(
                [head[bom_length:]], iter(lambda: stream.read(_CHUNK_SIZE), b"")
            )
            if encoding != "utf-8":
                chunks = _recode(chunks, encoding)
            for number, (line, cut) in enumerate(_split_lines(chunks, MAX_LINE_LENGTH), 1):
                counts.lines_read += 1
                yield number, _decode_line(line), cut
    except OSError as error:
        raise TargetFileError(f"cannot read the target list {path}: {error.strerror}") from error


def _sniff_encoding(head: bytes) -> tuple[str, int]:
    """``(encoding, BOM length)``: a BOM decides; without one, lines are read one by
    one as UTF-8 or GB18030 (UTF-16 without a BOM then reads right for ASCII text,
    since NUL bytes are dropped).

    >>> [_sniff_encoding(head) for head in [b"\\xef\\xbb\\xbfa", b"\\xff\\xfea\\x00", b"a.cn"]]
    [('utf-8', 3), ('utf-16-le', 2), ('utf-8', 0)]
    """
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    return "utf-8", 0


def _recode(chunks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """Re-encode the chunks of a UTF-16/32 file as UTF-8 (bad bytes become U+FFFD)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    for chunk in chunks:
        yield decoder.decode(chunk).encode("utf-8", errors="replace")
    yield decoder.decode(b"", final=True).encode("utf-8", errors="replace")


def _split_lines(chunks: Iterable[bytes], limit: int) -> Iterator[tuple[bytes, bool]]:
    """Split chunks at CR LF, LF or a lone CR; a line longer than ``limit`` is cut
    (the rest is skipped, never kept in memory) and flagged.

    >>> list(_split_lines([b"a\\r", b"\\nb\\rc\\n\\n", b"12345678"], limit=4))
    [(b'a', False), (b'b', False), (b'c', False), (b'', False), (b'1234', True)]
    """
    partial, cut, after_cr = b"", False, False
    for chunk in chunks:
        if not chunk:
            continue
        if after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        after_cr = chunk.endswith(b"\r")
        start = 0
        for match in _NEWLINE.finditer(chunk):
            line = partial + chunk[start : match.start()]
            yield line[:limit], cut or len(line) > limit
            partial, cut, start = b"", False, match.end()
        partial += chunk[start:]
        if len(partial) > limit:
            partial, cut = partial[:limit], True
    if partial or cut:
        yield partial, cut


def _decode_line(line: bytes) -> str:
    """A line as UTF-8, else GB18030, else UTF-8 with replacement; NULs dropped.

    >>> [_decode_line(line) for line in ["中文.中国".encode(), "中文.中国".encode("gbk"), b"a\\x00b\\xff"]]
    ['中文.中国', '中文.中国', 'ab\\ufffd']
    """
    for encoding in ("utf-8", "gb18030"):
        try:
            return line.decode(encoding).replace("\0", "")
        except UnicodeDecodeError:
            continue
    return line.decode("utf-8", errors="replace").replace("\0", "")
