"""Deploy the Scrapy project to a real Scrapyd on loopback and run an audit through
its HTTP API: the egg is built by ``scrapyd-deploy --build-egg`` from a copy of the
project (it writes setup.py's build files next to scrapy.cfg), uploaded with
addversion.json, and a crawl of farm sites is scheduled with spider arguments.

Scrapyd's job processes import the project from the egg (a zip, ahead of the
installed footer-audit on sys.path), so the crawl shows the egg works on its own:
pattern files included and readable.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.farm import FAULT_SITES, Farm, generate_sites
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("crawler", "patterns", "reports", "pyproject.toml", "README.md", "scrapy.cfg",
                 "setup.py")
PROJECT = "footer_audit"  # scrapy.cfg's [deploy] project
SITES = generate_sites(20, seed=41, page_size=(3_000, 6_000))
FAULT_TARGETS = ("www.farm-basic.cn", "www-only.cn", "www.fault-refused.cn")


@pytest.fixture(scope="module")
def egg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's egg, built by scrapyd-deploy from a copy of the project."""
    work = tmp_path_factory.mktemp("egg")
    source = work / "project"
    source.mkdir()
    for name in PROJECT_FILES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, source / name)
    egg = work / "footer_audit.egg"
    build = subprocess.run([sys.executable, "-m", "scrapyd_client.deploy", "--build-egg", str(egg)],
                           cwd=source, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    return egg


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Scrapyd on 127.0.0.1 (free port), its eggs, logs and queues in a temp dir."""
    home = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\neggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\n"
        "poll_interval = 0.5\nmax_proc = 1\n", encoding="utf-8")
    log = (home / "scrapyd.out").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=home, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (home / "scrapyd.out").read_text()
            try:
                if requests.get(url + "daemonstatus.json", timeout=5).json()["status"] == "ok":
                    break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "scrapyd did not start"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def test_the_egg_carries_the_code_pattern_files_and_settings(egg: Path) -> None:
    with zipfile.ZipFile(egg) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("EGG-INFO/entry_points.txt").decode()
    builtin = {f"patterns/{path.name}" for path in (REPO / "patterns").glob("*.toml")}
    tables = {f"patterns/tables/{path.name}"
              for path in (REPO / "patterns" / "tables").glob("*.toml")}
    assert builtin and tables and builtin | tables <= names
    assert {"crawler/spider.py", "crawler/settings.py", "reports/writer.py"} <= names
    assert "[scrapy]\nsettings = crawler.settings" in entry_points


def _wait_for_job(scrapyd: str, job: str) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        jobs = requests.get(scrapyd + "listjobs.json", params={"project": PROJECT},
                            timeout=10).json()
        finished = [entry for entry in jobs["finished"] if entry["id"] == job]
        if finished:
            return finished[0]
        time.sleep(0.5)
    raise AssertionError(f"job {job} did not finish")


def test_scheduled_crawl_through_the_http_api_writes_the_reports(
        egg: Path, scrapyd: str, tmp_path: Path) -> None:
    with egg.open("rb") as stream:
        added = requests.post(scrapyd + "addversion.json",
                              data={"project": PROJECT, "version": "1"},
                              files={"egg": stream}, timeout=120).json()
    assert added["status"] == "ok" and added["spiders"] == 1, added
    spiders = requests.get(scrapyd + "listspiders.json", params={"project": PROJECT},
                           timeout=60).json()
    assert spiders["spiders"] == ["footer"]

    hosts = [urlsplit(site.start_url).hostname or "" for site in SITES]
    targets = tmp_path / "sites.txt"
    targets.write_text("\n".join([*hosts, *FAULT_TARGETS, "not a host"]) + "\n", "utf-8")
    out = tmp_path / "report"
    with Farm([FAULT_SITES, *SITES]) as farm:
        scheduled = requests.post(scrapyd + "schedule.json", data={
            "project": PROJECT, "spider": "footer", "targets": str(targets), "out": str(out),
            "proxy": farm.proxy_url, "state": str(tmp_path / "state"),
            "setting": ["DOWNLOAD_TIMEOUT=5", "LOG_LEVEL=INFO"],
        }, timeout=30).json()
        assert scheduled["status"] == "ok", scheduled
        job = _wait_for_job(scrapyd, scheduled["jobid"])
        fetched = {request.host for request in farm.requests}
    log = requests.get(scrapyd + job["log_url"].lstrip("/"), timeout=30).text
    assert "Spider closed (finished)" in log, log[-3000:]
    # Scrapy logs robots.txt failures of unreachable sites with their traceback; none
    # may come from the project's own code in the egg
    assert not any(f".egg/{package}/" in log for package in ("crawler", "patterns", "reports"))
    assert "read in the crawl's process from now on" not in log  # the page worker ran from the egg

    summary = json.loads((out / "summary.json").read_text("utf-8"))
    results = [json.loads(line) for line in (out / "results.jsonl").read_text("utf-8").splitlines()]
    inputs = [row["input"] for row in results]
    assert sorted(inputs) == sorted([*hosts, *FAULT_TARGETS, "not a host"])
    assert summary["sites"] == len(inputs) and summary["partial"] is False
    assert set(hosts) <= fetched  # through the proxy argument
    by_input = {row["input"]: row for row in results}
    assert by_input["www.farm-basic.cn"]["findings"]  # the pattern files were read
    assert by_input["www-only.cn"]["final_url"] == "https://www.www-only.cn/"
    assert by_input["not a host"]["outcome"] == "invalid_input"
    for name in ("sites.csv", "findings.csv", "report.xlsx", "report.html"):
        assert (out / name).stat().st_size > 0
