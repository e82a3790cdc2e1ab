"""Extraction: page bytes in, licence findings out. Pure: no Scrapy, network or clock.

A DOM of a whole page costs more than everything else footer-audit does with it, so
the page is decoded, its footer located in the text (``crawler.footer``), and only
the footer plus small windows around licence keywords elsewhere are parsed with lxml
into visible text. Each piece of text keeps the link that wraps it and where it
stands (footer, page, meta, script), so that a number split over several tags is
read as one and still knows its link. The catalogue then finds and judges numbers in
that text, and each number's link is checked against its category's link rule.

Keywords outside the footer are the catalogue's anchors, found with one ``str.find``
per *probe*: a Chinese anchor is looked for by a character another anchor is looked
for by, else by its least frequent one (by ``FREQUENT_HANZI``); an ASCII anchor by its
first letter when that is a capital, since lower-case letters fill every page's
markup (an all-lower-case one, a host name such as ``beian``, is left to the footer).
A hit counts when the anchor stands there and a digit or a mask follows within
``DIGIT_REACH`` characters or tags, before a sentence or an attribute value ends, so
that a page full of 设备, 准备 or dates costs next to nothing. Keywords close together
share a window; the windows' texts, tags stripped, are scanned together, and only
those in which the catalogue finds a number are parsed.

Bounds keep junk pages cheap: at most ``MAX_FINDINGS`` findings a page (the footer's
first), and past ``MAX_KEYWORDS`` keywords the page outside the footer is one window.
A page that hits a bound says so in its ``notices`` (``findings_capped``,
``keywords_capped``), so that a cut list is never mistaken for a whole one.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache, partial
from itertools import accumulate
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

from lxml import etree

from crawler.encoding import decode_html
from crawler.footer import FooterSpan, locate_footer
from patterns import Catalogue, Hit, normalise
from patterns.catalogue import merged_spans
from patterns.tables import LinkRule

WINDOW_BEFORE = 300  # characters kept before a keyword found outside the footer
WINDOW_AFTER = 400  # and after it
DIGIT_REACH = 40  # characters or tags after a keyword within which its number shows a digit
TAG_REACH = 500  # the longest tag that this looks across
IN_TAG_REACH = 100  # raw characters after a keyword inside a tag (a meta content) looked at
SNIPPET = 600  # characters of footer text kept as evidence
MAX_FINDINGS = 200  # per page: more is no real page, and the footer's are kept first
MAX_KEYWORDS = 2_000  # keywords outside the footer beyond which all of it is one region
DECISION_BATCH = 20_000  # characters of keyword-window texts scanned at once for numbers
FINDINGS_CAPPED = "findings_capped"  # notice: MAX_FINDINGS reached, later numbers not read
KEYWORDS_CAPPED = "keywords_capped"  # notice: MAX_KEYWORDS passed, the page read as one window

# The 300 most frequent characters of modern Chinese, most frequent first.
FREQUENT_HANZI = (
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自"
    "之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主"
    "样理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外"
    "将两高间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内"
    "信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活"
    "尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许"
    "统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象"
)

_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "center", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody",
    "td", "th", "thead", "tfoot", "tr", "ul",
})
# Elements whose content is no visible text: skipped, but for a script's code and a
# meta's content (and those in the head), which are read apart.
_APART_TAGS = frozenset({"style", "template", "noscript", "head", "title", "svg", "object",
                         "script", "meta"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_MAY_HIDE_OR_LINK = etree.XPath("descendant-or-self::*[@hidden or @style or @onclick]")
_NAVIGATES = re.compile(r"open\s*\(|location|href|https?:|//", re.IGNORECASE)  # an onclick that opens a page
_TAG = re.compile(r"<[^>]*>")
_NOT_DIGITS = re.compile(r"\D+")
# Characters that normalise() turns into exactly one other character (full-width forms,
# wide and no-break spaces, dash look-alikes), and the ones it always leaves alone.
_FOLDABLE = re.compile("[\uff01-\uff5e\u3000\u00a0\u2010-\u2015\u2212\ufe58\ufe63]")
_FOLD = {chr(c): normalise(chr(c)) for c in (*range(0xFF01, 0xFF5F), 0x3000, 0xA0,
                                                  *range(0x2010, 0x2016), 0x2212, 0xFE58, 0xFE63)}
_UNTOUCHED = re.compile("[\x00-\x7f\u4e00-\u9fff\u3001\u3002\u3008-\u3011]+")
_CONTROLS = bytes([*range(9), 11, 12, *range(14, 32)])  # C0 controls but \t, \n and \r
_CONTROLS_TO_SPACES = bytes.maketrans(_CONTROLS, b" " * len(_CONTROLS))
# Fragments are handed over as UTF-8 (a <meta charset> inside them is not obeyed).
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True,
                           recover=True, default_doctype=False, encoding="utf-8")


def normalised_in_place(text: str) -> str | None:
    """``normalise(text)`` when it maps ``text`` character for character (so offsets
    still hold), found without the cost of NFKC over the whole text; else ``None``.

    >>> normalised_in_place("京ＩＣＰ备１２号－１，版权所有")
    '京ICP备12号-1,版权所有'
    >>> normalised_in_place("京ICP备\u200b12号") is None
    True
    """
    folded = _FOLDABLE.sub(lambda m: _FOLD[m.group()], text) if not text.isascii() else text
    rest = _UNTOUCHED.sub("", folded)
    if rest and (normalise(rest) != rest or any(unicodedata.combining(ch) for ch in rest)
                 or not unicodedata.is_normalized("NFKC", folded)):
        return None
    return folded


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
    notices: tuple[str, ...] = ()  # the bounds the page hit: FINDINGS_CAPPED, KEYWORDS_CAPPED

    def to_dict(self) -> dict[str, object]:
        return {
            "footer": {"found": self.footer.found, "selector": self.footer.selector},
            "findings": [f.to_dict() for f in self.findings],
            "notices": list(self.notices),
        }


class _Piece(NamedTuple):
    start: int  # offsets in the normalised text
    end: int
    raw: str
    href: str | None
    location: str


_new_piece = partial(tuple.__new__, _Piece)  # a _Piece from a tuple, without a Python call


@dataclass(slots=True)
class _Anchor:
    href: str
    start: int
    end: int
    location: str


class _VisibleText:
    """Visible text of a fragment, normalised, with each piece's link and location."""

    def __init__(self, base_url: str | None) -> None:
        self.base_url = base_url
        self.chunks: list[str] = []  # raw pieces and line breaks
        self.pieces: list[_Piece] = []
        self.anchors: list[_Anchor] = []
        self.length = 0  # raw characters so far
        self.text = ""  # set by walk(): the normalised text

    def add(self, raw: str | None, href: str | None, location: str) -> None:
        if raw:
            self.chunks.append(raw)
            self.pieces.append(_new_piece((self.length, self.length + len(raw), raw, href, location)))
            self.length += len(raw)

    def brk(self) -> None:
        if self.chunks and self.chunks[-1][-1] != "\n":
            self.chunks.append("\n")
            self.length += 1

    @staticmethod
    def link(element: etree._Element) -> str | None:
        """The element's link as written; resolved only where a number needs it."""
        href = (element.get("href") or "").strip()
        if href:
            return href
        return "javascript:" if element.get("onclick") else None

    def resolve(self, href: str | None) -> str | None:
        """``href`` against the page's URL; a malformed one stays as written."""
        if not href or not self.base_url:
            return href
        try:
            return _join(self.base_url, href)
        except ValueError:
            return href

    def may_carry_code(self, href: str) -> bool:
        """Whether ``href``, once resolved, can have a query (``code=…``): only if it
        has one itself, or is a bare fragment of a page URL that has one."""
        return "=" in href or (href.startswith("#") and "=" in (self.base_url or ""))

    def walk(self, root: etree._Element, location: str, marked: bool = True) -> None:
        """Collect the text under ``root``, then normalise it; ``marked`` False says
        that no element can be hidden or clickable (see ``_may_mark``). lxml walks the
        tree, so deep nesting cannot overflow the stack; the loop is the hot path of
        extraction, hence the inlined ``add`` and ``brk``."""
        chunks, pieces, anchors = self.chunks, self.pieces, self.anchors
        hidden, clickable = _hidden_and_clickable(root) if marked else (set(), set())
        append, add_piece = chunks.append, pieces.append
        length = self.length  # kept in a local here, in self.length around other calls
        # per open element: the anchor it opened (-1 none, -2 not walked into), whether
        # it is a block, and the link its text takes; the first entry stands for what
        # lies around ``root``
        stack: list[tuple[int, bool, str | None]] = [(-2, False, None)]
        walker = etree.iterwalk(root, events=("start", "end"))
        for event, element in walker:
            if event == "end":
                index, block, _ = stack.pop()
                if index >= 0:
                    anchors[index].end = length
                if block and chunks and chunks[-1][-1] != "\n":
                    append("\n")
                    length += 1
                raw = element.tail
                if raw:
                    append(raw)
                    add_piece(_new_piece((length, length + len(raw), raw, stack[-1][2], location)))
                    length += len(raw)
                continue
            tag = element.tag
            href = stack[-1][2]
            if type(tag) is not str or tag in _APART_TAGS or (hidden and element in hidden):
                walker.skip_subtree()
                stack.append((-2, False, href))
                self.length = length
                if tag == "head":  # only its meta and script elements are read
                    for child in element:
                        if child.tag == "meta" or child.tag == "script":
                            if child not in hidden:
                                self._read_leaf(child)
                            self.add(child.tail, href, location)
                elif (tag == "script" or tag == "meta") and element not in hidden:
                    self._read_leaf(element)
                length = self.length
                continue
            index = -1
            if tag == "a" or (clickable and element in clickable):
                href = self.link(element) or href
                if href:
                    index = len(anchors)
                    anchors.append(_Anchor(href, length, length, location))
            block = tag in _BLOCK_TAGS
            if block and chunks and chunks[-1][-1] != "\n":
                append("\n")
                length += 1
            raw = element.text
            if raw:
                append(raw)
                add_piece(_new_piece((length, length + len(raw), raw, href, location)))
                length += len(raw)
            stack.append((index, block, href))
        self.length = length
        self._normalise()

    def _read_leaf(self, element: etree._Element) -> None:
        """A script's code or a meta's content, which stand apart from the text."""
        if element.tag == "script":
            self.brk()
            self.add(element.text, None, "script")
        else:
            self.add(element.get("content"), None, "meta")
        self.brk()

    def _normalise(self) -> None:
        """Normalise the text: at once when that maps it character for character, else
        chunk by chunk, moving every offset to the normalised text."""
        in_place = normalised_in_place("".join(self.chunks))
        if in_place is not None:
            self.text = in_place
            return
        parts = [normalise(chunk) for chunk in self.chunks]
        moved = {0: 0}
        raw_end = norm_end = 0
        for chunk, part in zip(self.chunks, parts):
            raw_end, norm_end = raw_end + len(chunk), norm_end + len(part)
            moved[raw_end] = norm_end
        self.pieces = [piece._replace(start=moved[piece.start], end=moved[piece.end])
                       for piece in self.pieces]
        for anchor in self.anchors:
            anchor.start, anchor.end = moved[anchor.start], moved[anchor.end]
        self.text = "".join(parts)


