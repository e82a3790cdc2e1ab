"""The Excel workbook ``report.xlsx``: Summary, Sites, Findings and Register sheets.

openpyxl writes it in write-only mode, so rows stream to temporary files and 10,000
sites stay fast and small in memory. A streamed sheet takes its column widths before
its first row, so each sheet holds back its first :data:`WIDTH_SAMPLE` rows to measure
them by display width (a Chinese character counts two), capped at :data:`MAX_WIDTH`.

Cells hold text taken from crawled sites. A string that a spreadsheet would run as a
formula (it starts with one of :data:`~reports.csvfile.FORMULA_TRIGGERS`) is written
as a string cell, never a formula, and carries Excel's quote prefix: the mark Excel
itself gives text typed after an apostrophe, so the cell shows the text as found and
stays text when someone edits it. Characters XML cannot carry become U+FFFD.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.changes import ChangeReport, change_headers, change_label, change_row
from reports.csvfile import FORMULA_TRIGGERS
from reports.rows import (
    FINDING_COLUMNS,
    REGISTER_HEADERS,
    CountTable,
    headers,
    heading,
    meta_rows,
    register_row,
)
from reports.summary import display_width
from reports.verdict import VERDICTS

# Excel's own "Good", "Bad", "Neutral" and a grey: the colours legal teams know.
VERDICT_FILLS = {
    verdict: PatternFill(fill_type="solid", start_color=colour, end_color=colour)
    for verdict, colour in zip(VERDICTS, ("C6EFCE", "FFC7CE", "FFEB9C", "D9D9D9"), strict=True)
}
HEADER_FILL = PatternFill(fill_type="solid", start_color="DDEBF7", end_color="DDEBF7")
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
SHARE_FORMAT = "0.0%"
WIDTH_SAMPLE = 1000  # rows measured for the column widths
MIN_WIDTH, MAX_WIDTH = 6, 60  # in characters of the default font; CJK counts two
CELL_LIMIT = 32_767  # the most characters an Excel cell holds
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
SUMMARY, SITES, FINDINGS, REGISTER = (
    "summary_sheet", "sites_sheet", "findings_sheet", "register_sheet",
)  # fmt: skip


class WorkbookReport:
    """Write the workbook to a binary file object: sites and findings as they come,
    the Summary and Register sheets in :meth:`close`.

    >>> import io
    >>> from openpyxl import load_workbook
    >>> out = io.BytesIO()
    >>> report = WorkbookReport(out, ["host", "verdict"], lang="zh")
    >>> report.add_site(["例子.cn", "compliant"])
    >>> report.close({"vantage": "direct"}, [], [])
    >>> book = load_workbook(out)
    >>> book.sheetnames
    ['概要', '网站', '编号明细', '许可证登记册']
    >>> [[cell.value for cell in row] for row in book["网站"].iter_rows()]
    [['主机名', '结论'], ['例子.cn', 'compliant']]
    """

    def __init__(self, stream: BinaryIO, site_columns: Sequence[str], lang: str = "en") -> None:
        self._stream = stream
        self._lang = lang
        self._book = Workbook(write_only=True)
        self._summary = _Sheet(self._book, heading(SUMMARY, lang))
        self._sites = _Sheet(self._book, heading(SITES, lang), headers(site_columns, lang))
        self._findings = _Sheet(self._book, heading(FINDINGS, lang), headers(FINDING_COLUMNS, lang))
        self._register = _Sheet(
            self._book, heading(REGISTER, lang), headers(REGISTER_HEADERS, lang)
        )
        self._verdict_column = list(site_columns).index("verdict")

    def add_site(self, row: Sequence[object]) -> None:
        """One row of ``sites.csv``; its verdict cell is filled with the verdict's colour."""
        cells = [self._sites.cell(value) for value in row]
        verdict = row[self._verdict_column]
        cells[self._verdict_column] = self._sites.cell(verdict, fill=VERDICT_FILLS.get(verdict))
        self._sites.append(cells)

    def add_finding(self, row: Sequence[object]) -> None:
        """One row of ``findings.csv``."""
        self._findings.append([self._findings.cell(value) for value in row])

    def close(
        self,
        meta: Mapping[str, Any],
        tables: Iterable[CountTable],
        register_rows: Iterable[Mapping[str, Any]],
        changes: ChangeReport | None = None,
    ) -> None:
        """Write the Summary (run facts from ``meta``, then ``tables``) and Register
        sheets, and with ``changes`` (history on) a Changes sheet, then save the
        workbook to the stream (which stays open)."""
        self._write_summary(meta, tables)
        for entry in register_rows:
            self._register.append([self._register.cell(value) for value in register_row(entry)])
        sheets = [self._summary, self._sites, self._findings, self._register]
        if changes is not None:
            sheet = _Sheet(self._book, change_label("changes_sheet", self._lang),
                           change_headers(self._lang))
            for change in changes.changes:
                sheet.append([sheet.cell(value) for value in change_row(change)])
            sheets.append(sheet)
        for sheet in sheets:
            sheet.close()
        self._book.save(self._stream)

    def _write_summary(self, meta: Mapping[str, Any], tables: Iterable[CountTable]) -> None:
        sheet, lang = self._summary, self._lang
        sheet.append([sheet.cell(heading("title", lang), font=TITLE_FONT)])
        if meta.get("partial"):
            note = heading("partial_report", lang).format(remaining=meta.get("remaining"))
            sheet.append([sheet.cell(note, font=BOLD, fill=VERDICT_FILLS["unreachable"])])
        sheet.append([])
        sheet.append([sheet.cell(heading("audit", lang), font=BOLD)])
        for key, text in meta_rows(meta):
            sheet.append([sheet.cell(headers([key], lang)[0], font=BOLD), sheet.cell(text)])
        for table in tables:
            sheet.append([])
            sheet.append([sheet.cell(heading(table.title, lang), font=BOLD)])
            sheet.append(
                [
                    sheet.cell(label, font=BOLD, fill=VERDICT_FILLS.get(key, HEADER_FILL))
                    for key, label in zip(table.columns, headers(table.columns, lang), strict=True)
                ]
            )
            for row in table.rows:
                sheet.append(
                    [
                        sheet.cell(
                            value,
                            fill=VERDICT_FILLS.get(value) if column == "verdict" else None,
                            number_format=SHARE_FORMAT if column == "share" else None,
                        )
                        for column, value in zip(table.columns, row, strict=True)
                    ]
                )


