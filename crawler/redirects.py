"""Redirects written into the page: ``<meta http-equiv="refresh">`` and one-line
JavaScript (``location.href = "/index.html"``). Pure: text in, target URL out."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

SMALL_PAGE = 16_384  # a JavaScript redirect is only believed on a page this small
_META_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*?content\s*=\s*(["'])\s*\d*\s*[;,]?\s*
        (?:url\s*=\s*)?['"]?(?P<url>[^"'>\s]+)""", re.I | re.X)
_META_REFRESH_REVERSED = re.compile(
    r"""<meta[^>]+content\s*=\s*(["'])\s*\d*\s*[;,]\s*(?:url\s*=\s*)?['"]?(?P<url>[^"'>\s]+)[^>]*?
        http-equiv\s*=\s*["']?refresh""", re.I | re.X)
_JS_REDIRECT = re.compile(
    r"""(?:window\.|top\.|self\.|document\.)?location(?:\.href)?\s*=\s*(["'])(?P<url>[^"']+)\1
      | location\.(?:replace|assign)\(\s*(["'])(?P<url2>[^"']+)\3\s*\)""", re.X)


def page_redirect(text: str, base_url: str) -> str | None:
    """The absolute URL a page sends the browser to at once, if any.

    >>> page_redirect('<meta http-equiv="refresh" content="0; url=/cn/">', "https://a.cn/")
    'https://a.cn/cn/'
    >>> page_redirect('<script>window.location.href = "https://www.a.cn/";</script>', "https://a.cn/")
    'https://www.a.cn/'
    >>> page_redirect('<p>hello</p>', "https://a.cn/") is None
    True
    """
    head = text[:8192]
    match = _META_REFRESH.search(head) or _META_REFRESH_REVERSED.search(head)
    if match:
        return urljoin(base_url, html.unescape(match.group("url")))
    if len(text) <= SMALL_PAGE:
        match = _JS_REDIRECT.search(text)
        if match:
            return urljoin(base_url, match.group("url") or match.group("url2"))
    return None
