"""Scrapy components that keep a broad crawl's memory flat, whatever the number of sites.

Stock Scrapy keeps something for every site it has ever visited: a download slot for
60 s after its last request, a robots.txt parser for the whole crawl (0.6-1.6 KB a
site) and, in one shared cookie jar, every cookie every site set (about 1.6 KB for a
site that sets two). A home-page audit touches each site for a few seconds, so these
replacements keep such state only for the sites in use: slots are forgotten seconds
after their last request, and parsers and cookie jars are kept for the
``FOOTER_AUDIT_RECENT_SITES`` most recently used sites (a forgotten robots.txt is
fetched again if its site comes back).

They rely on attributes that are private to Scrapy 2.19 (``Downloader._slot_gc``,
``RobotsTxtMiddleware._parsers``); ``pyproject.toml`` pins Scrapy below 2.20.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from scrapy import Request
from scrapy.core.downloader import Downloader
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Response
from scrapy.http.cookies import CookieJar
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.domains import registered_domain

SLOT_IDLE_SECONDS = 5.0


class SiteDownloader(Downloader):
    """Scrapy's downloader, forgetting a site's slot ``SLOT_IDLE_SECONDS`` after its last
    request (plus any download delay) instead of 60 s.

    An idle slot only remembers when its site was last fetched, which matters only
    within the download delay, so nothing changes but memory: at 300 pages/s the
    stock downloader holds 18,000 idle slots.
    """

    _SLOT_GC_INTERVAL = SLOT_IDLE_SECONDS

    def _slot_gc(self, age: float = SLOT_IDLE_SECONDS) -> None:
        super()._slot_gc(age)


class RecentlyUsed(OrderedDict[str, Any]):
    """A mapping that forgets its least recently used entries beyond ``limit``.

    ``pending`` values (a robots.txt still being fetched) are never forgotten.

    >>> recent = RecentlyUsed(2)
    >>> recent["a"], recent["b"] = 1, 2
    >>> recent["a"]
    1
    >>> recent["c"] = 3
    >>> list(recent)
    ['a', 'c']
    """

    pending: tuple[type, ...] = ()

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        for _ in range(len(self) - self.limit):
            oldest, old_value = self.popitem(last=False)
            if isinstance(old_value, self.pending):
                super().__setitem__(oldest, old_value)


class _RobotsParsers(RecentlyUsed):
    pending = (Deferred,)


class _CookieJars(RecentlyUsed):
    def __missing__(self, key: str) -> CookieJar:
        jar = self[key] = CookieJar()
        return jar


def _recent_sites(crawler: Crawler) -> int:
    return crawler.settings.getint("FOOTER_AUDIT_RECENT_SITES")


class SiteRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, keeping the parsers of recently used hosts only."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._parsers = _RobotsParsers(_recent_sites(crawler))


class SiteCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookie middleware with one jar per site (registered domain), kept for
    recently used sites only, instead of one jar holding every site's cookies.

    A site's cookies still reach all of its hosts (``example.cn`` and
    ``www.example.cn``), robots.txt requests included, as in one shared jar.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteCookiesMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.jars = _CookieJars(_recent_sites(crawler))  # type: ignore[assignment]
        return middleware

    def process_request(self, request: Request) -> Request | Response | None:  # type: ignore[override]
        _name_site_jar(request)
        return super().process_request(request)

    def process_response(self, request: Request,  # type: ignore[override]
                         response: Response) -> Request | Response:
        _name_site_jar(request)
        return super().process_response(request, response)


def _name_site_jar(request: Request) -> None:
    """Put the request's site (registered domain, else host) in ``meta["cookiejar"]``
    unless a jar is named already."""
    if "cookiejar" not in request.meta:
        host = urlparse_cached(request).hostname or ""
        request.meta["cookiejar"] = registered_domain(host) or host
