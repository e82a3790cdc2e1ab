"""Site definitions: what each virtual host of the farm serves, read from data.

A sites file is TOML (or JSON of the same shape) with an array of ``[[site]]`` tables::

    [[site]]
    host = "www.huaxin-keji.cn"          # the name the farm answers for
    aliases = ["huaxin-keji.cn"]         # more names serving the same pages
    schemes = ["http", "https"]          # the default; [] = connection refused
    dns = true                           # false: the name does not resolve
    tls = "ok"                           # "garbage": CONNECT succeeds, no TLS follows
    fault = { kind = "delay", seconds = 2 }   # applies to every path of the site
    expect = { outcome = "compliant", numbers = ["京ICP备2021012345号-1"] }

    [site.pages."/"]
    template = "corporate"               # or body, file, redirect, meta_refresh,
    company = "北京华信科技有限公司"       # js_redirect, bomb (exactly one)
    footer = "<p>…京ICP备2021012345号-1…</p>"
    size = 90000

Page keys: ``status``, ``headers``, ``content_type``, ``charset`` (the encoding of the
bytes), ``declared_charset`` (what the header and the template's meta tag claim; a
different value makes a mislabelled page), ``header_charset`` (false: no charset in
the Content-Type header), ``gzip``, ``fault`` and one body source. Fault kinds and
their keys are listed in :data:`FAULT_KEYS`. ``expect`` is never read by the farm: it
tells tests and the demo what the site shows. A site with ``expect`` is a crawl
target; one without is a helper (a redirect target, a ``www.`` host).

Unknown keys, a missing body source, an unknown charset or fault kind raise
:class:`SiteError` naming the file and the key.
"""

from __future__ import annotations

import codecs
import json
import mimetypes
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from http import HTTPStatus
from pathlib import Path
from typing import Any

from tests.farm.bodies import (
    Body,
    bomb_body,
    js_redirect_html,
    meta_refresh_html,
    status_html,
)
from tests.farm.template import render_corporate

FARM_DIR = Path(__file__).parent
PAGES_DIR = FARM_DIR / "pages"
SITES_DIR = FARM_DIR / "sites"
DEMO_SITES = SITES_DIR / "demo.toml"
FAULT_SITES = SITES_DIR / "faults.toml"

SCHEMES = ("http", "https")
TLS_MODES = ("ok", "garbage")
BODY_SOURCES = ("body", "file", "template", "redirect", "meta_refresh", "js_redirect", "bomb")
TEMPLATES = {"corporate": render_corporate}
TEMPLATE_KEYS = ("company", "footer", "size")
HTTP_STATUSES = frozenset(HTTPStatus)
TEXT_APPLICATIONS = ("application/json", "application/javascript", "application/xhtml+xml")
NUMBER = (int, float)
# fault kind -> {key: (type, required)}; the meanings are on the Fault fields
FAULT_KEYS: dict[str, dict[str, tuple[type | tuple[type, ...], bool]]] = {
    "delay": {"seconds": (NUMBER, True)},
    "drip": {"chunk": (int, False), "interval": (NUMBER, False)},
    "timeout": {},
    "reset": {"after": (int, False)},
    "status": {"status": (int, True), "times": (int, False), "retry_after": (int, False)},
    "truncate": {"keep": (int, True)},
}


class SiteError(ValueError):
    """A site definition that cannot be served; the message names the file and the key."""


@dataclass(frozen=True)
class Fault:
    """A misbehaviour applied to a response; only the keys of its kind are set."""

    kind: str  # one of FAULT_KEYS
    seconds: float = 0.0  # delay: wait this long before the headers
    chunk: int = 256  # drip: send the body this many bytes at a time,
    interval: float = 0.2  # ... this many seconds apart
    after: int | None = None  # reset: body bytes sent before the RST (None: half)
    status: int = 0  # status: answer this status instead of the page,
    times: int | None = None  # ... this many times, then serve the page (None: always)
    retry_after: int | None = None  # ... with this Retry-After header
    keep: int = 0  # truncate: cut the (possibly gzip) body to this many bytes


