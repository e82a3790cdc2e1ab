"""The ``footer`` spider: one home page per target, one result per input line.

It only turns targets into requests and responses (or failures) into result
records; reading the page is ``crawler.analysis`` (inline or in a worker process),
judging and reports are ``reports``. Targets stream from ``start()``, which waits
while the engine has enough work, so a list of a million lines never becomes a
million requests in memory.

Callbacks return their one result instead of yielding it: Scrapy re-reads the source
of every generator callback for each response (its cache is keyed by the bound
method, a new object each time), which cost about 1 ms a page.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.analysis import FetchedPage, PageAnalyser, extract_workers
from crawler.outcomes import classify_failure
from crawler.page_worker import WorkerError
from crawler.redact import redact
from crawler.render import RenderFailed, Renderer, render_error, rendered_fields
from crawler.results import failed_result, invalid_result
from crawler.state import CrawlState, DoneLines, audit_year, crawl_fingerprint
from crawler.targets import (
    Duplicate,
    Invalid,
    Record,
    Target,
    TargetCounts,
    iter_targets,
    www_variant,
)

# Failures after which another scheme or the www. host is worth a try; an HTTP
# status means the server answered, so it is final.
_NEXT_ATTEMPT = frozenset({"dns", "refused", "timeout", "tls", "reset", "connect_failed", "error"})
# When attempts fail differently, the one that got furthest is reported.
_DEPTH = {"dns": 0, "refused": 1, "connect_failed": 1, "timeout": 2, "reset": 3, "tls": 3}
# Spider arguments (``scrapy crawl footer -a out=DIR``, Scrapyd's schedule.json) and the
# settings they set; ``targets`` is a comma-separated list, as are ``patterns``.
SPIDER_ARGUMENTS = {
    "out": "FOOTER_AUDIT_OUT", "rules": "FOOTER_AUDIT_RULES",
    "register": "FOOTER_AUDIT_REGISTER", "lang": "FOOTER_AUDIT_LANG",
    "proxy": "FOOTER_AUDIT_PROXY", "state": "FOOTER_AUDIT_STATE",
    "patterns": "FOOTER_AUDIT_PATTERNS", "audit_year": "FOOTER_AUDIT_YEAR",
}


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_html(content_type: str, body: bytes) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    if media:
        return "html" in media
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta"))


class FooterSpider(scrapy.Spider):
    name = "footer"
    needs_target_args = True  # False: targets come from elsewhere (crawler.distributed)

    def __init__(self, targets: str | list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_args = targets.split(",") if isinstance(targets, str) else list(targets or [])
        self.counts = TargetCounts()
        self.duplicates: dict[str, list[int]] = defaultdict(list)
        self.records: Iterator[Record] = iter(())
        self.crawl_state: CrawlState | None = None
        self.done = DoneLines()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> FooterSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        for argument, setting in SPIDER_ARGUMENTS.items():
            if kwargs.get(argument):
                settings.set(setting, kwargs[argument], priority="spider")
        spider.target_args = spider.target_args or settings.getlist("FOOTER_AUDIT_TARGETS")
        if not spider.target_args and spider.needs_target_args:
            raise ValueError("no targets: pass -a targets=FILE or set FOOTER_AUDIT_TARGETS")
        settings.set("FOOTER_AUDIT_TARGETS", spider.target_args, priority="spider")
        if settings.get("FOOTER_AUDIT_STATE"):
            spider.crawl_state = CrawlState.open(Path(settings["FOOTER_AUDIT_STATE"]),
                                                 crawl_fingerprint(settings))
            spider.done = spider.crawl_state.done()
        year = audit_year(settings)
        workers = extract_workers(settings.get("FOOTER_AUDIT_EXTRACT_WORKERS"))
        spider.analyser = PageAnalyser(settings.getlist("FOOTER_AUDIT_PATTERNS"), year, workers)
        spider.extractor = spider.analyser.extractor
        spider.renderer = Renderer.from_settings(settings, spider.extractor.catalogue.anchors)
        # Through a proxy, plain http requests to every site share the connections to
        # the proxy; any other connection serves one site, and once its home page is
        # in it would sit idle in the pool for minutes (a TLS tunnel costs tens of KB).
        spider.shared_http = bool(settings.get("FOOTER_AUDIT_PROXY"))
        return spider

    async def closed(self, reason: str) -> None:
        await self.analyser.close()

    async def start(self) -> AsyncIterator[Any]:
        """One request (or row) per target; targets whose row the state keeps are skipped."""
        engine = self.crawler.engine
        self.records = iter_targets(self.target_args, self.counts)
        for record in self.records:
            if isinstance(record, Duplicate):
                self.duplicates[record.key].append(record.line)
            elif self.done.has(record):
                continue
            elif isinstance(record, Invalid):
                yield invalid_result(record)
            else:
                while engine is not None and engine.needs_backout():
                    await asyncio.sleep(0.01)
                yield self._request(record, list(record.urls), [], www_tried=False)

    def finish_reading(self) -> None:
        """Read the rest of the target list after a stop, so that the line counts and
        duplicates are complete and the report can say how many targets remain."""
        for record in self.records:
            if isinstance(record, Duplicate):
                self.duplicates[record.key].append(record.line)

    def _request(self, target: Target, urls: list[str], attempts: list[dict[str, str]],
                 *, www_tried: bool) -> scrapy.Request:
        """The home page request; its connection is closed after it unless shared
        (robots.txt, fetched just before, keeps it open for this request)."""
        shared = self.shared_http and urls[0].startswith("http://")
        return scrapy.Request(
            urls[0], callback=self.parse, errback=self.failed, dont_filter=True,
            headers=None if shared else {"Connection": "close"},
            meta={"target": target, "pending": urls[1:], "attempts": attempts,
                  "www_tried": www_tried},
        )

    async def parse(self, response: Response) -> dict[str, Any] | scrapy.Request:
        meta = response.meta
        target: Target = meta["target"]
        attempts = [*meta["attempts"], {"url": response.url, "outcome": "ok", "reason": ""}]
        redirects = list(meta.get("redirect_urls", []))
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        if not _is_html(content_type, response.body):
            media = content_type.split(";", 1)[0].strip().lower() or "unknown"
            return failed_result(target, "not_html", media, f"the home page is {media}, not HTML",
                                 attempts, utc_now(), final_url=response.url,
                                 redirects=redirects, status=response.status)
        try:
            outcome = await self.analyser.analyse(FetchedPage(
                target, response.url, response.status, content_type, response.body, redirects,
                attempts, utc_now(), follow_redirect=not meta.get("page_redirected")))
        except Exception as error:  # a bug in reading the page must not lose the site's row
            self.logger.exception("could not read the home page of %s", target.key)
            return failed_result(target, "unreadable", "internal_error", _describe(error),
                                 attempts, utc_now(), final_url=response.url,
                                 redirects=redirects, status=response.status)
        self.crawler.stats.inc_value("footer_audit/page_cpu_seconds", outcome.cpu_seconds)
        if outcome.result is None:
            return response.request.replace(
                url=outcome.onward, meta={**meta, "page_redirected": True,
                                          "redirect_urls": [*redirects, response.url]})
        if self.renderer is None:
            return outcome.result
        return self._render(target, outcome.result, response.body, content_type)

    def _render(self, target: Target, result: dict[str, Any], body: bytes,
                content_type: str) -> dict[str, Any] | scrapy.Request:
        """The static row, or the browser request of its page when it is to be rendered
        (``--render``; see crawler.render)."""
        assert self.renderer is not None
        reason = self.renderer.reason(result, body, content_type)
        if reason is None:
            return result
        return scrapy.Request(result["final_url"], callback=self.parse_rendered,
                              errback=self.render_failed, dont_filter=True,
                              meta={**self.renderer.request_meta(), "static_result": result,
                                    "render_reason": reason, "target": target})

    async def parse_rendered(self, response: Response) -> dict[str, Any]:
        """The row read from the page as the browser shows it (the static row, with the
        reason, when the browser fails)."""
        assert self.renderer is not None
        meta = response.meta
        static, page = meta["static_result"], meta["playwright_page"]
        try:
            rendered = await self.renderer.read(page)
            outcome = await self.analyser.analyse(FetchedPage(
                meta["target"], rendered.url, response.status, "text/html; charset=utf-8",
                rendered.html.encode("utf-8"), static["redirects"], static["attempts"],
                utc_now(), follow_redirect=False))
            assert outcome.result is not None  # no page redirect is followed here
            shot = await self.renderer.screenshot(page, static["key"],
                                                  outcome.result["footer"]["selector"])
        except RenderFailed as error:
            return {**static, **rendered_fields(meta["render_reason"], error=error.reason)}
        except Exception:  # a bug in reading the rendered page: the static row stands
            self.logger.exception("could not read the rendered page of %s", static["key"])
            return {**static, **rendered_fields(meta["render_reason"], error="internal_error")}
        finally:
            await self.renderer.close(page)
        return {**outcome.result, **rendered_fields(meta["render_reason"], screenshot=shot)}

    async def render_failed(self, failure: Failure) -> dict[str, Any]:
        """A page the browser could not load in time (or at all): the static row, with
        the reason."""
        assert self.renderer is not None
        meta = failure.request.meta  # type: ignore[attr-defined]
        await self.renderer.close(meta.get("playwright_page"))
        return {**meta["static_result"],
                **rendered_fields(meta["render_reason"], error=render_error(failure.value))}

    def failed(self, failure: Failure) -> dict[str, Any] | scrapy.Request:
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        target: Target = meta["target"]
        outcome, reason = classify_failure(failure.value)
        attempts = [*meta["attempts"], {"url": request.url, "outcome": outcome, "reason": reason}]
        if outcome == "unreachable" and reason in _NEXT_ATTEMPT:
            pending = [] if reason == "dns" else meta["pending"]  # DNS fails for every scheme
            if pending:
                return self._request(target, pending, attempts, www_tried=meta["www_tried"])
            www = None if meta["www_tried"] else www_variant(target)
            if www is not None:
                return self._request(target, list(www.urls), attempts, www_tried=True)
        outcome, reason = _furthest(attempts)
        response = getattr(failure.value, "response", None)
        return failed_result(
            target, outcome, reason,
            redact(str(failure.value))[:300] or type(failure.value).__name__,
            attempts, utc_now(), status=getattr(response, "status", None),
            final_url=request.url, redirects=list(meta.get("redirect_urls", [])),
        )


def _describe(error: Exception) -> str:
    """An internal error in a few words: its type and message (a worker's: the last line
    of its traceback).

    >>> _describe(WorkerError("Traceback (most recent call last):\\n  ...\\nKeyError: 'x'\\n"))
    "KeyError: 'x'"
    >>> _describe(ValueError("bad"))
    'ValueError: bad'
    """
    if isinstance(error, WorkerError) and str(error).strip():
        text = str(error).strip().splitlines()[-1]
    else:
        text = f"{type(error).__name__}: {error}"
    return redact(text)[:300]


def _furthest(attempts: list[dict[str, str]]) -> tuple[str, str]:
    """The outcome of the attempt that got furthest (an HTTP answer beats TLS, which
    beats a timeout, a refusal, and a DNS failure)."""
    best = max(attempts, key=lambda a: _DEPTH.get(a["reason"], 9))
    return best["outcome"], best["reason"]
