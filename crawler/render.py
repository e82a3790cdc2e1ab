"""JavaScript-rendered footers: which sites to render, and rendering them in headless Chromium.

Some sites draw their footer (or the whole page) with script, so the static HTML
holds no licence number. ``footer-audit crawl --render auto`` fetches such a site a
second time in a headless Chromium (through scrapy-playwright, the ``render`` extra):

* :func:`script_built_signs` is the pure test that decides it: a static page with no
  number is rendered when it shows at least one sign of being built by script;
* :func:`playwright_settings` are the Scrapy settings that install scrapy-playwright's
  download handler, only when rendering is on, so a plain crawl is not slowed;
* :class:`Renderer` makes the browser request and, once the page has loaded, waits a
  little for a licence keyword to appear, reads the DOM, takes the footer screenshot
  and closes the page's browser context (one context per site, closed after use, so
  the browser's memory stays flat).

The browser is the system's Chromium (Debian's ``chromium``): Playwright cannot fetch
its own build here, and a site-wide proxy must reach the rendered page too.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree
from lxml import html as lxml_html

from crawler.encoding import decode_html

RENDER_MODES = ("never", "auto", "always")
# Where the browser is looked for, after $FOOTER_AUDIT_BROWSER (Debian, other distros).
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_FLAGS = (
    "--no-sandbox",  # the crawl may run as root (CI, containers), where the sandbox refuses
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# Google services the browser calls on its own, whatever its flags (component and
# time updates, sign-in): they are taken off the proxy and resolved to nothing, so
# that they reach neither the audit's vantage point nor the internet.
BROWSER_SERVICES = ("update.googleapis.com", "clients1.google.com", "clients2.google.com",
                    "accounts.google.com", "optimizationguide-pa.googleapis.com",
                    "safebrowsing.googleapis.com", "content-autofill.googleapis.com",
                    "clientservices.googleapis.com", "redirector.gvt1.com",
                    "edgedl.me.gvt1.com")
SCREENSHOT_DIR = "screenshots"  # under the report directory
PLAYWRIGHT_HANDLER = "crawler.render_handler.SharedPlaywrightHandler"  # one for both schemes
VIEWPORT = {"width": 1280, "height": 900}
BOTTOM_CLIP = 600  # pixels at the end of the page shown when no footer element is found
# id/class tokens (and the <footer> tag) that name a footer block; an empty one is a sign
FOOTER_TOKENS = frozenset({"footer", "foot", "ft", "site-footer", "page-footer", "bottom",
                           "copyright", "beian", "icp"})
# ids of the mount point of single-page application frameworks (React, Vue, Next, Nuxt…)
ROOT_IDS = frozenset({"app", "root", "__next", "__nuxt", "__layout", "main-app", "application",
                      "react-root", "vue-app"})
ROOT_TAGS = frozenset({"app-root"})  # Angular
LITTLE_TEXT = 200  # visible characters of a page that is a shell for its scripts
SCRIPT_WRITES = re.compile(r"innerHTML|insertAdjacentHTML|document\.write|createElement|"
                           r"textContent|append(?:Child)?\(", re.IGNORECASE)
SCRIPT_MENTIONS_FOOTER = re.compile(r"footer|copyright|beian|ICP", re.IGNORECASE)
_VISIBLE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript "
    "or ancestor::template)]")


class BrowserMissing(RuntimeError):
    """Rendering was asked for but scrapy-playwright or a Chromium browser is missing."""


class RenderFailed(RuntimeError):
    """The browser could not read a page; ``reason`` is ``timeout`` or ``browser_error``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def script_built_signs(text: str) -> tuple[str, ...]:
    """Signs that a page (or its footer) is drawn by script, in a fixed order:

    * ``empty_root``: an empty single-page-application mount point (``<div id="app">``);
    * ``little_text``: scripts, but less than ``LITTLE_TEXT`` characters of visible text;
    * ``empty_footer``: a footer block (``<footer>``, ``id``/``class`` footer, copyright…)
      with no text in it;
    * ``footer_script``: a script that writes HTML and mentions the footer or the
      filing, or a script file named after it (``/js/footer.js``).

    >>> script_built_signs('<body><div id="app"></div><script src="/app.js"></script></body>')
    ('empty_root', 'little_text')
    >>> script_built_signs('<body><p>' + '正文' * 200 + '</p><div class="footer"></div>'
    ...     '<script>document.querySelector(".footer").innerHTML = "京ICP备…"</script></body>')
    ('empty_footer', 'footer_script')
    >>> script_built_signs('<body><p>' + '正文' * 200 + '</p><footer>© 2025</footer></body>')
    ()
    >>> script_built_signs("")
    ()
    """
    try:
        document = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return ()
    scripts = document.xpath("//script")
    elements = list(document.iter(etree.Element))
    signs = []
    if any(_is_empty(element) for element in elements
           if element.get("id") in ROOT_IDS or element.tag in ROOT_TAGS):
        signs.append("empty_root")
    visible = re.sub(r"\s+", "", "".join(_VISIBLE_TEXT(document)))
    if scripts and len(visible) < LITTLE_TEXT:
        signs.append("little_text")
    if any(_is_empty(element) for element in elements if _names_footer(element)):
        signs.append("empty_footer")
    if any(_writes_footer(script) for script in scripts):
        signs.append("footer_script")
    return tuple(signs)


