"""Downloader middleware for servers that misbehave: cut-off compressed bodies and
``Retry-After``.

* :class:`StrictCompressionMiddleware` is Scrapy's ``HttpCompressionMiddleware``
  except that a gzip or deflate body that stops before its end (or is corrupt) is
  not passed on as a shorter page, as Scrapy's forgiving ``gunzip`` does: the site
  gets outcome ``unreachable`` and reason ``truncated_body`` (or ``corrupt_body``),
  and no page half-read is ever audited. A body that expands beyond
  ``DOWNLOAD_MAXSIZE`` is still stopped as soon as it does (``too_large``).
* :class:`RetryAfterMiddleware` is Scrapy's ``RetryMiddleware`` that waits as long
  as a 429 or 503 answer's ``Retry-After`` asks before retrying, up to
  ``FOOTER_AUDIT_RETRY_AFTER_MAX`` seconds (60). A longer wait is not retried at
  all: the site is reported as ``http_429`` (or ``http_503``). The wait holds one of
  the crawl's ``CONCURRENT_REQUESTS`` places, as a slow download would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import zlib

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
# raises the error HttpCompressionMiddleware turns into "exceeded DOWNLOAD_MAXSIZE"
# (private to Scrapy 2.19, which pyproject.toml pins below 2.20)
from scrapy.utils._compression import _check_max_size

_CHUNK = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


class IncompleteBody(IgnoreRequest):
    """A compressed body that ends early (``truncated_body``) or cannot be decoded
    (``corrupt_body``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def decompress(body: bytes, wbits: int, max_size: int) -> bytes:
    """A whole zlib/gzip/raw deflate stream (``wbits`` as for :mod:`zlib`; gzip
    members one after another are joined), never more than ``max_size`` bytes out.

    >>> import gzip
    >>> decompress(gzip.compress(b"<p>hello</p>") * 2, 31, 0)
    b'<p>hello</p><p>hello</p>'
    >>> decompress(gzip.compress(b"<p>hello</p>" * 50)[:-4], 31, 0)  # no length at the end
    Traceback (most recent call last):
    crawler.faults.IncompleteBody: the compressed body ends early (600 bytes decoded)
    """
    out = bytearray()
    data = body
    while True:
        decoder = zlib.decompressobj(wbits)
        try:
            chunk = decoder.decompress(data, _CHUNK)
            while True:
                out += chunk
                _check_max_size(len(out), max_size)
                if decoder.eof or not decoder.unconsumed_tail:
                    break
                chunk = decoder.decompress(decoder.unconsumed_tail, _CHUNK)
        except zlib.error as error:
            raise IncompleteBody("corrupt_body",
                                 f"the compressed body is corrupt: {error}") from None
        if not decoder.eof:
            raise IncompleteBody("truncated_body",
                                 f"the compressed body ends early ({len(out)} bytes decoded)")
        data = decoder.unused_data
        if not (wbits > 16 and data.startswith(_GZIP_MAGIC)):
            return bytes(out)  # anything after the stream is padding, as browsers read it


class StrictCompressionMiddleware(HttpCompressionMiddleware):
    """``HttpCompressionMiddleware`` that refuses incomplete gzip and deflate bodies."""

    @staticmethod
    def _decode(body: bytes, encoding: bytes, max_size: int) -> bytes:
        if encoding in {b"gzip", b"x-gzip"}:
            return decompress(body, 31, max_size)
        if encoding == b"deflate":  # zlib-wrapped, or raw as some servers send it
            return decompress(body, 15 if _zlib_header(body) else -15, max_size)
        return HttpCompressionMiddleware._decode(body, encoding, max_size)


def _zlib_header(body: bytes) -> bool:
    """Whether a deflate body starts with a zlib header (RFC 1950) rather than raw data."""
    return len(body) >= 2 and body[0] & 0x0F == 8 and int.from_bytes(body[:2]) % 31 == 0


def retry_after_seconds(value: bytes | None, now: dt.datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` header asks for (seconds, or an HTTP date), if any.

    >>> retry_after_seconds(b"120"), retry_after_seconds(b"soon"), retry_after_seconds(None)
    (120.0, None, None)
    >>> retry_after_seconds(b"Sun, 29 Nov 2026 12:00:30 GMT",
    ...                     dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC))
    30.0
    """
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """``RetryMiddleware`` that honours ``Retry-After`` up to a cap (see the module)."""

    max_wait: float = 60.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.max_wait = crawler.settings.getfloat("FOOTER_AUDIT_RETRY_AFTER_MAX", 60.0)
        return middleware

    async def process_response(self, request: Request,  # type: ignore[override]
                               response: Response) -> Request | Response:
        wait = None
        if response.status in self.retry_http_codes:
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is not None and wait > self.max_wait:
            return response  # not worth waiting for: reported with its status
        result = super().process_response(request, response)
        if wait and isinstance(result, Request):
            await asyncio.sleep(wait)
        return result
