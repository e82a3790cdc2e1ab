"""The loopback farm itself, checked with plain Python clients (no Scrapy)."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest

from patterns import load_catalogue
from tests.farm import (
    DEMO_SITES,
    FAULT_SITES,
    Farm,
    Site,
    SiteError,
    generate_sites,
    load_sites,
    parse_sites,
)
from tests.farm.__main__ import main as farm_main
from tests.farm.bench import SMALL_HOST, SMALL_PATH, measure
from tests.farm.sites import PAGES_DIR
from tests.farm.template import NEWS_POOL

GENERATED = generate_sites(40, seed=5)
AUDIT_YEAR = 2026


@pytest.fixture(scope="module")
def farm() -> Iterator[Farm]:
    with Farm([FAULT_SITES, DEMO_SITES, *GENERATED]) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_log(request: pytest.FixtureRequest) -> None:
    if "farm" in request.fixturenames:
        request.getfixturevalue("farm").reset()


# --- clients ------------------------------------------------------------------------


def proxy_connection(farm: Farm, timeout: float = 10) -> http.client.HTTPConnection:
    """A connection to the proxy; requests on it use absolute-form targets."""
    return http.client.HTTPConnection("127.0.0.1", farm.port, timeout=timeout)


def fetch(farm: Farm, url: str, method: str = "GET", headers: dict[str, str] | None = None
          ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One absolute-form request through the proxy, redirects not followed."""
    connection = proxy_connection(farm)
    try:
        connection.request(method, url, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def unverified_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def tunnel(farm: Farm, host: str, timeout: float = 10) -> http.client.HTTPSConnection:
    """An https connection to ``host`` through a CONNECT tunnel (certificate not checked)."""
    connection = http.client.HTTPSConnection("127.0.0.1", farm.port, timeout=timeout,
                                             context=unverified_context())
    connection.set_tunnel(host, 443)
    return connection


def raw_exchange(farm: Farm, request: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes to the proxy and read until it closes the connection."""
    with socket.create_connection(("127.0.0.1", farm.port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def connect_request(host: str) -> bytes:
    return f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode()


# --- serving ------------------------------------------------------------------------


def test_absolute_form_fetch_through_urllib_proxy(farm: Farm) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": farm.proxy_url}))
    started = time.time()
    with opener.open("http://www.farm-basic.cn/", timeout=10) as response:
        body = response.read()
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 90_000 <= len(body) < 91_000
    assert "京ICP备2021012345号-1" in body.decode("utf-8")
    [entry] = farm.requests
    assert (entry.method, entry.scheme, entry.host, entry.path, entry.status) == \
        ("GET", "http", "www.farm-basic.cn", "/", 200)
    assert started <= entry.time <= time.time()


def test_alias_serves_the_same_pages(farm: Farm) -> None:
    assert fetch(farm, "http://farm-basic.cn/hello.txt")[2] == b"hello from the farm\n"


def test_connect_tunnel_with_tls(farm: Farm) -> None:
    connection = tunnel(farm, "www.farm-basic.cn")
    try:
        connection.request("GET", "/hello.txt")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"hello from the farm\n")
        assert isinstance(connection.sock, ssl.SSLSocket)
        assert connection.sock.version() in ("TLSv1.2", "TLSv1.3")
    finally:
        connection.close()
    assert [(r.method, r.scheme, r.host, r.path, r.status) for r in farm.requests] == [
        ("CONNECT", "https", "www.farm-basic.cn", "", 200),
        ("GET", "https", "www.farm-basic.cn", "/hello.txt", 200),
    ]


def test_keep_alive_reuses_one_connection(farm: Farm) -> None:
    connection = proxy_connection(farm)
    try:
        for path in ("/hello.txt", "/robots.txt", "/hello.txt"):
            connection.request("GET", f"http://www.farm-basic.cn{path}")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            assert not response.will_close
    finally:
        connection.close()
    assert len({r.connection for r in farm.requests}) == 1
    assert [r.path for r in farm.requests] == ["/hello.txt", "/robots.txt", "/hello.txt"]


def test_pipelined_requests_are_answered_in_order(farm: Farm) -> None:
    requests = b"".join(
        f"GET http://www.farm-basic.cn{path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()
        for path, extra in (("/hello.txt", ""), ("/nothing", ""),
                            ("/robots.txt", "Connection: close\r\n")))
    data = raw_exchange(farm, requests)
    assert re.findall(rb"HTTP/1\.1 (\d+)", data) == [b"200", b"404", b"200"]
    assert data.endswith(b"Disallow: /admin/\n")


def test_origin_form_outside_a_tunnel_is_a_bad_request(farm: Farm) -> None:
    reply = raw_exchange(farm, b"GET / HTTP/1.1\r\nHost: www.farm-basic.cn\r\n"
                               b"Connection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert [(r.host, r.path, r.status) for r in farm.requests] == [("", "/", 400)]


def test_head_sends_the_length_but_no_body(farm: Farm) -> None:
    status, headers, body = fetch(farm, "http://www.farm-basic.cn/hello.txt", method="HEAD")
    assert (status, headers["Content-Length"], body) == (200, "20", b"")
    assert farm.requests[0].method == "HEAD"


def test_unknown_path_is_404(farm: Farm) -> None:
    status, _, body = fetch(farm, "http://www.farm-basic.cn/no/such/page")
    assert status == 404 and b"404 Not Found" in body


def test_concurrent_keep_alive_clients(farm: Farm) -> None:
    result = measure(farm, [(SMALL_HOST, SMALL_PATH)], connections=8, seconds=0.3)
    assert result.errors == 0 and result.responses >= 100
    assert result.body_bytes == result.responses * len(b"hello from the farm\n")


def test_generated_site_is_served_exactly_as_rendered_here(farm: Farm) -> None:
    site = GENERATED[0]
    status, _, body = fetch(farm, f"http://{site.host}/", headers={"Accept-Encoding": "identity"})
    assert status == 200
    assert body == site.page("/").render().join()


# --- what a proxy says about hosts it cannot reach ------------------------------------


@pytest.mark.parametrize("host", ["nowhere.cn", "www-only.cn", "www.qiming-yiyao.cn"])
def test_unknown_host_is_a_squid_dns_failure(farm: Farm, host: str) -> None:
    status, headers, _ = fetch(farm, f"http://{host}/")
    assert (status, headers["X-Squid-Error"]) == (503, "ERR_DNS_FAIL 0")
    reply = raw_exchange(farm, connect_request(host))
    assert reply.split(b"\r\n")[0] == b"HTTP/1.1 503 Service Unavailable (ERR_DNS_FAIL)"


@pytest.mark.parametrize("url", ["http://www.fault-refused.cn/", "http://www.https-only.cn/"])
def test_refused_http_is_a_squid_connect_failure(farm: Farm, url: str) -> None:
    status, headers, _ = fetch(farm, url)
    assert (status, headers["X-Squid-Error"]) == (502, "ERR_CONNECT_FAIL 111")


@pytest.mark.parametrize("host", ["www.fault-refused.cn", "www.http-only.cn"])
def test_refused_connect_is_a_squid_connect_failure(farm: Farm, host: str) -> None:
    reply = raw_exchange(farm, connect_request(host))
    assert reply.split(b"\r\n")[0] == b"HTTP/1.1 502 Bad Gateway (ERR_CONNECT_FAIL)"


def test_scheme_only_sites_serve_their_scheme(farm: Farm) -> None:
    assert fetch(farm, "http://www.http-only.cn/")[0] == 200
    connection = tunnel(farm, "www.https-only.cn")
    try:
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_www_only_site_serves_www(farm: Farm) -> None:
    assert fetch(farm, "http://www.www-only.cn/")[0] == 200


def test_tls_failure_after_connect(farm: Farm) -> None:
    connection = tunnel(farm, "www.fault-tls.cn")
    try:
        with pytest.raises(ssl.SSLError):
            connection.request("GET", "/")
    finally:
        connection.close()
    assert [(r.method, r.status) for r in farm.requests] == [("CONNECT", 200)]


# --- timing faults ------------------------------------------------------------------


def test_delay_before_headers(farm: Farm) -> None:
    started = time.monotonic()
    status, _, body = fetch(farm, "http://www.fault-delay.cn/")
    assert status == 200 and b"slow but fine" in body
    assert 0.5 <= time.monotonic() - started < 5


def test_drip_trickles_the_body(farm: Farm) -> None:
    with socket.create_connection(("127.0.0.1", farm.port), timeout=10) as sock:
        sock.sendall(b"GET http://www.fault-drip.cn/ HTTP/1.1\r\nConnection: close\r\n\r\n")
        started, pieces, data = time.monotonic(), 0, b""
        while chunk := sock.recv(65536):
            pieces, data = pieces + 1, data + chunk
        elapsed = time.monotonic() - started
    body = data.partition(b"\r\n\r\n")[2]
    expected_pieces = -(-len(body) // 256)
    assert expected_pieces >= 4 and pieces >= expected_pieces
    assert elapsed >= (expected_pieces - 1) * 0.1
    assert body.endswith(b"</html>")


@pytest.mark.parametrize("request_bytes", [
    b"GET http://www.fault-timeout.cn/ HTTP/1.1\r\n\r\n",
    connect_request("www.fault-timeout.cn"),
], ids=["absolute-form", "connect"])
def test_timeout_never_answers(farm: Farm, request_bytes: bytes) -> None:
    with socket.create_connection(("127.0.0.1", farm.port), timeout=0.5) as sock:
        sock.sendall(request_bytes)
        with pytest.raises(TimeoutError):
            sock.recv(1)
    [entry] = farm.requests
    assert (entry.host, entry.status, entry.fault) == ("www.fault-timeout.cn", None, "timeout")


def test_reset_mid_body(farm: Farm) -> None:
    with socket.create_connection(("127.0.0.1", farm.port), timeout=10) as sock:
        sock.sendall(b"GET http://www.fault-reset.cn/ HTTP/1.1\r\n\r\n")
        data = b""
        with pytest.raises(ConnectionResetError):
            while chunk := sock.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert (len(body), length > 4096) == (4096, True)


# --- status faults and redirects ----------------------------------------------------


def test_fail_twice_then_succeed_and_reset_restarts_the_count(farm: Farm) -> None:
    statuses = [fetch(farm, "http://www.fault-status.cn/")[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [r.fault for r in farm.requests] == ["status", "status", None]
    farm.reset()
    assert fetch(farm, "http://www.fault-status.cn/")[0] == 503


def test_429_with_retry_after(farm: Farm) -> None:
    status, headers, _ = fetch(farm, "http://www.fault-status.cn/busy")
    assert (status, headers["Retry-After"]) == (429, "2")
    assert fetch(farm, "http://www.fault-status.cn/busy")[2] == \
        b"<html><body><p>your turn</p></body></html>"


def test_page_status_500_every_time(farm: Farm) -> None:
    assert [fetch(farm, "http://www.fault-status.cn/500")[0] for _ in range(2)] == [500, 500]


@pytest.mark.parametrize("path, status, location", [
    ("/", 301, "/home.html"),
    ("/elsewhere", 302, "http://www.farm-basic.cn/"),
    ("/loop-a", 302, "/loop-b"),
    ("/loop-b", 302, "/loop-a"),
])
def test_redirects(farm: Farm, path: str, status: int, location: str) -> None:
    got_status, headers, _ = fetch(farm, f"http://www.fault-redirect.cn{path}")
    assert (got_status, headers["Location"]) == (status, location)


@pytest.mark.parametrize("path, marker", [
    ("/meta", b'<meta http-equiv="refresh" content="0;url=/home.html">'),
    ("/js", b'location.href="/home.html";'),
], ids=["meta-refresh", "js"])
def test_in_page_redirects(farm: Farm, path: str, marker: bytes) -> None:
    status, _, body = fetch(farm, f"http://www.fault-redirect.cn{path}")
    assert status == 200 and marker in body


# --- bodies -------------------------------------------------------------------------


def test_gzip_when_accepted(farm: Farm) -> None:
    status, headers, packed = fetch(farm, "http://www.fault-gzip.cn/",
                                    headers={"Accept-Encoding": "gzip, deflate"})
    assert (status, headers["Content-Encoding"]) == (200, "gzip")
    _, plain_headers, plain = fetch(farm, "http://www.fault-gzip.cn/",
                                    headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain_headers
    assert gzip.decompress(packed) == plain and len(packed) < len(plain) // 2


def test_truncated_gzip(farm: Farm) -> None:
    _, headers, packed = fetch(farm, "http://www.fault-gzip.cn/truncated",
                               headers={"Accept-Encoding": "gzip"})
    assert (headers["Content-Encoding"], len(packed)) == ("gzip", 2000)
    with pytest.raises(EOFError):
        gzip.decompress(packed)


def test_decompression_bomb(farm: Farm) -> None:
    _, headers, packed = fetch(farm, "http://www.fault-gzip.cn/bomb")
    assert headers["Content-Encoding"] == "gzip" and len(packed) < 400_000
    inflater, expanded, pending = zlib.decompressobj(31), 0, packed
    while pending:
        expanded += len(inflater.decompress(pending, 1 << 24))
        pending = inflater.unconsumed_tail
    assert inflater.eof and expanded == 300 * 2 ** 20


def vm_rss(pid: int) -> int:
    """Resident memory of a process in bytes (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024


def test_oversized_body_is_streamed(farm: Farm) -> None:
    rss_before = vm_rss(farm.pid)
    connection = proxy_connection(farm)
    try:
        connection.request("GET", "http://www.fault-big.cn/")
        response = connection.getresponse()
        length, received, tail = int(response.headers["Content-Length"]), 0, b""
        while chunk := response.read(1 << 20):
            received += len(chunk)
            tail = (tail + chunk)[-4096:]
            if received == 10 << 20:
                rss_mid_stream = vm_rss(farm.pid)
    finally:
        connection.close()
    assert received == length >= 20_000_000
    assert "京ICP备2023018765号-2" in tail.decode("utf-8", "replace")
    assert rss_mid_stream - rss_before < 8 << 20


@pytest.mark.parametrize("path, content_type, file", [
    ("/", "application/pdf", "brochure.pdf"),
    ("/logo.png", "image/png", "logo.png"),
])
def test_binary_content(farm: Farm, path: str, content_type: str, file: str) -> None:
    status, headers, body = fetch(farm, f"http://www.fault-binary.cn{path}")
    assert (status, headers["Content-Type"]) == (200, content_type)
    assert body == (PAGES_DIR / file).read_bytes()


def test_robots_disallow_all(farm: Farm) -> None:
    status, headers, body = fetch(farm, "http://www.fault-robots.cn/robots.txt")
    assert (status, headers["Content-Type"], body) == \
        (200, "text/plain; charset=utf-8", b"User-agent: *\nDisallow: /\n")


@pytest.mark.parametrize("path, header_charset, encoding, meta", [
    ("/gbk", "gbk", "gbk", b'<meta charset="gbk">'),
    ("/gb18030", "gb18030", "gb18030", b'<meta charset="gb18030">'),
    ("/gbk-as-utf8", "utf-8", "gbk", b'<meta charset="utf-8">'),
    ("/utf8-as-gbk", "gbk", "utf-8", b'<meta charset="gbk">'),
    ("/meta-only", None, "gbk", b'<meta charset="gbk">'),
    ("/legacy", "gb2312", "gb2312", b"charset=gb2312"),
], ids=lambda value: value if isinstance(value, str) and value.startswith("/") else "")
def test_charsets(farm: Farm, path: str, header_charset: str | None, encoding: str,
                  meta: bytes) -> None:
    _, headers, body = fetch(farm, f"http://www.fault-charset.cn{path}")
    assert headers.get_content_charset() == header_charset
    assert meta in body
    text = body.decode(encoding)
    assert re.search(r"(南京汇智软件|宁波天佑纺织品|苏州金桥精密机械)有限公司", text)
    if encoding != "utf-8":
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")


# --- the farm process and the site definitions -------------------------------------


def test_farm_process_stops_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError, match="boom"), Farm(FAULT_SITES) as farm:
        process_id = farm.pid
        raise RuntimeError("boom")
    with pytest.raises(ProcessLookupError):
        os.kill(process_id, 0)


def test_cli_rejects_a_bad_sites_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[site]]\nhost = "a.cn"\ncolour = "red"\n', encoding="utf-8")
    assert farm_main(["--sites", str(bad)]) == 2
    assert f"{bad}: site[0]: unknown key(s): colour" in capsys.readouterr().err


@pytest.mark.parametrize("definition, message", [
    ({"host": "a.cn", "colour": "red"}, "site[0]: unknown key(s): colour"),
    ({"host": "a.cn", "schemes": ["ftp"]}, "schemes: unknown scheme(s) ftp"),
    ({"host": "a.cn", "tls": "maybe"}, "tls: expected one of ok, garbage"),
    ({"host": "a.cn", "fault": {"kind": "explode"}}, "fault.kind: unknown fault 'explode'"),
    ({"host": "a.cn", "fault": {"kind": "delay"}}, "fault: missing key 'seconds'"),
    ({"host": "a.cn", "fault": {"kind": "timeout", "seconds": 1}}, "unknown key(s): seconds"),
    ({"host": "a.cn", "pages": {"x": {"body": ""}}}, "a path must start with '/'"),
    ({"host": "a.cn", "pages": {"/": {"body": "", "file": "logo.png"}}},
     "more than one body source: body, file"),
    ({"host": "a.cn", "pages": {"/": {"body": "", "size": 5}}}, "size only go with template"),
    ({"host": "a.cn", "pages": {"/": {"file": "nope.html"}}}, "file: no file 'nope.html'"),
    ({"host": "a.cn", "pages": {"/": {"body": "", "charset": "klingon"}}},
     "charset: unknown charset 'klingon'"),
    ({"host": "a.cn", "pages": {"/": {"redirect": "/x", "status": 200}}},
     "a redirect needs a 3xx status"),
    ({"host": "a.cn", "pages": {"/": {"template": "blog", "company": "x"}}},
     "template: unknown template 'blog'"),
    ({"host": "a.cn", "pages": {"/": {"status": "200"}}}, "status: expected int"),
    ({"host": "a.cn", "pages": {"/": {"status": 999}}}, "999 is not an HTTP status code"),
    ({"host": "a.cn", "fault": {"kind": "status", "status": 0}}, "0 is not an HTTP status code"),
    ({"host": "a.cn", "pages": {"/": {"body": "\U0001f600", "charset": "gbk"}}},
     "the body cannot be encoded as gbk"),
])
def test_bad_definitions_name_the_key(definition: dict[str, object], message: str) -> None:
    with pytest.raises(SiteError) as error:
        parse_sites([definition])
    assert message in str(error.value)


def test_a_host_defined_twice_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "one.toml").write_text('[[site]]\nhost = "a.cn"\n', encoding="utf-8")
    (tmp_path / "two.toml").write_text('[[site]]\nhost = "b.cn"\naliases = ["A.cn"]\n',
                                       encoding="utf-8")
    with pytest.raises(SiteError, match="host 'a.cn' is defined twice"):
        load_sites(tmp_path)


