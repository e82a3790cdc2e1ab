"""What the crawl benchmarks share: target lists, one measured crawl, Scrapy's stats.

A crawl runs in a subprocess (``python -m crawler.cli crawl …`` or the bare spider of
``bench.bare_spider``) against a farm started by the caller; this process samples the
resident memory of the crawl and of its worker processes while it runs and reads
Scrapy's stats from the log file afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.farm import Site

REPOSITORY = Path(__file__).resolve().parents[1]
SAMPLE_INTERVAL = 0.2  # seconds between memory samples
_STAT_LINE = re.compile(r"^[{\s]*'([^']+)': (-?\d+(?:\.\d+)?)[,}]?$", re.MULTILINE)


def write_targets(sites: Iterable[Site], path: Path, *, domain_every: int = 0) -> int:
    """Write one target per site: its ``http://`` home page URL, or, for every
    ``domain_every``-th site (0: none), its bare domain (https, http, then ``www.``).
    Returns the number of targets written."""
    count = 0
    with path.open("w", encoding="utf-8") as listing:
        for count, site in enumerate(sites, 1):
            host = urlsplit(site.start_url).hostname or site.host
            if domain_every and count % domain_every == 0:
                listing.write((site.aliases[0] if site.aliases else host) + "\n")
            else:
                listing.write(f"http://{host}/\n")
    return count


def settings_arguments(settings: Sequence[str]) -> list[str]:
    """``-s NAME=VALUE`` arguments for ``bench.with_settings`` and ``bench.bare_spider``."""
    return [argument for setting in settings for argument in ("-s", setting)]


def crawl_command(targets: Path, out: Path, proxy: str, log: Path,
                  settings: Sequence[str] = ()) -> list[str]:
    """``footer-audit crawl`` as a user runs it (through ``bench.with_settings`` when
    project settings are changed for a variant)."""
    arguments = ["crawl", str(targets), "--out", str(out), "--proxy", proxy, "--quiet",
                 "--log-file", str(log)]
    if settings:
        return [sys.executable, "-m", "bench.with_settings", *settings_arguments(settings),
                "--", *arguments]
    return [sys.executable, "-m", "crawler.cli", *arguments]


def bare_command(targets: Path, proxy: str, log: Path, settings: Sequence[str] = ()) -> list[str]:
    """The do-nothing spider over the same targets with the same project settings."""
    return [sys.executable, "-m", "bench.bare_spider", str(targets), "--proxy", proxy,
            "--log-file", str(log), *settings_arguments(settings)]


@dataclass(frozen=True)
class CrawlRun:
    """What one crawl did and cost."""

    pages: int  # home pages that reached the spider's callback
    seconds: float  # Scrapy's elapsed_time_seconds: spider opened to spider closed
    wall_seconds: float  # the whole process, start-up and report writing included
    cpu_seconds: float  # the crawl process and its workers
    peak_rss_mb: float  # the crawl process alone
    peak_total_rss_mb: float  # the crawl process plus its worker processes, sampled
    stats: dict[str, float]

    @property
    def report_seconds(self) -> float:
        """The time the crawl spent writing its reports once every page was in."""
        return self.stats.get("footer_audit/report_seconds", 0.0)

    @property
    def pages_per_second(self) -> float:
        """Pages per second of crawling, the reports written at the end left out."""
        return self.pages / (self.seconds - self.report_seconds)


def scrapy_stats(log_text: str) -> dict[str, float]:
    """The numeric entries of the last "Dumping Scrapy stats" block of a log."""
    block = log_text.rpartition("Dumping Scrapy stats")[2]
    return {key: float(value) for key, value in _STAT_LINE.findall(block)}


def status_kb(pid: int, field: str) -> int:
    """A memory field (``"VmHWM:"``, ``"VmRSS:"``…) of a process, in KiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
            return [int(child) for child in children.read().split()]
    except FileNotFoundError:
        return []


def run_crawl(command: Sequence[str], log: Path, *, page_stat: str) -> CrawlRun:
    """Run ``command`` to the end, sampling memory; the Scrapy stat ``page_stat``
    counts the pages. The crawl process's peak is its ``VmHWM`` at the last sample."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.DEVNULL)
    peak_main = peak_total = 0
    try:
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)  # usage covers the workers
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                break
            main = status_kb(process.pid, "VmHWM:")
            total = status_kb(process.pid, "VmRSS:") + sum(
                status_kb(child, "VmRSS:") for child in _children(process.pid))
            peak_main, peak_total = max(peak_main, main), max(peak_total, total)
            time.sleep(SAMPLE_INTERVAL)
    finally:
        if process.returncode is None:
            process.kill()
            process.wait()
    wall = time.perf_counter() - started
    if process.returncode not in (0, 1):  # 1: the crawl found non-compliant sites
        raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}; see {log}")
    stats = scrapy_stats(log.read_text(encoding="utf-8", errors="replace"))
    return CrawlRun(
        pages=int(stats.get(page_stat, 0)), seconds=stats["elapsed_time_seconds"],
        wall_seconds=wall, cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=peak_main / 1024,
        peak_total_rss_mb=max(peak_total, peak_main) / 1024, stats=stats,
    )


def measure_crawl(targets: Path, proxy: str, settings: Sequence[str] = ()) -> CrawlRun:
    """One ``footer-audit crawl`` of ``targets``; the reports go to a temporary directory.
    Its pages are the sites whose row says ``ok`` in ``summary.json``."""
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as work:
        log, out = Path(work, "crawl.log"), Path(work, "out")
        run = run_crawl(crawl_command(targets, out, proxy, log, settings), log,
                        page_stat="item_scraped_count")
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        return dataclasses.replace(run, pages=summary["outcomes"].get("ok", 0))


def measure_bare(targets: Path, proxy: str, settings: Sequence[str] = ()) -> CrawlRun:
    """One run of the do-nothing spider over ``targets``."""
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as work:
        log = Path(work, "bare.log")
        return run_crawl(bare_command(targets, proxy, log, settings), log, page_stat="bare/pages")
