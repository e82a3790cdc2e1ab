"""Why a site could not be checked: failures turned into an outcome and a reason code.

An unreachable site is not a missing number, so every failure Scrapy can report is
named: ``dns``, ``refused``, ``timeout``, ``tls``, ``reset``, ``http_503``… Through a
Squid-style proxy the proxy's own error page (``X-Squid-Error: ERR_DNS_FAIL``) or the
reason of a refused ``CONNECT`` says what happened beyond it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scrapy.core.downloader.handlers.http11 import TunnelError
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.faults import IncompleteBody
from crawler.safety import BlockedAddress

OUTCOMES = ("ok", "unreachable", "not_html", "too_large", "blocked_by_robots", "blocked",
            "unreadable", "invalid_input")

# Squid's error names (X-Squid-Error header, or the CONNECT reason) -> our reason.
_PROXY_ERRORS = {
    "ERR_DNS_FAIL": "dns",
    "ERR_CONNECT_FAIL": "refused",
    "ERR_READ_TIMEOUT": "timeout",
    "ERR_CONNECT_TIMEOUT": "timeout",
    "ERR_SECURE_CONNECT_FAIL": "tls",
    "ERR_ZERO_SIZE_OBJECT": "reset",
    "ERR_READ_ERROR": "reset",
}
_PROXY_ERROR = re.compile("|".join(_PROXY_ERRORS))
_TLS_WORDS = re.compile(r"\bSSL|TLS|certificate|handshake|wrong version number", re.I)


def proxy_error(text: str | bytes | None) -> str | None:
    """The reason named by a proxy error code in a header or message, if any.

    >>> proxy_error("ERR_DNS_FAIL 0")
    'dns'
    >>> proxy_error(None) is None
    True
    """
    if not text:
        return None
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    match = _PROXY_ERROR.search(text)
    return _PROXY_ERRORS[match.group(0)] if match else None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes, and the reasons Twisted wraps inside its own."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (current.__cause__, current.__context__):
            if inner is not None:
                todo.append(inner)
        for reason in getattr(current, "reasons", None) or ():
            value = getattr(reason, "value", reason)
            if isinstance(value, BaseException):
                todo.append(value)


def classify_failure(exc: BaseException) -> tuple[str, str]:
    """Outcome and reason for an exception that ended a request.

    >>> classify_failure(CannotResolveHostError("x"))
    ('unreachable', 'dns')
    >>> classify_failure(IgnoreRequest("Forbidden by robots.txt"))
    ('blocked_by_robots', 'robots_txt')
    >>> classify_failure(BlockedAddress("10.0.0.1"))
    ('blocked', 'private_address')
    """
    chain = list(_chain(exc))
    for item in chain:
        if isinstance(item, HttpError):
            response = item.response
            named = proxy_error(response.headers.get(b"X-Squid-Error"))
            return "unreachable", named or f"http_{response.status}"
        if isinstance(item, TunnelError):
            return "unreachable", proxy_error(str(item)) or _tunnel_status(str(item))
        if isinstance(item, BlockedAddress):
            return "blocked", item.reason
        if isinstance(item, IncompleteBody):
            return "unreachable", item.reason
        if isinstance(item, IgnoreRequest):
            text = str(item)
            if "robots.txt" in text:
                return "blocked_by_robots", "robots_txt"
            if "DOWNLOAD_MAXSIZE" in text or "max size" in text:
                return "too_large", "decompressed_size"
            if "max redirections" in text:
                return "unreachable", "redirect_loop"
            return "unreachable", "ignored"
        if isinstance(item, DownloadCancelledError) and "max size" in str(item):
            return "too_large", "max_size"
    for item in chain:
        if _TLS_WORDS.search(f"{type(item).__module__}.{type(item).__name__} {item}"):
            return "unreachable", "tls"
    reasons = {_plain_reason(item) for item in chain}
    # the innermost cause is the most specific: a wrapper says only "download failed"
    for reason in ("dns", "refused", "timeout", "reset", "connect_failed"):
        if reason in reasons:
            return "unreachable", reason
    return "unreachable", "error"


def _tunnel_status(message: str) -> str:
    match = re.search(r"'status': (\d{3})", message)
    return f"proxy_{match.group(1)}" if match else "proxy"


def _plain_reason(item: BaseException) -> str | None:
    if isinstance(item, (CannotResolveHostError, net_error.DNSLookupError)):
        return "dns"
    if isinstance(item, (DownloadConnectionRefusedError, net_error.ConnectionRefusedError)):
        return "refused"
    if isinstance(item, (DownloadTimeoutError, net_error.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(item, (ResponseDataLossError, net_error.ConnectionLost, ResponseFailed,
                         net_error.ConnectionDone, ResponseNeverReceived)):
        return "reset"
    if isinstance(item, (DownloadFailedError, net_error.ConnectError)):
        return "connect_failed"
    return None