def test_json_sites_file_is_read_like_toml(tmp_path: Path) -> None:
    path = tmp_path / "sites.json"
    path.write_text(json.dumps({"site": [s.definition for s in GENERATED[:3]]}), encoding="utf-8")
    assert load_sites(path) == GENERATED[:3]


def test_generate_sites_is_deterministic_by_seed() -> None:
    again = generate_sites(40, seed=5)
    assert [s.definition for s in again] == [s.definition for s in GENERATED]
    assert [s.definition for s in generate_sites(40, seed=6)] != \
        [s.definition for s in GENERATED]


def test_generated_home_pages_have_realistic_sizes() -> None:
    sizes = [site.page("/").render().length for site in generate_sites(200, seed=2)]
    assert min(sizes) >= 60_000 and max(sizes) < 121_000
    assert 80_000 < sum(sizes) / len(sizes) < 100_000


# --- what each page shows agrees with the pattern catalogue --------------------------

CATALOGUE = load_catalogue()


def shown_numbers(page_html: str) -> list[dict[str, object]]:
    """Every number the catalogue finds in the page's visible text, with link status."""
    document = lxml.html.fromstring(page_html)
    for unseen_or_filler in document.xpath("//script|//style|//ul[@class='news-list']"):
        unseen_or_filler.drop_tree()
    links = [(a.get("href"), a.text_content()) for a in document.iter("a")]
    found = []
    for hit in CATALOGUE.scan_text(document.text_content(), year=AUDIT_YEAR):
        entry: dict[str, object] = {"category": hit.category, "number": hit.number,
                                    "status": hit.status}
        if hit.problems:
            entry["problems"] = list(hit.problems)
        rule = CATALOGUE.link_rule(hit.category)
        if rule is not None:
            hrefs = [href for href, text in links
                     if hit.number in {h.number for h in CATALOGUE.scan_text(text,
                                                                             year=AUDIT_YEAR)}]
            entry["link"] = rule.status(hrefs[0] if hrefs else None,
                                        re.sub(r"\D", "", hit.number))
        found.append(entry)
    return found