# The names of the attributes that hide an element or make it clickable, less their
# first letter, in lower and upper case: HTML without any of them needs no XPath.
_MARKING_ATTRIBUTES = ("tyle", "TYLE", "idden", "IDDEN", "nclick", "NCLICK")


def _may_mark(html: str) -> bool:
    """Whether ``html`` may hold a hidden or clickable element (a few substring tests
    instead of an XPath over every element).

    >>> _may_mark('<p>京ICP备1号</p>'), _may_mark('<p STYLE="display:none">x</p>')
    (False, True)
    """
    return any(word in html for word in _MARKING_ATTRIBUTES)


def _hidden_and_clickable(root: etree._Element) -> tuple[set[etree._Element], set[etree._Element]]:
    """The elements under ``root`` marked hidden, or styled ``display: none`` or
    ``visibility: hidden``; and those other than links whose ``onclick`` opens a page
    (a link that only JavaScript follows). One XPath finds the few with such attributes."""
    hidden, clickable = set(), set()
    for element in _MAY_HIDE_OR_LINK(root):
        if element.get("hidden") is not None or _HIDDEN_STYLE.search(element.get("style") or ""):
            hidden.add(element)
        if element.tag != "a" and _NAVIGATES.search(element.get("onclick") or ""):
            clickable.add(element)
    return hidden, clickable


