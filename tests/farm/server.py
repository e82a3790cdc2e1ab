"""The farm's proxy server: one asyncio protocol that answers for every virtual host.

Clients use it as an HTTP proxy, as Scrapy does with ``--proxy``:

* ``GET http://host/path HTTP/1.1`` (absolute form) is answered from the site's pages;
* ``CONNECT host:443`` is answered ``200`` and TLS is terminated here with a
  certificate made at start-up; requests inside the tunnel go to that host;
* unknown hosts answer like a Squid proxy whose DNS lookup failed, and a scheme the
  site does not serve like a refused connection (``X-Squid-Error`` header);
* ``http://control.farm.invalid/requests`` returns the request log as JSON and
  ``POST http://control.farm.invalid/reset`` clears it and the fault counters;
* with ``proxy_auth`` (``USER:PASSWORD``), proxy requests and CONNECTs without that
  Basic ``Proxy-Authorization`` get ``407`` (the control host needs none).

Connections are kept alive (HTTP/1.1). Small replies are written at once from
``data_received``; only faults and large bodies take an asyncio task.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools
import json
import socket
import ssl
import struct
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.client import responses

from tests.farm.bodies import Body, gzip_body, status_html
from tests.farm.sites import Fault, Site
from tests.farm.tls import server_context

CONTROL_HOST = "control.farm.invalid"
LOOPBACK = "127.0.0.1"
MAX_HEAD = 64 * 1024
INLINE_LIMIT = 1 << 20  # larger bodies are streamed with flow control
SLOW_FAULTS = frozenset({"delay", "drip", "timeout", "reset"})
TLS_GARBAGE = b"SSH-2.0-OpenSSH_8.9 this is not a TLS handshake\r\n" * 4
DNS_FAIL = (503, "ERR_DNS_FAIL", "ERR_DNS_FAIL 0", "Unable to determine IP address from host name")
CONNECT_FAIL = (502, "ERR_CONNECT_FAIL", "ERR_CONNECT_FAIL 111", "Connection refused by")


@dataclass(frozen=True)
class ServedRequest:
    """One request the farm received; ``status`` is None when it was never answered."""

    time: float
    connection: int
    method: str
    scheme: str
    host: str
    path: str
    status: int | None
    fault: str | None


@dataclass(frozen=True)
class Request:
    """One parsed request head."""

    method: str
    target: str
    version: str
    headers: dict[str, str]  # names in lower case

    @property
    def keep_alive(self) -> bool:
        """HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only if asked."""
        tokens = ",".join((self.headers.get("connection", ""),
                           self.headers.get("proxy-connection", ""))).lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


@dataclass(frozen=True)
class Reply:
    """A response to send: status, headers (without Content-Length), body, fault."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: Body
    fault: Fault | None = None  # the fault applied, for the slow path and the log

    def head(self, keep_alive: bool) -> bytes:
        """Status line and headers, Content-Length included."""
        lines = [f"HTTP/1.1 {self.status} {responses.get(self.status, 'Unknown')}",
                 *(f"{name}: {value}" for name, value in self.headers),
                 f"Content-Length: {self.body.length}"]
        if not keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def status_reply(status: int, *headers: tuple[str, str], fault: Fault | None = None) -> Reply:
    """The web server's own page for a status."""
    return Reply(status, (("Content-Type", "text/html"), *headers),
                 Body.of(status_html(status).encode()), fault)


def squid_reply(error: tuple[int, str, str, str], host: str) -> Reply:
    """The error page a Squid proxy sends when it cannot reach ``host``."""
    status, _, code, text = error
    page = (f"<html><head><title>ERROR: The requested URL could not be retrieved</title></head>"
            f"<body><h1>ERROR</h1><h2>The requested URL could not be retrieved</h2>"
            f"<p>{text} <q>{host}</q></p></body></html>\n")
    headers = (("Server", "squid"), ("Mime-Version", "1.0"),
               ("Content-Type", "text/html;charset=utf-8"), ("X-Squid-Error", code))
    return Reply(status, headers, Body.of(page.encode()))


def squid_connect_refusal(error: tuple[int, str, str, str]) -> bytes:
    """Squid's answer to a CONNECT it cannot open; the connection is closed after it."""
    status, name, code, _ = error
    return (f"HTTP/1.1 {status} {responses[status]} ({name})\r\nServer: squid\r\n"
            f"X-Squid-Error: {code}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").encode()


