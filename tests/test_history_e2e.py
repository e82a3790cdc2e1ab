"""End to end: three real crawls of the loopback farm into one history file.

Between the first and second crawl the farm's sites change what they show (a number
lost, one fixed, one renumbered, a site gone down, one back online) and the target
list gains one site and loses another; the third crawl sees the same as the second.
The reports' "since last run" sections, ``footer-audit diff``, ``history`` and
``--fail-on new`` are checked against those changes.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.farm import Farm, Site, parse_sites

REPO = Path(__file__).resolve().parents[1]
COPYRIGHT = "<p>Copyright &copy; 2025 示例科技有限公司 版权所有</p>"


def linked(number: str) -> str:
    return f'{COPYRIGHT}<p><a href="https://beian.miit.gov.cn/">{number}</a></p>'


ICP_A, ICP_B, ICP_C = "京ICP备2021012345号-1", "沪ICP备18034567号-2", "粤ICP备19076543号-3"
UP, REFUSED, NO_DNS = "up", "refused", "no_dns"
# host -> (first farm, second farm): a footer, or how the site fails
SCENARIOS: dict[str, tuple[str, str]] = {
    "www.stable-hist.cn": (linked(ICP_A), linked(ICP_A)),
    "www.loses-hist.cn": (linked(ICP_A), COPYRIGHT),
    "www.fixed-hist.cn": (linked("京ICP备2021012345-1"), linked(ICP_A)),
    "www.renumbered-hist.cn": (linked(ICP_B), linked(ICP_C)),
    "www.goes-down-hist.cn": (linked(ICP_A), NO_DNS),
    "www.back-hist.cn": (REFUSED, linked(ICP_A)),
    "www.debt-hist.cn": (COPYRIGHT, COPYRIGHT),
    "www.removed-hist.cn": (linked(ICP_A), linked(ICP_A)),
    "www.added-hist.cn": (linked(ICP_A), linked(ICP_A)),
}
FIRST_TARGETS = [host for host in SCENARIOS if host != "www.added-hist.cn"]
SECOND_TARGETS = [host for host in SCENARIOS if host != "www.removed-hist.cn"]
# site -> (changes, worse) between the first and the second crawl
EXPECTED = {
    "www.loses-hist.cn": ("new_problem; number_changed", "yes"),
    "www.fixed-hist.cn": ("resolved_problem; number_changed", "no"),
    "www.renumbered-hist.cn": ("number_changed", "no"),
    "www.goes-down-hist.cn": ("newly_unreachable", "yes"),
    "www.back-hist.cn": ("back_online", "no"),
    "www.removed-hist.cn": ("removed", "no"),
    "www.added-hist.cn": ("added", "no"),
}


def farm_sites(which: int) -> list[Site]:
    tables = []
    for host, versions in SCENARIOS.items():
        shown = versions[which]
        table: dict[str, Any] = {"host": host}
        if shown == NO_DNS:
            table["dns"] = False
        elif shown == REFUSED:
            table["schemes"] = []
        else:
            table["pages"] = {"/": {"template": "corporate", "company": "示例科技有限公司",
                                    "footer": shown, "size": 20_000}}
        tables.append(table)
    return parse_sites(tables, f"history farm {which}")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def crawl(work: Path, farm: Farm, targets: list[str], name: str,
          *options: str) -> subprocess.CompletedProcess[str]:
    listing = work / f"{name}.txt"
    listing.write_text("\n".join(targets) + "\n", encoding="utf-8")
    return cli("crawl", str(listing), "--out", str(work / name), "--proxy", farm.proxy_url,
               "--timeout", "3", "--retries", "0", "--quiet", "--history",
               str(work / "history.sqlite"), *options)


def changes_csv(out: Path) -> list[dict[str, str]]:
    text = (out / "changes.csv").read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("history")
    with Farm(farm_sites(0)) as farm:
        first = crawl(work, farm, FIRST_TARGETS, "first")
    with Farm(farm_sites(1)) as farm:
        second = crawl(work, farm, SECOND_TARGETS, "second", "--fail-on", "new")
        third = crawl(work, farm, SECOND_TARGETS, "third", "--fail-on", "new")
    return {"work": work, "first": first, "second": second, "third": third,
            "history": str(work / "history.sqlite")}


def summary(runs: dict[str, Any], name: str) -> dict[str, Any]:
    return json.loads((runs["work"] / name / "summary.json").read_text("utf-8"))


def test_first_run_has_nothing_to_compare_with(runs: dict[str, Any]) -> None:
    assert runs["first"].returncode == 1, runs["first"].stderr  # --fail-on any: bad sites
    assert changes_csv(runs["work"] / "first") == []
    assert summary(runs, "first")["since_last_run"]["baseline_run"] is None
    page = (runs["work"] / "first" / "report.html").read_text("utf-8")
    assert "First run in this history: nothing to compare with." in page


def test_the_second_run_reports_every_change(runs: dict[str, Any]) -> None:
    assert runs["second"].returncode == 1, runs["second"].stderr  # a lost number, a site down
    rows = changes_csv(runs["work"] / "second")
    assert {row["site"]: (row["changes"], row["worse"]) for row in rows} == EXPECTED
    by_site = {row["site"]: row for row in rows}
    assert by_site["www.loses-hist.cn"]["new_problems"] == "missing:icp_filing"
    assert by_site["www.fixed-hist.cn"]["resolved_problems"] == "icp_filing:missing_hao"
    assert (by_site["www.renumbered-hist.cn"]["numbers_before"],
            by_site["www.renumbered-hist.cn"]["numbers_after"]) == (
        f"icp_filing: {ICP_B}", f"icp_filing: {ICP_C}")
    assert by_site["www.goes-down-hist.cn"]["problems_now"] == "unreachable:dns"
    since = summary(runs, "second")["since_last_run"]
    assert (since["run"], since["baseline_run"], since["changed"], since["worse"]) == (2, 1, 7, 2)


def test_the_workbook_and_page_show_the_changes(runs: dict[str, Any]) -> None:
    out = runs["work"] / "second"
    book = load_workbook(out / "report.xlsx", read_only=True)
    assert book.sheetnames[-1] == "Changes"
    sheet = list(book["Changes"].iter_rows(values_only=True))
    book.close()
    assert sheet[0][:3] == ("Site", "Input", "Changes")
    assert {row[0]: row[2] for row in sheet[1:]} == {
        site: changes for site, (changes, _) in EXPECTED.items()}
    page = (out / "report.html").read_text("utf-8")
    section = page[page.index("<h2>Since last run</h2>"):page.index('<h2>Sites</h2>')]
    assert "Compared with run 1" in section
    for site in EXPECTED:
        assert f"<td>{site}</td>" in section


def test_diff_and_history_commands_agree_with_the_reports(runs: dict[str, Any]) -> None:
    diff = cli("diff", "1", "2", "--history", runs["history"], "--format", "jsonl")
    assert diff.returncode == 1, diff.stderr
    rows = [json.loads(line) for line in diff.stdout.splitlines()]
    assert {r["site"]: ("; ".join(r["changes"]), "yes" if r["worse"] else "no")
            for r in rows} == EXPECTED
    listing = cli("history", "--history", runs["history"]).stdout.splitlines()
    assert [line.split()[:2] for line in listing[2:]] == [
        ["1", summary(runs, "first")["meta"]["started_at"]],
        ["2", summary(runs, "second")["meta"]["started_at"]],
        ["3", summary(runs, "third")["meta"]["started_at"]]]
    assert [line.split()[3] for line in listing[2:]] == ["8", "8", "8"]


def test_fail_on_new_ignores_known_problems(runs: dict[str, Any]) -> None:
    third = runs["third"]
    assert third.returncode == 0, third.stderr  # still bad sites, but none got worse
    verdicts = summary(runs, "third")["verdicts"]
    assert (verdicts["non_compliant"], verdicts["unreachable"]) == (2, 1)
    assert changes_csv(runs["work"] / "third") == []
    assert cli("diff", "--history", runs["history"], "--fail-on", "new").returncode == 0


def test_report_compares_rebuilt_results_without_recording(runs: dict[str, Any]) -> None:
    out = runs["work"] / "rebuilt"
    rebuilt = cli("report", str(runs["work"] / "first" / "results.jsonl"), "--out", str(out),
                  "--history", runs["history"], "--quiet")
    assert rebuilt.returncode == 1, rebuilt.stderr
    rows = changes_csv(out)  # the first run's results against the latest run (the third)
    assert {row["site"] for row in rows} == set(EXPECTED)
    assert {row["site"]: row["changes"] for row in rows}["www.added-hist.cn"] == "removed"
    assert len(cli("history", "--history", runs["history"]).stdout.splitlines()) == 5


def test_fail_on_new_needs_history(tmp_path: Path) -> None:
    run = cli("crawl", "a.cn", "--out", str(tmp_path / "out"), "--fail-on", "new")
    assert run.returncode == 2
    assert run.stderr == ("footer-audit: --fail-on new needs --history FILE to know what the "
                          "last run found\n")
