"""A one-line progress display on standard error for interactive crawls."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task


def progress_line(done: int, total: int | None, elapsed: float, earlier: int = 0) -> str:
    """``done/total``, the rate and the time left; ``earlier`` of the ``done`` sites
    were done by earlier runs of a resumed crawl and do not count in the rate.

    >>> progress_line(50, 200, 10.0)
    '50/200 sites  5.0/s  ETA 0:30'
    >>> progress_line(3, None, 0.0)
    '3 sites'
    >>> progress_line(150, 200, 10.0, earlier=100)
    '150/200 sites  5.0/s  ETA 0:10'
    """
    rate = (done - earlier) / elapsed if elapsed > 0 else 0.0
    if not total:
        return f"{done} sites" + (f"  {rate:.1f}/s" if rate else "")
    text = f"{done}/{total} sites"
    if rate:
        left = max(0, total - done) / rate
        text += f"  {rate:.1f}/s  ETA {int(left // 60)}:{int(left % 60):02d}"
    return text


class Progress:
    """Scrapy extension: rewrites one line on the terminal twice a second.

    Enabled by ``FOOTER_AUDIT_PROGRESS``; ``FOOTER_AUDIT_PROGRESS_TOTAL`` is the
    expected number of results (input lines), if known.
    """

    def __init__(self, crawler: Crawler, total: int | None, stream: TextIO = sys.stderr) -> None:
        self.crawler = crawler
        self.total = total
        self.stream = stream
        self.done = self.earlier = 0
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.show)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        if not crawler.settings.getbool("FOOTER_AUDIT_PROGRESS"):
            raise NotConfigured
        extension = cls(crawler, crawler.settings.getint("FOOTER_AUDIT_PROGRESS_TOTAL") or None)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def item_scraped(self) -> None:
        self.done += 1

    def opened(self) -> None:
        # a resumed crawl starts from the rows its state keeps (FooterSpider.done)
        self.done = self.earlier = self.crawler.spider.done.rows
        self.started = time.monotonic()
        self.loop.start(0.5)

    def show(self) -> None:
        line = progress_line(self.done, self.total, time.monotonic() - self.started,
                             self.earlier)
        self.stream.write("\r" + line.ljust(60))
        self.stream.flush()

    def closed(self) -> None:
        if self.loop.running:
            self.loop.stop()
        self.show()
        self.stream.write("\n")
