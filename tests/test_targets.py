"""Reading and normalising target lists (``crawler.targets``).

Tables of real-world inputs first (one test id per input), then whole files in the
encodings and shapes spreadsheets produce, then property tests over arbitrary text
and bytes: the reader never raises and accounts for every line.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.targets import (
    MAX_LINE_LENGTH,
    MAX_ROW_LINES,
    REASONS,
    Duplicate,
    Invalid,
    InvalidEntry,
    Record,
    Target,
    TargetCounts,
    TargetFileError,
    iter_targets,
    normalise_entry,
    www_variant,
)

PROPERTY_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- one entry ---------------------------------------------------------------------

# input -> (key, display host); a key with a scheme is a URL target
NORMALISED = {
    "example.com": ("example.com", "example.com"),
    "  Example.COM.  ": ("example.com", "example.com"),
    "EXAMPLE.COM..": ("example.com", "example.com"),
    "example.com/": ("example.com", "example.com"),
    "www.example.com": ("www.example.com", "www.example.com"),
    "ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ": ("www.example.com", "www.example.com"),
    "example。com": ("example.com", "example.com"),
    "example｡com": ("example.com", "example.com"),
    "\u3000example.com\t": ("example.com", "example.com"),
    "exa\u200bmple.com\ufeff": ("example.com", "example.com"),
    "example\u2013site.com": ("example-site.com", "example-site.com"),
    "my_app.example.com": ("my_app.example.com", "my_app.example.com"),
    '"example.com"': ("example.com", "example.com"),
    "中文.中国": ("xn--fiq228c.xn--fiqs8s", "中文.中国"),
    "XN--FIQ228C.XN--FIQS8S": ("xn--fiq228c.xn--fiqs8s", "中文.中国"),
    "例子。公司": ("xn--fsqu00a.xn--55qx5d", "例子.公司"),
    "Bücher.de": ("xn--bcher-kva.de", "bücher.de"),
    "example.com:8080": ("example.com:8080", "example.com"),
    "example.com：8080": ("example.com:8080", "example.com"),
    "localhost:8000": ("localhost:8000", "localhost"),
    "127.0.0.1": ("127.0.0.1", "127.0.0.1"),
    "127.0.0.1:8080/": ("127.0.0.1:8080", "127.0.0.1"),
    "[::1]:8080": ("[::1]:8080", "::1"),
    "2001:DB8:0::1": ("[2001:db8::1]", "2001:db8::1"),
    "https://example.com": ("https://example.com/", "example.com"),
    "HTTPS://Example.COM:8443/Path/Index.html?a=1&b=2#frag": (
        "https://example.com:8443/Path/Index.html?a=1&b=2",
        "example.com",
    ),
    "http://中文.中国/关于?页=1": (
        "http://xn--fiq228c.xn--fiqs8s/%E5%85%B3%E4%BA%8E?%E9%A1%B5=1",
        "中文.中国",
    ),
    "ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ／": ("https://example.com/", "example.com"),
    "<https://example.com/a>": ("https://example.com/a", "example.com"),
    "http://[::1]:8080/x": ("http://[::1]:8080/x", "::1"),
}


@pytest.mark.parametrize("text", NORMALISED)
def test_normalise_entry(text: str) -> None:
    target = normalise_entry(text)
    key, display_host = NORMALISED[text]
    assert (target.key, target.display_host, target.text) == (key, display_host, text)
    if "://" in key:
        assert (target.kind, target.urls) == ("url", (key,))
    else:
        assert (target.kind, target.urls) == ("domain", (f"https://{key}/", f"http://{key}/"))


# input -> (port, is_ip)
PORTS_AND_ADDRESSES = {
    "example.com": (None, False),
    "example.com:8080": (8080, False),
    "https://example.com:8443/": (8443, False),
    "127.0.0.1": (None, True),
    "127.0.0.1:8080": (8080, True),
    "[::1]:8080": (8080, True),
    "2001:db8::1": (None, True),
    "http://[::1]/": (None, True),
}


@pytest.mark.parametrize("text", PORTS_AND_ADDRESSES)
def test_port_and_ip_address(text: str) -> None:
    target = normalise_entry(text)
    assert (target.port, target.is_ip) == PORTS_AND_ADDRESSES[text]


# input -> reason code
INVALID = {
    "": "empty",
    "   ": "empty",
    '""': "empty",
    "exa mple.com": "whitespace",
    "example.com example.org": "whitespace",
    "https://" + "a" * 2100 + ".com": "url_too_long",
    "ftp://example.com": "unsupported_scheme",
    "FILE:///etc/hosts": "unsupported_scheme",
    "mailto:legal@example.com": "unsupported_scheme",
    "javascript:void(0)": "unsupported_scheme",
    "example.com/about": "missing_scheme",
    "example.com?page=1": "missing_scheme",
    "https://user:secret@example.com/": "bad_url",
    "http://[::1/": "bad_url",
    "[::1]x": "bad_url",
    "example.com:": "bad_port",
    "example.com:0": "bad_port",
    "example.com:65536": "bad_port",
    "example.com:http": "bad_port",
    "https://example.com:99999/": "bad_port",
    "http://": "no_host",
    ".": "no_host",
    "exam$ple.com": "bad_character",
    "*.example.com": "bad_character",
    "example.com,": "bad_character",
    "example.com;example.org": "bad_character",
    "-example.com": "bad_label",
    "example-.com": "bad_label",
    "xn--zz.com": "bad_label",
    "☃.com": "bad_label",
    "中" * 70 + ".com": "bad_label",
    "a..b.com": "empty_label",
    ".example.com": "empty_label",
    "a" * 64 + ".com": "label_too_long",
    ("a" * 60 + ".") * 5 + "com": "name_too_long",
    "intranet": "single_label",
    "com": "single_label",
    "999.1.1.1": "bad_ip",
    "1.2.3": "bad_ip",
    "01.2.3.4": "bad_ip",
    "example.123": "bad_ip",
    "fe80::zz": "bad_ip",
    "fe80::1%eth0": "bad_ip",
    "[::g]:80": "bad_url",
}


def _short(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:30]}...({len(text)})"


@pytest.mark.parametrize("text", [pytest.param(text, id=_short(text)) for text in INVALID])
def test_invalid_entry(text: str) -> None:
    with pytest.raises(InvalidEntry) as raised:
        normalise_entry(text)
    assert raised.value.reason == INVALID[text]
    assert raised.value.message


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("example.com", ("https://www.example.com/", "http://www.example.com/")),
        (
            "中文.中国",
            ("https://www.xn--fiq228c.xn--fiqs8s/", "http://www.xn--fiq228c.xn--fiqs8s/"),
        ),
        ("example.com:8080", ("https://www.example.com:8080/", "http://www.example.com:8080/")),
        ("www.example.com", None),
        ("https://example.com/", None),
        ("127.0.0.1", None),
        ("localhost", None),
    ],
)
def test_www_variant(text: str, urls: tuple[str, ...] | None) -> None:
    target = normalise_entry(text)
    variant = www_variant(target)
    assert (variant.urls if variant else None) == urls
    if variant:
        assert variant.host == f"www.{target.host}"
        assert variant.display_host == f"www.{target.display_host}"
        assert variant.key == target.key


# --- whole files -------------------------------------------------------------------


def _read(content: bytes, name: str = "targets.txt") -> tuple[list[Record], TargetCounts]:
    """The records and counts of one file holding ``content``."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, name)
        path.write_bytes(content)
        counts = TargetCounts()
        return list(iter_targets([str(path)], counts)), counts


