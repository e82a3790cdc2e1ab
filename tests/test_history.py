"""The audit history file: record, list, prune, diff, crash safety, and 20 runs of 1,000 sites."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from reports.changes import SiteChange
from reports.history import SCHEMA_VERSION, History, HistoryError, record_run
from reports.verdict import Verdict, judge

REPO = Path(__file__).resolve().parents[1]
ICP = {"a": "京ICP备2021012345号-1", "b": "沪ICP备18034567号-2",
       "c": "粤ICP备19076543号-3"}
PSB = "京公网安备11010802012345号"


def finding(number: str, category: str = "icp_filing", status: str = "valid",
            problems: Iterable[str] = (), link_status: str = "ok") -> dict[str, Any]:
    return {"category": category, "number": number, "status": status, "problems": list(problems),
            "warnings": [], "link": "https://beian.miit.gov.cn/", "link_status": link_status,
            "location": "footer", "raw": number}


def result(key: str, findings: list[dict[str, Any]] | None = None, *, outcome: str = "ok",
           reason: str | None = None, line: int = 1) -> dict[str, Any]:
    """A result record as the crawler makes it (crawler.results), trimmed to one page."""
    reached = outcome == "ok"
    return {"input": key, "source": "sites.txt", "line": line, "duplicate_lines": [],
            "extra": {}, "key": key, "host": key, "display_host": key,
            "registered_domain": key, "url": f"https://{key}/", "attempts": [],
            "final_url": f"https://{key}/" if reached else None, "redirects": [],
            "status": 200 if reached else None, "fetched_at": "2026-11-29T01:00:00Z",
            "sha256": None, "encoding": None, "render": "static" if reached else None,
            "footer": {"found": reached, "selector": None, "text": ""},
            "findings": findings or [], "outcome": outcome, "reason": reason,
            "message": None}


def down(key: str, reason: str = "dns") -> dict[str, Any]:
    return result(key, outcome="unreachable", reason=reason)


def record(history: History, results: Iterable[Mapping[str, Any]], **meta: Any) -> int:
    with history.recording({"started_at": "2026-11-29T01:00:00Z", "targets": ["sites.txt"],
                            **meta}) as run:
        for item in results:
            run.add(item, judge(item))
    return run.run_id


@pytest.fixture
def history(tmp_path: Path) -> Any:
    with History(tmp_path / "history.sqlite") as store:
        yield store


def test_a_run_is_recorded_with_its_facts_sites_and_findings(history: History) -> None:
    run = record(history, [result("a.cn", [finding(ICP["a"])]), down("b.cn"),
                           result("c.cn", [finding(ICP["c"], status="malformed",
                                                   problems=["missing_hao"])])],
                 tool_version="0.1.0", catalogue_version="cat-7", rules_file="rules.toml",
                 rules_sha256="ab" * 32, finished_at="2026-11-29T01:05:00Z")
    [info] = history.runs()
    assert (info.id, info.sites, info.partial, info.targets) == (run, 3, False, ["sites.txt"])
    assert (info.tool_version, info.catalogue_version, info.finished_at) == (
        "0.1.0", "cat-7", "2026-11-29T01:05:00Z")
    assert info.verdicts == {"compliant": 1, "non_compliant": 1, "unreachable": 1,
                             "invalid_input": 0}
    db = sqlite3.connect(history.path)
    assert db.execute("SELECT rules_file, rules_sha256 FROM runs").fetchone() == (
        "rules.toml", "ab" * 32)
    assert db.execute("SELECT site, outcome, reason, verdict, problems FROM sites ORDER BY site"
                      ).fetchall() == [
        ("a.cn", "ok", None, "compliant", "[]"),
        ("b.cn", "unreachable", "dns", "unreachable", '["unreachable:dns"]'),
        ("c.cn", "ok", None, "non_compliant", '["icp_filing:missing_hao"]')]
    assert db.execute("SELECT site, seq, category, number, status, f.problems, link_status, "
                      "location FROM findings AS f JOIN sites AS s ON s.id = f.site_id "
                      "ORDER BY site").fetchall() == [
        ("a.cn", 0, "icp_filing", ICP["a"], "valid", "[]", "ok", "footer"),
        ("c.cn", 0, "icp_filing", ICP["c"], "malformed", '["missing_hao"]', "ok", "footer")]
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_rejected_lines_and_repeats_get_their_own_site_ids(history: History) -> None:
    invalid = {**result("x"), "key": None, "host": None, "input": "不是 域名",
               "outcome": "invalid_input", "reason": "whitespace"}
    record(history, [invalid, dict(invalid, line=2), result("a.cn")])
    sites = [state.site for state in history.states(history.runs()[0].id)]
    assert sites == ["a.cn", "invalid:不是 域名", "invalid:不是 域名 #2"]


def test_the_diff_names_every_kind_of_change(history: History) -> None:
    first = record(history, [
        result("same.cn", [finding(ICP["a"])]),
        result("loses.cn", [finding(ICP["a"])]),
        result("fixed.cn", [finding(ICP["b"], status="malformed", problems=["missing_hao"])]),
        result("renumbered.cn", [finding(ICP["b"])]),
        result("goes-down.cn", [finding(ICP["a"])]),
        down("comes-back.cn"),
        down("still-down.cn", "dns"),
        result("removed.cn"),
    ])
    second = record(history, [
        result("same.cn", [finding(ICP["a"])]),
        result("loses.cn"),
        result("fixed.cn", [finding(ICP["b"])]),
        result("renumbered.cn", [finding(ICP["a"]), finding(PSB, "psb_filing")]),
        down("goes-down.cn", "timeout"),
        result("comes-back.cn", [finding(ICP["c"])]),
        down("still-down.cn", "timeout"),
        result("added.cn", [finding(ICP["a"])]),
        result("added-bad.cn"),
    ])
    report = history.diff()
    assert (report.baseline, report.run) == (first, second)
    by_site = {change.site: change for change in report.changes}
    assert {site: change.kinds for site, change in by_site.items()} == {
        "loses.cn": ("new_problem", "number_changed"),
        "fixed.cn": ("resolved_problem",),
        "renumbered.cn": ("number_changed",),
        "goes-down.cn": ("newly_unreachable",),
        "comes-back.cn": ("back_online",),
        "removed.cn": ("removed",),
        "added.cn": ("added",),
        "added-bad.cn": ("added",),
    }
    assert by_site["loses.cn"].new_problems == ("missing:icp_filing",)
    assert by_site["fixed.cn"].resolved_problems == ("icp_filing:missing_hao",)
    assert [(n.category, n.before, n.after) for n in by_site["renumbered.cn"].numbers] == [
        ("icp_filing", (ICP["b"],), (ICP["a"],)), ("psb_filing", (), (PSB,))]
    assert by_site["goes-down.cn"].problems_now == ("unreachable:timeout",)
    worse = {change.site for change in report.changes if change.worse}
    assert worse == {"loses.cn", "goes-down.cn", "added-bad.cn"}
    counts = report.counts()
    assert (counts["changed"], counts["worse"], counts["added"], counts["removed"]) == (8, 3, 2, 1)
    assert history.diff(second, first).counts()["worse"] == 3  # back the other way


def test_diff_run_choice_and_errors(history: History) -> None:
    with pytest.raises(HistoryError, match="holds no runs"):
        history.diff()
    one = record(history, [result("a.cn")])
    with pytest.raises(HistoryError, match="no earlier complete run"):
        history.diff()
    two = record(history, [result("a.cn", [finding(ICP["a"])])])
    three = record(history, [result("a.cn")])
    assert (history.diff().baseline, history.diff().run) == (two, three)
    assert (history.diff(one).baseline, history.diff(one).run) == (one, three)
    assert history.diff(one, three).changes == []
    with pytest.raises(HistoryError, match="no run 99"):
        history.diff(99)


def test_a_partial_run_is_no_baseline_and_reports_no_removals(history: History) -> None:
    complete = record(history, [result("a.cn"), result("b.cn")])
    partial = record(history, [result("a.cn", [finding(ICP["a"])])], partial=True, remaining=1)
    assert [run.partial for run in history.runs()] == [False, True]
    assert history.runs()[1].remaining == 1
    report = history.diff()
    assert (report.baseline, report.run) == (complete, partial)
    assert [change.site for change in report.changes] == ["a.cn"]  # b.cn not reached yet
    later = record(history, [result("a.cn"), result("b.cn")])
    assert (history.diff().baseline, history.diff().run) == (complete, later)


def test_the_changes_since_the_last_run_are_seen_inside_the_run(history: History) -> None:
    with history.recording({"targets": []}) as run:
        run.add(result("a.cn"), judge(result("a.cn")))
        assert run.changes().baseline is None and run.changes().changes == []
    with history.recording({"targets": []}) as run:
        run.add(down("a.cn"), judge(down("a.cn")))
        changes = run.changes()
    assert [(c.site, c.kinds, c.worse) for c in changes.changes] == [
        ("a.cn", ("newly_unreachable",), True)]


def test_an_error_rolls_the_run_back_and_comparing_stores_nothing(history: History) -> None:
    record(history, [result("a.cn")])
    with pytest.raises(RuntimeError), history.recording({"targets": []}) as run:
        run.add(result("b.cn"), judge(result("b.cn")))
        raise RuntimeError("report failed")
    with record_run(history.path, {"targets": []}, keep=False) as compared:
        assert compared is not None
        compared.add(result("c.cn"), judge(result("c.cn")))
        assert [c.site for c in compared.changes().changes] == ["a.cn", "c.cn"]
    assert [run.sites for run in history.runs()] == [1]
    db = sqlite3.connect(history.path)
    assert db.execute("SELECT count(*) FROM sites").fetchone()[0] == 1
    with record_run(None, {}) as nothing:
        assert nothing is None


def test_prune_keeps_the_newest_runs_and_frees_their_space(history: History) -> None:
    filler = [result(f"site{i}.cn", [finding(ICP["a"])]) for i in range(3000)]
    ids = [record(history, filler) for _ in range(4)]
    size = _on_disk(history.path)
    assert history.prune(2) == 2
    assert [run.id for run in history.runs()] == ids[2:]
    assert _on_disk(history.path) < size * 0.75
    db = sqlite3.connect(history.path)
    assert db.execute("SELECT DISTINCT run_id FROM sites ORDER BY 1").fetchall() == [
        (ids[2],), (ids[3],)]
    assert db.execute("SELECT DISTINCT run_id FROM findings JOIN sites ON id = site_id "
                      "ORDER BY 1").fetchall() == [(ids[2],), (ids[3],)]
    assert db.execute("SELECT count(*) FROM findings").fetchone()[0] == 2 * 3000
    assert history.prune(5) == 0
    assert record(history, filler[:1]) == ids[3] + 1  # ids are never reused
    assert history.prune(0) == 3 and history.runs() == []


def _on_disk(path: Path) -> int:
    """Bytes the history takes: the database file and its write-ahead log."""
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def test_files_that_are_not_a_usable_history(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database, " * 100)
    with pytest.raises(HistoryError, match="not a usable history file"):
        History(text)
    newer = tmp_path / "newer.sqlite"
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(HistoryError, match="newer footer-audit"):
        History(newer)


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from reports.history import History
    from reports.verdict import judge
    from tests.test_history import finding, result

    # a small page cache, so that the uncommitted run spills into the write-ahead log
    with History(Path(sys.argv[1]), cache_kib=1000) as history, \\
            history.recording({"targets": ["big"]}) as run:
        for i in range(int(sys.argv[2])):
            item = result(f"site{i:05}.cn", [finding("京ICP备2021012345号-1")])
            run.add(item, judge(item))
        run.changes()  # flushes every row into the database, inside the transaction
        print("written, not committed", flush=True)
        time.sleep(60)
""")