class _Sheet:
    """A write-only sheet that measures its columns on its first rows before writing.

    With a ``header``, the header row is bold and frozen and the rows get an autofilter.
    """

    def __init__(self, book: Workbook, title: str, header: Sequence[str] | None = None) -> None:
        self._sheet = book.create_sheet(title)  # write-only: rows go straight to disk
        self._widths: list[int] = []
        self._held: list[list[object]] | None = []  # None once the widths are set
        self._rows = 0
        self._has_header = header is not None
        if header is not None:
            self.append([self.cell(label, font=BOLD, fill=HEADER_FILL) for label in header])

    def cell(
        self,
        value: object,
        *,
        font: Font | None = None,
        fill: PatternFill | None = None,
        number_format: str | None = None,
    ) -> object:
        """``value`` ready for a row: plain when it can be, a styled cell when it must.
        An empty string becomes no cell at all, as ``None`` does."""
        if isinstance(value, str):
            value = cell_text(value) if value else None
        formula_like = isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)
        if not (formula_like or font or fill or number_format):
            return value
        cell = WriteOnlyCell(self._sheet, value)
        if formula_like:
            cell.data_type = "s"  # openpyxl took the leading "=" for a formula
            cell.quotePrefix = True
        if font:
            cell.font = font
        if fill:
            cell.fill = fill
        if number_format:
            cell.number_format = number_format
        return cell

    def append(self, cells: list[object]) -> None:
        self._rows += 1
        if self._held is None:
            self._sheet.append(cells)
            return
        self._measure(cells)
        self._held.append(cells)
        if len(self._held) >= WIDTH_SAMPLE:
            self._release()

    def close(self) -> None:
        if self._held is not None:
            self._release()
        if self._has_header and self._rows > 1:
            last = get_column_letter(len(self._widths))
            self._sheet.auto_filter.ref = f"A1:{last}{self._rows}"
        self._sheet.close()

    def _measure(self, cells: list[object]) -> None:
        for index, cell in enumerate(cells):
            value = getattr(cell, "value", cell)
            width = 0 if value is None else _text_width(value)
            if index == len(self._widths):
                self._widths.append(MIN_WIDTH)
            self._widths[index] = max(self._widths[index], min(width + 2, MAX_WIDTH))

    def _release(self) -> None:
        """Set the widths (and freeze the header), then write the held rows."""
        for index, width in enumerate(self._widths, start=1):
            self._sheet.column_dimensions[get_column_letter(index)].width = width
        if self._has_header:
            self._sheet.freeze_panes = "A2"
        held, self._held = self._held or [], None
        for cells in held:
            self._sheet.append(cells)


def cell_text(text: str) -> str:
    """``text`` as a cell can hold it: no characters XML forbids, at most 32,767 long.

    >>> cell_text("京ICP备\\x0020018813号"), len(cell_text("备" * 40_000))
    ('京ICP备\\ufffd20018813号', 32767)
    """
    text = NOT_XML.sub("\ufffd", text)
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


def _text_width(value: object) -> int:
    """Display width of the longest line of ``value``; a share prints as ``12.5%``.
    Only a line's first :data:`MAX_WIDTH` characters count: more is over the cap anyway.

    >>> _text_width("例子.中国\\nab"), _text_width(0.125), _text_width(1234), _text_width("备" * 500)
    (9, 5, 4, 120)
    """
    text = f"{value:.1%}" if isinstance(value, float) else str(value)
    lines = [line[:MAX_WIDTH] for line in text.split("\n")]
    return max(len(line) if line.isascii() else display_width(line) for line in lines)
