"""What the spider learns from one fetched home page, in the crawl's process or in a worker.

:func:`analyse_page` is pure (a :class:`FetchedPage` in, a :class:`PageOutcome` out):
it decodes the page and either finds a same-site page redirect to follow or extracts
the findings and builds the site's result row. :class:`PageAnalyser` runs it inline
or in worker processes: Scrapy keeps one core busy, so on a machine with two or more
the page costs the crawl's process little more than its hand-over (see
``FOOTER_AUDIT_EXTRACT_WORKERS`` in ``crawler.settings``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.domains import registered_domain
from crawler.encoding import decode_html
from crawler.extract import Extractor
from crawler.redirects import page_redirect
from crawler.results import page_result
from crawler.targets import Target
from patterns import load_catalogue


@dataclass(frozen=True)
class FetchedPage:
    """An HTML home page as fetched, with the target and the attempts that led to it."""

    target: Target
    url: str
    status: int
    content_type: str
    body: bytes
    redirects: list[str]
    attempts: list[dict[str, str]]
    fetched_at: str
    follow_redirect: bool  # False once a page redirect has been followed


@dataclass(frozen=True)
class PageOutcome:
    """The site's result row, or a same-site page redirect to follow instead;
    ``cpu_seconds`` is what reading the page cost."""

    result: dict[str, Any] | None
    onward: str | None
    cpu_seconds: float


def same_site(url: str, base: str) -> bool:
    """Whether two URLs belong to one registered domain.

    >>> same_site("https://www.a.com.cn/x", "http://a.com.cn/"), same_site("http://b.cn/", "http://a.cn/")
    (True, False)
    """
    return registered_domain(urlsplit(url).hostname) == registered_domain(urlsplit(base).hostname)


def analyse_page(extractor: Extractor, fetched: FetchedPage) -> PageOutcome:
    """Decode the page; return the same-site page redirect to follow, or the result row."""
    started = time.thread_time()
    text, encoding = decode_html(fetched.body, fetched.content_type)
    onward = page_redirect(text, fetched.url) if fetched.follow_redirect else None
    if onward and onward != fetched.url and same_site(onward, fetched.url):
        return PageOutcome(None, onward, time.thread_time() - started)
    result = page_result(
        fetched.target, final_url=fetched.url, redirects=fetched.redirects,
        status=fetched.status, body=fetched.body, page=extractor.extract(text, base_url=fetched.url),
        encoding=encoding, fetched_at=fetched.fetched_at, attempts=fetched.attempts,
    )
    return PageOutcome(result, None, time.thread_time() - started)


def build_extractor(pattern_dirs: Sequence[str], year: int) -> Extractor:
    """The extractor for the built-in catalogue plus ``pattern_dirs``."""
    return Extractor(load_catalogue([Path(directory) for directory in pattern_dirs]), year)


_worker_extractor: Extractor | None = None


def _start_worker(pattern_dirs: Sequence[str], year: int) -> None:
    global _worker_extractor
    _worker_extractor = build_extractor(pattern_dirs, year)


def _analyse_in_worker(fetched: FetchedPage) -> PageOutcome:
    assert _worker_extractor is not None, "the worker was started without its initializer"
    return analyse_page(_worker_extractor, fetched)


class PageAnalyser:
    """Runs :func:`analyse_page` inline (``workers == 0``) or in ``workers`` processes.

    Workers are started (``spawn``: nothing of the reactor is inherited) with the
    first page and load the catalogue themselves.
    """

    def __init__(self, pattern_dirs: Sequence[str], year: int, workers: int) -> None:
        self.extractor = build_extractor(pattern_dirs, year)
        self.pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker, initargs=(list(pattern_dirs), year),
        ) if workers > 0 else None

    async def analyse(self, fetched: FetchedPage) -> PageOutcome:
        """:func:`analyse_page` of one page, wherever pages are analysed."""
        if self.pool is None:
            return analyse_page(self.extractor, fetched)
        # a plain-list target's columns are a read-only mapping, which cannot be pickled
        target = dataclasses.replace(fetched.target, columns=dict(fetched.target.columns))
        return await asyncio.wrap_future(
            self.pool.submit(_analyse_in_worker, dataclasses.replace(fetched, target=target)))

    def close(self) -> None:
        """Stop the workers."""
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