def test_a_writer_killed_mid_run_leaves_earlier_runs_intact(history: History) -> None:
    earlier = record(history, [result("a.cn", [finding(ICP["a"])]), down("b.cn")])
    with subprocess.Popen([sys.executable, "-c", WRITER, str(history.path), "40000"],
                          cwd=REPO, stdout=subprocess.PIPE, text=True) as writer:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "written, not committed\n"
        # A reader meanwhile sees the earlier run only, and can still diff it.
        with History(history.path) as reader:
            assert [run.id for run in reader.runs()] == [earlier]
            assert [state.site for state in reader.states(earlier + 1)] == []
            assert len(list(reader.states(earlier))) == 2
        wal = history.path.with_name(history.path.name + "-wal")
        assert wal.stat().st_size > 1_000_000  # the sites spilled into the write-ahead log
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    with History(history.path) as after:
        assert [run.id for run in after.runs()] == [earlier]
        db = sqlite3.connect(after.path)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM sites").fetchone()[0] == 2
        assert record(after, [result("a.cn")]) > earlier  # and the file takes new runs
        assert [c.site for c in after.diff().changes] == ["a.cn", "b.cn"]


# --- 20 consecutive runs of 1,000 sites --------------------------------------------

CATEGORIES = {"icp_filing": list(ICP.values()) + ["京ICP备12345678号"],
              "psb_filing": [PSB, "沪公网安备31011502008765号"],
              "vats_license": ["沪B2-20190123", "京B2-20202418"]}