def _is_empty(element: Any) -> bool:
    return not "".join(element.itertext()).strip()


def _names_footer(element: Any) -> bool:
    if element.tag == "footer":
        return True
    tokens = {element.get("id", "").lower(), *element.get("class", "").lower().split()}
    return not FOOTER_TOKENS.isdisjoint(tokens)


def _writes_footer(script: Any) -> bool:
    source = script.get("src")
    if source:
        return bool(SCRIPT_MENTIONS_FOOTER.search(urlsplit(source).path.rsplit("/", 1)[-1]))
    code = script.text or ""
    return bool(SCRIPT_MENTIONS_FOOTER.search(code) and SCRIPT_WRITES.search(code))


def render_reason(mode: str, result: Mapping[str, Any], body: bytes,
                  content_type: str = "") -> str | None:
    """Why the site of a static ``result`` (its page: ``body``, ``content_type``) is to
    be rendered; None when it is not.

    ``always`` renders every page that was read; ``auto`` a page without any number
    that shows :func:`script_built_signs`, which the reason lists.

    >>> row = {"outcome": "ok", "findings": []}
    >>> render_reason("auto", row, b'<body><div id="root"></div><script></script></body>')
    'script_built:empty_root,little_text'
    >>> render_reason("never", row, b"<body></body>"), render_reason("always", row, b"")
    (None, 'always')
    >>> render_reason("auto", {"outcome": "ok", "findings": [{}]}, b"<div id=app></div>") is None
    True
    """
    if mode == "never" or result.get("outcome") != "ok":
        return None
    if mode == "always":
        return "always"
    if result.get("findings"):
        return None
    signs = script_built_signs(decode_html(body, content_type)[0])
    return "script_built:" + ",".join(signs) if signs else None


def find_browser(environ: Mapping[str, str] = os.environ) -> str | None:
    """The Chromium executable: ``$FOOTER_AUDIT_BROWSER``, else the first of
    :data:`BROWSER_NAMES` on the ``PATH``; None when there is none.

    >>> find_browser({"FOOTER_AUDIT_BROWSER": "/nonexistent/chromium", "PATH": ""}) is None
    True
    """
    configured = environ.get("FOOTER_AUDIT_BROWSER")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for name in BROWSER_NAMES:
        found = shutil.which(name, path=environ.get("PATH", os.defpath))
        if found:
            return found
    return None


def check_rendering() -> str:
    """The browser to render with; :class:`BrowserMissing` says what is missing."""
    try:
        import scrapy_playwright  # noqa: F401
    except ImportError:
        raise BrowserMissing("rendering needs the render extra: pip install "
                             "'footer-audit[render]'") from None
    browser = find_browser()
    if browser is None:
        raise BrowserMissing("rendering needs a Chromium browser (Debian: apt-get install "
                             "chromium) or FOOTER_AUDIT_BROWSER=/path/to/chrome")
    return browser


def proxy_option(proxy: str) -> dict[str, str]:
    """Playwright's ``proxy`` option for a proxy URL (credentials given apart).

    >>> proxy_option("http://user:p%40ss@127.0.0.1:3128")
    {'server': 'http://127.0.0.1:3128', 'username': 'user', 'password': 'p@ss'}
    """
    parts = urlsplit(proxy)
    host = parts.hostname or ""
    server = f"{parts.scheme or 'http'}://{host}" + (f":{parts.port}" if parts.port else "")
    option = {"server": server}
    if parts.username:
        option["username"] = unquote(parts.username)
        option["password"] = unquote(parts.password or "")
    return option


