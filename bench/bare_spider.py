"""The baseline of ``bench/crawl_speed.py``: a spider that fetches and does nothing else.

``python -m bench.bare_spider URLS_FILE --proxy URL --log-file FILE [-s NAME=VALUE]``
fetches every URL of the file (one a line) with the project's own settings
(``crawler.settings``, the proxy middleware included, robots.txt obeyed), changed by
any ``-s``, and a callback that only counts the page (the ``bare/pages`` stat in the
log), so the crawl can be compared with Scrapy's ceiling on the same machine, farm
and targets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from scrapy.settings import Settings

from bench.with_settings import settings_parser


class BareSpider(scrapy.Spider):
    """Requests every URL of ``urls_file``; the callback counts the response."""

    name = "bare"

    def __init__(self, urls_file: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = Path(urls_file).read_text(encoding="utf-8").split()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response: Response) -> None:
        self.crawler.stats.inc_value("bare/pages")


def main(argv: list[str] | None = None) -> None:
    """Crawl the URL file with the project settings and log Scrapy's stats."""
    parser = settings_parser("python -m bench.bare_spider")
    parser.add_argument("urls", type=Path, help="a file of URLs, one a line")
    parser.add_argument("--proxy", required=True, help="the farm's proxy URL")
    parser.add_argument("--log-file", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.setdict(dict(args.settings), priority="project")
    settings.setdict({"FOOTER_AUDIT_PROXY": args.proxy, "LOG_FILE": str(args.log_file),
                      "LOG_LEVEL": "INFO"}, priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl(BareSpider, urls_file=str(args.urls))
    process.start()


if __name__ == "__main__":
    main()