def _page(rng: random.Random) -> list[dict[str, Any]]:
    """The findings of a page: some categories, each with a number (rarely two)."""
    findings = []
    for category, numbers in CATEGORIES.items():
        if rng.random() < (0.85 if category == "icp_filing" else 0.4):
            for number in rng.sample(numbers, 2 if rng.random() < 0.05 else 1):
                status = rng.choice(["valid"] * 6 + ["malformed", "placeholder"])
                problems = ["missing_hao"] if status == "malformed" else []
                link = rng.choice(["ok"] * 5 + ["stale_link", "unlinked"])
                findings.append(finding(number, category, status, problems, link))
    return findings


def _evolve(rng: random.Random, sites: dict[str, dict[str, Any]], run: int) -> None:
    """One night's changes: numbers appear, disappear and change; sites go down and
    come back; a few sites leave the list and new ones join it."""
    for key in list(sites):
        roll = rng.random()
        if roll < 0.02:
            del sites[key]
        elif roll < 0.06:
            sites[key] = down(key, rng.choice(["dns", "timeout", "refused"]))
        elif roll < 0.12 or (sites[key]["outcome"] != "ok" and roll < 0.5):
            sites[key] = result(key, _page(rng))
        elif roll < 0.17 and sites[key]["findings"]:
            findings = list(sites[key]["findings"])
            findings.pop(rng.randrange(len(findings)))  # a number disappears
            sites[key] = result(key, findings)
        elif roll < 0.22:
            sites[key] = result(key, sites[key]["findings"] + _page(rng)[:1])  # one appears
    while len(sites) < 1000:
        key = f"r{run:02}-{rng.randrange(10**6):06}.example.cn"
        sites[key] = result(key, _page(rng)) if rng.random() < 0.9 else down(key)