def _parse_fragment(html: str) -> etree._Element | None:
    """Parse a piece of a page. Control characters, which lxml would turn into U+FFFD
    and so break a number, become spaces; lone surrogates, which UTF-8 cannot carry, ``?``.
    """
    try:
        return etree.fromstring(html.encode("utf-8", "replace").translate(_CONTROLS_TO_SPACES), _PARSER)
    except (etree.LxmlError, ValueError):
        return None


def _window(text: str, first: int, last: int, blocks: _OpenBlocks) -> tuple[int, int]:
    """The region parsed for keywords from ``first`` to ``last``: it starts at a tag and
    includes any unclosed ``<script>``, ``<style>`` or comment that ``first`` is inside."""
    start = max(0, first - WINDOW_BEFORE)
    lt = text.rfind("<", max(0, start - 500), start + 1)
    start = lt if lt >= 0 else start
    start = min(start, blocks.open_at(first))
    end = min(len(text), last + WINDOW_AFTER)
    gt = text.find(">", end)
    return start, (gt + 1 if 0 <= gt < end + 500 else end)


class _OpenBlocks:
    """Where the ``<script>``, ``<style>`` or comment that holds an offset opened, for
    offsets asked in increasing order: each marker is looked for once, going forward,
    so however far back a script opened (a 100 KB ``__NEXT_DATA__``), a page costs one
    pass.

    >>> blocks = _OpenBlocks("<p>a</p><script>var s = '<b>'; x</script><p>b<!-- y")
    >>> [blocks.open_at(at) for at in (4, 30, 43, 48)]
    [4, 8, 43, 45]
    """

    _MARKERS = ("<script", "</script", "<style", "</style", "<!--", "-->")

    def __init__(self, text: str) -> None:
        self.text = text
        # per marker (both cases): the last offset found so far and the next one
        self.found: dict[str, list[int]] = {}

    def _last_before(self, marker: str, offset: int) -> int:
        found = self.found.get(marker)
        if found is None:
            found = self.found[marker] = [-1, self.text.find(marker)]
        while 0 <= found[1] < offset:
            found[0], found[1] = found[1], self.text.find(marker, found[1] + 1)
        return found[0]

    def open_at(self, offset: int) -> int:
        """The offset of the earliest still-open block ``offset`` lies in, else ``offset``."""
        start = offset
        for opener, closer in zip(self._MARKERS[::2], self._MARKERS[1::2]):
            opened = max(self._last_before(opener, offset), self._last_before(opener.upper(), offset))
            closed = max(self._last_before(closer, offset), self._last_before(closer.upper(), offset))
            if opened > closed:
                start = min(start, opened)
        return start


