"""Peak memory of ``footer-audit crawl`` with 10,000 and with 100,000 targets.

Run from the repository root (about 15 minutes on two cores)::

    python -m bench.crawl_memory                       # 10,000 then 100,000 targets
    python -m bench.crawl_memory 20000 --page-size 60000 120000
    python -m bench.crawl_memory -s CONCURRENT_REQUESTS=128   # a variant of the settings

One farm serves the largest number of generated sites (small corporate pages by
default: the crawl really fetches and extracts every page, but memory, not bandwidth,
is measured), each home page setting a session cookie as most real ones do; each
size is then crawled by the real command line in a fresh process, all targets
distinct. Every tenth target is a bare domain (https first, then http, then
``www.``: CONNECT tunnels, fallbacks and DNS failures), the rest ``http://`` URLs.
The peak RSS of the crawl process and of the crawl with its page worker
(``FOOTER_AUDIT_EXTRACT_WORKERS``) is sampled from ``/proc``; the targets apply to the
latter, what the crawl costs in all: at most 300 MB at the largest size and at most
1.2 times the smallest size's figure.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.crawling import CrawlRun, measure_crawl, write_targets
from bench.with_settings import settings_parser
from tests.farm import Farm, Site, generate_sites, parse_sites

DEFAULT_SIZES = (10_000, 100_000)
SEED = 7
LIMIT_MB = 300
GROWTH_LIMIT = 1.2


def with_session_cookie(sites: list[Site]) -> list[Site]:
    """The sites, each home page answering with a ``Set-Cookie`` of its own."""
    definitions = []
    for number, site in enumerate(sites):
        home = {**site.definition["pages"]["/"],
                "headers": {"Set-Cookie": f"PHPSESSID={number:032x}; path=/; HttpOnly"}}
        definitions.append({**site.definition, "pages": {**site.definition["pages"], "/": home}})
    return parse_sites(definitions, "with_session_cookie")


def describe(size: int, run: CrawlRun) -> str:
    """One line per crawl."""
    return (f"{size:>8,} targets: peak RSS {run.peak_total_rss_mb:6.1f} MB "
            f"(the crawl process alone {run.peak_rss_mb:6.1f} MB), "
            f"{run.pages:,} pages ok, {run.pages_per_second:5.0f} pages/s, "
            f"{run.wall_seconds:5.0f} s in all")


def main(argv: list[str] | None = None) -> None:
    """Crawl each size once and compare the peaks."""
    parser = settings_parser("python -m bench.crawl_memory")
    parser.description = __doc__
    parser.add_argument("sizes", nargs="*", type=int, default=DEFAULT_SIZES)
    parser.add_argument("--page-size", nargs=2, type=int, default=(8_000, 16_000),
                        metavar=("MIN", "MAX"), help="bytes of the generated home pages")
    parser.add_argument("--domain-every", type=int, default=10, metavar="N",
                        help="every Nth target is a bare domain (0: none)")
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes)
    settings = [f"{name}={value!r}" for name, value in args.settings]
    print(f"generating {sizes[-1]:,} sites of {args.page_size[0]:,}-{args.page_size[1]:,} bytes",
          flush=True)
    sites = with_session_cookie(generate_sites(sizes[-1], SEED, page_size=tuple(args.page_size)))
    runs = {}
    with Farm(sites, startup_timeout=600) as farm, \
            tempfile.TemporaryDirectory(prefix="bench-memory-") as work:
        for size in sizes:
            targets = Path(work, f"targets-{size}.txt")
            write_targets(sites[:size], targets, domain_every=args.domain_every)
            farm.reset()  # the farm's request log is the farm's memory, not the crawl's
            runs[size] = measure_crawl(targets, farm.proxy_url, settings)
            print(describe(size, runs[size]), flush=True)
    smallest, largest = runs[sizes[0]], runs[sizes[-1]]
    growth = largest.peak_total_rss_mb / smallest.peak_total_rss_mb
    print(f"largest/smallest peak: {growth:.2f}x (target <= {GROWTH_LIMIT}x); "
          f"largest peak {largest.peak_total_rss_mb:.0f} MB (target <= {LIMIT_MB} MB): "
          + ("met" if growth <= GROWTH_LIMIT and largest.peak_total_rss_mb <= LIMIT_MB
             else "NOT met"))


if __name__ == "__main__":
    main()
