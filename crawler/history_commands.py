"""``footer-audit history`` and ``footer-audit diff``: read the audit history file.

Both raise :class:`~reports.history.HistoryError` for a file or run that cannot be
used; the command line reports it in one line with exit status 2.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import TextIO

from reports.changes import CHANGE_COLUMNS, ChangeReport, change_row, render_changes
from reports.csvfile import ExcelCsvWriter
from reports.history import History, HistoryError, RunInfo
from reports.summary import render_table
from reports.verdict import VERDICTS

EXIT_SAME, EXIT_CHANGED = 0, 1


def add_history_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``history`` and ``diff`` subcommands."""
    history = commands.add_parser("history", help="list the runs recorded in a history file")
    history.add_argument("--history", required=True, type=Path, metavar="FILE",
                         help="the SQLite history file that crawl --history writes")
    history.add_argument("--prune", type=_count, metavar="KEEP",
                         help="keep only the newest KEEP runs, delete the others")

    diff = commands.add_parser("diff", help="what changed between two recorded runs")
    diff.add_argument("runs", nargs="*", type=int, metavar="RUN",
                      help="RUN_A RUN_B (default: the last complete run before RUN_B, and "
                           "the latest run); one RUN is compared with the latest run")
    diff.add_argument("--history", required=True, type=Path, metavar="FILE",
                      help="the SQLite history file that crawl --history writes")
    diff.add_argument("--format", choices=("table", "jsonl", "csv"),
                      help="output format (default: table on a terminal, else jsonl)")
    diff.add_argument("--fail-on", choices=("any", "new"), default="any",
                      help="exit 1 when any site changed (any, the default) or only when "
                           "something got worse (new)")


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number of runs")
    return value


def _existing(path: Path) -> History:
    """Open a history file that must already exist (reading never creates one)."""
    if not path.is_file():
        raise HistoryError(f"no history file {path}")
    return History(path)


def run_history(args: argparse.Namespace, out: TextIO) -> int:
    with _existing(args.history) as history:
        if args.prune is not None:
            deleted = history.prune(args.prune)
            out.write(f"deleted {deleted} run{'' if deleted == 1 else 's'}, "
                      f"kept {len(history.runs())}\n")
            return 0
        runs = history.runs()
    out.write(render_runs(runs) + "\n" if runs else f"no runs in {args.history}\n")
    return 0


def render_runs(runs: list[RunInfo]) -> str:
    """The runs as a terminal table: id, times, sites, counts by verdict, state, targets.

    >>> print(render_runs([RunInfo(1, "2026-11-28T02:00:00Z", "2026-11-28T02:10:00Z", "0.1.0",
    ...     "v", ["sites.csv"], 3, {"compliant": 2, "unreachable": 1}, True, 5)]))
    run  started               finished              sites  compliant  non_compliant  unreachable  invalid_input  state                    targets
    ---  --------------------  --------------------  -----  ---------  -------------  -----------  -------------  -----------------------  ---------
      1  2026-11-28T02:00:00Z  2026-11-28T02:10:00Z      3          2              0            1              0  partial (5 not reached)  sites.csv
    """
    header = ("run", "started", "finished", "sites", *VERDICTS, "state", "targets")
    rows = [
        (run.id, run.started_at or "", run.finished_at or "", run.sites,
         *(run.verdicts.get(verdict, 0) for verdict in VERDICTS),
         f"partial ({run.remaining} not reached)" if run.partial else "complete",
         " ".join(run.targets))
        for run in runs
    ]  # fmt: skip
    return render_table(header, rows)


def run_diff(args: argparse.Namespace, out: TextIO) -> int:
    if len(args.runs) > 2:
        raise HistoryError("diff takes at most two runs: RUN_A RUN_B")
    with _existing(args.history) as history:
        report = history.diff(*args.runs)
    fmt = args.format or ("table" if out.isatty() else "jsonl")
    if fmt == "table":
        out.write(render_changes(report) + "\n")
    elif fmt == "jsonl":
        for change in report.changes:
            out.write(json.dumps(change.to_dict(), ensure_ascii=False) + "\n")
    else:
        _write_csv(report, out)
    failed = report.counts()["worse"] if args.fail_on == "new" else report.changes
    return EXIT_CHANGED if failed else EXIT_SAME


def _write_csv(report: ChangeReport, out: TextIO) -> None:
    """Excel-safe CSV (as ``changes.csv``) to the binary stream under ``out``, if any."""
    binary = getattr(out, "buffer", None)
    target = binary if binary is not None else io.BytesIO()
    out.flush()
    with ExcelCsvWriter(target) as rows:
        rows.writerow(CHANGE_COLUMNS)
        for change in report.changes:
            rows.writerow(change_row(change))
    if binary is None:
        out.write(target.getvalue().decode("utf-8"))
    else:
        binary.flush()


def add_history_options(parser: argparse.ArgumentParser, *, fail_on: bool) -> None:
    """``--history FILE`` (and for the crawl ``--fail-on``) on ``crawl`` and ``report``."""
    parser.add_argument("--history", type=Path, metavar="FILE",
                        help="SQLite history file (created if missing): the crawl records the "
                             "run in it; both add a 'since last run' section to the reports")
    if fail_on:
        parser.add_argument("--fail-on", choices=("any", "new"), default="any",
                            help="exit 1 when any site is not compliant (any, the default) or "
                                 "only when something got worse since the last run (new; "
                                 "needs --history)")


def check_history_options(args: argparse.Namespace) -> None:
    """Before a crawl: ``--fail-on new`` needs ``--history``, whose file must be usable."""
    if getattr(args, "fail_on", "any") == "new" and args.history is None:
        raise HistoryError("--fail-on new needs --history FILE to know what the last run found")
    if args.history is not None:
        History(args.history).close()  # creates the file, or checks it is a history file