def page_text(sites: list[Site], url: str) -> str:
    parts = urlsplit(url)
    site = next(s for s in sites if parts.hostname in s.names)
    page = site.page(parts.path or "/")
    return page.render().join().decode(page.charset)


def sorted_numbers(numbers: object) -> list[dict[str, object]]:
    return sorted(numbers, key=lambda n: (n["category"], n["number"]))  # type: ignore


@pytest.mark.parametrize("site", [s for s in load_sites(DEMO_SITES) if s.expect.get("numbers")],
                         ids=lambda s: s.expect["scenario"])
def test_demo_expectations_match_the_catalogue(site: Site) -> None:
    sites = load_sites(DEMO_SITES)
    text = page_text(sites, site.expect.get("final_url", site.start_url))
    assert sorted_numbers(shown_numbers(text)) == sorted_numbers(site.expect["numbers"])


def test_news_filler_shows_no_numbers() -> None:
    assert CATALOGUE.scan_text(lxml.html.fromstring("".join(NEWS_POOL)).text_content(),
                               year=AUDIT_YEAR) == []


def test_demo_covers_every_scenario_once() -> None:
    scenarios = [s.expect["scenario"] for s in load_sites(DEMO_SITES) if s.expect]
    assert len(scenarios) == len(set(scenarios)) >= 25


@pytest.mark.parametrize("site", generate_sites(120, seed=11), ids=lambda s: s.host)
def test_generated_expectations_match_the_catalogue(site: Site) -> None:
    text = page_text([site], site.start_url)
    assert sorted_numbers(shown_numbers(text)) == sorted_numbers(site.expect["numbers"])