def split_absolute(target: str) -> tuple[str, str] | None:
    """Host and path of an absolute-form ``http://`` target, or None.

    >>> split_absolute("http://WWW.Example.cn:80/a/b?x=1")
    ('www.example.cn', '/a/b?x=1')
    >>> split_absolute("http://example.cn?q"), split_absolute("/index.html")
    (('example.cn', '/?q'), None)
    """
    if target[:7].lower() != "http://":
        return None
    rest = target[7:]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, path = rest[:cut], rest[cut:]
    host = authority.rpartition("@")[2].partition(":")[0].lower().rstrip(".")
    return host, path if path.startswith("/") else "/" + path


class FarmState:
    """What all connections share: the sites by host name, the log, the fault counters."""

    def __init__(self, sites: Iterable[Site], tls_context: ssl.SSLContext,
                 proxy_auth: str | None = None) -> None:
        self.sites = {name: site for site in sites for name in site.names}
        self.tls_context = tls_context
        self.credentials = None if proxy_auth is None else (
            "Basic " + base64.b64encode(proxy_auth.encode()).decode())
        self.log: list[tuple[float, int, str, str, str, str, int | None, str | None]] = []
        self.failures: Counter[tuple[str, str]] = Counter()
        self.connection_ids = itertools.count(1)

    def authorised(self, request: Request) -> bool:
        """Whether a proxy request carries the proxy's credentials (if it has any)."""
        return self.credentials is None or \
            request.headers.get("proxy-authorization") == self.credentials

    def record(self, connection: int, method: str, scheme: str, host: str, path: str,
               status: int | None, fault: Fault | None) -> None:
        """Add one request to the log (see :class:`ServedRequest`)."""
        self.log.append((time.time(), connection, method, scheme, host, path, status,
                         fault.kind if fault else None))

    def reply(self, request: Request, scheme: str, host: str, path: str) -> Reply:
        """The reply for one request to a virtual host, faults included."""
        site = self.sites.get(host)
        if site is None or not site.dns:
            return squid_reply(DNS_FAIL, host)
        if scheme not in site.schemes:
            return squid_reply(CONNECT_FAIL, host)
        page = site.page(path)
        fault = page.fault or site.fault
        if fault is not None and fault.kind == "status":
            key = (site.host, path)
            if fault.times is None or self.failures[key] < fault.times:
                self.failures[key] += 1
                retry = () if fault.retry_after is None else (("Retry-After",
                                                                str(fault.retry_after)),)
                return status_reply(fault.status, *retry, fault=fault)
            fault = None
        body = page.render()
        headers = [("Content-Type", page.content_type_header), *page.headers]
        if page.gzip and "gzip" in request.headers.get("accept-encoding", ""):
            body = gzip_body(body)
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        if fault is not None and fault.kind == "truncate":
            body = Body.of(body.head(fault.keep))
        return Reply(page.status, tuple(headers), body, fault)

    def control(self, request: Request, path: str) -> Reply:
        """The control host: ``GET /requests`` (the log) and ``POST /reset``."""
        if request.method == "GET" and path == "/requests":
            fields = [f.name for f in dataclasses.fields(ServedRequest)]
            entries = [dict(zip(fields, entry, strict=True)) for entry in self.log]
            return Reply(200, (("Content-Type", "application/json"),),
                         Body.of(json.dumps(entries).encode()))
        if request.method == "POST" and path == "/reset":
            self.log.clear()
            self.failures.clear()
            return Reply(200, (("Content-Type", "text/plain"),), Body.of(b"reset\n"))
        return Reply(404, (("Content-Type", "text/plain"),), Body.of(b"no such control\n"))


