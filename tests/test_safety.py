"""Nobody let in: private addresses are refused, credentials never written down.

The address rule and the redaction are checked on tables first; then real crawls on
loopback: through the farm's proxy (literal private targets, redirects that point
inside), directly (a name whose DNS answer is loopback), with ``--allow-private``
(the same requests do go out), and through a proxy that asks for a password, with
every file the crawl writes searched for it.
"""

from __future__ import annotations

import csv
import http.client
import ipaddress
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from crawler.redact import redact
from crawler.safety import is_localhost_name, is_public_address, literal_address
from tests.farm import FAULT_SITES, Farm
from tests.test_fault_matrix import HOSTILE_SITES, read_report, run_crawl

NOT_PUBLIC = [
    "0.0.0.0", "10.0.0.1", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.255.0.1",
    "169.254.169.254", "172.16.5.4", "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.1.1",
    "198.18.0.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%eth0", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::",
    "2002:c0a8:101::", "64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b:1::1", "3fff::1",
]
PUBLIC = ["1.1.1.1", "8.8.8.8", "114.114.114.114", "223.5.5.5", "100.128.0.1", "172.32.0.1",
          "2400:3200::1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "2002:808:808::",
          "64:ff9b::808:808"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_address_is_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_address_is_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(("host", "address"), [
    ("127.0.0.1", "127.0.0.1"), ("[::1]", "::1"), ("2130706433", "127.0.0.1"),
    ("0x7f.0.0.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("10.1", "10.0.0.1"), ("0", "0.0.0.0"), ("192.168.1.1.", "192.168.1.1"),
    ("example.cn", None), ("cafe.bad", None), ("1.2.3.4.cn", None), ("localhost", None),
])
def test_literal_address(host: str, address: str | None) -> None:
    found = literal_address(host)
    assert (None if found is None else str(found)) == address


def test_localhost_names() -> None:
    assert [is_localhost_name(h) for h in ["localhost", "LOCALHOST.", "a.localhost",
                                           "localhost.cn", "mylocalhost"]] == [
        True, True, True, False, False]


@pytest.mark.parametrize(("text", "redacted"), [
    ("http://auditor:s3cret@proxy.example.cn:3128", "http://***@proxy.example.cn:3128"),
    ("proxy https://token@10.0.0.1/", "proxy https://***@10.0.0.1/"),
    ("https://u:p%40ss@a.cn/x?y=@z", "https://***@a.cn/x?y=@z"),
    ("https://u:p@ss@a.cn/", "https://***@a.cn/"),
    ("socks5h://u:p@[::1]:1080", "socks5h://***@[::1]:1080"),
    ("admin:hunter2@intranet.cn", "***@intranet.cn"),
    ("Could not open CONNECT tunnel with proxy 127.0.0.1:3128", None),
    ("mailto:legal@example.cn and legal@example.cn", None),
    ("https://a.cn/@user", None),
])
def test_redact(text: str, redacted: str | None) -> None:
    assert redact(text) == (text if redacted is None else redacted)


# --- through the farm's proxy ------------------------------------------------------

BLOCKED_TARGETS = [
    "10.0.0.1", "https://192.168.0.1/", "172.16.0.1:8080", "100.64.1.1", "127.0.0.1",
    "[::1]", "[fd00::1]", "[fe80::1]", "0.0.0.0", "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/", "localhost:6379", "api.localhost",
]
BLOCKED_REDIRECTS = {  # a public page that redirects inside: the redirect is not followed
    "https://www.hostile-redirect.cn/loopback": "127.0.0.1",
    "https://www.hostile-redirect.cn/metadata": "169.254.169.254",
    "https://www.hostile-redirect.cn/ipv6-loopback": "::1",
    "https://www.hostile-redirect.cn/ipv4-mapped": "::ffff:10.0.0.1",
    "https://www.hostile-redirect.cn/decimal": "2130706433",
    "https://www.hostile-redirect.cn/localhost": "localhost",
}
PUBLIC_REDIRECT = "https://www.hostile-redirect.cn/public"
HOSTILE_FOOTER = "www.hostile-footer.cn"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One crawl through the farm by default, one with --allow-private."""
    work = tmp_path_factory.mktemp("private")
    targets = [*BLOCKED_TARGETS, *BLOCKED_REDIRECTS, PUBLIC_REDIRECT, HOSTILE_FOOTER]
    runs = {}
    with Farm([FAULT_SITES, HOSTILE_SITES]) as farm:
        for name, options in (("default", []), ("allowed", ["--allow-private"])):
            farm.reset()
            run = run_crawl(targets, work / name, farm.proxy_url, *options)
            rows, summary = read_report(work / name)
            runs[name] = {"run": run, "rows": rows, "summary": summary, "served": farm.requests,
                          "out": work / name}
    return runs


@pytest.mark.parametrize("target", [*BLOCKED_TARGETS, *BLOCKED_REDIRECTS])
def test_private_address_is_blocked(proxied: dict[str, Any], target: str) -> None:
    row = proxied["default"]["rows"][target]
    assert (row["outcome"], row["reason"]) == ("blocked", "private_address"), row["attempts"]
    assert "--allow-private" in row["message"]
    assert len(row["attempts"]) == 1  # not tried again over http or on www.
    if target in BLOCKED_REDIRECTS:
        assert row["redirects"] == [target]


def test_nothing_inside_was_asked_for(proxied: dict[str, Any]) -> None:
    hosts = {request.host for request in proxied["default"]["served"]}
    assert hosts == {"www.hostile-redirect.cn", "www.farm-basic.cn", HOSTILE_FOOTER}


def test_a_public_redirect_is_still_followed(proxied: dict[str, Any]) -> None:
    row = proxied["default"]["rows"][PUBLIC_REDIRECT]
    assert (row["outcome"], row["final_url"]) == ("ok", "http://www.farm-basic.cn/")


def test_blocked_sites_count_as_unreachable(proxied: dict[str, Any]) -> None:
    run, summary = proxied["default"]["run"], proxied["default"]["summary"]
    blocked = len(BLOCKED_TARGETS) + len(BLOCKED_REDIRECTS)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert summary["outcomes"] == {"blocked:private_address": blocked, "ok": 2}
    assert summary["problems"]["blocked:private_address"] == blocked
    assert summary["verdicts"]["unreachable"] == blocked
    assert summary["sites"] == sum(summary["verdicts"].values()) == blocked + 2


def test_allow_private_sends_the_requests(proxied: dict[str, Any]) -> None:
    allowed = proxied["allowed"]
    assert "blocked" not in {row["outcome"] for row in allowed["rows"].values()}
    asked = {request.host for request in allowed["served"]}
    # the farm's proxy knows none of these hosts, so it answers like a failed DNS lookup
    assert {"10.0.0.1", "127.0.0.1", "169.254.169.254", "localhost", "2130706433"} <= asked
    row = allowed["rows"]["https://www.hostile-redirect.cn/loopback"]
    assert (row["outcome"], row["reason"]) == ("unreachable", "dns")


def test_a_hostile_footer_stays_text_in_every_report(proxied: dict[str, Any]) -> None:
    """Text a site shows (a formula, markup, a javascript: link) reaches the reports
    of a real crawl as inert text."""
    out = proxied["default"]["out"]
    evidence = proxied["default"]["rows"][HOSTILE_FOOTER]["footer"]["text"]
    assert evidence.startswith("=cmd|' /C calc'!A0 <script>alert(1)</script>"), evidence
    with (out / "sites.csv").open(encoding="utf-8-sig", newline="") as stream:
        row = next(r for r in csv.DictReader(stream) if r["input"] == HOSTILE_FOOTER)
    assert "'" + evidence in row.values()
    with zipfile.ZipFile(out / "report.xlsx") as book:
        sheets = [book.read(n) for n in book.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(re.search(rb"<f[ >]", sheet) for sheet in sheets)
    cells = [cell for sheet in load_workbook(out / "report.xlsx").worksheets
             for line in sheet.iter_rows() for cell in line if cell.value == evidence]
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)
    page = (out / "report.html").read_text("utf-8")
    for payload in ("<script>alert(1)", "<img src=x", 'href="javascript:'):
        assert payload not in page, payload


# --- directly: a DNS answer that points inside -------------------------------------


def test_a_name_resolving_to_loopback_is_blocked_and_allowed_on_request(tmp_path: Path) -> None:
    """Without a proxy, ``localhost`` is looked up like any name; its answer (127.0.0.1,
    from /etc/hosts) is refused. With --allow-private the same crawl reaches the
    server listening there (the farm: it answers 400 to a request not meant for a proxy)."""
    with Farm(FAULT_SITES) as farm:
        target = f"http://localhost:{farm.port}/"
        run = run_crawl([target], tmp_path / "default", None)
        served_by_default = farm.requests
        allowed = run_crawl([target], tmp_path / "allowed", None, "--allow-private")
        served_when_allowed = farm.requests
    (row,) = read_report(tmp_path / "default")[0].values()
    assert (row["outcome"], row["reason"]) == ("blocked", "private_address"), run.stderr
    assert "localhost (127.0.0.1)" in row["message"]
    assert served_by_default == []
    (row,) = read_report(tmp_path / "allowed")[0].values()
    assert (row["outcome"], row["reason"], row["status"]) == ("unreachable", "http_400", 400), \
        allowed.stderr
    assert [(r.path, r.status) for r in served_when_allowed] == [("/robots.txt", 400), ("/", 400)]


# --- credentials ---------------------------------------------------------------------

USER, PASSWORD = "auditor", "s3cret-Pw"


def _written_text(out: Path) -> dict[str, str]:
    """Every file a crawl wrote, as text (the workbook's XML parts unzipped)."""
    texts = {}
    for path in sorted(out.parent.rglob("*")):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                texts[str(path)] = "".join(book.read(n).decode("utf-8") for n in book.namelist())
        elif path.is_file():
            texts[str(path)] = path.read_text("utf-8", errors="replace")
    return texts


def test_no_credentials_in_logs_or_reports(tmp_path: Path) -> None:
    out = tmp_path / "report"
    targets = ["www.farm-basic.cn", "www.fault-tls.cn", "www.fault-refused.cn",
               "www.fault-nxdomain.cn", f"https://{USER}:{PASSWORD}@www.farm-basic.cn/"]
    with Farm(FAULT_SITES, proxy_auth=f"{USER}:{PASSWORD}") as farm:
        assert f"{USER}:{PASSWORD}@" in farm.proxy_url
        connection = http.client.HTTPConnection("127.0.0.1", farm.port, timeout=10)
        connection.request("GET", "http://www.farm-basic.cn/")
        assert connection.getresponse().status == 407  # the proxy does want the password
        connection.close()
        run = run_crawl(targets, out, farm.proxy_url, "--state", str(tmp_path / "state"))
    rows, summary = read_report(out)
    assert rows["www.farm-basic.cn"]["outcome"] == "ok"  # the crawl did log in
    assert rows["https://***@www.farm-basic.cn/"]["reason"] == "bad_url"
    assert summary["meta"]["vantage"] == f"proxy http://***@127.0.0.1:{farm.port}"
    written = _written_text(out)
    written |= {"stdout": run.stdout, "stderr": run.stderr}
    assert {Path(name).name for name in written} >= {
        "report.log", "results.jsonl", "summary.json", "sites.csv", "findings.csv",
        "report.html", "report.xlsx", "state.json"}
    for name, text in written.items():
        assert PASSWORD not in text and f"{USER}:" not in text, name
