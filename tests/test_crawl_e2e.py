"""End to end: the real ``footer-audit crawl`` against the loopback farm.

One crawl of 230 farm sites (the demo set, one site per fault, and 180 generated
realistic sites) plus rejected and duplicate input lines, through the farm's proxy.
Every row is checked against what the farm knows each site shows: nothing lost,
nothing doubled, nothing mislabelled.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.farm import DEMO_SITES, FAULT_SITES, Farm, Site, generate_sites, load_sites

GENERATED = generate_sites(180, seed=11)
DEMO = [site for site in load_sites(DEMO_SITES) if site.expect]

# Demo scenarios whose home page cannot be read, with the row they must produce.
DEMO_FAILURES = {
    "dns_failure": ("unreachable", "dns"),
    "refused": ("unreachable", "refused"),
    "timeout": ("unreachable", "timeout"),
    "http_404": ("unreachable", "http_404"),
    "http_500": ("unreachable", "http_500"),
    "tls_failure": ("unreachable", "tls"),
    "robots_disallowed": ("blocked_by_robots", "robots_txt"),
    "not_html": ("not_html", "application/pdf"),
    "oversized": ("too_large", "max_size"),
}

# One target per farm fault: (outcome, reason, final URL or None to not check).
FAULTS: dict[str, tuple[str, str | None, str | None]] = {
    "www.farm-basic.cn": ("ok", None, "https://www.farm-basic.cn/"),
    "www.fault-delay.cn": ("ok", None, None),
    "www.fault-drip.cn": ("ok", None, None),
    "www.fault-timeout.cn": ("unreachable", "timeout", None),
    "www.fault-reset.cn": ("unreachable", "reset", None),
    "www.fault-status.cn": ("ok", None, "https://www.fault-status.cn/"),  # 503 twice, then 200
    "https://www.fault-status.cn/500": ("unreachable", "http_500", None),
    "https://www.fault-status.cn/busy": ("ok", None, None),  # 429 once
    "www.fault-redirect.cn": ("ok", None, "https://www.fault-redirect.cn/home.html"),
    "https://www.fault-redirect.cn/elsewhere": ("ok", None, "http://www.farm-basic.cn/"),
    "https://www.fault-redirect.cn/loop-a": ("unreachable", "redirect_loop", None),
    "https://www.fault-redirect.cn/meta": ("ok", None, "https://www.fault-redirect.cn/home.html"),
    "https://www.fault-redirect.cn/js": ("ok", None, "https://www.fault-redirect.cn/home.html"),
    "www.fault-refused.cn": ("unreachable", "refused", None),
    "www.fault-tls.cn": ("unreachable", "tls", None),
    "www.https-only.cn": ("ok", None, "https://www.https-only.cn/"),
    "www.http-only.cn": ("ok", None, "http://www.http-only.cn/"),
    "www-only.cn": ("ok", None, "https://www.www-only.cn/"),
    "https://www.fault-charset.cn/gbk-as-utf8": ("ok", None, None),
    "https://www.fault-charset.cn/utf8-as-gbk": ("ok", None, None),
    "https://www.fault-charset.cn/legacy": ("ok", None, None),
    "www.fault-big.cn": ("too_large", "max_size", None),
    "www.fault-binary.cn": ("not_html", "application/pdf", None),
    "www.fault-robots.cn": ("blocked_by_robots", "robots_txt", None),
    "https://www.fault-gzip.cn/bomb": ("too_large", "decompressed_size", None),
}

# Lines that are not sites, and repeats of sites listed above.
INVALID = {"不是 一个域名": "whitespace", "ftp://files.example.cn": "unsupported_scheme",
           "intranet": "single_label"}


def _host(site: Site) -> str:
    return urlsplit(site.start_url).hostname or ""


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Write the target list, crawl it through the farm once, and load the reports."""
    work = tmp_path_factory.mktemp("crawl")
    targets = work / "targets.csv"
    rows = [[_host(site), "demo", site.expect["scenario"]] for site in DEMO]
    rows += [[target, "faults", ""] for target in FAULTS]
    rows += [[_host(site), "generated", site.expect["scenario"]] for site in GENERATED]
    rows += [[text, "typo", ""] for text in INVALID]
    rows += [[_host(DEMO[0]).upper() + ".", "repeat", ""], [_host(GENERATED[0]), "repeat", ""]]
    with targets.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["domain", "owner", "scenario"])
        writer.writerows(rows)
    out = work / "report"
    with Farm([DEMO_SITES, FAULT_SITES, *GENERATED]) as farm:
        run = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "crawl", str(targets), "--out", str(out),
             "--proxy", farm.proxy_url, "--timeout", "3", "--quiet",
             "--log-file", str(work / "crawl.log")],
            capture_output=True, text=True, timeout=600,
        )
    results = [json.loads(line) for line in (out / "results.jsonl").read_text("utf-8").splitlines()]
    return {
        "run": run, "out": out, "rows": rows, "work": work,
        "results": results,
        "by_input": {r["input"]: r for r in results},
        "summary": json.loads((out / "summary.json").read_text("utf-8")),
    }


