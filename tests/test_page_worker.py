"""Page workers (``crawler.page_worker``, ``FOOTER_AUDIT_EXTRACT_WORKERS``): real worker
processes fed through pipes, and real crawls of the loopback farm with pages read in a
worker, inline, and by a worker killed part-way through.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.analysis import FetchedPage, PageAnalyser, analyse_page, extract_workers
from crawler.page_worker import PageWorkers, WorkerError, WorkerGone
from crawler.targets import TargetCounts, iter_targets
from reports.verdict import judge
from tests.farm import DEMO_SITES, Farm, generate_sites, load_sites, parse_sites

REPO = Path(__file__).resolve().parents[1]


# --- handlers the worker processes import by name ---------------------------------------
def echo_handler(spec: dict[str, Any]) -> Callable[[Any], Any]:
    """Answers a job with the spec's tag, the job and the worker's pid; a job that says so
    prints to standard output, raises, or ends the worker."""

    def handle(job: Any) -> Any:
        if job == "print":
            print("a stray line on standard output")
        elif job == "raise":
            raise ValueError("this page cannot be read")
        elif job == "exit":
            os._exit(3)
        elif job == "slow":
            time.sleep(0.5)
        return spec["tag"], job, os.getpid()

    return handle


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def _children_running(pids: set[int]) -> set[int]:
    running = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                if stat.read().rpartition(")")[2].split()[0] != "Z":
                    running.add(pid)
        except FileNotFoundError:
            pass
    return running


def test_answers_come_back_to_their_jobs_from_every_worker() -> None:
    async def scenario() -> tuple[list[Any], set[int]]:
        workers = PageWorkers(2, echo_handler, {"tag": "t"})
        try:
            answers = await asyncio.gather(*(workers.submit({"n": n, "blob": b"x" * 200_000})
                                             for n in range(60)))
        finally:
            await workers.stop()
        return answers, {pid for _, _, pid in answers}

    answers, pids = _run(scenario())
    assert [job["n"] for _, job, _ in answers] == list(range(60))
    assert all(tag == "t" and len(job["blob"]) == 200_000 for tag, job, _ in answers)
    assert len(pids) == 2 and os.getpid() not in pids
    assert not _children_running(pids)  # stop() ended them


def test_an_error_in_a_worker_is_raised_with_its_traceback_and_the_worker_goes_on() -> None:
    async def scenario() -> tuple[BaseException, Any]:
        workers = PageWorkers(1, echo_handler, {"tag": "t"})
        try:
            with pytest.raises(WorkerError) as raised:
                await workers.submit("raise")
            return raised.value, await workers.submit("after")
        finally:
            await workers.stop()

    error, after = _run(scenario())
    assert "ValueError: this page cannot be read" in str(error)
    assert after[1] == "after"


def test_a_stray_print_in_a_worker_does_not_break_its_answers() -> None:
    async def scenario() -> list[Any]:
        workers = PageWorkers(1, echo_handler, {"tag": "t"})
        try:
            return [await workers.submit(job) for job in ("print", "next")]
        finally:
            await workers.stop()

    assert [job for _, job, _ in _run(scenario())] == ["print", "next"]


def test_a_worker_that_exits_fails_its_waiting_jobs_and_later_ones() -> None:
    async def scenario() -> list[Any]:
        workers = PageWorkers(1, echo_handler, {"tag": "t"})
        try:
            waiting = [asyncio.ensure_future(workers.submit(job))
                       for job in ("slow", "exit", "never")]
            outcomes = await asyncio.gather(*waiting, return_exceptions=True)
            with pytest.raises(WorkerGone):
                await workers.submit("later")
            return outcomes
        finally:
            await workers.stop()

    slow, exited, never = _run(scenario())
    assert slow[1] == "slow"
    assert isinstance(exited, WorkerGone) and isinstance(never, WorkerGone)
    assert "has exited" in str(exited)


def _fetched_pages(count: int) -> list[FetchedPage]:
    sites = generate_sites(count, seed=41)
    targets = list(iter_targets([urlsplit(site.start_url).hostname or "" for site in sites],
                                TargetCounts()))
    return [
        FetchedPage(target, site.start_url, 200, site.pages["/"].content_type_header,
                    site.pages["/"].render().join(), [], [], "2026-11-29T00:00:00Z",
                    follow_redirect=True)
        for site, target in zip(sites, targets, strict=True)
    ]


def _without_cpu(outcome: Any) -> tuple[Any, Any]:
    return outcome.result, outcome.onward


def test_the_analyser_reads_pages_in_a_worker_as_it_would_inline(extractor: Any) -> None:
    pages = _fetched_pages(12)

    async def scenario() -> list[Any]:
        analyser = PageAnalyser([], 2026, workers=1)
        try:
            return await asyncio.gather(*(analyser.analyse(page) for page in pages))
        finally:
            await analyser.close()

    in_worker = _run(scenario())
    inline = [analyse_page(extractor, page) for page in pages]
    assert [_without_cpu(o) for o in in_worker] == [_without_cpu(o) for o in inline]
    assert all(o.cpu_seconds > 0 for o in in_worker)


def test_the_analyser_reads_pages_itself_once_its_worker_is_killed(
        extractor: Any, caplog: pytest.LogCaptureFixture) -> None:
    pages = _fetched_pages(40)

    async def scenario() -> list[Any]:
        analyser = PageAnalyser([], 2026, workers=1)
        first = await analyser.analyse(pages[0])  # the worker is up
        assert analyser.workers is not None
        (worker,) = analyser.workers._workers
        waiting = [asyncio.ensure_future(analyser.analyse(page)) for page in pages[1:]]
        await asyncio.sleep(0)
        os.kill(worker.process.pid, signal.SIGKILL)
        rest = await asyncio.gather(*waiting)
        assert analyser.workers is None
        return [first, *rest]

    outcomes = _run(scenario())
    inline = [analyse_page(extractor, page) for page in pages]
    assert [_without_cpu(o) for o in outcomes] == [_without_cpu(o) for o in inline]
    assert "read in the crawl's process from now on" in caplog.text


def test_the_analyser_reads_pages_itself_when_no_worker_can_start(
        extractor: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
    pages = _fetched_pages(5)

    async def scenario() -> list[Any]:
        analyser = PageAnalyser([], 2026, workers=1)
        return await asyncio.gather(*(analyser.analyse(page) for page in pages))

    outcomes = _run(scenario())
    inline = [analyse_page(extractor, page) for page in pages]
    assert [_without_cpu(o) for o in outcomes] == [_without_cpu(o) for o in inline]
    assert caplog.text.count("a page worker could not be started") == 1


@pytest.mark.parametrize("error", [
    ValueError("a bug in reading the page"),
    WorkerError("Traceback (most recent call last):\n  File ...\n"
                "ValueError: a bug in reading the page\n"),
])
def test_a_page_that_cannot_be_read_still_gets_its_row(
        error: Exception, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import HtmlResponse
    from scrapy.settings import Settings

    from crawler.spider import FooterSpider

    settings = Settings()
    settings.setmodule("crawler.settings")
    settings.set("FOOTER_AUDIT_EXTRACT_WORKERS", 0)
    spider = FooterSpider.from_crawler(Crawler(FooterSpider, settings), targets="www.example.cn")
    (target,) = iter_targets(["www.example.cn"], TargetCounts())

    async def broken(page: FetchedPage) -> Any:
        raise error

    monkeypatch.setattr(spider.analyser, "analyse", broken)
    url = "https://www.example.cn/"
    request = Request(url, meta={"target": target, "attempts": [], "pending": [],
                                 "www_tried": False})
    response = HtmlResponse(url, body=b"<p>\xe4\xba\xac</p>", request=request,
                            headers={"Content-Type": "text/html; charset=utf-8"})
    row = _run(spider.parse(response))
    assert (row["outcome"], row["reason"]) == ("unreadable", "internal_error")
    assert row["message"] == "ValueError: a bug in reading the page"
    assert (row["key"], row["final_url"], row["status"]) == ("www.example.cn", url, 200)
    assert "could not read the home page of www.example.cn" in caplog.text
    verdict = judge(row)  # could not be checked: not a missing number
    assert (verdict.verdict, verdict.problems) == ("unreachable", ("unreadable:internal_error",))


@pytest.mark.parametrize(("setting", "expected"), [("0", 0), (2, 2), ("auto", None), (None, None)])
def test_the_worker_setting(setting: Any, expected: int | None) -> None:
    workers = extract_workers(setting)
    if expected is None:
        assert workers == (1 if len(os.sched_getaffinity(0)) >= 2 else 0)
    else:
        assert workers == expected


@pytest.mark.parametrize("setting", ["some", "-1"])
def test_a_bad_worker_setting_is_refused(setting: str) -> None:
    with pytest.raises(ValueError, match="FOOTER_AUDIT_EXTRACT_WORKERS"):
        extract_workers(setting)


# --- whole crawls -----------------------------------------------------------------------
def _slow_sites(count: int) -> list[Any]:
    definitions = []
    for site in generate_sites(count, seed=43, page_size=(20_000, 40_000)):
        definition = json.loads(json.dumps(site.definition))
        definition["pages"]["/"]["fault"] = {"kind": "delay", "seconds": 0.2}
        definitions.append(definition)
    return parse_sites(definitions, "slow generated sites")


SITES = _slow_sites(200)
# the demo's sites (GBK pages, page redirects, failures) but the one that times out
DEMO_HOSTS = [site.host for site in load_sites(DEMO_SITES)
              if not (site.fault and site.fault.kind == "timeout")]


@pytest.fixture(scope="module")
def farm() -> Any:
    with Farm([DEMO_SITES, *SITES]) as running:
        yield running


def _targets(tmp_path: Path) -> Path:
    lines = [*(urlsplit(site.start_url).hostname or "" for site in SITES), *DEMO_HOSTS]
    path = tmp_path / "sites.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _scrapy_crawl(targets: Path, farm: Farm, out: Path, workers: int) -> subprocess.Popen[bytes]:
    """The plain Scrapy project with the page workers set; its log is OUT.log."""
    return subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "footer", "-a", f"targets={targets}",
         "-s", f"FOOTER_AUDIT_OUT={out}", "-s", f"FOOTER_AUDIT_PROXY={farm.proxy_url}",
         "-s", f"FOOTER_AUDIT_EXTRACT_WORKERS={workers}", "-s", "DOWNLOAD_TIMEOUT=5",
         "-s", "CONCURRENT_REQUESTS=16", "-s", f"LOG_FILE={out.parent / (out.name + '.log')}"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _rows(out: Path) -> dict[tuple[str, int], dict[str, Any]]:
    rows = {}
    for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row.pop("fetched_at")
        rows[(row["source"], row["line"])] = row
    return rows


def _worker_pids(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
        pids = [int(child) for child in children.read().split()]
    return [child for child in pids
            if b"crawler.page_worker" in Path(f"/proc/{child}/cmdline").read_bytes()]


def test_a_crawl_reads_pages_alike_in_a_worker_and_inline_and_survives_a_killed_worker(
        farm: Farm, tmp_path: Path) -> None:
    targets = _targets(tmp_path)
    inline = _scrapy_crawl(targets, farm, tmp_path / "inline", 0)
    assert inline.wait(timeout=300) == 0
    in_worker = _scrapy_crawl(targets, farm, tmp_path / "worker", 1)
    assert in_worker.wait(timeout=300) == 0
    killed = _scrapy_crawl(targets, farm, tmp_path / "killed", 1)
    deadline = time.monotonic() + 60
    while not (pids := _worker_pids(killed.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # a few pages read in the worker, most still to come
    os.kill(pids[0], signal.SIGKILL)
    assert killed.wait(timeout=300) == 0

    expected = _rows(tmp_path / "inline")
    assert len(expected) == len(SITES) + len(DEMO_HOSTS)
    assert _rows(tmp_path / "worker") == expected
    assert _rows(tmp_path / "killed") == expected
    log = (tmp_path / "killed.log").read_text(encoding="utf-8")
    assert "read in the crawl's process from now on" in log
    worker_log = (tmp_path / "worker.log").read_text(encoding="utf-8")
    assert "read in the crawl's process" not in worker_log
