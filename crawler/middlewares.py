"""Downloader middleware of footer-audit."""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class ProxyMiddleware:
    """Send every request, robots.txt included, through ``FOOTER_AUDIT_PROXY``.

    Setting ``meta["proxy"]`` here, ahead of Scrapy's ``HttpProxyMiddleware``, also
    covers the requests Scrapy makes itself, which a spider's own requests would not.
    """

    def __init__(self, proxy: str) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProxyMiddleware:
        proxy = crawler.settings.get("FOOTER_AUDIT_PROXY")
        if not proxy:
            raise NotConfigured
        return cls(proxy)

    def process_request(self, request: Request) -> None:
        request.meta.setdefault("proxy", self.proxy)
