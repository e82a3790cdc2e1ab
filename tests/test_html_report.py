"""report.html: structure and escaping read back in Python, then the page run in Chromium.

The browser tests drive Debian's headless Chromium over the DevTools protocol: the page
must load with no console message, exception, dialog or request beyond the file itself,
and the filter, sorting, details and "show more" must work as a reader would use them.
A screenshot is kept in pytest's temporary directory; its path is printed (``-s``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from reports.html import CONTENT_SECURITY_POLICY, SCRIPT, site_record, web_href
from reports.verdict import Verdict
from reports.writer import PAGE, write_reports
from tests.test_reports import finding, site

PAYLOADS = {
    "script element": "<script>alert(1)</script>",
    "attribute breakout": '"><img src=x onerror=alert(1)>',
    "end of the data script": "</script><script>alert(2)</script>",
    "comment opener": "<!--<script>alert(3)</script>",
    "svg handler": "<svg onload=alert(4)>",
    "entities": "&lt;b&gt; &amp; 备案",
}
META = {"started_at": "2026-11-29T17:00:00Z", "finished_at": "2026-11-29T17:20:00Z",
        "tool_version": "0.1.0", "vantage": "proxy " + PAYLOADS["attribute breakout"]}  # fmt: skip


def evil_site() -> dict[str, Any]:
    """A site with a payload in every field a site or a target list controls."""
    result = site(
        input="evil.cn",
        line=2,
        footer_text="版权所有 " + " ".join(PAYLOADS.values()) + " 京ICP备20018813号-3",
        findings=(
            finding() | {"link": "javascript:alert(5)"},
            finding("psb_filing", "京公网安备11010502030143号", link_status="wrong_link")
            | {"link": " https://example.cn/", "raw": PAYLOADS["script element"]},
        ),
        extra={"owner": PAYLOADS["attribute breakout"], "business_unit": PAYLOADS["svg handler"]},
    )
    result["final_url"] = "javascript:alert(document.domain)"
    result["attempts"] = [{"url": "data:text/html,<script>alert(6)</script>", "outcome": "ok",
                           "reason": ""}]  # fmt: skip
    return result


def unreachable_site() -> dict[str, Any]:
    result = site(input="offline.example.cn", line=3, outcome="not_html",
                  reason=PAYLOADS["end of the data script"], extra={"business_unit": "华南事业部"})  # fmt: skip
    result["message"] = PAYLOADS["comment opener"]
    result["attempts"] = [{"url": "https://offline.example.cn/", "outcome": "not_html",
                           "reason": "application/pdf"}]  # fmt: skip
    return result


RESULTS = [
    site(input="例子.中国", line=1, footer_text="Copyright © 2026 例子公司 京ICP备20018813号-3",
         findings=(finding(),), extra={"business_unit": "华东事业部", "owner": "例子公司"}),
    evil_site(),
    unreachable_site(),
    site(input="waived.cn", line=4, extra={"business_unit": "华东事业部"},
         findings=(finding(status="malformed", problems=("missing_hao",)),)),
]  # fmt: skip
VERDICTS = {
    "例子.中国": Verdict("compliant"),
    "evil.cn": Verdict("non_compliant", (PAYLOADS["script element"],), ("psb_filing:wrong_link",)),
    "offline.example.cn": Verdict("unreachable", ("not_html:pdf",)),
    "waived.cn": Verdict("compliant", waived=("icp_filing:missing_hao",)),
}


def fixed_judge(result: dict[str, Any]) -> Verdict:
    return VERDICTS.get(result["input"], Verdict("compliant"))


def write_page(out: Path, results: list[dict[str, Any]] = RESULTS, lang: str = "en") -> Path:
    write_reports(results, out, META, judge=fixed_judge, lang=lang)
    return out / PAGE


class Page(HTMLParser):
    """A written page taken apart: start tags, text outside scripts, script texts."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.style = ""
        self._in: str | None = None
        self.feed(path.read_text(encoding="utf-8"))
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = tag
            if tag == "script":
                self.scripts.append((dict(attrs), ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        elif self._in == "style":
            self.style += data
        else:
            self.text.append(data)

    def data(self, element_id: str) -> Any:
        return json.loads(
            next(text for attrs, text in self.scripts if attrs.get("id") == element_id)
        )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_page(tmp_path_factory.mktemp("html") / "report")


# --- the page as written -------------------------------------------------------------


def test_page_loads_nothing_and_runs_only_its_own_script(page: Path) -> None:
    parsed = Page(page)
    tags = {tag for tag, _ in parsed.tags}
    assert not tags & {"img", "iframe", "object", "embed", "link", "base", "a", "form"}
    assert [(tag, attrs) for tag, attrs in parsed.tags if {"src", "href"} & set(attrs)] == []
    assert [
        (tag, name) for tag, attrs in parsed.tags for name in attrs if name.startswith("on")
    ] == []
    assert [attrs for attrs, _ in parsed.scripts] == [
        {"type": "application/json", "id": "page-data"},
        {"type": "application/json", "id": "site-data"},
        {},
    ]
    assert parsed.scripts[2][1] == SCRIPT


def test_content_security_policy_names_the_page_script_and_style(page: Path) -> None:
    parsed = Page(page)
    policy = next(
        attrs["content"]
        for tag, attrs in parsed.tags
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    )
    assert policy == CONTENT_SECURITY_POLICY
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    for directive, text in (("script-src", parsed.scripts[2][1]), ("style-src", parsed.style)):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert directives[directive] == f"'sha256-{digest}'"


def test_site_data_round_trips(page: Path) -> None:
    assert Page(page).data("site-data") == [
        json.loads(json.dumps(site_record(result, fixed_judge(result)))) for result in RESULTS
    ]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_payload_is_escaped(page: Path, payload: str) -> None:
    html = page.read_text(encoding="utf-8")
    assert payload not in html
    records = Page(page).data("site-data")
    assert payload in records[1]["evidence"]  # arrives in the script intact


def test_server_rendered_text_is_escaped(page: Path) -> None:
    text = "".join(Page(page).text)
    assert PAYLOADS["svg handler"] in text  # a business unit, in the count table
    assert PAYLOADS["attribute breakout"] in text  # the vantage, in the run line and facts
    assert PAYLOADS["script element"] in text  # a problem code, in the chart and table


def test_only_http_urls_become_links(page: Path) -> None:
    compliant, evil, unreachable, _ = Page(page).data("site-data")
    assert [f["href"] for f in compliant["findings"]] == ["https://beian.miit.gov.cn/"]
    assert [f["href"] for f in evil["findings"]] == [None, None]
    assert [f["link"] for f in evil["findings"]] == ["javascript:alert(5)", " https://example.cn/"]
    assert (evil["final_href"], evil["attempts"][0]["href"]) == (None, None)
    assert compliant["final_href"] == "https://例子.中国/"
    assert unreachable["attempts"][0]["href"] == "https://offline.example.cn/"


HREFS = [
    ("https://beian.miit.gov.cn/", True),
    ("http://www.beian.gov.cn/portal/registerSystemInfo?recordcode=11010502030143", True),
    ("HTTPS://EXAMPLE.CN/", True),
    ("https://例子.中国/备案", True),
    ("javascript:alert(1)", False),
    ("JavaScript:alert(1)", False),
    ("java\tscript:alert(1)", False),
    (" https://example.cn/", False),
    ("https://example.cn/\njavascript:alert(1)", False),
    ("data:text/html,<script>alert(1)</script>", False),
    ("vbscript:msgbox(1)", False),
    ("//evil.example/", False),
    ("/relative/path", False),
    ("ftp://example.cn/", False),
    ("https:", False),
    ("", False),
]


@pytest.mark.parametrize(("url", "linked"), HREFS, ids=[repr(url) for url, _ in HREFS])
def test_web_href(url: str, linked: bool) -> None:
    assert web_href(url) == (url if linked else None)


def test_headline_figures_and_charts(page: Path) -> None:
    text = " ".join(" ".join(Page(page).text).split())
    assert "Sites audited 4 Compliant 2 50.0% Non-compliant 1 25.0% Unreachable 1 25.0%" in text
    html = page.read_text(encoding="utf-8")
    charts = html.split('<section class="charts">', 1)[1].split("</section>", 1)[0]
    assert charts.count("<svg ") == 2 and charts.count("<rect ") == 4 + 2  # verdicts, problems
    assert '<rect x="230" y="6" width="260" height="18" fill="#4caf50"/>' in charts


def test_chinese_page(tmp_path: Path) -> None:
    path = write_page(tmp_path / "report", lang="zh")
    parsed = Page(path)
    assert ("html", {"lang": "zh-CN"}) in parsed.tags
    assert {"网站页脚许可证核查报告", "网站列表", "核查范围", "按事业部统计"} <= set(parsed.text)
    sort_buttons = re.findall(
        r'data-key="(\w+)">([^<]*)</button>', path.read_text(encoding="utf-8")
    )
    assert sort_buttons == [
        ("input", "输入"), ("verdict", "结论"), ("problems", "问题"), ("numbers", "发现的编号"),
        ("business_unit", "事业部"), ("evidence", "证据（页脚文字）"),
    ]  # fmt: skip
    page_data = parsed.data("page-data")
    assert page_data["labels"]["link_status"] == "链接状态"
    assert page_data["words"]["details"] == "详情"


# --- the page in a browser -----------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: apt-get install chromium"
)


class Browser:
    """Headless Chromium over the DevTools protocol: one page, its events kept."""

    def __init__(self, profile: Path) -> None:
        import websocket  # the websocket-client package; only the browser tests need it

        self.process = subprocess.Popen(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port, path = self._endpoint(profile / "DevToolsActivePort")
        self.socket = websocket.create_connection(
            f"ws://127.0.0.1:{port}{path}", timeout=30, suppress_origin=True
        )
        self.events: list[dict[str, Any]] = []
        self._last_id = 0
        target = self.call("Target.createTarget", url="about:blank", session=None)["targetId"]
        self.session = self.call(
            "Target.attachToTarget", targetId=target, flatten=True, session=None
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=1400, height=1000,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip

    def _endpoint(self, port_file: Path) -> tuple[str, str]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            lines = port_file.read_text().split() if port_file.exists() else []
            if len(lines) == 2:
                return lines[0], lines[1]
            time.sleep(0.05)
        raise TimeoutError("chromium did not open its DevTools port within 30 s")

    def call(self, method: str, session: str | None | bool = True, **params: Any) -> Any:
        """Send one command (to the page, or to the browser with ``session=None``)."""
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params}
        if session is True:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") != self._last_id:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            return reply["result"]

    def wait_for(self, method: str) -> dict[str, Any]:
        while not any(event.get("method") == method for event in self.events):
            self.events.append(json.loads(self.socket.recv()))
        return next(event for event in self.events if event.get("method") == method)

    def open(self, path: Path) -> None:
        self.events.clear()
        self.call("Page.navigate", url=path.as_uri())
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def set_value(self, element_id: str, value: str, event: str) -> None:
        """Set a form control's value as a script would, and fire ``event``."""
        self.evaluate(f"{{ const control = document.getElementById({json.dumps(element_id)});"
                      f"control.value = {json.dumps(value)};"
                      f"control.dispatchEvent(new Event({json.dumps(event)})) }}")  # fmt: skip

    def type(self, text: str) -> None:
        """Type into the focused element, one character (and one input event) at a time."""
        for character in text:
            self.call("Input.insertText", text=character)

    def complaints(self) -> list[str]:
        """Console calls, uncaught exceptions, logged warnings and errors, dialogs opened."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                found.append(
                    f"console.{params['type']}: {[a.get('value') for a in params['args']]}"
                )
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                where = f"line {details['lineNumber'] + 1}, column {details['columnNumber'] + 1}"
                found.append(f"{details.get('exception', {}).get('description')} ({where})")
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("warning", "error"):
                found.append(f"{params['entry']['level']}: {params['entry']['text']}")
            elif method == "Page.javascriptDialogOpening":
                found.append(f"dialog: {params['message']}")
        return found

    def requests(self) -> list[str]:
        return [event["params"]["request"]["url"] for event in self.events
                if event.get("method") == "Network.requestWillBeSent"]  # fmt: skip

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(
            base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        )
        return path

    def close(self) -> None:
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    chromium = Browser(profile)
    yield chromium
    chromium.close()
    shutil.rmtree(profile, ignore_errors=True)


ROWS = "[...document.querySelectorAll('#sites tbody tr.site')]"
INPUTS = f"{ROWS}.map(row => row.cells[1].textContent)"


@needs_chromium
def test_page_in_chromium(browser: Browser, page: Path, tmp_path: Path) -> None:
    browser.open(page)
    assert browser.complaints() == []
    assert browser.requests() == [page.as_uri()]
    assert browser.evaluate(INPUTS) == [result["input"] for result in RESULTS]
    assert browser.evaluate("document.getElementById('count').textContent") == (
        "Showing 4 of 4 matching sites (4 in all)"
    )

    browser.evaluate("document.getElementById('filter').focus()")
    browser.type("华东")
    assert browser.evaluate(INPUTS) == ["例子.中国", "waived.cn"]
    browser.type(" 例")
    assert browser.evaluate(INPUTS) == ["例子.中国"]
    browser.set_value("filter", "", "input")
    browser.set_value("verdict-filter", "compliant", "change")
    assert browser.evaluate(INPUTS) == ["例子.中国", "waived.cn"]
    browser.set_value("verdict-filter", "", "change")

    sort_by_input = "document.querySelector('#sites th button[data-key=input]').click()"
    browser.evaluate(sort_by_input)
    assert browser.evaluate(INPUTS) == ["evil.cn", "offline.example.cn", "waived.cn", "例子.中国"]
    browser.evaluate(sort_by_input)
    assert browser.evaluate(INPUTS) == ["例子.中国", "waived.cn", "offline.example.cn", "evil.cn"]

    browser.evaluate(f"{ROWS}.forEach(row => row.cells[2].click())")
    details = browser.evaluate("[...document.querySelectorAll('tr.detail')].map(r => r.innerText)")
    assert len(details) == 4
    waived = "[...document.querySelectorAll('tr.detail .waived')].map(e => [e.textContent, e.nextSibling.textContent])"
    assert browser.evaluate(waived) == [["icp_filing:missing_hao", "Waived"]]
    assert "javascript:alert(5)" in details[3] and "data:text/html," in details[3]
    assert browser.evaluate("[...document.links].map(a => a.href)") == [
        "https://xn--fsqu00a.xn--fiqs8s/",  # 例子.中国: final URL, as the browser writes it
        "https://beian.miit.gov.cn/",  # its number's link
        "https://waived.cn/",
        "https://beian.miit.gov.cn/",
        "https://offline.example.cn/",  # the attempt of a site never reached
    ]  # and nothing of evil.cn: its javascript:, data: and " https:" URLs stay text
    injected = "document.querySelectorAll('img, svg [onload], iframe, object, embed').length"
    assert browser.evaluate(injected) == 0
    assert browser.evaluate("document.scripts.length") == 3
    assert browser.complaints() == []

    shot = browser.screenshot(tmp_path / "report.png")
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and shot.stat().st_size > 20_000
    print(f"screenshot: {shot}")


@needs_chromium
def test_long_table_renders_in_pages(browser: Browser, tmp_path: Path) -> None:
    results = [site(input=f"site{n:03}.cn", line=n, footer_text=f"京ICP备{20000000 + n}号")
               for n in range(450)]  # fmt: skip
    browser.open(write_page(tmp_path / "report", results))
    count = f"{ROWS}.length"
    more = "document.getElementById('more')"
    assert browser.evaluate(count) == 200
    browser.evaluate(f"{more}.click()")
    assert (browser.evaluate(count), browser.evaluate(f"{more}.hidden")) == (400, False)
    browser.evaluate(f"{more}.click()")
    assert (browser.evaluate(count), browser.evaluate(f"{more}.hidden")) == (450, True)
    browser.evaluate("document.getElementById('filter').focus()")
    browser.type("site44")
    assert browser.evaluate(INPUTS) == [f"site44{n}.cn" for n in range(10)]
    assert browser.complaints() == []


@needs_chromium
def test_page_without_sites(browser: Browser, tmp_path: Path) -> None:
    browser.open(write_page(tmp_path / "report", []))
    assert browser.evaluate("document.getElementById('count').textContent") == (
        "Showing 0 of 0 matching sites (0 in all)"
    )
    assert browser.evaluate("document.getElementById('more').hidden") is True
    assert browser.complaints() == []
