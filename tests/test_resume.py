"""Resumable crawls (``--state DIR``): real ``footer-audit crawl`` subprocesses over
the loopback farm, stopped part-way by ``kill -9``, SIGTERM or Ctrl-C and run again.

Every generated site delays its home page, so that a crawl of a few hundred sites
takes seconds and is stopped while pages are in flight. The farm's request log
(reset between runs) shows what a resumed run fetched.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook

from crawler.state import ROWS_FILE, STATE_FILE, CrawlState, StateError, fingerprint
from tests.farm import FAULT_SITES, Farm, Site, generate_sites, parse_sites

REPO = Path(__file__).resolve().parents[1]
HOME_DELAY = 0.3  # seconds before each generated home page is answered
STOP_AFTER_ROWS = 80  # rows finished before the crawl is stopped
# Fault sites whose rows take several attempts (https, http, www.), with disjoint hosts.
FAULT_TARGETS = ("www.fault-refused.cn", "www-only.cn", "www.http-only.cn", "www.https-only.cn")
INVALID_LINE = "不是 一个域名"


def _slow_sites(count: int) -> list[Site]:
    sites = []
    for site in generate_sites(count, seed=29, page_size=(3_000, 6_000)):
        definition = json.loads(json.dumps(site.definition))
        definition["pages"]["/"]["fault"] = {"kind": "delay", "seconds": HOME_DELAY}
        sites.append(definition)
    return parse_sites(sites, "slow generated sites")


SITES = _slow_sites(300)


@pytest.fixture(scope="module")
def farm() -> Any:
    with Farm([FAULT_SITES, *SITES]) as running:
        yield running


@pytest.fixture
def targets(tmp_path: Path) -> tuple[Path, list[str]]:
    """A target list (with one rejected and one repeated line) and the inputs that
    must each get exactly one row."""
    hosts = [urlsplit(site.start_url).hostname or "" for site in SITES]
    lines = [*hosts[:150], *FAULT_TARGETS, INVALID_LINE, *hosts[150:], hosts[7].upper()]
    path = tmp_path / "sites.txt"
    path.write_text("# nightly list\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path, lines[:-1]


def _command(targets: Path, farm: Farm, work: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "crawler.cli", "crawl", str(targets), "--out", str(work / "out"),
            "--state", str(work / "state"), "--proxy", farm.proxy_url, "--timeout", "5",
            "--concurrency", "16", "--log-file", str(work / "crawl.log"), "--quiet", *extra]


def _state_rows(work: Path) -> list[dict[str, Any]]:
    """The complete rows in the state directory."""
    data = (work / "state" / ROWS_FILE).read_bytes()
    return [json.loads(line) for line in data.split(b"\n")[:-1]]


def _start_and_stop(command: list[str], work: Path, *signals: int,
                    after: int = STOP_AFTER_ROWS) -> subprocess.CompletedProcess[str]:
    """Run ``command``, send ``signals`` (0.1 s apart) once ``after`` rows are in the
    state, and wait for the crawl to end."""
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    rows = work / "state" / ROWS_FILE
    deadline = time.monotonic() + 300
    while not (rows.exists() and rows.read_bytes().count(b"\n") >= after):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the crawl made no progress"
        time.sleep(0.02)
    for number, signum in enumerate(signals):
        if number:
            time.sleep(0.1)
        process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)


def _report(work: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    out = work / "out"
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    results = [json.loads(line) for line in (out / "results.jsonl").read_text("utf-8").splitlines()]
    return summary, results


def _hosts(rows: list[dict[str, Any]]) -> set[str]:
    """Every host the rows' sites were fetched from (all attempts)."""
    return {urlsplit(attempt["url"]).hostname or "" for row in rows for attempt in row["attempts"]}


def _without_repeats(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "duplicate_lines"}


def _check_complete(work: Path, expected: list[str], earlier: list[dict[str, Any]],
                    farm: Farm) -> None:
    """One row per target; the rows finished before the stop kept as they were and
    their sites not fetched again; every other target fetched in the last run."""
    summary, results = _report(work)
    inputs = [row["input"] for row in results]
    assert sorted(inputs) == sorted(expected)
    assert len(set(inputs)) == len(inputs)
    assert summary["partial"] is False and summary["remaining"] == 0
    assert summary["sites"] == len(expected)
    by_line = {(row["source"], row["line"]): row for row in results}
    for row in earlier:  # kept as they were (repeats are noted when the report is written)
        assert _without_repeats(by_line[row["source"], row["line"]]) == _without_repeats(row)
    fetched = {request.host for request in farm.requests}
    assert not fetched & _hosts(earlier)
    done = {(row["source"], row["line"]) for row in earlier}
    later = [row for row in results
             if (row["source"], row["line"]) not in done and row["outcome"] == "ok"]
    assert {urlsplit(row["final_url"]).hostname for row in later} <= fetched
    repeated = next(row for row in results if row["input"] == expected[7])
    assert repeated["duplicate_lines"] == [len(expected) + 2]  # comment line, then the list
    assert summary["meta"]["lines"]["merged"] == 1