def _outside(spans: Iterable[tuple[int, int]], footer: FooterSpan) -> list[tuple[int, int]]:
    """The parts of ``spans`` outside the footer, which is parsed on its own."""
    clipped = []
    for start, end in spans:
        if start < footer.start:
            clipped.append((start, min(end, footer.start)))
        if end > footer.end:
            clipped.append((max(start, footer.end), end))
    return clipped


def _in_tag(text: str, pos: int) -> bool:
    """Whether ``pos`` lies inside a start tag (an attribute: an href, a meta content)."""
    floor = max(0, pos - 2000)
    return text.rfind("<", floor, pos) > text.rfind(">", floor, pos)


def _probes(anchors: Iterable[str]) -> dict[str, list[tuple[str, int]]]:
    """For each character the anchors are looked for by, the anchors and where it stands
    in them. An ASCII anchor is looked for by its capital first letter; one in lower
    case is left to the footer, as lower-case letters fill every page's markup. A
    Chinese anchor is looked for by a character another anchor is looked for by, else
    by its least frequent one; anchors with the fewest rare characters choose first.

    >>> _probes(["许可证", "ICP", "beian", "新出发", "新闻信息服务"])
    {'新': [('新出发', 0), ('新闻信息服务', 0)], '证': [('许可证', 2)], 'I': [('ICP', 0)]}
    """
    rank = {ch: i for i, ch in enumerate(FREQUENT_HANZI)}
    chinese = sorted((a for a in anchors if not a.isascii()),
                     key=lambda a: (sum(ch not in rank for ch in a), a))
    probes: dict[str, list[tuple[str, int]]] = {}
    for anchor in chinese:
        shared = [i for i, ch in enumerate(anchor) if ch in probes]
        offset = shared[0] if shared else max(
            range(len(anchor)), key=lambda i: (rank.get(anchor[i], len(rank)), -i))
        probes.setdefault(anchor[offset], []).append((anchor, offset))
    for anchor in anchors:
        if anchor.isascii() and anchor[0].isupper():
            probes.setdefault(anchor[0], []).append((anchor, 0))
    return probes