def _summary(record: Record) -> tuple[str, int, str]:
    match record:
        case Target():
            return ("target", record.line, record.key)
        case Duplicate():
            return ("duplicate", record.line, record.key)
        case Invalid():
            return ("invalid", record.line, record.reason)
    raise AssertionError(record)


def _balanced(counts: TargetCounts) -> bool:
    return counts.lines_read == counts.skipped + counts.headers + counts.joined + counts.records


GBK_LIST = "# 网站清单\n中文.中国\n例子.公司  # 备注\n".encode("gbk")
GBK_CSV = "domain,负责人,备注\r\n中文.中国,张三,官网\r\n".encode("gbk")

FILES = [
    pytest.param(
        "targets.txt",
        b"# audit list\n\nexample.com\nexample.org  # owner: legal\n   # indented\n"
        b"EXAMPLE.COM\nhttps://example.com/#top\n",
        [
            ("target", 3, "example.com"),
            ("target", 4, "example.org"),
            ("duplicate", 6, "example.com"),
            ("target", 7, "https://example.com/"),
        ],
        id="plain-comments-blank-duplicate",
    ),
    pytest.param(
        "targets.txt",
        b"a.cn\nA.CN.\nhttps://a.cn/\nhttp://a.cn\nhttps://a.cn\n",
        [
            ("target", 1, "a.cn"),
            ("duplicate", 2, "a.cn"),
            ("target", 3, "https://a.cn/"),
            ("target", 4, "http://a.cn/"),
            ("duplicate", 5, "https://a.cn/"),
        ],
        id="domain-and-urls-are-different-keys",
    ),
    pytest.param(
        "targets.txt",
        codecs.BOM_UTF8 + b"example.com\n",
        [("target", 1, "example.com")],
        id="utf8-bom",
    ),
    pytest.param(
        "targets.txt",
        "中文.中国\r\nexample.com\r\n".encode("utf-16"),
        [("target", 1, "xn--fiq228c.xn--fiqs8s"), ("target", 2, "example.com")],
        id="utf16-bom-crlf",
    ),
    pytest.param(
        "targets.txt",
        codecs.BOM_UTF16_BE + "中文.中国\nexample.com".encode("utf-16-be"),
        [("target", 1, "xn--fiq228c.xn--fiqs8s"), ("target", 2, "example.com")],
        id="utf16-be-bom",
    ),
    pytest.param(
        "targets.txt",
        "example.com\n中文.中国\n".encode("utf-32"),
        [("target", 1, "example.com"), ("target", 2, "xn--fiq228c.xn--fiqs8s")],
        id="utf32-bom",
    ),
    pytest.param(
        "targets.txt",
        "example.com\nexample.org\n".encode("utf-16-le"),
        [("target", 1, "example.com"), ("target", 2, "example.org")],
        id="utf16-without-bom-ascii",
    ),
    pytest.param(
        "targets.txt",
        GBK_LIST,
        [("target", 2, "xn--fiq228c.xn--fiqs8s"), ("target", 3, "xn--fsqu00a.xn--55qx5d")],
        id="gbk-list",
    ),
    pytest.param(
        "targets.txt",
        b"a.cn\rb.cn\r\nc.cn\n\rd.cn",
        [
            ("target", 1, "a.cn"),
            ("target", 2, "b.cn"),
            ("target", 3, "c.cn"),
            ("target", 5, "d.cn"),
        ],
        id="mixed-line-endings",
    ),
    pytest.param(
        "targets.txt",
        b"exa\x00mple.com\n\x00\x00\n\x00example.org\x00\n",
        [("target", 1, "example.com"), ("target", 3, "example.org")],
        id="nul-bytes",
    ),
    pytest.param(
        "targets.txt",
        b"a.cn\n" + b"x" * (3 * MAX_LINE_LENGTH) + b"\nb.cn\n",
        [("target", 1, "a.cn"), ("invalid", 2, "line_too_long"), ("target", 3, "b.cn")],
        id="huge-line",
    ),
    pytest.param(
        "targets.txt",
        b"#" + b"x" * (3 * MAX_LINE_LENGTH) + b"\nb.cn",
        [("target", 2, "b.cn")],
        id="huge-comment-line",
    ),
    pytest.param(
        "targets.txt",
        b"ftp://a.cn\nexample.com/about\nbad$.cn\n\xff\xfe.cn\n",
        [
            ("invalid", 1, "unsupported_scheme"),
            ("invalid", 2, "missing_scheme"),
            ("invalid", 3, "bad_character"),
            ("invalid", 4, "bad_label"),
        ],
        id="invalid-lines",
    ),
    pytest.param("targets.txt", b"", [], id="empty-file"),
    pytest.param("targets.txt", codecs.BOM_UTF8, [], id="bom-only"),
    pytest.param(
        "targets.txt", b"Domain\na.cn\n", [("target", 2, "a.cn")], id="plain-list-with-header"
    ),
    pytest.param(
        "list.csv",
        b"a.cn\nb.cn\n",
        [("target", 1, "a.cn"), ("target", 2, "b.cn")],
        id="one-column-csv-without-header",
    ),
    pytest.param(
        "sites.csv",
        b"domain,owner\nexample.com,Alice\n",
        [("target", 2, "example.com")],
        id="csv-comma",
    ),
    pytest.param(
        "export.txt",
        codecs.BOM_UTF8 + b"Owner;URL;Notes\r\nAlice;https://example.com;n1\r\n",
        [("target", 2, "https://example.com/")],
        id="csv-semicolon-bom-upper-case-header-any-extension",
    ),
    pytest.param(
        "sites.tsv",
        b"domain\towner\nexample.com\tAlice\n",
        [("target", 2, "example.com")],
        id="tsv",
    ),
    pytest.param("sites.csv", GBK_CSV, [("target", 2, "xn--fiq228c.xn--fiqs8s")], id="gbk-csv"),
    pytest.param(
        "sites.csv",
        b'domain,notes\na.cn,"never closed\nb.cn,ok\nc.cn,fine\n',
        [("invalid", 2, "csv_error"), ("target", 3, "b.cn"), ("target", 4, "c.cn")],
        id="csv-unclosed-quote",
    ),
    pytest.param(
        "sites.csv",
        b'domain,notes\na.cn,"x"y\nb.cn,ok\n',
        [("invalid", 2, "csv_error"), ("target", 3, "b.cn")],
        id="csv-stray-quote",
    ),
    pytest.param(
        "sites.csv",
        b'domain,notes\na.cn,"line one\n\nline three"\nb.cn,x\n',
        [("target", 2, "a.cn"), ("target", 5, "b.cn")],
        id="csv-cell-spanning-lines",
    ),
    pytest.param(
        "sites.csv",
        b'domain,notes\na.cn,"' + b"\n" * MAX_ROW_LINES + b'"\nb.cn,x\n',
        [("invalid", 2, "csv_error")]
        + [("invalid", MAX_ROW_LINES + 2, "csv_error"), ("target", MAX_ROW_LINES + 3, "b.cn")],
        id="csv-cell-spanning-too-many-lines",
    ),
    pytest.param(
        "sites.csv",
        b"domain,owner\n,Alice\n,,\n \n# comment,x\n",
        [("invalid", 2, "empty")],
        id="csv-empty-target-blank-row-comment",
    ),
    pytest.param(
        "sites.csv",
        b"domain,url\na.cn,\nb.cn,https://b.cn/x\n,\n",
        [("target", 2, "a.cn"), ("target", 3, "https://b.cn/x")],
        id="csv-url-preferred-over-domain",
    ),
    pytest.param(
        "sites.txt",
        b"url\na.cn  # legacy\n# retired.cn\n",
        [("target", 2, "a.cn")],
        id="one-column-list-with-header-and-comments",
    ),
    pytest.param(
        "sites.csv",
        b"domain,owner\n" + b"x" * (2 * MAX_LINE_LENGTH) + b",y\nb.cn,z\n",
        [("invalid", 2, "line_too_long"), ("target", 3, "b.cn")],
        id="csv-huge-row",
    ),
]


