"""Crawl throughput: ``footer-audit crawl`` against a do-nothing Scrapy spider.

Run from the repository root (about 3 minutes on two cores)::

    python -m bench.crawl_speed                        # 2,500 sites, best of 3
    python -m bench.crawl_speed --sites 5000 --repeat 5
    python -m bench.crawl_speed -s CONCURRENT_REQUESTS=128    # both sides changed
    python -m bench.crawl_speed --variant AUTOTHROTTLE_ENABLED=True

The farm serves generated corporate home pages of 60-120 KB (a tenth GBK, 30 %
gzipped, 30 % with a robots.txt); every site is a target, as an ``http://`` URL
(TLS handshakes would dominate both sides). In the same run and through the same
farm, in turn:

* ``bare``: ``bench.bare_spider``, the project's Scrapy settings and a callback that
  does nothing, so Scrapy's own ceiling on this machine;
* ``crawl``: the real command line, reports written;
* ``crawl+X``: the command line with a setting changed (by default pages read in the
  crawl's own process, ``FOOTER_AUDIT_EXTRACT_WORKERS=0``, to show what the page
  worker buys).

Pages/s is home pages / seconds of crawling: Scrapy's ``elapsed_time_seconds``
(spider opened to closed; process start-up is out) less the time the crawl then
spends writing its reports, which is printed apart (``bench/report_speed.py``
measures the reports). Best of ``--repeat`` runs, since the machine is shared.
Target: crawl/bare >= 0.8. Also printed per page: the CPU of the crawl process and
its workers (start-up included), the farm's CPU, and the CPU the crawl spent
reading each page (decoding, extraction, result row) wherever it ran.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.crawling import CrawlRun, measure_bare, measure_crawl, write_targets
from bench.with_settings import parse_setting, settings_parser
from tests.farm import Farm, generate_sites
from tests.farm.bench import cpu_seconds

SEED = 3
RATIO_TARGET = 0.8
DEFAULT_VARIANTS = ("FOOTER_AUDIT_EXTRACT_WORKERS=0",)


def describe(name: str, run: CrawlRun, farm_cpu: float) -> str:
    """One line per run."""
    line = (f"  {name:<36} {run.pages_per_second:6.1f} pages/s  "
            f"CPU {run.cpu_seconds / run.pages * 1000:4.1f} ms/page (farm "
            f"{farm_cpu / run.pages * 1000:3.1f})  peak RSS {run.peak_total_rss_mb:4.0f} MB")
    reading = run.stats.get("footer_audit/page_cpu_seconds")
    if reading is not None:
        line += (f"  page reading {reading / run.pages * 1000:4.2f} ms/page"
                 f"  reports {run.report_seconds:4.1f} s")
    return line


def main(argv: list[str] | None = None) -> None:
    """Measure every side ``--repeat`` times, interleaved, and print the best of each."""
    parser = settings_parser("python -m bench.crawl_speed")
    parser.description = __doc__
    parser.add_argument("--sites", type=int, default=2500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variant", action="append", type=parse_setting, metavar="NAME=VALUE",
                        help="also measure the crawl with this setting changed (repeatable; "
                             f"default: {', '.join(DEFAULT_VARIANTS)})")
    args = parser.parse_args(argv)
    common = [f"{name}={value!r}" for name, value in args.settings]
    variants = args.variant or [parse_setting(text) for text in DEFAULT_VARIANTS]
    sides: dict[str, Callable[[Path, str], CrawlRun]] = {
        "bare": lambda targets, proxy: measure_bare(targets, proxy, common),
        "crawl": lambda targets, proxy: measure_crawl(targets, proxy, common),
    }
    for name, value in variants:
        setting = f"{name}={value!r}"
        sides[f"crawl+{setting}"] = (
            lambda targets, proxy, setting=setting: measure_crawl(targets, proxy,
                                                                  [*common, setting]))
    sites = generate_sites(args.sites, SEED)
    best: dict[str, CrawlRun] = {}
    with Farm(sites) as farm, tempfile.TemporaryDirectory(prefix="bench-speed-") as work:
        targets = Path(work, "targets.txt")
        count = write_targets(sites, targets)
        print(f"{count:,} http:// targets, {args.repeat} rounds; settings changed: "
              f"{', '.join(common) or 'none'}", flush=True)
        for round_number in range(1, args.repeat + 1):
            print(f"round {round_number}", flush=True)
            for name, measure in sides.items():
                farm.reset()
                farm_cpu_before = cpu_seconds(farm.pid)
                run = measure(targets, farm.proxy_url)
                print(describe(name, run, cpu_seconds(farm.pid) - farm_cpu_before), flush=True)
                if run.pages != count:
                    raise SystemExit(f"{name}: {run.pages:,} pages fetched of {count:,}")
                if name not in best or run.pages_per_second > best[name].pages_per_second:
                    best[name] = run
    baseline = best["bare"].pages_per_second
    print(f"best of {args.repeat}:")
    for name, run in best.items():
        print(f"  {name:<36} {run.pages_per_second:6.1f} pages/s  "
              f"ratio to bare {run.pages_per_second / baseline:4.2f}")
    ratio = best["crawl"].pages_per_second / baseline
    print(f"crawl/bare = {ratio:.2f} (target >= {RATIO_TARGET}): "
          + ("met" if ratio >= RATIO_TARGET else "NOT met"))


if __name__ == "__main__":
    main()