# What must follow a keyword for its window to be worth a look: a digit or a mask within
# DIGIT_REACH characters or tags, before a sentence or an attribute value ends (a 设备
# in prose or in a title attribute is seldom followed by a digit before its 。 or quote).
# Tried first without tags (far cheaper for ``re``), and with them only if a tag opens.
_TEXT = r"[^<>\"'。！？]"
_DIGIT = r"(?:[0-9\uff10-\uff19]|[xX*]{2})"
_NUMBER_FOLLOWS = (rf"(?={_TEXT}{{0,{DIGIT_REACH}}}?{_DIGIT}"
                   rf"|(?={_TEXT}{{0,{DIGIT_REACH}}}<)"
                   rf"(?:<[^<>]{{0,{TAG_REACH}}}>|{_TEXT}){{0,{DIGIT_REACH}}}?{_DIGIT})")


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first."""
    return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))


class _Keywords:
    """Finds the catalogue's anchors that a number may follow in page text, with a few
    single-character searches."""

    def __init__(self, anchors: Iterable[str]) -> None:
        anchors = set(anchors)
        # a keyword that contains another adds no window of its own
        kept = sorted(a for a in anchors if not any(b != a and b.lower() in a.lower() for b in anchors))
        # per probe character and its offset in the anchors: the anchors, to test with
        # ``str.startswith`` (Chinese ones only: ASCII ones go in any case) before the
        # regex for those anchors and what must follow them
        self.probes: list[tuple[str, int, tuple[str, ...], re.Pattern[str]]] = []
        for probe, found in _probes(kept).items():
            by_offset: dict[int, list[str]] = {}
            for anchor, offset in found:
                by_offset.setdefault(offset, []).append(anchor)
            flags = re.IGNORECASE if probe.isascii() else 0
            self.probes.extend(
                (probe, offset, () if probe.isascii() else tuple(group),
                 re.compile(f"(?:{_alternatives(group)}){_NUMBER_FOLLOWS}", flags))
                for offset, group in by_offset.items()
            )

    def find(self, text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
        """Every keyword within ``text[start:end]`` that a number may follow, as
        (start, end), in text order; or, once more than ``limit`` are found, those.

        >>> _Keywords(["ICP", "备", "许可证"]).find("设备。Icp 许可证：<b>B2</b>-2009", 0, 25, 9)
        [(3, 6), (7, 10)]
        """
        found: set[tuple[int, int]] = set()
        for probe, offset, literals, anchors in self.probes:
            match = anchors.match
            pos = text.find(probe, start + offset, end)
            while pos >= 0 and len(found) <= limit:
                if (not literals or text.startswith(literals, pos - offset)) and (
                        hit := match(text, pos - offset, end)):
                    found.add(hit.span())
                pos = text.find(probe, pos + 1, end)
        return sorted(found)


class _ShownCodes:
    """The digits of the numbers a region shows, per category, to tell whether a
    registry link's record code is among them (as a whole or a part)."""

    def __init__(self) -> None:
        self._digits: dict[str, list[str]] = {}
        self._parts: dict[tuple[str, int], set[str]] = {}

    def add(self, category: str, digits: str) -> None:
        self._digits.setdefault(category, []).append(digits)
        for (known, size), parts in self._parts.items():
            if known == category:
                parts.update(digits[i:i + size] for i in range(len(digits) - size + 1))

    def shows(self, category: str, code: str) -> bool:
        parts = self._parts.get((category, len(code)))
        if parts is None:
            size = len(code)
            parts = self._parts[category, size] = {
                digits[i:i + size] for digits in self._digits.get(category, ())
                for i in range(len(digits) - size + 1)
            }
        return code in parts


class _Links:
    """The links of a region in text order, to find the first whose text holds a span."""

    def __init__(self, anchors: list[_Anchor]) -> None:
        self.anchors = anchors
        self.starts = [anchor.start for anchor in anchors]
        self.reach = list(accumulate((anchor.end for anchor in anchors), max))  # ends so far

    def around(self, start: int, end: int) -> str | None:
        """The href of the first link with ``start:end`` in its text.

        >>> _Links([_Anchor("a", 0, 5, "footer"), _Anchor("b", 5, 9, "footer")]).around(6, 8)
        'b'
        """
        first = bisect_left(self.reach, end)  # the first link that ends at ``end`` or later
        return self.anchors[first].href if first < bisect_right(self.starts, start) else None