@pytest.mark.parametrize(("name", "content", "expected"), FILES)
def test_file(name: str, content: bytes, expected: list[tuple[str, int, str]]) -> None:
    records, counts = _read(content, name)
    assert [_summary(record) for record in records] == expected
    assert counts.records == len(records)
    assert _balanced(counts)


def test_every_reason_code_has_an_example() -> None:
    from_files = {
        reason
        for *_, expected in (case.values for case in FILES)
        for kind, _, reason in expected
        if kind == "invalid"
    }
    assert set(INVALID.values()) | from_files == set(REASONS)


def test_csv_columns_are_carried_through_in_order() -> None:
    content = (
        b"owner,Domain,business_unit,expect,,notes\n"
        b'Alice,example.com,Retail,icp_filing,x,"a, b"\n'
        b"Bob,example.org\n"
        b"Carol,example.net,BU,,y,z,surplus\n"
    )
    records, _ = _read(content, "sites.csv")
    assert [dict(record.columns) for record in records] == [
        {
            "owner": "Alice",
            "business_unit": "Retail",
            "expect": "icp_filing",
            "column_5": "x",
            "notes": "a, b",
        },
        {"owner": "Bob", "business_unit": "", "expect": "", "column_5": "", "notes": ""},
        {
            "owner": "Carol",
            "business_unit": "BU",
            "expect": "",
            "column_5": "y",
            "notes": "z",
            "column_7": "surplus",
        },
    ]
    assert list(records[0].columns) == ["owner", "business_unit", "expect", "column_5", "notes"]