def test_exit_status_and_no_traceback(crawl: dict[str, Any]) -> None:
    assert crawl["run"].returncode == 1, crawl["run"].stderr  # some sites are not compliant
    assert "Traceback" not in crawl["run"].stderr


def test_one_row_per_distinct_target_and_per_rejected_line(crawl: dict[str, Any]) -> None:
    inputs = [r["input"] for r in crawl["results"]]
    assert len(inputs) == len(set(inputs)) == len(crawl["rows"]) - 2  # two repeats merged
    lines = crawl["summary"]["meta"]["lines"]
    assert (lines["kept"], lines["merged"], lines["rejected"]) == (
        len(crawl["rows"]) - 2 - len(INVALID), 2, len(INVALID))


def test_repeats_are_noted_on_the_first_row(crawl: dict[str, Any]) -> None:
    first = crawl["by_input"][_host(DEMO[0])]
    assert first["duplicate_lines"] == [len(crawl["rows"])]  # the header is line 1
    assert crawl["by_input"][_host(GENERATED[0])]["duplicate_lines"] == [len(crawl["rows"]) + 1]


@pytest.mark.parametrize(("text", "reason"), INVALID.items())
def test_rejected_line(crawl: dict[str, Any], text: str, reason: str) -> None:
    row = crawl["by_input"][text]
    assert (row["outcome"], row["reason"], row["extra"]["owner"]) == ("invalid_input", reason, "typo")


@pytest.mark.parametrize("target", FAULTS, ids=list(FAULTS))
def test_fault(crawl: dict[str, Any], target: str) -> None:
    outcome, reason, final_url = FAULTS[target]
    row = crawl["by_input"][target]
    assert (row["outcome"], row["reason"]) == (outcome, reason), row["attempts"]
    if final_url:
        assert row["final_url"] == final_url


def _expected_findings(site: Site) -> Counter[tuple[str, str, str]]:
    return Counter((n["category"], n["number"], n["status"]) for n in site.expect["numbers"])


def _found(row: dict[str, Any]) -> Counter[tuple[str, str, str]]:
    return Counter((f["category"], f["number"], f["status"]) for f in row["findings"])


def _check_site(crawl: dict[str, Any], site: Site) -> None:
    row = crawl["by_input"][_host(site)]
    scenario = site.expect["scenario"]
    if scenario in DEMO_FAILURES:
        assert (row["outcome"], row["reason"]) == DEMO_FAILURES[scenario], row["attempts"]
        assert row["findings"] == []
        return
    assert (row["outcome"], row["reason"]) == ("ok", None), row["attempts"]
    assert _found(row) == _expected_findings(site)
    links = {(f["category"], f["number"]): f["link_status"] for f in row["findings"]}
    for number in site.expect["numbers"]:
        if "link" in number:
            assert links[(number["category"], number["number"])] == number["link"], number
        found = [f for f in row["findings"] if f["number"] == number["number"]]
        assert set(number.get("problems", ())) <= set(found[0]["problems"]), found
    if "final_url" in site.expect:
        assert row["final_url"] == site.expect["final_url"]
    assert row["extra"]["scenario"] == scenario


@pytest.mark.parametrize("site", DEMO, ids=[s.expect["scenario"] for s in DEMO])
def test_demo_site(crawl: dict[str, Any], site: Site) -> None:
    _check_site(crawl, site)


def test_generated_sites(crawl: dict[str, Any]) -> None:
    failures = []
    for site in GENERATED:
        try:
            _check_site(crawl, site)
        except AssertionError as exc:
            failures.append(f"{_host(site)} ({site.expect['scenario']}): {exc}")
    assert not failures, "\n".join(failures[:10])


def test_verdicts_follow_the_default_rule(crawl: dict[str, Any]) -> None:
    with (crawl["out"] / "sites.csv").open(encoding="utf-8-sig", newline="") as stream:
        rows = {row["input"]: row for row in csv.DictReader(stream)}
    for site in GENERATED:  # a valid ICP number, linked to the MIIT system, is required
        verdict = rows[_host(site)]["verdict"]
        compliant = site.expect["scenario"] == "compliant"
        assert verdict == ("compliant" if compliant else "non_compliant"), _host(site)
    assert rows[_host(DEMO[0])]["owner"] == "demo"


def test_csv_files_open_in_excel(crawl: dict[str, Any]) -> None:
    for name in ("sites.csv", "findings.csv"):
        assert (crawl["out"] / name).read_bytes().startswith(b"\xef\xbb\xbf")


