"""Extraction: page bytes in, licence findings out. Pure: no Scrapy, network or clock.

The page is decoded, its footer located in the text (``crawler.footer``), and only
the footer plus small windows around licence keywords elsewhere are parsed with
lxml into visible text. Each piece of text keeps the link that wraps it and where it
stands (footer, page, meta, script), so that a number split over several tags is
read as one and still knows its link. The catalogue then finds and judges numbers in
that text, and each number's link is checked against its category's link rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from urllib.parse import urljoin

from lxml import etree

from crawler.encoding import decode_html
from crawler.footer import FooterSpan, locate_footer
from patterns import Catalogue, Hit, normalise

WINDOW_BEFORE = 300  # characters kept before a keyword found outside the footer
WINDOW_AFTER = 400  # and after it
LOOKBACK = 20_000  # how far back a window looks for an unclosed <script>/<style>/comment
NEAR = 300  # raw characters after a keyword searched for a number before a window is kept
SNIPPET = 600  # characters of footer text kept as evidence

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br center dd div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section "
    "table tbody td th thead tfoot tr ul".split()
)
_SKIPPED_TAGS = frozenset({"style", "template", "noscript", "head", "title", "svg", "object"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SPACES = re.compile(r"\s+")
_NUMBERISH = re.compile(r"[0-9\uff10-\uff19]|[xX*]{2}")
_TAG = re.compile(r"<[^>]*>")
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True,
                           recover=True, default_doctype=False)


@dataclass(frozen=True)
class Finding:
    """One number as reported: what it is, whether it is right, and where it links."""

    category: str
    number: str
    status: str
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    link: str | None
    link_status: str
    location: str
    raw: str

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["problems"], data["warnings"] = list(self.problems), list(self.warnings)
        return data


@dataclass(frozen=True)
class PageExtract:
    """Everything taken from one page."""

    encoding: str
    footer: FooterSpan
    footer_text: str
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "footer": {"found": self.footer.found, "selector": self.footer.selector},
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class _Piece:
    start: int  # offsets in the normalised text
    end: int
    raw: str
    href: str | None
    location: str


@dataclass
class _Anchor:
    href: str
    start: int
    end: int
    location: str


class _VisibleText:
    """Visible text of a fragment, normalised, with each piece's link and location."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url
        self.chunks: list[str] = []
        self.pieces: list[_Piece] = []
        self.anchors: list[_Anchor] = []
        self.length = 0

    @property
    def text(self) -> str:
        return "".join(self.chunks)

    def add(self, raw: str | None, href: str | None, location: str) -> None:
        if not raw:
            return
        norm = normalise(raw)
        self.chunks.append(norm)
        self.pieces.append(_Piece(self.length, self.length + len(norm), raw, href, location))
        self.length += len(norm)

    def brk(self) -> None:
        if self.chunks and not self.chunks[-1].endswith("\n"):
            self.chunks.append("\n")
            self.length += 1

    def link(self, element: etree._Element) -> str | None:
        href = (element.get("href") or "").strip()
        if href:
            return urljoin(self.base_url, href) if self.base_url else href
        return "javascript:" if element.get("onclick") else None

    def walk(self, root: etree._Element, location: str) -> None:
        """Collect the text under ``root``; iterative, so deep nesting cannot overflow."""
        stack: list[tuple[etree._Element, str | None, bool, int]] = [(root, None, True, -1)]
        while stack:
            element, outer_href, entering, anchor = stack.pop()
            tag = element.tag.lower() if isinstance(element.tag, str) else ""
            if not entering:
                if anchor >= 0:
                    self.anchors[anchor].end = self.length
                if tag in _BLOCK_TAGS:
                    self.brk()
                self.add(element.tail, outer_href, location)
                continue
            if tag in _SKIPPED_TAGS or not tag or _hidden(element):
                if tag == "head":
                    stack.append((element, outer_href, False, -1))
                    stack.extend((child, outer_href, True, -1) for child in reversed(element)
                                 if isinstance(child.tag, str) and child.tag.lower() in ("meta", "script"))
                    continue
                self.add(element.tail, outer_href, location)
                continue
            if tag == "script":
                self.brk()
                self.add(element.text, None, "script")
                self.brk()
                self.add(element.tail, outer_href, location)
                continue
            if tag == "meta":
                self.add(element.get("content"), None, "meta")
                self.brk()
                self.add(element.tail, outer_href, location)
                continue
            href = outer_href
            index = -1
            if tag == "a":
                href = self.link(element) or outer_href
                if href:
                    index = len(self.anchors)
                    self.anchors.append(_Anchor(href, self.length, self.length, location))
            if tag in _BLOCK_TAGS:
                self.brk()
            self.add(element.text, href, location)
            stack.append((element, outer_href, False, index))
            stack.extend((child, href, True, -1) for child in reversed(element))


