"""What the spider learns from one fetched home page, in the crawl's process or in a worker.

:func:`analyse_page` is pure (a :class:`FetchedPage` in, a :class:`PageOutcome` out):
it decodes the page and either finds a same-site page redirect to follow or extracts
the findings and builds the site's result row. :class:`PageAnalyser` runs it inline
or in worker processes: Scrapy keeps one core busy, so on a machine with two or more
the page costs the crawl's process little more than its hand-over (see
``FOOTER_AUDIT_EXTRACT_WORKERS`` in ``crawler.settings``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.domains import registered_domain
from crawler.encoding import decode_html
from crawler.extract import Extractor
from crawler.page_worker import PageWorkers, WorkerGone
from crawler.redirects import page_redirect
from crawler.results import page_result
from crawler.targets import Target
from patterns import load_catalogue

logger = logging.getLogger(__name__)


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


def extract_workers(setting: object) -> int:
    """The number of page workers ``FOOTER_AUDIT_EXTRACT_WORKERS`` asks for: a count, or
    ``"auto"`` (one when this process may run on two cores or more).

    >>> extract_workers("2"), extract_workers(0), extract_workers("auto") in (0, 1)
    (2, 0, True)
    """
    if setting in (None, "", "auto"):
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count() or 1
        return 1 if cores >= 2 else 0
    try:
        workers = int(str(setting))
    except ValueError:
        raise ValueError("FOOTER_AUDIT_EXTRACT_WORKERS must be a number or 'auto', "
                         f"not {setting!r}") from None
    if workers < 0:
        raise ValueError(f"FOOTER_AUDIT_EXTRACT_WORKERS must not be negative, not {workers}")
    return workers


def page_reader(spec: dict[str, Any]) -> Callable[[FetchedPage], PageOutcome]:
    """What a worker process runs (``crawler.page_worker``): :func:`analyse_page` with
    the extractor that ``spec`` (pattern folders, audit year) describes."""
    extractor = build_extractor(spec["patterns"], spec["year"])
    return partial(analyse_page, extractor)


class PageAnalyser:
    """Runs :func:`analyse_page` inline (``workers == 0``) or in ``workers`` processes
    (``crawler.page_worker``), started with the first page; they load the catalogue
    themselves. Should the workers exit, pages are read inline from then on."""

    def __init__(self, pattern_dirs: Sequence[str], year: int, workers: int) -> None:
        self.extractor = build_extractor(pattern_dirs, year)
        spec = {"patterns": list(pattern_dirs), "year": year}
        self.workers = PageWorkers(workers, page_reader, spec) if workers > 0 else None

    async def analyse(self, fetched: FetchedPage) -> PageOutcome:
        """:func:`analyse_page` of one page, wherever pages are analysed."""
        if self.workers is not None:
            # a plain-list target's columns are a read-only mapping, which cannot be pickled
            target = dataclasses.replace(fetched.target, columns=dict(fetched.target.columns))
            try:
                outcome: PageOutcome = await self.workers.submit(
                    dataclasses.replace(fetched, target=target))
            except WorkerGone as gone:
                if self.workers is not None:  # the first page to find out says so
                    logger.warning("pages are read in the crawl's process from now on: %s", gone)
                    await self.close()
            else:
                return outcome
        return analyse_page(self.extractor, fetched)

    async def close(self) -> None:
        """Stop the workers."""
        if self.workers is not None:
            workers, self.workers = self.workers, None
            await workers.stop()