def test_gbk_csv_columns_are_decoded() -> None:
    (record,), _ = _read(GBK_CSV, "sites.csv")
    assert isinstance(record, Target)
    assert (record.display_host, dict(record.columns)) == (
        "中文.中国",
        {"负责人": "张三", "备注": "官网"},
    )


def test_a_cell_spanning_lines_is_kept_whole() -> None:
    records, counts = _read(b'domain,notes\na.cn,"line one\n\nline three"\n', "sites.csv")
    assert records[0].columns == {"notes": "line one\n\nline three"}
    assert (counts.lines_read, counts.headers, counts.joined, counts.records) == (4, 1, 2, 1)


def test_invalid_and_duplicate_records_keep_the_entry_and_columns() -> None:
    records, _ = _read(b"domain,owner\na.cn,Alice\nA.cn,Bob\nbad$.cn,Carol\n", "sites.csv")
    duplicate, invalid = records[1:]
    assert (duplicate.text, duplicate.columns, duplicate.key, duplicate.status) == (
        "A.cn",
        {"owner": "Bob"},
        "a.cn",
        "duplicate",
    )
    assert (invalid.text, invalid.columns, invalid.status) == (
        "bad$.cn",
        {"owner": "Carol"},
        "invalid_input",
    )


def test_counts() -> None:
    content = b"# list\n\na.cn\na.cn\nbad$\n\n"
    _, counts = _read(content)
    assert counts == TargetCounts(lines_read=6, skipped=3, kept=1, merged=1, rejected=1)