class ProxyProtocol(asyncio.Protocol):
    """One client connection: plain proxy requests, or a CONNECT tunnel to one host."""

    def __init__(self, state: FarmState) -> None:
        self.state = state
        self.id = next(state.connection_ids)
        self.raw: asyncio.Transport | None = None  # the TCP transport
        self.transport: asyncio.Transport | None = None  # TCP, or TLS inside a tunnel
        self.buffer = bytearray()
        self.tunnel_host: str | None = None
        self.busy = False  # a reply or a TLS handshake is in progress: later requests wait
        self.answer_hello_with_garbage = False  # the "tls garbage" fault, once CONNECT is open
        self.task: asyncio.Task[None] | None = None
        self.writable = asyncio.Event()
        self.writable.set()

    # --- asyncio callbacks ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.raw = self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.answer_hello_with_garbage and self.transport is not None:
            # a server that does not speak TLS: the client's handshake fails on our reply
            self.transport.write(TLS_GARBAGE)
            self.transport.close()
            return
        self.buffer += data
        if not self.busy:
            self.process()

    def connection_lost(self, exc: Exception | None) -> None:
        self.writable.set()
        if self.task is not None:
            self.task.cancel()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    # --- requests ---------------------------------------------------------------------

    def process(self) -> None:
        """Answer the buffered requests in order until one needs to wait."""
        while not self.busy and self.transport is not None and not self.transport.is_closing():
            request = self.next_request()
            if request is None:
                return
            self.handle(request)

    def next_request(self) -> Request | None:
        """Take one complete request (head and any body) off the buffer."""
        while self.buffer[:2] == b"\r\n":
            del self.buffer[:2]
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self.refuse(431)
            return None
        lines = self.buffer[:end].decode("latin-1").split("\r\n")
        request_line = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = headers.get("content-length", "0")
        if len(request_line) != 3 or not length.isdigit():
            self.refuse(400)
            return None
        if len(self.buffer) < end + 4 + int(length):
            return None
        del self.buffer[: end + 4 + int(length)]
        return Request(request_line[0].upper(), request_line[1], request_line[2], headers)

    def refuse(self, status: int) -> None:
        """Answer a request that cannot be parsed, and hang up."""
        assert self.transport is not None
        reply = status_reply(status)
        self.transport.write(reply.head(keep_alive=False) + reply.body.join())
        self.transport.close()

    def handle(self, request: Request) -> None:
        """Route one request: tunnel, CONNECT, control host or virtual host."""
        if self.tunnel_host is not None:
            absolute = split_absolute(request.target)
            scheme, host, path = "https", self.tunnel_host, absolute[1] if absolute \
                else request.target
        elif request.method == "CONNECT":
            self.connect(request)
            return
        else:
            absolute = split_absolute(request.target)
            if absolute is None:  # not a proxy request: Squid calls it an invalid URL
                self.state.record(self.id, request.method, "http", "", request.target, 400, None)
                self.send(request, status_reply(400))
                return
            scheme, (host, path) = "http", absolute
            if host == CONTROL_HOST:
                self.send(request, self.state.control(request, path))
                return
            if not self.state.authorised(request):
                self.state.record(self.id, request.method, scheme, host, path, 407, None)
                self.send(request, status_reply(407, ("Proxy-Authenticate", 'Basic realm="farm"')))
                return
        reply = self.state.reply(request, scheme, host, path)
        never = reply.fault is not None and reply.fault.kind == "timeout"
        self.state.record(self.id, request.method, scheme, host, path,
                          None if never else reply.status, reply.fault)
        self.send(request, reply)

    def connect(self, request: Request) -> None:
        """Open a tunnel to a virtual https host, or refuse it the way Squid would."""
        assert self.transport is not None
        host = request.target.rpartition(":")[0].lower().rstrip(".") or request.target.lower()
        if not self.state.authorised(request):
            self.state.record(self.id, "CONNECT", "https", host, "", 407, None)
            self.transport.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                 b'Proxy-Authenticate: Basic realm="farm"\r\n'
                                 b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()
            return
        site = self.state.sites.get(host)
        if site is None or not site.dns or "https" not in site.schemes:
            error = DNS_FAIL if site is None or not site.dns else CONNECT_FAIL
            self.state.record(self.id, "CONNECT", "https", host, "", error[0], None)
            self.transport.write(squid_connect_refusal(error))
            self.transport.close()
            return
        if site.fault is not None and site.fault.kind == "timeout":
            self.state.record(self.id, "CONNECT", "https", host, "", None, site.fault)
            self.busy = True  # a black hole: the tunnel never opens
            return
        self.state.record(self.id, "CONNECT", "https", host, "", 200, None)
        self.transport.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if site.tls == "garbage":
            self.busy = self.answer_hello_with_garbage = True  # after the ClientHello
            return
        self.busy = True
        self.buffer.clear()  # nothing sent before our 200 can belong to the tunnel
        self.transport.pause_reading()  # the ClientHello is for the TLS layer, not for us
        self.task = asyncio.get_running_loop().create_task(self.start_tls(host))

    async def start_tls(self, host: str) -> None:
        """Terminate TLS on the tunnel, then serve ``host`` inside it."""
        assert self.transport is not None
        try:
            tls = await asyncio.get_running_loop().start_tls(
                self.transport, self, self.state.tls_context, server_side=True)
        except (OSError, TimeoutError):  # ssl.SSLError is an OSError
            return  # start_tls has closed the connection
        finally:
            self.task = None
        # the first request may have come with the handshake's last message
        self.transport, self.tunnel_host, self.busy = tls, host, False
        self.process()

    # --- replies ----------------------------------------------------------------------

    def send(self, request: Request, reply: Reply) -> None:
        """Write a reply at once, or hand it to a task when it is slow or large."""
        assert self.transport is not None
        keep_alive = request.keep_alive
        head_only = request.method == "HEAD"
        slow = reply.fault is not None and reply.fault.kind in SLOW_FAULTS
        if not slow and (head_only or reply.body.length <= INLINE_LIMIT):
            head = reply.head(keep_alive)
            self.transport.write(head if head_only else head + reply.body.join())
            if not keep_alive:
                self.transport.close()
            return
        self.busy = True
        self.task = asyncio.get_running_loop().create_task(
            self.send_slowly(reply, keep_alive, head_only))

    async def send_slowly(self, reply: Reply, keep_alive: bool, head_only: bool) -> None:
        """Send a reply with its timing fault, or stream a large body."""
        assert self.transport is not None
        match reply.fault:
            case Fault(kind="timeout"):
                await asyncio.get_running_loop().create_future()  # until the client hangs up
            case Fault(kind="delay", seconds=seconds):
                await asyncio.sleep(seconds)
        self.transport.write(reply.head(keep_alive))
        if not head_only:
            match reply.fault:
                case Fault(kind="reset", after=after):
                    await self.reset_after(reply.body, after)
                    return
                case Fault(kind="drip", chunk=chunk, interval=interval):
                    await self.drip(reply.body, chunk, interval)
                case _:
                    await self.stream(reply.body)
        self.task, self.busy = None, False
        if not keep_alive:
            self.transport.close()
        else:
            self.process()

    async def stream(self, body: Body) -> None:
        """Write a body part by part, waiting whenever the client falls behind."""
        assert self.transport is not None
        for chunk in body.chunks():
            if self.hung_up():
                return
            self.transport.write(chunk)
            await self.writable.wait()

    def hung_up(self) -> bool:
        """Whether the client has gone (a TLS transport may not know it yet)."""
        assert self.transport is not None
        return self.transport.is_closing() or self.raw is None or self.raw.is_closing()

    async def drip(self, body: Body, size: int, interval: float) -> None:
        """Write a body ``size`` bytes at a time, ``interval`` seconds apart."""
        assert self.transport is not None
        for chunk in body.chunks():
            for start in range(0, len(chunk), size):
                if self.hung_up():
                    return
                self.transport.write(chunk[start:start + size])
                await asyncio.sleep(interval)

    async def reset_after(self, body: Body, after: int | None) -> None:
        """Write part of the body, then drop the connection with a TCP RST."""
        assert self.transport is not None and self.raw is not None
        self.transport.write(body.head(body.length // 2 if after is None else after))
        while self.transport.get_write_buffer_size() or self.raw.get_write_buffer_size():
            await asyncio.sleep(0.005)
        if self.transport.is_closing():
            return  # the client hung up first
        sock = self.raw.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()


async def serve(sites: Iterable[Site], port: int = 0,
                on_ready: Callable[[str], None] = print, proxy_auth: str | None = None) -> None:
    """Serve ``sites`` on 127.0.0.1 until cancelled; ``on_ready`` gets the proxy URL
    (with ``proxy_auth`` in it, when the proxy asks for credentials)."""
    state = FarmState(sites, server_context(), proxy_auth)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: ProxyProtocol(state), LOOPBACK, port,
                                      backlog=1024, reuse_address=True)
    async with server:
        login = f"{proxy_auth}@" if proxy_auth else ""
        on_ready(f"http://{login}{LOOPBACK}:{server.sockets[0].getsockname()[1]}")
        await server.serve_forever()
