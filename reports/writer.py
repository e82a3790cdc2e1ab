"""Write a crawl's reports into a directory, all or nothing.

The files are written into a hidden directory next to ``out_dir`` and swapped into
place by renames only once all of them are complete. If anything fails on the way,
the hidden directory is removed and an earlier report in ``out_dir`` stays as it was.

Results stream through: the first pass writes ``results.jsonl`` while learning the
columns of ``sites.csv``; the second pass reads ``results.jsonl`` back, judges each
site once and hands its rows to the CSV files, the workbook and the HTML page, which
are finished once everything is counted.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from reports.changes import CHANGE_COLUMNS, ChangeReport, change_headers, change_row
from reports.csvfile import ExcelCsvWriter
from reports.html import HtmlReport
from reports.jsonl import read_results, write_results
from reports.rows import (
    FINDING_COLUMNS,
    Breakdown,
    SiteLayout,
    count_tables,
    finding_rows,
    headers,
    site_row,
)
from reports.summary import Summary
from reports.verdict import Judge
from reports.verdict import judge as default_judge
from reports.xlsx import WorkbookReport

if TYPE_CHECKING:
    from reports.history import RunRecorder

SITES, FINDINGS, RESULTS, SUMMARY = "sites.csv", "findings.csv", "results.jsonl", "summary.json"
WORKBOOK, PAGE = "report.xlsx", "report.html"
CHANGES = "changes.csv"  # with --history: what changed since the last run
# Only a directory holding nothing but these (and the optional CHANGES file and
# SCREENSHOTS folder) may be replaced by a new report.
REPORT_FILES = frozenset({SITES, FINDINGS, RESULTS, SUMMARY, WORKBOOK, PAGE})
MIN_FREE_MB = 64  # free space (MiB) a report needs before a crawl starts
SCREENSHOTS = "screenshots"  # with --screenshots: the rendered footers (PNGs), a folder


class ReportDirError(ValueError):
    """``out_dir`` cannot take a report: it is a file or holds other files."""


def write_reports(
    results: Iterable[Mapping[str, Any]],
    out_dir: Path,
    meta: Mapping[str, Any],
    *,
    judge: Judge = default_judge,
    lang: str | None = None,
    register_rows: Iterable[Mapping[str, Any]] = (),
    history: RunRecorder | None = None,
    screenshots: Path | None = None,
    keep_screenshots: bool = False,
) -> Summary:
    """Write ``sites.csv``, ``findings.csv``, ``results.jsonl``, ``summary.json``,
    ``report.xlsx`` and ``report.html``.

    ``meta`` (run start and end, tool and catalogue versions, rules and register
    digests, vantage, input line counts) goes into ``summary.json`` as given and heads
    the workbook and the page. ``judge`` is the verdict rule. ``lang`` ("en" or "zh")
    swaps the CSV column keys for labels; the workbook and page are in English unless
    it is "zh". ``register_rows`` (the licence register, one mapping per licence) fill
    the workbook's Register sheet; they are iterated only after every site has been
    judged, so a generator can report what the judging saw. With ``history`` (a run
    being recorded), every judged site is recorded too, and ``changes.csv``, a sheet,
    a page section and ``since_last_run`` in ``summary.json`` say what changed.
    ``screenshots``, a directory of PNGs that the rows name as ``screenshots/NAME``,
    is moved into the report as its ``screenshots`` folder (copied, if
    ``keep_screenshots``).
    """
    out_dir = out_dir.absolute()
    check_replaceable(out_dir)
    headers([], lang)  # reject an unknown language before any work
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.{secrets.token_hex(6)}.new")
    staging.mkdir()  # not tempfile.mkdtemp: its mode 0700 would stay on the report
    try:
        summary = _write_all(results, staging, meta, judge, lang, register_rows, history)
        if screenshots is not None and screenshots.is_dir():
            if keep_screenshots:
                shutil.copytree(screenshots, staging / SCREENSHOTS)
            else:
                os.replace(screenshots, staging / SCREENSHOTS)
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


def check_replaceable(out_dir: Path) -> None:
    """Refuse, before any work, an ``out_dir`` that is a file, holds other files, or
    lies where nothing can be written or less than ``MIN_FREE_MB`` MiB are free."""
    _check_writable(out_dir)
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ReportDirError(f"{out_dir} is not a directory")
    others = sorted(entry.name for entry in out_dir.iterdir()
                    if entry.name not in REPORT_FILES and entry.name not in (SCREENSHOTS, CHANGES))
    if others:
        raise ReportDirError(
            f"{out_dir} holds files that are not reports ({', '.join(others[:5])}); "
            "write the report to a new or empty directory"
        )


def _check_writable(out_dir: Path) -> None:
    """The report is staged beside ``out_dir``: the nearest existing folder above it
    must take a file, and hold ``MIN_FREE_MB`` MiB free (``FOOTER_AUDIT_MIN_FREE_MB``)."""
    folder = out_dir.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ReportDirError(f"cannot write the report under {folder}: not a directory")
    try:
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(b"footer-audit")
            probe.flush()
        free_mb = shutil.disk_usage(folder).free / 2**20
    except OSError as exc:
        raise ReportDirError(f"cannot write the report under {folder}: "
                             f"{exc.strerror or exc}") from exc
    need_mb = float(os.environ.get("FOOTER_AUDIT_MIN_FREE_MB", MIN_FREE_MB))
    if free_mb < need_mb:
        raise ReportDirError(f"only {free_mb:,.0f} MiB free under {folder}; the report needs "
                             f"at least {need_mb:,.0f} MiB (FOOTER_AUDIT_MIN_FREE_MB)")


def _write_all(
    results: Iterable[Mapping[str, Any]],
    staging: Path,
    meta: Mapping[str, Any],
    judge: Judge,
    lang: str | None,
    register_rows: Iterable[Mapping[str, Any]],
    history: RunRecorder | None,
) -> Summary:
    layout = SiteLayout()
    with _durable(staging / RESULTS, "w", encoding="utf-8", newline="\n") as stream:
        write_results(stream, _included(results, layout))

    summary, breakdown = Summary(), Breakdown()
    columns = layout.columns()
    with (
        _durable(staging / SITES, "wb") as sites_file,
        _durable(staging / FINDINGS, "wb") as findings_file,
        _durable(staging / WORKBOOK, "wb") as workbook_file,
        _durable(staging / PAGE, "w", encoding="utf-8", newline="\n") as page_file,
        ExcelCsvWriter(sites_file) as sites,
        ExcelCsvWriter(findings_file) as findings,
        HtmlReport(page_file, lang or "en") as page,
    ):
        workbook = WorkbookReport(workbook_file, columns, lang or "en")
        sites.writerow(headers(columns, lang))
        findings.writerow(headers(FINDING_COLUMNS, lang))
        for result in read_results(staging / RESULTS):
            verdict = judge(result)
            summary.add(result, verdict)
            breakdown.add(result, verdict)
            cells = site_row(result, verdict, layout)
            sites.writerow(cells)
            workbook.add_site(cells)
            page.add_site(result, verdict)
            for row in finding_rows(result):
                findings.writerow(row)
                workbook.add_finding(row)
            if history is not None:
                history.add(result, verdict)
        tables = count_tables(summary, breakdown)
        changes = history.changes() if history is not None else None
        if changes is not None:
            _write_changes(changes, staging / CHANGES, lang)
        workbook.close(meta, tables, register_rows, changes)
        page.close(meta, tables, changes)

    since = {"since_last_run": changes.counts()} if changes is not None else {}
    with _durable(staging / SUMMARY, "w", encoding="utf-8") as stream:
        partial = {key: meta[key] for key in ("partial", "remaining") if key in meta}
        json.dump({"meta": dict(meta), **partial, **summary.to_dict(), **since}, stream,
                  ensure_ascii=False, indent=2)
        stream.write("\n")
    return summary


def _write_changes(changes: ChangeReport, path: Path, lang: str | None) -> None:
    with _durable(path, "wb") as stream, ExcelCsvWriter(stream) as rows:
        rows.writerow(change_headers(lang, CHANGE_COLUMNS))
        for change in changes.changes:
            rows.writerow(change_row(change))


def _included(
    results: Iterable[Mapping[str, Any]], layout: SiteLayout
) -> Iterator[Mapping[str, Any]]:
    """Pass the results through, letting ``layout`` learn their columns."""
    for result in results:
        layout.include(result)
        yield result


@contextmanager
def _durable(path: Path, mode: str, **options: Any) -> Iterator[IO[Any]]:
    """Open ``path`` for writing; once written, flush it to disk before closing."""
    with path.open(mode, **options) as stream:
        yield stream
        stream.flush()
        os.fsync(stream.fileno())


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    """Rename ``staging`` to ``out_dir``, moving an earlier report aside first.

    Between the two renames ``out_dir`` is briefly absent; the earlier report is then
    in the ``.old`` directory, never half overwritten.
    """
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    retired = staging.with_suffix(".old")
    os.replace(out_dir, retired)
    try:
        os.replace(staging, out_dir)
    except BaseException:
        os.replace(retired, out_dir)
        raise
    shutil.rmtree(retired, ignore_errors=True)  # the new report is in place already
