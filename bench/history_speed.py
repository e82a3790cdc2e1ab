"""How long the audit history takes to record a run of 100,000 sites and to diff two.

Run ``python bench/history_speed.py`` (or give another number of sites). It makes
synthetic crawl results shaped like a real audit's (those of ``report_speed.py``),
judges them once, then times, in one process:

* the baseline: writing the same results and verdicts as JSON Lines to a file;
* recording them as run 1 of a new history file (one transaction, committed);
* recording a second run in which about one site in ten changed (numbers appear,
  disappear or change, sites go down, come back, leave or join the list);
* ``History.diff`` of the two runs (reads both back, compares site by site).

Each is printed with its wall-clock and CPU time and its CPU time's ratio to the
baseline's (on a busy shared machine the wall clock mostly measures the other
processes). Target: recording a run and the diff each under 30 s of wall-clock time
for 100,000 sites. Exits 1 when missed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from report_speed import finding, results  # noqa: E402 (after the path set-up)

from reports.history import History  # noqa: E402
from reports.verdict import Verdict, judge  # noqa: E402

SITES = 100_000
TARGET = 30.0  # seconds, for recording one run and for the diff
SEED = 20261130

Judged = list[tuple[dict[str, Any], Verdict]]


def first_run(count: int) -> list[dict[str, Any]]:
    """The synthetic results, without the footer text the history does not keep."""
    rows = results(count)
    for row in rows:
        row["footer"] = {"found": row["footer"]["found"], "selector": None, "text": ""}
    return rows


def next_run(rows: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """The same list a night later: about one site in ten changed."""
    changed = []
    for row in rows:
        roll = rng.random()
        if roll < 0.01:
            continue  # left the list
        row = dict(row)
        if roll < 0.03:
            row.update(outcome="unreachable", reason="timeout", findings=[])
        elif roll < 0.06 and row["findings"]:
            row["findings"] = row["findings"][1:]  # a number disappears
        elif roll < 0.08:
            row["findings"] = [*row["findings"], finding("uscc", "京", rng)]  # one appears
        elif roll < 0.10 and row["findings"]:
            row["findings"] = [finding(row["findings"][0]["category"], "沪", rng),
                               *row["findings"][1:]]  # one changes
        changed.append(row)
    for index in range(len(rows) // 100):  # joined the list
        new = dict(rng.choice(rows))
        new["key"] = new["host"] = new["input"] = f"www.joined{index}.cn"
        changed.append(new)
    return changed


def judged(rows: list[dict[str, Any]]) -> Judged:
    return [(row, judge(row)) for row in rows]


def write_jsonl(path: Path, sites: Judged) -> None:
    with path.open("w", encoding="utf-8") as stream:
        for row, verdict in sites:
            record = {**row, "verdict": verdict.verdict, "problems": verdict.problems,
                      "notices": verdict.notices, "waived": verdict.waived}
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")


def record(history: History, sites: Judged) -> int:
    meta = {"started_at": "2026-11-29T02:00:00Z", "targets": ["sites.csv"],
            "tool_version": "bench", "catalogue_version": "bench"}
    with history.recording(meta) as run:
        for row, verdict in sites:
            run.add(row, verdict)
    return run.run_id


def timed(label: str, baseline: float | None, func: Any, *args: Any) -> tuple[float, float, Any]:
    """Run ``func``; print its wall-clock time (the target's measure), the CPU time this
    process spent (what a busy machine inflates less) and its ratio to the baseline's."""
    started, cpu = time.perf_counter(), time.process_time()
    value = func(*args)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    ratio = f"  {cpu / baseline:4.1f}x the baseline's CPU" if baseline else ""
    print(f"{label:<24} {seconds:7.2f} s wall {cpu:7.2f} s CPU{ratio}", flush=True)
    return seconds, cpu, value


def run(count: int) -> bool:
    rng = random.Random(SEED)
    first = judged(first_run(count))
    second = judged(next_run([row for row, _ in first], rng))
    print(f"{count:,} sites, then {len(second):,} ({sum(len(r['findings']) for r, _ in first):,} "
          "findings in the first run)")
    with tempfile.TemporaryDirectory(prefix="history-bench-") as work:
        _, baseline, _ = timed("JSON Lines (baseline)", None, write_jsonl,
                               Path(work, "r.jsonl"), first)
        with History(Path(work, "history.sqlite")) as history:
            write_first, _, one = timed("record run 1", baseline, record, history, first)
            write_second, _, two = timed("record run 2", baseline, record, history, second)
            diff_time, _, report = timed("diff run 1 -> run 2", baseline, history.diff, one, two)
        size = sum(path.stat().st_size for path in Path(work).glob("history.sqlite*"))
        counts = report.counts()
        print(f"{counts['changed']:,} sites changed ({counts['worse']:,} worse); "
              f"history file {size / 1e6:.0f} MB")
    scale = count / SITES
    ok = max(write_first, write_second, diff_time) < TARGET * max(scale, 1.0)
    print(f"target: each under {TARGET * max(scale, 1.0):.0f} s: {'met' if ok else 'MISSED'}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sites", nargs="?", type=int, default=SITES)
    sys.exit(0 if run(parser.parse_args().sites) else 1)


if __name__ == "__main__":
    main()
