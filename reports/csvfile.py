"""CSV for Excel: UTF-8 with a byte order mark, CRLF line ends, no formulas.

Cells hold text taken from crawled sites, so every cell that a spreadsheet could
read as a formula is neutralised with a leading ``'`` (OWASP "CSV Injection"), and
every cell is quoted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from types import TracebackType
from typing import BinaryIO, Self

# OWASP: cells beginning with these start a formula (or a DDE payload) in Excel,
# LibreOffice or Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would run as a formula.

    >>> neutralise('=HYPERLINK("http://evil.example","x")')
    '\\'=HYPERLINK("http://evil.example","x")'
    >>> neutralise("-2+3"), neutralise("京ICP备20018813号-3"), neutralise("")
    ("'-2+3", '京ICP备20018813号-3', '')
    """
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


class ExcelCsvWriter:
    """Write rows of cells to a binary file object as Excel-friendly CSV.

    ``None`` becomes an empty cell, anything else its ``str``. :meth:`close` flushes
    and leaves the file object open for its owner.

    >>> out = io.BytesIO()
    >>> with ExcelCsvWriter(out) as sheet:
    ...     sheet.writerow(["number", "status"])
    ...     sheet.writerow(["=1+1", None])
    >>> out.getvalue().decode("utf-8")
    '\\ufeff"number","status"\\r\\n"\\'=1+1",""\\r\\n'
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._text, quoting=csv.QUOTE_ALL)

    def writerow(self, cells: Iterable[object]) -> None:
        self._csv.writerow(neutralise("" if cell is None else str(cell)) for cell in cells)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
