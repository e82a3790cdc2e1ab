"""Registered domains from the public suffix list snapshot bundled with tldextract."""

from __future__ import annotations

from functools import lru_cache

import tldextract

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


# A host comes back only while its site is in the crawl (robots.txt, home page,
# cookies, the result row): a small cache gets those hits, and a larger one only grows
# with the list (65,536 entries took 19 MiB, filled by a crawl of 100,000 targets).
@lru_cache(maxsize=4096)
def registered_domain(host: str | None) -> str | None:
    """The registrable domain of a host name, offline.

    >>> registered_domain("www.beian.miit.gov.cn")
    'miit.gov.cn'
    >>> registered_domain("shop.example.com.cn")
    'example.com.cn'
    >>> registered_domain("127.0.0.1") is None
    True
    """
    if not host:
        return None
    parts = _EXTRACT(host)
    return parts.top_domain_under_public_suffix or None