def test_kill_9_then_the_same_command_finishes_the_crawl(
        farm: Farm, targets: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, expected = targets
    command = _command(path, farm, tmp_path)
    killed = _start_and_stop(command, tmp_path, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "out").exists()
    earlier = _state_rows(tmp_path)
    assert STOP_AFTER_ROWS <= len(earlier) < len(expected)

    farm.reset()
    resumed = _run(command)
    assert resumed.returncode == 1, resumed.stderr  # some generated sites are not compliant
    assert "Traceback" not in resumed.stderr
    _check_complete(tmp_path, expected, earlier, farm)
    assert _report(tmp_path)[0]["meta"]["runs"] == 2


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stop_writes_a_partial_report_then_resume_finishes(
        farm: Farm, targets: tuple[Path, list[str]], tmp_path: Path, stop: int) -> None:
    path, expected = targets
    command = _command(path, farm, tmp_path)
    stopped = _start_and_stop(command, tmp_path, stop)
    assert stopped.returncode == 3, stopped.stderr
    assert "Traceback" not in stopped.stderr
    summary, results = _report(tmp_path)
    assert summary["partial"] is True
    assert len(results) == summary["sites"] >= STOP_AFTER_ROWS
    assert summary["remaining"] == len(expected) - len(results) > 0
    assert summary["meta"]["lines"]["kept"] + summary["meta"]["lines"]["rejected"] == len(expected)
    assert f"{summary['remaining']} targets not audited yet" in stopped.stderr
    note = f"Partial report: the crawl was stopped with {summary['remaining']} targets"
    assert note in (tmp_path / "out" / "report.html").read_text("utf-8")
    sheet = load_workbook(tmp_path / "out" / "report.xlsx", read_only=True)["Summary"]
    assert note in str(next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))[0])
    earlier = _state_rows(tmp_path)
    assert [row["input"] for row in earlier] == [row["input"] for row in results]

    farm.reset()
    resumed = _run(command)
    assert resumed.returncode == 1, resumed.stderr
    _check_complete(tmp_path, expected, earlier, farm)
    assert "Partial report" not in (tmp_path / "out" / "report.html").read_text("utf-8")


def test_second_ctrl_c_stops_at_once_and_the_state_still_resumes(
        farm: Farm, targets: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, expected = targets
    command = _command(path, farm, tmp_path)
    stopped = _start_and_stop(command, tmp_path, signal.SIGINT, signal.SIGINT)
    assert stopped.returncode == 3, stopped.stderr
    assert "ended without writing a report" in stopped.stderr
    assert not (tmp_path / "out").exists()
    earlier = _state_rows(tmp_path)

    farm.reset()
    resumed = _run(command)
    assert resumed.returncode == 1, resumed.stderr
    _check_complete(tmp_path, expected, earlier, farm)


def test_state_of_an_unfinished_crawl_refuses_other_targets_or_options(
        farm: Farm, targets: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, _ = targets
    command = _command(path, farm, tmp_path)
    _start_and_stop(command, tmp_path, signal.SIGKILL, after=1)
    state = (tmp_path / "state" / STATE_FILE).read_bytes()
    rows = (tmp_path / "state" / ROWS_FILE).read_bytes()
    other_list = tmp_path / "other.txt"
    other_list.write_text(path.read_text("utf-8") + "extra.example.cn\n", "utf-8")
    for changed, why in [(_command(other_list, farm, tmp_path), "the target list differs"),
                         ([*command, "--retries", "1"], "retries was 2, now 1")]:
        run = _run(changed)
        assert run.returncode == 2
        assert run.stderr.count("\n") == 1 and why in run.stderr, run.stderr
    assert (tmp_path / "state" / STATE_FILE).read_bytes() == state
    assert (tmp_path / "state" / ROWS_FILE).read_bytes() == rows


def test_a_finished_state_starts_afresh(tmp_path: Path) -> None:
    """A second run after a complete one audits again (a nightly job); no farm needed
    for a list of rejected lines only."""
    command = [sys.executable, "-m", "crawler.cli", "crawl", "not a host", "intranet",
               "--out", str(tmp_path / "out"), "--state", str(tmp_path / "state"), "--quiet"]
    for _ in range(2):
        run = _run(command)
        assert run.returncode == 1, run.stderr
        summary, results = _report(tmp_path)
        assert [row["outcome"] for row in results] == ["invalid_input"] * 2
        assert summary["meta"]["runs"] == 1 and summary["partial"] is False
        assert json.loads((tmp_path / "state" / STATE_FILE).read_text("utf-8"))["finished"]


# --- the state directory itself ------------------------------------------------------

CRAWL = fingerprint(["example.cn"], [], {"retries": 2})


def test_a_row_cut_short_by_a_kill_is_dropped(tmp_path: Path) -> None:
    state = CrawlState.open(tmp_path / "state", CRAWL)
    with state.rows() as rows:
        rows.write(json.dumps({"source": "<arg>", "line": 1}) + "\n")
        rows.write('{"source": "<arg>", "li')
    done = CrawlState.open(tmp_path / "state", CRAWL).done()
    assert done.rows == 1 and ("<arg>", 1) in done and ("<arg>", 2) not in done
    assert state.rows_path.read_text("utf-8").count("\n") == 1
    assert state.rows_path.read_text("utf-8").endswith("}\n")


def test_a_directory_of_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", "utf-8")
    with pytest.raises(StateError, match="holds other files"):
        CrawlState.open(tmp_path, CRAWL)
    (tmp_path / "file").write_text("", "utf-8")
    with pytest.raises(StateError, match="is a file"):
        CrawlState.open(tmp_path / "file", CRAWL)