def _digits(number: str) -> str:
    return _NOT_DIGITS.sub("", number)


class Extractor:
    """Extracts findings from pages with one catalogue for one audit year."""

    def __init__(self, catalogue: Catalogue, year: int) -> None:
        self.catalogue = catalogue
        self.year = year
        self._keywords = _Keywords(word for c in catalogue.categories.values()
                                   for word in (*c.anchors, *c.labels))
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
        windows, keywords_capped = self._keyword_windows(text, footer)
        regions = [(footer.start, footer.end, "footer")] + [(start, end, "page") for start, end in windows]
        notices = [KEYWORDS_CAPPED] if keywords_capped else []
        found: list[tuple[int, Finding]] = []
        footer_text = ""
        for start, end, location in regions:  # the footer first, for MAX_FINDINGS
            room = MAX_FINDINGS - len(found)
            if FINDINGS_CAPPED in notices:
                break
            visible = self._visible(text[start:end], location, base_url)
            if visible is None:
                continue
            if location == "footer":
                footer_text = " ".join(visible.text.split())[:SNIPPET]
            more = self._findings(visible, room + 1)  # one more than there is room for: a cut
            if len(more) > room:
                notices.append(FINDINGS_CAPPED)
                more = more[:room]
            found.extend((start, f) for f in more)
        findings = tuple(f for _, f in sorted(found, key=lambda item: item[0]))
        return PageExtract(encoding, footer, footer_text, findings, tuple(dict.fromkeys(notices)))

    def _keyword_windows(self, text: str, footer: FooterSpan) -> tuple[list[tuple[int, int]], bool]:
        """The regions outside the footer worth parsing: around keywords that stand near
        a number. Keywords close together share a region, which is kept if the catalogue
        finds a number in its text (tags stripped, plus the raw text after keywords
        inside tags). Also whether MAX_KEYWORDS was passed."""
        outside = ((0, footer.start), (footer.end, len(text)))
        keywords = [keyword for start, end in outside
                    for keyword in self._keywords.find(text, start, end, MAX_KEYWORDS)]
        capped = len(keywords) > MAX_KEYWORDS
        if capped:  # keyword soup: its windows would cover it all anyway
            groups = [[(start, start), (end, end)] for start, end in outside if end > start]
        else:
            groups = []  # keywords whose windows overlap
            for keyword in keywords:
                if groups and keyword[0] - WINDOW_BEFORE <= groups[-1][-1][1] + WINDOW_AFTER:
                    groups[-1].append(keyword)
                else:
                    groups.append([keyword])
        texts = []
        for group in groups:
            lo, hi = max(0, group[0][0] - WINDOW_BEFORE), group[-1][1] + WINDOW_AFTER
            in_tags = [text[first:last + IN_TAG_REACH] for first, last in group
                       if _in_tag(text, first)]
            visible = "\n".join([_TAG.sub("", text[lo:hi]), *in_tags])
            texts.append(normalised_in_place(visible) or normalise(visible))
        blocks = _OpenBlocks(text)
        windows = [_window(text, groups[i][0][0], groups[i][-1][1], blocks)
                   for i in self._with_numbers(texts)]
        return merged_spans(_outside(windows, footer)), capped

    def _with_numbers(self, texts: list[str]) -> list[int]:
        """The indexes of ``texts`` in which the catalogue finds a number. Short texts are
        scanned together, about DECISION_BATCH characters at a time; a long one only
        until a number turns up."""
        kept: list[int] = []
        batch: list[int] = []

        def scan_batch() -> None:
            starts = list(accumulate((len(texts[i]) + 1 for i in batch[:-1]), initial=0))
            found = self.catalogue.number_spans("\n".join(texts[i] for i in batch))
            kept.extend(batch[j] for j in {bisect_right(starts, start) - 1 for start, _ in found})
            batch.clear()

        size = 0
        for index, piece in enumerate(texts):
            if len(piece) > DECISION_BATCH:
                if self.catalogue.number_spans(piece, limit=1):
                    kept.append(index)
                continue
            if size + len(piece) > DECISION_BATCH and batch:
                scan_batch()
                size = 0
            batch.append(index)
            size += len(piece) + 1
        if batch:
            scan_batch()
        return sorted(kept)

    def _visible(self, html: str, location: str, base_url: str | None) -> _VisibleText | None:
        if not html.strip():
            return None
        root = _parse_fragment(html)
        if root is None:
            return None
        visible = _VisibleText(base_url)
        visible.walk(root, location, _may_mark(html))
        return visible

    def _findings(self, visible: _VisibleText, limit: int) -> list[Finding]:
        hits = self.catalogue.scan(visible.text, year=self.year, limit=limit)
        hits.extend(self._link_only_hits(visible, hits)[:limit - len(hits)])
        starts = [piece.start for piece in visible.pieces]
        links = _Links(visible.anchors)
        return [self._finding(hit, visible, starts, links) for hit in sorted(hits, key=lambda h: h.start)]

    def _link_only_hits(self, visible: _VisibleText, hits: list[Hit]) -> list[Hit]:
        """Registry links that carry a record code the text around them does not show.
        A link around a shown number of its category is that number's link (a code that
        differs is its ``code_mismatch``), not a number of its own."""
        carriers = [anchor for anchor in visible.anchors if visible.may_carry_code(anchor.href)]
        if not carriers or not self._link_numbers:
            return []
        shown = _ShownCodes()
        spans: dict[str, tuple[list[int], list[int]]] = {}  # per category: starts and ends, in order
        for hit in hits:  # in text order and apart, so their ends are in order too
            shown.add(hit.category, _digits(hit.number))
            starts, ends = spans.setdefault(hit.category, ([], []))
            starts.append(hit.start)
            ends.append(hit.end)
        extra: list[Hit] = []
        for anchor in carriers:
            href = visible.resolve(anchor.href) or ""
            for category, link_number in self._link_numbers:
                match = link_number.rule.regex.search(href)
                if not match:
                    continue
                code = match.group("code")
                starts, ends = spans.get(category, ([], []))
                last = bisect_left(starts, anchor.end) - 1  # the last number starting in or before the link
                if last >= 0 and ends[last] > anchor.start:
                    continue
                if not shown.shows(category, code):
                    hit = self.catalogue.judge_link(category, link_number, match, self.year)
                    extra.append(_at(hit, anchor.start, anchor.end))
                    shown.add(category, _digits(hit.number))
        return extra

    def _finding(self, hit: Hit, visible: _VisibleText, starts: list[int], links: _Links) -> Finding:
        pieces = visible.pieces
        overlapping = []
        for index in range(max(0, bisect_right(starts, hit.start) - 1), len(pieces)):
            piece = pieces[index]
            if piece.start >= hit.end and piece.end > piece.start:
                break
            if piece.start < hit.end and hit.start < piece.end:
                overlapping.append(piece)
        linked = [p for p in overlapping if p.href]
        href = (max(linked, key=lambda p: min(p.end, hit.end) - max(p.start, hit.start)).href
                if linked else None)
        if href is None:
            href = links.around(hit.start, hit.end)
        href = visible.resolve(href)
        located = [p for p in overlapping if p.location != "footer" and p.location != "page"]
        location = (located or overlapping)[0].location if overlapping else "page"
        rule = self.catalogue.link_rule(hit.category)
        link_status = _link_status(rule, href, _digits(hit.number)) if rule else "not_required"
        raw = " ".join(_raw_span(overlapping, hit.start, hit.end).split())
        return Finding(hit.category, hit.number, hit.status, hit.problems, hit.warnings,
                       href, link_status, location, raw)


def _join(base: str, href: str) -> str:
    """``urljoin(base, href)``; an absolute link's resolution depends only on the base's
    scheme, and registry links repeat from site to site, so those are remembered."""
    scheme, _, rest = href.partition("://")
    if scheme.isalpha() and rest[:1] not in ("", "/", "?", "#"):  # a scheme and a host
        return _join_absolute(urlsplit(base).scheme, href)
    return urljoin(base, href)


@lru_cache(maxsize=4096)
def _join_absolute(base_scheme: str, href: str) -> str:
    return urljoin(f"{base_scheme}://", href)


@lru_cache(maxsize=4096)
def _link_status(rule: LinkRule, href: str | None, digits: str) -> str:
    """The link rule's verdict; a link too malformed to split is a wrong link. Remembered:
    registry links repeat from site to site."""
    try:
        return rule.status(href, digits)
    except ValueError:
        return "wrong_link"


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


def _at(hit: Hit, start: int, end: int) -> Hit:
    return Hit(hit.category, hit.number, hit.status, hit.problems, hit.warnings, start, end)
