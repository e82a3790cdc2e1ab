"""Memory of ``footer-audit crawl --render always`` over 100 and over 500 farm sites.

Run from the repository root (a few minutes on two cores)::

    python -m bench.render_memory              # 100 then 500 sites
    python -m bench.render_memory 50 200       # other sizes
    python -m bench.render_memory -s FOOTER_AUDIT_RENDER_CONCURRENCY=8   # a variant

The crawls run with ``--render-wait 1``: a page that shows no number is read after
1 s instead of 5 s (memory, not patience, is measured).

Every site is rendered in the system's headless Chromium, one browser context per
site, closed after use (crawler.render): if pages or contexts leaked, the browser's
memory would grow with the number of sites. One farm serves the generated sites (small
corporate pages); each size is crawled by the real command line in a fresh process.
While it runs, this process samples from ``/proc``: the crawl process's peak RSS
(``VmHWM``), the peak of Playwright's driver (node), and the peak of all the browser's
processes together, as the sum of their proportional set sizes (``Pss``: memory
shared between Chromium's processes is counted once). Target: the largest size's
peaks at most 1.3 times the smallest's.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.crawling import REPOSITORY, crawl_command, status_kb, write_targets
from bench.with_settings import settings_parser
from crawler.render import find_browser
from tests.farm import Farm, generate_sites

DEFAULT_SIZES = (100, 500)
SEED = 23
SAMPLE_INTERVAL = 0.25
GROWTH_LIMIT = 1.3


@dataclass
class Peaks:
    """Peak memory (MB) of one crawl, by process kind, and what it did."""

    crawl: float = 0.0
    driver: float = 0.0
    browser: float = 0.0
    browser_processes: int = 0
    rendered: int = 0
    seconds: float = 0.0


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        kids = []
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())  # a child belongs to a thread
        except OSError:
            tasks = []  # the process has just ended
        for task in tasks:
            try:
                kids += [int(child) for child in (task / "children").read_text().split()]
            except OSError:
                pass
        found.extend(kids)
        pending.extend(kids)
    return found


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as comm:
            return comm.read().strip()
    except OSError:
        return ""


def measure(targets: Path, proxy: str, work: Path, settings: list[str]) -> Peaks:
    """Crawl ``targets`` with ``--render always`` and sample the process tree."""
    out, log = work / "out", work / "crawl.log"
    command = [*crawl_command(targets, out, proxy, log, settings), "--render", "always",
               "--render-wait", "1"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.DEVNULL)
    peaks = Peaks()
    try:
        while process.poll() is None:
            driver = browser = count = 0
            for pid in _descendants(process.pid):
                name = _name(pid)
                if name.startswith("node"):  # Playwright's driver
                    driver += status_kb(pid, "VmRSS:")
                elif name.startswith("chrom"):
                    browser += _pss_kb(pid)
                    count += 1
            peaks.crawl = max(peaks.crawl, status_kb(process.pid, "VmHWM:") / 1024)
            peaks.driver = max(peaks.driver, driver / 1024)
            peaks.browser = max(peaks.browser, browser / 1024)
            peaks.browser_processes = max(peaks.browser_processes, count)
            time.sleep(SAMPLE_INTERVAL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    peaks.seconds = time.perf_counter() - started
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}; see {log}")
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text("utf-8").splitlines()]
    peaks.rendered = sum(row["render"] == "browser" for row in rows)
    return peaks


def describe(size: int, peaks: Peaks) -> str:
    """One line per crawl."""
    return (f"{size:>5} sites ({peaks.rendered} rendered, {peaks.seconds:4.0f} s): peak RSS "
            f"crawl {peaks.crawl:6.1f} MB, driver {peaks.driver:6.1f} MB, browser PSS "
            f"{peaks.browser:6.1f} MB in at most {peaks.browser_processes} processes")


def main(argv: list[str] | None = None) -> None:
    """Crawl each size once and compare the peaks."""
    parser = settings_parser("python -m bench.render_memory")
    parser.description = __doc__
    parser.add_argument("sizes", nargs="*", type=int, default=DEFAULT_SIZES)
    args = parser.parse_args(argv)
    settings = [f"{name}={value!r}" for name, value in args.settings]
    if find_browser() is None:
        raise SystemExit("no Chromium browser: make browser installs it")
    sizes = sorted(args.sizes)
    sites = generate_sites(sizes[-1], SEED, page_size=(8_000, 16_000))
    runs: dict[int, Peaks] = {}
    with Farm(sites, startup_timeout=300) as farm, \
            tempfile.TemporaryDirectory(prefix="bench-render-") as work:
        for size in sizes:
            run_dir = Path(work, str(size))
            run_dir.mkdir()
            targets = run_dir / "targets.txt"
            write_targets(sites[:size], targets)
            farm.reset()
            runs[size] = measure(targets, farm.proxy_url, run_dir, settings)
            print(describe(size, runs[size]), flush=True)
    small, large = runs[sizes[0]], runs[sizes[-1]]
    ratios = {kind: getattr(large, kind) / max(getattr(small, kind), 0.1)
              for kind in ("crawl", "driver", "browser")}
    print(f"{sizes[-1]}/{sizes[0]} sites peak ratio: "
          + ", ".join(f"{kind} {ratio:.2f}x" for kind, ratio in ratios.items())
          + f" (target <= {GROWTH_LIMIT}x): "
          + ("met" if max(ratios.values()) <= GROWTH_LIMIT else "NOT met"))


if __name__ == "__main__":
    main()