def _expected_diff(before: dict[str, dict[str, Any]],
                   after: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The diff worked out directly from the inputs, with sets, site by site."""
    expected = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        old_verdict = judge(old) if old else None
        new_verdict = judge(new) if new else None
        entry: dict[str, Any] = {"kinds": set(), "new": set(), "resolved": set(), "numbers": {}}
        reached = {"compliant", "non_compliant"}
        if old is None:
            entry["kinds"].add("added")
        elif new is None:
            entry["kinds"].add("removed")
        elif (old_verdict.verdict in reached) != (new_verdict.verdict in reached):
            entry["kinds"].add("newly_unreachable" if old_verdict.verdict in reached
                               else "back_online")
        elif old_verdict.verdict in reached:
            entry["new"] = set(new_verdict.problems) - set(old_verdict.problems)
            entry["resolved"] = set(old_verdict.problems) - set(new_verdict.problems)
            for category in CATEGORIES:
                was = {f["number"] for f in old["findings"] if f["category"] == category}
                now = {f["number"] for f in new["findings"] if f["category"] == category}
                if was != now:
                    entry["numbers"][category] = (was, now)
            entry["kinds"] |= {kind for kind, seen in (("new_problem", entry["new"]),
                               ("resolved_problem", entry["resolved"]),
                               ("number_changed", entry["numbers"])) if seen}
        if entry["kinds"]:
            bad_now = new_verdict is not None and new_verdict.verdict != "compliant"
            entry["worse"] = bool(entry["new"]) or (bad_now and (
                old_verdict is None or old_verdict.verdict != new_verdict.verdict))
            expected[key] = entry
    return expected


def _as_expected(change: SiteChange) -> dict[str, Any]:
    return {"kinds": set(change.kinds), "new": set(change.new_problems),
            "resolved": set(change.resolved_problems),
            "numbers": {n.category: (set(n.before), set(n.after)) for n in change.numbers},
            "worse": change.worse}


def test_twenty_runs_of_a_thousand_sites_stay_consistent_and_diff_exactly(history: History) -> None:
    rng = random.Random(20261129)
    sites: dict[str, dict[str, Any]] = {}
    snapshots: list[dict[str, dict[str, Any]]] = []
    for run in range(20):
        _evolve(rng, sites, run)
        snapshots.append(dict(sites))
        assert record(history, rng.sample(list(sites.values()), len(sites))) == run + 1
    db = sqlite3.connect(history.path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM findings f WHERE NOT EXISTS (SELECT 1 FROM sites s "
                      "WHERE s.id = f.site_id)").fetchone()[0] == 0
    stored = dict(db.execute("SELECT run_id, count(*) FROM sites GROUP BY run_id").fetchall())
    assert stored == {run.id: run.sites for run in history.runs()} == {
        i + 1: len(snapshot) for i, snapshot in enumerate(snapshots)}
    kinds_seen: set[str] = set()
    for run in range(1, 20):
        before, after = snapshots[run - 1], snapshots[run]
        report = history.diff(run, run + 1)
        got = {change.site: _as_expected(change) for change in report.changes}
        assert got == _expected_diff(before, after), f"run {run} -> {run + 1}"
        assert [c.site for c in report.changes] == sorted(got)
        kinds_seen |= {kind for change in report.changes for kind in change.kinds}
        # what each site showed is stored exactly
        numbers = {state.site: {c: set(n) for c, n in state.numbers.items()}
                   for state in history.states(run + 1)}
        assert numbers == {key: _numbers(item["findings"]) for key, item in after.items()}
    assert kinds_seen == {"added", "removed", "newly_unreachable", "back_online", "new_problem",
                          "resolved_problem", "number_changed"}


def _numbers(findings: list[dict[str, Any]]) -> dict[str, set[str]]:
    numbers: dict[str, set[str]] = {}
    for item in findings:
        numbers.setdefault(item["category"], set()).add(item["number"])
    return numbers


# --- the history and diff commands -----------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_history_and_diff_commands(history: History, tmp_path: Path) -> None:
    path = str(history.path)
    assert cli("history", "--history", path).stdout == f"no runs in {path}\n"
    record(history, [result("a.cn", [finding(ICP["a"])]), result("=cmd|' /C calc'!A0")])
    record(history, [result("a.cn"), down("=cmd|' /C calc'!A0"), result("new.cn")])
    record(history, [result("a.cn", [finding(ICP["a"])]), down("=cmd|' /C calc'!A0")],
           partial=True, remaining=4)
    listing = cli("history", "--history", path)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].split()[:4] == ["run", "started", "finished", "sites"]
    assert lines[2].split()[0] == "1" and lines[2].split()[-2:] == ["complete", "sites.txt"]
    assert lines[4].split()[0] == "3" and "partial (4 not reached)" in lines[4]

    jsonl = cli("diff", "1", "2", "--history", path, "--format", "jsonl")
    assert jsonl.returncode == 1, jsonl.stderr  # sites changed
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [(r["site"], r["changes"], r["worse"]) for r in rows] == [
        ("=cmd|' /C calc'!A0", ["newly_unreachable"], True),
        ("a.cn", ["new_problem", "number_changed"], True),
        ("new.cn", ["added"], True)]
    assert rows[1]["numbers"] == [{"category": "icp_filing", "before": [ICP["a"]], "after": []}]

    table = cli("diff", "1", "2", "--history", path, "--format", "table")
    assert table.stdout.startswith("run 1 (started 2026-11-29T01:00:00Z) -> run 2: 3 sites "
                                   "changed, 3 worse\n")
    assert f"icp_filing: {ICP['a']} -> -" in table.stdout

    csv_out = subprocess.run([sys.executable, "-m", "crawler.cli", "diff", "1", "2", "--history",
                              path, "--format", "csv"], cwd=REPO, capture_output=True, timeout=120)
    text = csv_out.stdout.decode("utf-8")
    assert text.startswith('\ufeff"site","input","changes",')
    assert '"\'=cmd|\' /C calc\'!A0"' in text  # neutralised for spreadsheets

    # run 3 (partial) against run 2: a.cn fixed, new.cn not reached yet: nothing worse
    latest = cli("diff", "--history", path, "--format", "jsonl", "--fail-on", "new")
    assert latest.returncode == 0, latest.stderr
    assert [json.loads(line)["site"] for line in latest.stdout.splitlines()] == ["a.cn"]
    assert cli("diff", "--history", path).returncode == 1  # --fail-on any: something changed
    same = cli("diff", "2", "2", "--history", path)
    assert (same.returncode, same.stdout) == (0, "")

    pruned = cli("history", "--history", path, "--prune", "1")
    assert (pruned.returncode, pruned.stdout) == (0, "deleted 2 runs, kept 1\n")


@pytest.mark.parametrize("args", [
    ("diff", "--history", "{missing}"),
    ("history", "--history", "{missing}"),
    ("diff", "7", "--history", "{db}"),
    ("diff", "1", "2", "3", "--history", "{db}"),
    ("history", "--history", "{text}"),
])
def test_command_errors_are_one_line_with_status_2(history: History, tmp_path: Path,
                                                   args: tuple[str, ...]) -> None:
    record(history, [result("a.cn")])
    text = tmp_path / "notes.txt"
    text.write_text("plain text, not a history file\n" * 50)
    paths = {"missing": tmp_path / "none.sqlite", "db": history.path, "text": text}
    run = cli(*(arg.format(**paths) for arg in args))
    assert run.returncode == 2
    assert run.stderr.startswith("footer-audit: ") and run.stderr.count("\n") == 1, run.stderr
    assert not paths["missing"].exists()


def test_reports_carry_the_changes_and_escape_site_text(history: History, tmp_path: Path) -> None:
    from reports.writer import write_reports

    hostile = {**result("x"), "key": None, "host": None, "input": "<img src=x onerror=alert(1)>",
               "outcome": "invalid_input", "reason": "invalid_host"}
    record(history, [result("a.cn", [finding(ICP["a"])])])
    with history.recording({"targets": []}) as run:
        write_reports([result("a.cn"), hostile], tmp_path / "out", {}, history=run)
    out = tmp_path / "out"
    page = (out / "report.html").read_text("utf-8")
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    summary = json.loads((out / "summary.json").read_text("utf-8"))["since_last_run"]
    assert (summary["changed"], summary["added"], summary["new_problem"], summary["worse"]) == (
        2, 1, 1, 2)
    rows = (out / "changes.csv").read_bytes().decode("utf-8-sig").splitlines()
    assert len(rows) == 3 and rows[0].startswith('"site","input","changes"')
    assert '"invalid:<img src=x onerror=alert(1)>"' in rows[2]
    write_reports([result("a.cn")], out, {})  # a report with changes.csv can be replaced
    assert not (out / "changes.csv").exists()