# --- arguments ---------------------------------------------------------------------


def test_arguments_mix_files_and_inline_entries(tmp_path: Path) -> None:
    listing = tmp_path / "sites.txt"
    listing.write_text("a.cn\nb.cn\n")
    counts = TargetCounts()
    records = list(iter_targets(["b.cn", str(listing), "", "https://c.cn/x", "a.cn"], counts))
    assert [(record.source, record.line, _summary(record)[0]) for record in records] == [
        ("<arg>", 1, "target"),
        (str(listing), 1, "target"),
        (str(listing), 2, "duplicate"),
        ("<arg>", 4, "target"),
        ("<arg>", 5, "duplicate"),
    ]
    assert counts == TargetCounts(lines_read=6, skipped=1, kept=3, merged=2)


def test_an_existing_file_wins_over_an_inline_entry(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("example.com").write_text("a.cn\n")
    (record,) = iter_targets(["example.com"])
    assert (record.source, record.key) == ("example.com", "a.cn")


@pytest.mark.parametrize(
    ("argument", "problem"),
    [
        ("missing.txt", "No such file or directory"),
        ("missing.CSV", "No such file or directory"),
        ("./missing", "No such file or directory"),
        (".", "Is a directory"),
    ],
)
def test_an_unreadable_file_is_an_error(
    argument: str, problem: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TargetFileError, match=problem):
        iter_targets(["a.cn", argument])


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_a_file_without_permission_is_an_error(tmp_path: Path) -> None:
    listing = tmp_path / "sites.txt"
    listing.write_text("a.cn\n")
    listing.chmod(0)
    with pytest.raises(TargetFileError, match="Permission denied"):
        iter_targets([str(listing)])


def test_a_csv_file_without_a_target_column_is_an_error(tmp_path: Path) -> None:
    listing = tmp_path / "sites.csv"
    listing.write_text("Website,Owner\nexample.com,Alice\n")
    with pytest.raises(
        TargetFileError, match=r"no 'domain' or 'url' column \(found: Website, Owner\)"
    ):
        iter_targets([str(listing)])


def test_a_missing_path_without_a_list_suffix_is_an_inline_entry() -> None:
    (record,) = iter_targets(["sites/list"])
    assert (record.source, record.reason) == ("<arg>", "missing_scheme")


def test_records_are_read_lazily(tmp_path: Path) -> None:
    listing = tmp_path / "sites.txt"
    listing.write_text("".join(f"site{n}.cn\n" for n in range(1000)))
    counts = TargetCounts()
    records = iter_targets([str(listing)], counts)
    assert isinstance(records, Iterator)
    assert next(records).key == "site0.cn"
    assert counts.lines_read == 1


# --- properties --------------------------------------------------------------------

_LINE_CHARACTERS = st.characters(exclude_characters="\r\n", exclude_categories=("Cs",))
_GB2312_CHARACTERS = [
    character
    for lead in range(0xA1, 0xF8)
    for trail in range(0xA1, 0xFF)
    for character in [bytes([lead, trail]).decode("gb2312", errors="ignore")]
    if character
]
_GB_LINE_CHARACTERS = st.one_of(
    st.characters(max_codepoint=0x7F, exclude_characters="\r\n"),
    st.sampled_from(_GB2312_CHARACTERS),
)
_ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])
FIRST_LINE = "example.com"  # a first entry that is no CSV header


