"""scrapy-playwright's download handler, one per crawl for both ``http`` and ``https``.

Scrapy builds a download handler per scheme, and each scrapy-playwright handler
starts a Playwright driver (a node process of 100-150 MB) and, once it renders, a
browser of its own: a crawl rendering both http and https pages would run two of
each, each with its own ``PLAYWRIGHT_MAX_CONTEXTS``. This subclass is built once per
crawler and closed once. It is named by ``crawler.render.playwright_settings`` and
imported only by a crawl that renders (it needs the ``render`` extra).
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from scrapy.crawler import Crawler
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

_SHARED: WeakKeyDictionary[Crawler, SharedPlaywrightHandler] = WeakKeyDictionary()


class SharedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """The crawl's one scrapy-playwright handler, whatever the scheme."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPlaywrightHandler:
        handler = _SHARED.get(crawler)
        if handler is None:
            handler = _SHARED[crawler] = cls(crawler)
        return handler

    async def close(self) -> None:
        """Close the browser and the driver (once, though Scrapy asks per scheme)."""
        if not self._closed:
            self._closed = True
            await super().close()
