"""Keep the crawler out of private networks: sites may only be fetched at public addresses.

A target list, a redirect or a DNS answer can point the crawler at the machine it
runs on or the network around it (``http://127.0.0.1:6379/``, the cloud metadata
service at ``169.254.169.254``, a router at ``192.168.1.1``, a name whose DNS
answer is ``10.0.0.5``). Unless ``--allow-private`` (``FOOTER_AUDIT_ALLOW_PRIVATE``)
is given, such a request is never sent: the site's row gets outcome ``blocked`` and
reason ``private_address``.

Two checks, one rule (:func:`is_public_address`):

* :class:`PrivateAddressMiddleware` looks at every request before anything else
  does (robots.txt included, and every redirect and page redirect, which pass
  through it again): a literal IP host (also the numeric forms ``2130706433``,
  ``0x7f.1``, ``127.1`` that resolvers accept) is judged at once. Without a proxy it
  resolves a name (through the resolver below, whose cache the download then uses)
  and blocks a private answer (``localhost`` included).
* :class:`PublicAddressResolver`, Scrapy's caching resolver (``TWISTED_DNS_RESOLVER``),
  refuses private answers for every lookup the downloader makes, so a name that
  answers differently the second time (DNS rebinding) still cannot connect inside;
  that late refusal shows as a ``dns`` failure.

Through a proxy (``--proxy``) the proxy resolves names, from its own network: names
are not resolved here (local DNS may not know them, or know a different, internal
answer), so only literal addresses and ``localhost`` names (RFC 6761: this machine,
wherever it is resolved) are checked; what lies
behind the proxy is the proxy's business. The proxy itself is the user's choice and
is always allowed, whatever its address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any
from urllib.parse import unquote, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+", re.I)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Not globally reachable (IANA special-purpose registries) but taken for global by
# some Python 3.11 releases' ``is_global``.
_NOT_GLOBAL = tuple(ipaddress.ip_network(network) for network in (
    "192.0.0.0/24", "198.18.0.0/15", "100::/64", "2001:db8::/32", "64:ff9b:1::/48",
    "3fff::/20", "5f00::/16"))


def is_public_address(address: IPAddress) -> bool:
    """Whether an address is on the public internet (not private, loopback,
    link-local, CGNAT, multicast, reserved or unspecified); an IPv6 address that
    embeds an IPv4 one (mapped, 6to4, Teredo, NAT64) is judged by that.

    >>> [is_public_address(ipaddress.ip_address(a)) for a in
    ...  ["8.8.8.8", "10.1.2.3", "100.64.0.1", "169.254.169.254", "224.0.0.1", "0.0.0.0",
    ...   "2001:4860::8888", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "2002:a00:1::"]]
    [True, False, False, False, False, False, True, False, False, False, False]
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (
            address.teredo[1] if address.teredo else None)
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    return address.is_global and not (address.is_multicast or address.is_reserved
                                      or address.is_unspecified
                                      or any(address in network for network in _NOT_GLOBAL))


def literal_address(host: str) -> IPAddress | None:
    """The address a host names by itself: an IP literal, or one of the numeric forms
    that ``inet_aton`` (and so most resolvers and proxies) accept.

    >>> [str(literal_address(h)) for h in ["127.0.0.1", "::1", "2130706433", "0x7f.1", "a.cn",
    ...                                    "fe80::1%25eth0", "127.0.0.%31"]]
    ['127.0.0.1', '::1', '127.0.0.1', '127.0.0.1', 'None', 'fe80::1%eth0', '127.0.0.1']
    """
    host = unquote(host).strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_localhost_name(host: str) -> bool:
    """``localhost`` and names under it, which always mean this machine (RFC 6761).

    >>> [is_localhost_name(h) for h in ["localhost", "api.LOCALHOST.", "localhost.cn"]]
    [True, True, False]
    """
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


class BlockedAddress(IgnoreRequest):
    """A request not sent because its host is not public; ``reason`` is the code."""

    reason = "private_address"

    def __init__(self, host: str, address: str | None = None) -> None:
        where = f"{host} ({address})" if address and address != host else host
        super().__init__(f"{where}: not a public address (use --allow-private to audit "
                         f"internal sites)")
        self.host = host


class PrivateAddressError(DNSLookupError):
    """A DNS answer that is not a public address, refused by the resolver."""

    def __init__(self, name: str, address: str) -> None:
        super().__init__(f"{name} resolves to {address}, which is not a public address")
        self.name = name
        self.address = address


def _proxy_host(settings: Any) -> str | None:
    proxy = settings.get("FOOTER_AUDIT_PROXY")
    return urlsplit(proxy).hostname if proxy else None


class PublicAddressResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing answers that are not public addresses
    (except for the proxy's own name, and with ``FOOTER_AUDIT_ALLOW_PRIVATE``)."""

    def __init__(self, reactor: Any, cache_size: int, timeout: float, *,
                 allowed_names: frozenset[str] = frozenset()) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.allowed_names = allowed_names

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> CachingThreadedResolver:
        settings = crawler.settings
        if settings.getbool("FOOTER_AUDIT_ALLOW_PRIVATE"):
            return CachingThreadedResolver.from_crawler(crawler, reactor)
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        proxy = _proxy_host(settings)
        return cls(reactor, cache_size, settings.getfloat("DNS_TIMEOUT"),
                   allowed_names=frozenset([proxy] if proxy else []))

    def getHostByName(self, name: str, timeout: Any = ()) -> Deferred[str]:  # noqa: N802
        answer = super().getHostByName(name, timeout)
        if name not in self.allowed_names:
            answer.addCallback(_public_answer, name)
        return answer


def _public_answer(address: str, name: str) -> str:
    if not is_public_address(ipaddress.ip_address(address)):
        raise PrivateAddressError(name, address)
    return address


class PrivateAddressMiddleware:
    """Downloader middleware: refuse requests to hosts that are not public (see the
    module docstring); disabled by ``FOOTER_AUDIT_ALLOW_PRIVATE``."""

    def __init__(self, resolve_names: bool) -> None:
        self.resolve_names = resolve_names

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressMiddleware:
        if crawler.settings.getbool("FOOTER_AUDIT_ALLOW_PRIVATE"):
            raise NotConfigured
        return cls(resolve_names=not crawler.settings.get("FOOTER_AUDIT_PROXY"))

    async def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        address = literal_address(host)
        if address is not None:
            if not is_public_address(address):
                raise BlockedAddress(host, None if ":" in host else str(address))
        elif self.resolve_names:
            from twisted.internet import reactor

            try:  # the answer is cached for the download; a failed lookup fails it here
                lookup = reactor.resolve(host)  # type: ignore[attr-defined]
                answer = await maybe_deferred_to_future(lookup)
            except PrivateAddressError as refused:  # by PublicAddressResolver
                answer = refused.address
            if not is_public_address(ipaddress.ip_address(answer)):
                raise BlockedAddress(host, answer)
        elif is_localhost_name(host):  # the proxy would resolve it to itself
            raise BlockedAddress(host)