@st.composite
def _text_files(draw: st.DrawFn) -> tuple[bytes, int]:
    """A list file in some encoding, and how many of its lines are entries."""
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "gb18030"]))
    characters = _GB_LINE_CHARACTERS if encoding == "gb18030" else _LINE_CHARACTERS
    lines = [FIRST_LINE, *draw(st.lists(st.text(characters, max_size=30), max_size=30))]
    text = "".join(line + draw(_ENDINGS) for line in lines[:-1]) + lines[-1]
    text += draw(st.sampled_from(["", "\n", "\r\n"]))
    entries = sum(
        1 for line in lines if (stripped := line.replace("\0", "").strip()) and stripped[0] != "#"
    )
    return text.encode(encoding), entries


@PROPERTY_SETTINGS
@given(_text_files())
def test_a_text_file_gives_one_record_per_entry_line(file: tuple[bytes, int]) -> None:
    content, entries = file
    records, counts = _read(content)
    assert len(records) == entries
    assert _balanced(counts)
    assert [record.line for record in records] == sorted({record.line for record in records})


_BYTE_PIECES = st.one_of(
    st.binary(max_size=12),
    st.sampled_from(
        [
            b"\n",
            b"\r",
            b"\r\n",
            b"\0",
            b'"',
            b",",
            b";",
            b"\t",
            b"#",
            b" # x",
            b"domain,url\n",
            b"\xef\xbb\xbf",
            b"\xff\xfe",
            "中文.中国".encode("gbk"),
            "中文.中国".encode(),
            b"a.cn",
        ]
    ),
)
_BOM_PREFIXES = st.sampled_from(
    [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE]
)


@PROPERTY_SETTINGS
@given(_BOM_PREFIXES, st.lists(_BYTE_PIECES, max_size=40), st.sampled_from(["a.txt", "a.csv"]))
def test_arbitrary_bytes_never_raise(bom: bytes, pieces: list[bytes], name: str) -> None:
    try:
        records, counts = _read(bom + b"".join(pieces), name)
    except TargetFileError as error:  # a .csv file whose first row names no target column
        assert name.endswith(".csv") and "column" in str(error)
        return
    assert counts.records == len(records) <= counts.lines_read
    assert _balanced(counts)


_CELLS = st.text(st.characters(exclude_characters="\r\0#", exclude_categories=("Cs",)), max_size=8)
_ROWS = st.lists(
    st.tuples(_CELLS, _CELLS, _CELLS).filter(
        lambda row: sum(cell.count("\n") for cell in row) < MAX_ROW_LINES
    ),
    max_size=15,
)


@PROPERTY_SETTINGS
@given(
    _ROWS,
    st.sampled_from(["\r\n", "\n"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    st.sampled_from([",", ";", "\t"]),
)
def test_a_csv_file_gives_one_record_per_row(
    rows: list[tuple[str, str, str]], line_end: str, encoding: str, delimiter: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(["Owner", "Domain", "Notes"])
    writer.writerows(rows)
    records, counts = _read(buffer.getvalue().encode(encoding), "sites.csv")
    kept_rows = [row for row in rows if any(cell.strip() for cell in row)]
    assert [dict(record.columns) for record in records] == [
        {"Owner": owner, "Notes": notes} for owner, _, notes in kept_rows
    ]
    assert [record.text for record in records] == [domain.strip() for _, domain, _ in kept_rows]
    assert _balanced(counts)


_LABELS = st.text(st.sampled_from("abcXYZ019-_中文例子ｆｕｌｌ"), min_size=1, max_size=12)


@st.composite
def _entries(draw: st.DrawFn) -> str:
    """Entries shaped like hosts and URLs, with the noise spreadsheets add."""
    dots = st.sampled_from([".", "。", "．"])
    labels = draw(st.lists(_LABELS, min_size=1, max_size=4))
    host = "".join(label + draw(dots) for label in labels[:-1]) + labels[-1]
    port = draw(st.sampled_from(["", ":8080", ":0", ":"]))
    scheme = draw(st.sampled_from(["", "https://", "HTTP://", "ftp://"]))
    path = draw(st.sampled_from(["", "/", "/a?b=1"])) if scheme else ""
    return draw(st.sampled_from(["", " ", "\u3000"])) + scheme + host + port + path


@PROPERTY_SETTINGS
@given(st.one_of(_entries(), st.text(max_size=40)))
def test_normalising_gives_a_target_or_a_reason(text: str) -> None:
    try:
        target = normalise_entry(text)
    except InvalidEntry as invalid:
        assert invalid.reason in REASONS
        return
    assert target.key.isascii() and target.host.isascii()
    assert all(url.startswith(("https://", "http://")) for url in target.urls)
    assert normalise_entry(target.key).key == target.key
    assert normalise_entry(target.display_host).host == target.host