def _hidden(element: etree._Element) -> bool:
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _parse_fragment(html: str) -> etree._Element | None:
    try:
        return etree.fromstring(html, _PARSER)
    except (etree.ParserError, ValueError):
        return None


def _window(text: str, pos: int) -> tuple[int, int]:
    """A region around ``pos`` that starts at a tag and includes any unclosed
    ``<script>``, ``<style>`` or comment that ``pos`` is inside."""
    start = max(0, pos - WINDOW_BEFORE)
    lt = text.rfind("<", max(0, start - 500), start + 1)
    start = lt if lt >= 0 else start
    floor = max(0, pos - LOOKBACK)
    for opener, closer in (("<script", "</script"), ("<style", "</style"), ("<!--", "-->")):
        opened = max(text.rfind(opener, floor, pos), text.rfind(opener.upper(), floor, pos))
        if opened >= 0 and max(text.rfind(closer, opened, pos), text.rfind(closer.upper(), opened, pos)) < 0:
            start = min(start, opened)
    end = min(len(text), pos + WINDOW_AFTER)
    gt = text.find(">", end)
    return start, (gt + 1 if 0 <= gt < end + 500 else end)


def _keyword_windows(text: str, anchors: Iterable[str], footer: FooterSpan,
                     catalogue: Catalogue, year: int) -> list[tuple[int, int]]:
    """Merged windows around the keywords outside the footer that stand near a number."""
    windows: list[tuple[int, int]] = []
    for anchor in anchors:
        pos = text.find(anchor)
        while pos >= 0:
            if footer.start <= pos < footer.end:
                pos = text.find(anchor, footer.end)
                continue
            if not _near_number(text, pos, catalogue, year):
                pos = text.find(anchor, pos + 1)
                continue
            window = _window(text, pos)
            windows.append(window)
            pos = text.find(anchor, max(window[1], pos + 1))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    clipped = []
    for start, end in merged:  # the footer is parsed on its own
        if start < footer.start < end:
            clipped.append((start, footer.start))
            if end > footer.end:
                clipped.append((footer.end, end))
        elif footer.start <= start < footer.end:
            if end > footer.end:
                clipped.append((footer.end, end))
        else:
            clipped.append((start, end))
    return clipped


def _near_number(text: str, pos: int, catalogue: Catalogue, year: int) -> bool:
    """Whether a keyword at ``pos`` is worth parsing around: inside a tag (an href or a
    meta content) when digits follow; in text when a pattern matches the text nearby
    once tags are dropped. Keeps pages full of 设备 or 准备 from costing a parse each."""
    in_tag = text.rfind("<", max(0, pos - 2000), pos) > text.rfind(">", max(0, pos - 2000), pos)
    if in_tag:
        return bool(_NUMBERISH.search(text, pos, pos + 100))
    nearby = _TAG.sub("", text[max(0, pos - 60): pos + NEAR])
    return bool(catalogue.scan(normalise(nearby), year=year))


def _raw_span(pieces: list[_Piece], start: int, end: int) -> str:
    """The page's own characters for normalised offsets ``start:end``."""
    out = []
    for piece in pieces:
        if piece.end <= start or piece.start >= end:
            continue
        if len(piece.raw) == piece.end - piece.start:  # one-to-one (width, dash, nbsp folds)
            out.append(piece.raw[max(0, start - piece.start): end - piece.start])
        else:
            out.append(piece.raw)
    return "".join(out)


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