def playwright_settings(browser: str, proxy: str | None, timeout: float,
                        concurrency: int) -> dict[str, Any]:
    """Scrapy settings that install scrapy-playwright for a crawl that renders.

    Plain requests still go through Scrapy's own HTTP client (the handler passes on
    every request without ``meta["playwright"]``); scrapy-playwright needs the asyncio
    reactor, which is Scrapy's default and which crawler.settings keeps.

    >>> s = playwright_settings("/usr/bin/chromium", "http://127.0.0.1:3128", 30, 4)
    >>> s["PLAYWRIGHT_LAUNCH_OPTIONS"]["proxy"]["server"], s["PLAYWRIGHT_MAX_CONTEXTS"]
    ('http://127.0.0.1:3128', 4)
    """
    unresolved = ", ".join(f"MAP {host} ~NOTFOUND" for host in BROWSER_SERVICES)
    launch: dict[str, Any] = {"executable_path": browser, "headless": True,
                              "args": [*BROWSER_FLAGS, f"--host-resolver-rules={unresolved}"]}
    if proxy:
        launch["proxy"] = {**proxy_option(proxy), "bypass": ",".join(BROWSER_SERVICES)}
    return {
        "DOWNLOAD_HANDLERS": {"http": PLAYWRIGHT_HANDLER, "https": PLAYWRIGHT_HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        "PLAYWRIGHT_MAX_CONTEXTS": concurrency,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout * 1000,
    }


def screenshot_spool(out_dir: str | os.PathLike[str],
                     state_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where a crawl keeps its screenshots until the reports are swapped into place:
    next to the report directory, so that they can be moved in by a rename; with
    ``--state``, in the state directory, so that a resumed crawl keeps those of the
    runs before it (they are copied into each report).

    >>> screenshot_spool("/r/out").as_posix(), screenshot_spool("/r/out", "/s").as_posix()
    ('/r/.out.screenshots', '/s/screenshots')
    """
    if state_dir is not None:
        return kept_screenshots(state_dir)
    out = Path(out_dir).absolute()
    return out.with_name(f".{out.name}.{SCREENSHOT_DIR}")


def kept_screenshots(state_dir: str | os.PathLike[str]) -> Path:
    """Where a crawl with ``--state`` keeps its screenshots from run to run."""
    return Path(state_dir).absolute() / SCREENSHOT_DIR


def screenshot_name(key: str) -> str:
    """The report-relative path of a site's screenshot: a safe, unique file name
    (the target's key, host or URL, ASCII already, plus a digest of it).

    >>> screenshot_name("https://xn--fsqu00a.cn/a?b=1")
    'screenshots/https-xn-fsqu00a.cn-a-b-1-3562a9b7.png'
    """
    readable = re.sub(r"[^a-z0-9.]+", "-", key.lower()).strip("-.")[:100]
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return f"{SCREENSHOT_DIR}/{readable or 'site'}-{digest}.png"


def keyword_pattern(anchors: Iterable[str]) -> str:
    """A JavaScript regular expression (case-insensitive) matching any licence keyword.

    >>> keyword_pattern(["icp", "公网安备", "B2-"])
    'B2\\\\-|icp|公网安备'
    """
    return "|".join(re.escape(anchor) for anchor in sorted(set(anchors)))


@dataclass(frozen=True)
class Rendered:
    """A page as the browser shows it once scripts have run."""

    url: str
    html: str


class Renderer:
    """Browser requests and what is done with their pages.

    ``wait`` is how long a loaded page may take to show a licence keyword (a footer
    drawn by a timer, or by data fetched after load); ``screenshots`` the directory
    for the PNGs (None: no screenshots).
    """

    def __init__(self, mode: str, *, timeout: float, wait: float, keywords: str,
                 screenshots: Path | None) -> None:
        self.mode = mode
        self.timeout_ms = timeout * 1000
        self.wait_ms = wait * 1000
        self.keywords = keywords
        self.screenshots = screenshots
        self._contexts = 0

    @classmethod
    def from_settings(cls, settings: Any, anchors: Iterable[str]) -> Renderer | None:
        """The renderer of a crawl (``FOOTER_AUDIT_RENDER``…), or None when it renders
        nothing."""
        mode = settings.get("FOOTER_AUDIT_RENDER") or "never"
        if mode == "never":
            return None
        if PLAYWRIGHT_HANDLER not in settings.getdict("DOWNLOAD_HANDLERS").values():
            raise ValueError(f"FOOTER_AUDIT_RENDER={mode} needs the settings of "
                             "crawler.render.playwright_settings (footer-audit crawl --render "
                             "sets them)")
        out, state = settings.get("FOOTER_AUDIT_OUT"), settings.get("FOOTER_AUDIT_STATE")
        shots = screenshot_spool(out, state) \
            if out and settings.getbool("FOOTER_AUDIT_SCREENSHOTS") else None
        if shots is not None and state is None:
            shutil.rmtree(shots, ignore_errors=True)  # left by a crawl that did not finish
        return cls(mode, timeout=settings.getfloat("DOWNLOAD_TIMEOUT"),
                   wait=settings.getfloat("FOOTER_AUDIT_RENDER_WAIT"),
                   keywords=keyword_pattern(anchors), screenshots=shots)

    def reason(self, result: Mapping[str, Any], body: bytes, content_type: str) -> str | None:
        """:func:`render_reason` in this crawl's mode."""
        return render_reason(self.mode, result, body, content_type)

    def request_meta(self) -> dict[str, Any]:
        """The ``meta`` that sends a request to the browser, in a context of its own."""
        self._contexts += 1
        return {
            "playwright": True,
            "playwright_include_page": True,
            "playwright_context": f"site-{self._contexts}",
            "playwright_context_kwargs": {"ignore_https_errors": True, "viewport": VIEWPORT,
                                          "service_workers": "block"},
            # the document parsed and its blocking scripts run; images may still come
            "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded",
                                            "timeout": self.timeout_ms},
        }

    async def read(self, page: Any) -> Rendered:
        """Wait (at most ``wait``) for a licence keyword in the page's visible text, then
        read the DOM."""
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        try:
            try:
                await page.wait_for_function(
                    "(source) => new RegExp(source, 'i').test(document.body ? "
                    "document.body.innerText : '')", arg=self.keywords, timeout=self.wait_ms)
            except PlaywrightTimeout:
                pass  # no number shows: the page is read as it is
            return Rendered(page.url, await page.content())
        except PlaywrightError as error:
            raise RenderFailed(render_error(error), str(error)) from error

    async def screenshot(self, page: Any, key: str, selector: str | None) -> str | None:
        """Save a PNG of the footer element (``selector``, as the extractor found it in
        the rendered page) or else of the end of the page; its report-relative path."""
        if self.screenshots is None:
            return None
        from playwright.async_api import Error as PlaywrightError

        name = screenshot_name(key)
        path = self.screenshots / Path(name).name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if selector and re.fullmatch(r"[a-z][a-z0-9]*(?:[#.][A-Za-z_][\w-]*)?", selector):
                element = page.locator(selector).last
                if await element.count() and await element.is_visible():
                    await element.screenshot(path=str(path), timeout=self.wait_ms or 1000)
                    return name
            height = await page.evaluate("document.documentElement.scrollHeight")
            top = max(0, int(height) - BOTTOM_CLIP)
            await page.screenshot(path=str(path), full_page=True, timeout=self.wait_ms or 1000,
                                  clip={"x": 0, "y": top, "width": VIEWPORT["width"],
                                        "height": max(1, min(BOTTOM_CLIP, int(height)))})
        except PlaywrightError:
            return None
        return name

    @staticmethod
    async def close(page: Any) -> None:
        """Close the page's browser context (and with it the page)."""
        if page is None:
            return
        from playwright.async_api import Error as PlaywrightError

        try:
            await page.context.close()
        except PlaywrightError:
            pass


def render_error(error: BaseException) -> str:
    """The reason code of a failed render: ``timeout`` (the page did not load in time)
    or ``browser_error`` (anything else: the browser failed, a bad answer…)."""
    if isinstance(error, RenderFailed):
        return error.reason
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    return "timeout" if isinstance(error, PlaywrightTimeout) else "browser_error"


def rendered_fields(reason: str | None, *, error: str | None = None,
                    screenshot: str | None = None) -> dict[str, Any]:
    """The render keys of a result row: ``render`` is ``browser`` when the row was read
    from the rendered page, ``static`` otherwise (and ``render_error`` says why a
    render that was tried did not produce it).

    >>> rendered_fields("always", screenshot="screenshots/a.png")["render"]
    'browser'
    >>> rendered_fields("always", error="timeout")["render"]
    'static'
    """
    return {"render": "static" if error else "browser", "render_reason": reason,
            "render_error": error, "screenshot": screenshot}