@dataclass(frozen=True)
class Page:
    """One path of a site: its status, headers and body source."""

    source: str  # one of BODY_SOURCES, or "status" for the default status page
    value: Any
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/html"
    charset: str = "utf-8"
    declared_charset: str = "utf-8"
    header_charset: bool = True
    gzip: bool = False
    fault: Fault | None = None
    template_args: tuple[tuple[str, Any], ...] = ()

    @property
    def is_text(self) -> bool:
        """Whether the body is text (encoded in ``charset``, charset declared)."""
        return self.content_type.startswith("text/") or self.content_type in TEXT_APPLICATIONS

    @property
    def content_type_header(self) -> str:
        """The Content-Type value, with the declared charset when it should carry one."""
        if self.is_text and self.header_charset:
            return f"{self.content_type}; charset={self.declared_charset}"
        return self.content_type

    def render(self) -> Body:
        """The body bytes (templates are rendered afresh, other sources are cached)."""
        if self.source == "template":
            render = TEMPLATES[self.value]
            return render(charset=self.charset, declared_charset=self.declared_charset,
                          **dict(self.template_args))
        return self._static_body

    @cached_property
    def _static_body(self) -> Body:
        match self.source:
            case "bomb":
                return bomb_body(self.value)
            case "file" if not self.is_text:
                return Body.of((PAGES_DIR / self.value).read_bytes())
            case "file":  # stored as UTF-8, served in the page's charset
                text = (PAGES_DIR / self.value).read_text(encoding="utf-8")
            case "body":
                text = self.value
            case "meta_refresh":
                text = meta_refresh_html(self.value, self.declared_charset)
            case "js_redirect":
                text = js_redirect_html(self.value, self.declared_charset)
            case _:  # "redirect" and "status": the web server's status page
                text = status_html(self.status)
        return Body.of(text.encode(self.charset))


NOT_FOUND = Page(source="status", value=None, status=404)


@dataclass(frozen=True)
class Site:
    """A virtual host: its names, schemes, pages and site-wide fault."""

    host: str
    aliases: tuple[str, ...] = ()
    schemes: frozenset[str] = frozenset(SCHEMES)
    dns: bool = True
    tls: str = "ok"
    fault: Fault | None = None
    pages: Mapping[str, Page] = field(default_factory=dict)
    expect: Mapping[str, Any] = field(default_factory=dict)
    definition: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        """Every host name the site answers for."""
        return (self.host, *self.aliases)

    @property
    def start_url(self) -> str:
        """Where a crawl of this site starts: https if served, else http."""
        scheme = "https" if "https" in self.schemes else "http"
        return f"{scheme}://{self.host}/"

    def page(self, path: str) -> Page:
        """The page for a request path (query string ignored when no exact match)."""
        page = self.pages.get(path)
        if page is None:
            page = self.pages.get(path.partition("?")[0], NOT_FOUND)
        return page