def test_report_rebuilds_from_results(crawl: dict[str, Any]) -> None:
    rebuilt = crawl["work"] / "rebuilt"
    run = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "report", str(crawl["out"] / "results.jsonl"),
         "--out", str(rebuilt), "--quiet"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    for name in ("sites.csv", "findings.csv", "results.jsonl"):
        assert (rebuilt / name).read_bytes() == (crawl["out"] / name).read_bytes(), name


def test_unreadable_target_file_is_a_usage_error(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", str(tmp_path / "missing.txt"),
         "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "missing.txt" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_plain_scrapy_project_with_feed_export(tmp_path: Path) -> None:
    """``scrapy crawl footer`` works with Scrapy's own feed exports."""
    targets = tmp_path / "targets.txt"
    targets.write_text("www.farm-basic.cn\nwww.fault-binary.cn\n", encoding="utf-8")
    feed = tmp_path / "feed.jsonl"
    with Farm(FAULT_SITES) as farm:
        run = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "footer", "-a", f"targets={targets}",
             "-s", f"FOOTER_AUDIT_PROXY={farm.proxy_url}", "-s", "LOG_LEVEL=ERROR",
             "-o", str(feed)],
            capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[1])
    assert run.returncode == 0, run.stderr
    rows = {json.loads(line)["input"]: json.loads(line) for line in feed.read_text("utf-8").splitlines()}
    assert rows["www.farm-basic.cn"]["findings"][0]["number"] == "京ICP备2021012345号-1"
    assert rows["www.fault-binary.cn"]["outcome"] == "not_html"


def test_ignore_robots_fetches_a_banned_home_page(tmp_path: Path) -> None:
    with Farm(FAULT_SITES) as farm:
        run = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "crawl", "www.fault-robots.cn", "--out",
             str(tmp_path / "out"), "--proxy", farm.proxy_url, "--ignore-robots", "--quiet"],
            capture_output=True, text=True, timeout=120)
        fetched = [(r.host, r.path) for r in farm.requests if r.method == "GET"]
    row = json.loads((tmp_path / "out" / "results.jsonl").read_text("utf-8"))
    assert (row["outcome"], row["footer"]["text"]) == ("ok", "robots may not read this"), run.stderr
    assert ("www.fault-robots.cn", "/robots.txt") not in fetched


def test_suffix_list_is_never_fetched() -> None:
    """tldextract (ours and Scrapy's cookie middleware's) uses the bundled snapshot."""
    probe = subprocess.run(
        [sys.executable, "-c",
         "import crawler.domains, scrapy.downloadermiddlewares.cookies as c;"
         "print(list(c._split_domain.suffix_list_urls), list(crawler.domains._EXTRACT.suffix_list_urls))"],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[1])
    assert probe.stdout.strip() == "[] []", probe.stderr


def test_crawl_with_rules_register_and_chinese_headers(tmp_path: Path) -> None:
    """--rules, --register and --lang reach the reports of a real crawl."""
    rules = tmp_path / "rules.toml"
    rules.write_text('[[group]]\nname = "basic"\ndomains = ["www.farm-basic.cn"]\n'
                     'require = ["icp_filing", "psb_filing", "vats_license"]\n', encoding="utf-8")
    register = tmp_path / "register.csv"
    register.write_text(
        "number,category,holder,authority,issued,expires,domains,province\n"
        "京ICP备2021012345号,icp_filing,北京华信科技有限公司,北京市通信管理局,2021-06-01,,*.farm-basic.cn,京\n"
        "京B2-20210001,vats_license,北京华信科技有限公司,北京市通信管理局,2021-06-01,,*.farm-basic.cn,京\n",
        encoding="utf-8")
    out = tmp_path / "out"
    with Farm(FAULT_SITES) as farm:
        run = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "crawl", "www.farm-basic.cn", "--out", str(out),
             "--proxy", farm.proxy_url, "--rules", str(rules), "--register", str(register),
             "--lang", "zh", "--quiet"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    with (out / "sites.csv").open(encoding="utf-8-sig", newline="") as stream:
        row = next(csv.DictReader(stream))
    assert row["结论"] == "non_compliant"
    assert row["问题"] == "missing:vats_license"  # police numbers are not in this register
    meta = json.loads((out / "summary.json").read_text("utf-8"))["meta"]
    assert meta["rules_file"] == str(rules) and len(meta["register_sha256"]) == 64
    from openpyxl import load_workbook
    sheets = load_workbook(out / "report.xlsx", read_only=True)
    register_rows = [[cell.value for cell in r] for r in sheets.worksheets[-1].iter_rows()]
    assert any("京B2-20210001" in row and any("not_displayed" in str(v) for v in row)
               for row in register_rows), register_rows


def test_bad_rules_file_stops_the_crawl_before_any_fetch(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[defaults]\nrequire = ['icp_filng']\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", "www.farm-basic.cn", "--out",
         str(tmp_path / "out"), "--rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "rules.toml, line 1: unknown category icp_filng" in run.stderr
    assert not (tmp_path / "out").exists()