class Extractor:
    """Extracts findings from pages with one catalogue for one audit year."""

    def __init__(self, catalogue: Catalogue, year: int) -> None:
        self.catalogue = catalogue
        self.year = year
        anchors = set()
        for anchor in catalogue.anchors:
            anchors.update({anchor, anchor.lower()})
        # a keyword that contains another adds no window of its own
        self.window_anchors = tuple(sorted(
            a for a in anchors if not any(b != a and b in a for b in anchors)
        ))
        self._link_numbers = [
            (category.id, link_number)
            for category in catalogue.categories.values()
            for link_number in category.link_numbers
        ]

    def extract(self, body: bytes | str, *, base_url: str | None = None,
                content_type: str | None = None) -> PageExtract:
        """Decode, locate the footer, and find every number on the page."""
        if isinstance(body, bytes):
            text, encoding = decode_html(body, content_type)
        else:
            text, encoding = body, "unicode"
        footer = locate_footer(text)
        regions = [(footer.start, footer.end, "footer")] + [
            (start, end, "page") for start, end in _keyword_windows(text, self.window_anchors, footer,
                                                                 self.catalogue, self.year)
        ]
        found: list[tuple[int, Finding]] = []
        footer_text = ""
        for start, end, location in sorted(regions):
            visible = self._visible(text[start:end], location, base_url)
            if visible is None:
                continue
            if location == "footer":
                footer_text = _SPACES.sub(" ", visible.text).strip()[:SNIPPET]
            found.extend((start, f) for f in self._findings(visible))
        findings = tuple(f for _, f in sorted(found, key=lambda item: item[0]))
        return PageExtract(encoding, footer, footer_text, findings)

    def _visible(self, html: str, location: str, base_url: str | None) -> _VisibleText | None:
        if not html.strip():
            return None
        root = _parse_fragment(html)
        if root is None:
            return None
        visible = _VisibleText(base_url)
        visible.walk(root, location)
        return visible

    def _findings(self, visible: _VisibleText) -> list[Finding]:
        text = visible.text
        hits = self.catalogue.scan(text, year=self.year)
        hits.extend(self._link_only_hits(visible, hits))
        return [self._finding(hit, visible) for hit in sorted(hits, key=lambda h: h.start)]

    def _link_only_hits(self, visible: _VisibleText, hits: list[Hit]) -> list[Hit]:
        """Registry links that carry a record code the text around them does not show."""
        extra: list[Hit] = []
        for anchor in visible.anchors:
            for category, link_number in self._link_numbers:
                match = link_number.rule.regex.search(anchor.href)
                if not match:
                    continue
                code = match.group("code")
                shown = any(h.category == category and code in _digits(h.number) for h in hits + extra)
                if not shown:
                    hit = self.catalogue.judge_link(category, link_number, match, self.year)
                    extra.append(_at(hit, anchor.start, anchor.end))
        return extra

    def _finding(self, hit: Hit, visible: _VisibleText) -> Finding:
        overlapping = [p for p in visible.pieces if p.start < hit.end and hit.start < p.end]
        linked = [p for p in overlapping if p.href]
        href = max(linked, key=lambda p: min(p.end, hit.end) - max(p.start, hit.start)).href if linked else None
        if href is None:
            href = next((a.href for a in visible.anchors
                         if a.start <= hit.start and hit.end <= a.end), None)
        located = [p for p in overlapping if p.location != "footer" and p.location != "page"]
        location = located[0].location if located else (overlapping[0].location if overlapping else "page")
        rule = self.catalogue.link_rule(hit.category)
        link_status = rule.status(href, _digits(hit.number)) if rule else "not_required"
        raw = _SPACES.sub(" ", _raw_span(visible.pieces, hit.start, hit.end)).strip()
        return Finding(hit.category, hit.number, hit.status, hit.problems, hit.warnings,
                       href, link_status, location, raw)


def _at(hit: Hit, start: int, end: int) -> Hit:
    return Hit(hit.category, hit.number, hit.status, hit.problems, hit.warnings, start, end)