class _Reader:
    """Pops keys from one table and remembers where it is, for error messages."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise SiteError(f"{where}: expected a table")
        self.data, self.where = dict(data), where

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise SiteError(f"{self.where}: missing key {key!r}")
            return default
        value = self.data.pop(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind)):
            names = "/".join(t.__name__ for t in _types(kind))
            raise SiteError(f"{self.where}.{key}: expected {names}, got {value!r}")
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        values = self.get(key, list, list(default))
        if not all(isinstance(v, str) and v for v in values):
            raise SiteError(f"{self.where}.{key}: expected a list of non-empty strings")
        return tuple(values)

    def done(self) -> None:
        if self.data:
            raise SiteError(f"{self.where}: unknown key(s): {', '.join(sorted(self.data))}")


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _charset(reader: _Reader, key: str, default: str) -> str:
    value = reader.get(key, str, default)
    try:
        codecs.lookup(value)
    except LookupError:
        raise SiteError(f"{reader.where}.{key}: unknown charset {value!r}") from None
    return value


def parse_fault(data: Any, where: str) -> Fault:
    """Read one fault table, e.g. ``{kind = "status", status = 503, times = 2}``."""
    reader = _Reader(data, where)
    kind = reader.get("kind", str)
    if kind not in FAULT_KEYS:
        raise SiteError(f"{where}.kind: unknown fault {kind!r} (known: {', '.join(FAULT_KEYS)})")
    values = {name: reader.get(name, type_, ... if required else None)
              for name, (type_, required) in FAULT_KEYS[kind].items()}
    reader.done()
    if kind == "status":
        _check_status(values["status"], f"{where}.status")
    return Fault(kind, **{k: v for k, v in values.items() if v is not None})


def _check_status(status: int, where: str) -> None:
    if status not in HTTP_STATUSES:
        raise SiteError(f"{where}: {status} is not an HTTP status code")


def parse_page(data: Any, where: str) -> Page:
    """Read one page table."""
    reader = _Reader(data, where)
    sources = [s for s in BODY_SOURCES if s in reader.data]
    if len(sources) > 1:
        raise SiteError(f"{where}: more than one body source: {', '.join(sources)}")
    source = sources[0] if sources else "status"
    if source != "template" and (extra := [k for k in TEMPLATE_KEYS if k in reader.data]):
        raise SiteError(f"{where}: {', '.join(extra)} only go with template = ...")
    value: Any = None
    template_args: tuple[tuple[str, Any], ...] = ()
    content_type = "text/html"
    headers = reader.get("headers", dict, {})
    if not all(isinstance(v, str) for v in headers.values()):
        raise SiteError(f"{where}.headers: header values must be strings")
    if source == "bomb":
        value = reader.get("bomb", int)
        headers["Content-Encoding"] = "gzip"
    elif source == "template":
        value = reader.get("template", str)
        if value not in TEMPLATES:
            raise SiteError(f"{where}.template: unknown template {value!r}")
        template_args = (("company", reader.get("company", str)),
                         ("footer", reader.get("footer", str, "")),
                         ("size", reader.get("size", int, 0)))
    elif source != "status":
        value = reader.get(source, str)
    if source == "file":
        if not (PAGES_DIR / value).is_file():
            raise SiteError(f"{where}.file: no file {value!r} in {PAGES_DIR}")
        content_type = mimetypes.guess_type(value)[0] or "application/octet-stream"
    status = reader.get("status", int, 301 if source == "redirect" else 200)
    _check_status(status, f"{where}.status")
    if source == "redirect":
        if status not in (301, 302, 303, 307, 308):
            raise SiteError(f"{where}.status: a redirect needs a 3xx status, got {status}")
        headers["Location"] = value
    charset = _charset(reader, "charset", "utf-8")
    page = Page(
        source=source,
        value=value,
        status=status,
        headers=tuple(headers.items()),
        content_type=reader.get("content_type", str, content_type),
        charset=charset,
        declared_charset=_charset(reader, "declared_charset", charset),
        header_charset=reader.get("header_charset", bool, True),
        gzip=reader.get("gzip", bool, False),
        fault=_optional_fault(reader),
        template_args=template_args,
    )
    reader.done()
    if source not in ("template", "bomb"):
        try:
            page.render()  # cached for serving; a body the charset cannot hold fails here
        except UnicodeError as exc:
            raise SiteError(f"{where}: the body cannot be encoded as {charset}: {exc}") from None
    return page


def _optional_fault(reader: _Reader) -> Fault | None:
    if "fault" not in reader.data:
        return None
    return parse_fault(reader.get("fault", dict), f"{reader.where}.fault")


def parse_site(data: Any, where: str) -> Site:
    """Read one ``[[site]]`` table (the raw table is kept as ``Site.definition``)."""
    reader = _Reader(data, where)
    host = reader.get("host", str).lower()
    schemes = reader.strings("schemes", SCHEMES)
    if unknown := set(schemes) - set(SCHEMES):
        raise SiteError(f"{where}.schemes: unknown scheme(s) {', '.join(sorted(unknown))}")
    tls = reader.get("tls", str, "ok")
    if tls not in TLS_MODES:
        raise SiteError(f"{where}.tls: expected one of {', '.join(TLS_MODES)}, got {tls!r}")
    pages = {}
    for path, page in reader.get("pages", dict, {}).items():
        if not path.startswith("/"):
            raise SiteError(f"{where}.pages: a path must start with '/', got {path!r}")
        pages[path] = parse_page(page, f"{where}.pages.{path!r}")
    site = Site(
        host=host,
        aliases=tuple(a.lower() for a in reader.strings("aliases")),
        schemes=frozenset(schemes),
        dns=reader.get("dns", bool, True),
        tls=tls,
        fault=_optional_fault(reader),
        pages=pages,
        expect=reader.get("expect", dict, {}),
        definition=dict(data),
    )
    reader.done()
    return site


def parse_sites(tables: Iterable[Any], where: str = "sites") -> list[Site]:
    """Read site tables (as in a sites file, or from :func:`generate_sites`)."""
    return [parse_site(t, f"{where}: site[{i}]") for i, t in enumerate(tables)]


def check_unique(sites: Iterable[Site]) -> list[Site]:
    """The sites as a list; a host name (or alias) defined twice raises :class:`SiteError`."""
    sites = list(sites)
    owners: dict[str, Site] = {}
    for site in sites:
        for name in site.names:
            if name in owners:
                raise SiteError(f"host {name!r} is defined twice (site {owners[name].host!r} "
                                f"and site {site.host!r})")
            owners[name] = site
    return sites


def site_files(*paths: str | Path) -> list[Path]:
    """The files behind ``paths``: files as given, directories as their ``*.toml``."""
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(path.glob("*.toml")) if path.is_dir() else [path])
    return files


def load_sites(*paths: str | Path) -> list[Site]:
    """Load sites from TOML/JSON files or directories of ``*.toml`` files, in order."""
    sites: list[Site] = []
    for file in site_files(*paths):
        try:
            text = file.read_text(encoding="utf-8")
            data = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SiteError(f"{file}: {exc}") from exc
        reader = _Reader(data, str(file))
        sites.extend(parse_sites(reader.get("site", list), str(file)))
        reader.done()
    return check_unique(sites)
