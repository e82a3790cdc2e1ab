"""Finding where a page's footer starts, without parsing the whole page.

A full DOM of a 1 MB home page costs more than everything else footer-audit does with
it, so the footer is found in the text: the end of the page content (before
``</body>`` and any trailing scripts) is searched for a ``<footer>`` tag, then for
elements whose id or class names a footer (footer, foot, ft, bottom, copyright,
beian, record…), the strongest kind first and the first of a kind winning; a weaker
kind is not searched for once a stronger one is found. A start tag repeated as
separate elements (``<footer class="entry-footer">`` under every post, ``mod-ft`` in
every module) marks a part of each item, not the page's footer, and is passed over.
When only a weaker marker (bottom, copyright, record…) turns up in the tail, a footer
element that encloses it may start further back (a footer opening with long link
lists): footer words up to ``REACH`` characters before the end are looked at too.
Failing markers, a comment that marks the footer (``<!-- 底部 -->``, not the closing
``<!-- 底部结束 -->``), then the table or block holding the copyright line; failing
all, the last part of the page stands in for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from heapq import merge
from dataclasses import dataclass

TAIL = 24_000  # characters before the end of the content that are searched for markers
REACH = 96_000  # how far before the end a footer enclosing a weaker marker may start
FALLBACK = 3_000  # characters taken as the footer when no marker is found
TRAILER = 2_000  # the longest invisible element after the footer that is stepped over
MAX_TRAILERS = 20  # and the most of them
MAX_ENCLOSING = 50  # footer words looked at before a weaker marker (each may be read to its end)
NESTED = 3  # identical tags, nested in a marker or it in them, passed over to find a sibling
SIBLING_REACH = 8_000  # how far before a marker a repeat of it (the last post's) is looked for

_TAG_NAME = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)")
_ATTR = re.compile(r"""\b(id|class)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_FOOTER_TOKEN = re.compile(
    r"(?:^|[-_])(footer|foot|ft|bottom|copyright|copy|beian|record|icp)(?:$|[-_\d])", re.IGNORECASE)
_COMMENT_WORDS = ("footer", "foot", "bottom", "copyright", "底部", "页脚", "版权", "尾部")
_COMMENT_CLOSERS = ("end", "结束")  # <!-- footer end -->, <!--底部结束-->: the footer is above
_COPYRIGHT_WORDS = ("copyright", "©", "&copy;", "版权所有")
# Strength of a marker (lower is stronger): a <footer> tag, then footer words, then
# "bottom", then words that only say "copyright" or "record"; an id beats a class.
_WORD_TIER = {"footer": 0, "foot": 0, "ft": 0, "bottom": 1}
_FOOTER_WORD_RANK = 2  # the weakest rank of a footer word (a class such as "footer")
_CLOSING_TAG = re.compile(r"</([a-zA-Z]+)\s*>\Z")
_TRAILING_ELEMENTS = frozenset({"div", "span", "noscript"})  # stepped over when nothing shows
_HIDING = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|\shidden[\s=/>]", re.IGNORECASE)


def _any_case(word: str) -> str:
    """A regex for an ASCII ``word`` in any case, spelled out: ``re`` searches CJK text
    slowly with ``IGNORECASE``.

    >>> _any_case("div")
    '[dD][iI][vV]'
    """
    return "".join(f"[{ch.lower()}{ch.upper()}]" for ch in word)


_UNSEEN_OPENER = re.compile(f"<(?:{_any_case('script')}|{_any_case('style')}|{_any_case('noscript')})")
_UNSEEN = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
# A run of end tags and spaces, read backwards (``>vid/<``), stopping at a script's or a style's.
_END_TAGS_REVERSED = re.compile(
    r"(?:\s*>\s*(?![tT][pP][iI][rR][cC][sS]/|[eE][lL][yY][tT][sS]/)[a-zA-Z0-9]+/<)*")
_TAG_ENDS = frozenset(" \t\n\r\f/>")  # what may follow a tag's name
_TEXT = re.compile(r"(?:^|>)\s*(?!&nbsp;)[^<\s]")  # a character of text between tags


class _AnyCase:
    """Finds words in any case, by their first letter: a lower-case one, common in
    markup, is left to ``re`` (which skips to a literal first letter fast, to a class of
    two slowly); a capital, rare, is found with ``str.find`` and checked in place.

    >>> [m.start() for m in _AnyCase("foot ft").finditer("<p class=x-FT>left <footer>", 0, 27)]
    [16, 20, 11]
    """

    def __init__(self, words: str) -> None:
        rests: dict[str, list[str]] = {}
        for word in words.split():
            rests.setdefault(word[0].lower(), []).append(re.escape(word[1:]))
        self.lower = [re.compile(f"{letter}(?i:{'|'.join(rest)})") for letter, rest in rests.items()]
        self.upper = [(letter.upper(), re.compile(f"{letter.upper()}(?i:{'|'.join(rest)})"))
                      for letter, rest in rests.items()]

    def finditer(self, text: str, start: int, end: int) -> Iterator[re.Match[str]]:
        for pattern in self.lower:
            yield from pattern.finditer(text, start, end)
        for letter, pattern in self.upper:
            pos = text.find(letter, start, end)
            while pos >= 0:
                if match := pattern.match(text, pos, end):
                    yield match
                pos = text.find(letter, pos + 1, end)


# The words that find a marker's start tag ("foot" finds <footer>), by tier.
_MARKER_WORDS = tuple(_AnyCase(words) for words in ("foot ft", "bottom", "copy beian record icp"))


@dataclass(frozen=True)
class FooterSpan:
    """Where the footer is: ``start``/``end`` offsets in the page text."""

    start: int
    end: int
    selector: str | None  # None when the fallback (end of the page) was used

    @property
    def found(self) -> bool:
        return self.selector is not None


def content_end(text: str) -> int:
    """Offset of ``</body>``, moved back over what trails the content unseen: scripts,
    styles, and short elements that are hidden or hold no text (a statistics counter's
    ``<div style="display:none"><script …></div>``).

    >>> page = "<p>x</p><script>var a=1;</script>\\n<div hidden><a>统计</a></div></body></html>"
    >>> page[:content_end(page)]
    '<p>x</p>'
    """
    end = text.rfind("</body")
    end = max(end, text.rfind("</BODY", max(0, end)))  # the search stops at the first found
    end = len(text) if end < 0 else end
    hidden = 0  # invisible elements stepped over so far: a page of them is no trailer
    while True:
        while end > 0 and text[end - 1].isspace():
            end -= 1
        closing = _CLOSING_TAG.search(text, max(0, end - 12), end)
        if closing is None:
            return end
        name = closing.group(1).lower()
        start: int | None
        if name == "script" or name == "style":
            start = text.rfind("<" + name, 0, end)
            start = max(start, text.rfind("<" + name.upper(), max(0, start), end))
        elif name in _TRAILING_ELEMENTS and hidden < MAX_TRAILERS:
            start = _invisible_element(text, name, end)
            hidden += 1
        else:
            return end
        if start is None or start < 0:
            return end
        end = start


def _invisible_element(text: str, name: str, end: int) -> int | None:
    """The start of the ``name`` element that ends at ``end`` if it is short and hidden
    or holds no text, else ``None``."""
    low = max(0, end - TRAILER)
    if _text_before_closing_tags(text, end):
        # the common case, a footer ending in text: only a hidden element, not nested,
        # is stepped over; no need to find a footer's start
        if text.find("none", low, end) < 0 and text.find("hidden", low, end) < 0:
            return None
        start = max(text.rfind("<" + name, low, end), text.rfind("<" + name.upper(), low, end))
        gt = text.find(">", start, end) + 1
        simple = start >= 0 and len(list(_tags(text, name, start, end))) == 2
        return start if simple and _HIDING.search(text, start, gt) else None
    depth = 0
    for start, closing in reversed(list(_tags(text, name, low, end))):  # from ``end`` back
        depth += 1 if closing else -1
        if depth == 0:
            break
    else:
        return None
    gt = text.find(">", start, end) + 1
    if _HIDING.search(text, start, gt):
        return start
    inner = text[gt:end]
    if _UNSEEN_OPENER.search(inner):
        inner = _UNSEEN.sub("", inner)
    return None if _TEXT.search(inner) else start


def _start_tag_at(text: str, pos: int) -> tuple[int, str] | None:
    """The start tag that contains offset ``pos``, as (offset, tag text)."""
    lt = text.rfind("<", max(0, pos - 2000), pos + 1)
    if lt < 0 or text.find(">", lt, pos) >= 0:
        return None
    gt = text.find(">", pos)
    if gt < 0 or not _TAG_NAME.match(text, lt):
        return None
    return lt, text[lt:gt + 1]


def _marker_rank(tag: str) -> tuple[int, str] | None:
    """Rank a start tag as a footer marker (lower is stronger) with its selector."""
    name = _TAG_NAME.match(tag).group(1).lower()  # type: ignore[union-attr]
    if name == "footer":
        return 0, "footer"
    best: tuple[int, str] | None = None
    for attr in _ATTR.finditer(tag):
        kind = attr.group(1).lower()
        value = attr.group(2) or attr.group(3) or attr.group(4) or ""
        for token in value.split():
            m = _FOOTER_TOKEN.search(token)
            if not m:
                continue
            tier = _WORD_TIER.get(m.group(1).lower(), 2)
            rank = 1 + 2 * tier + (0 if kind == "id" else 1)
            selector = f"{name}#{token}" if kind == "id" else f"{name}.{token}"
            if best is None or rank < best[0]:
                best = rank, selector
    return best


def locate_footer(text: str) -> FooterSpan:
    """Find the footer of a page given as text.

    >>> page = '<div id="main">news</div><div id="footer"><p>京ICP备20018813号</p></div></body>'
    >>> span = locate_footer(page)
    >>> span.selector, page[span.start:span.start + 17]
    ('div#footer', '<div id="footer">')
    """
    end = content_end(text)
    low = max(0, end - TAIL)
    best: tuple[int, int, str] | None = None  # (rank, offset, selector)
    for tier, words in enumerate(_MARKER_WORDS):
        if best and best[0] < 1 + 2 * tier:
            break  # no tag found by these words can rank as high (ties go to the first)
        for at in words.finditer(text, low, end):
            found = _start_tag_at(text, at.start())
            if found:
                marker = _marker_rank(found[1])
                if (marker and (best is None or (marker[0], found[0]) < best[:2])
                        and not _repeated_part(text, found, end)):
                    best = marker[0], found[0], marker[1]
    if best is None or best[0] > _FOOTER_WORD_RANK:
        outer = _enclosing_marker(text, max(0, end - REACH), low, best[1] if best else end)
        best = outer or best
    if best:
        return FooterSpan(best[1], end, best[2])
    tail = text[low:end].lower()  # the fallbacks look for Chinese words too
    comment = _comment_marker(text, low, end, tail)
    if comment is not None:
        return FooterSpan(comment, end, "comment")
    block = _copyright_block(text, low, end, tail)
    if block is not None:
        return FooterSpan(block[0], end, block[1])
    return FooterSpan(max(0, end - FALLBACK), end, None)


def _repeated_part(text: str, found: tuple[int, str], end: int) -> bool:
    """Whether the start tag ``found`` (offset, text) recurs as a separate element,
    after it (before ``end``) or at most SIBLING_REACH before it: the footer of each post
    or module.

    >>> page = '<div class="mod-ft">1</div><div class="mod-ft">2</div><div class="footer">'
    >>> [_repeated_part(page, (at, page[at:at + 20]), len(page)) for at in (0, 27)]
    [True, True]
    >>> page = '<div class=ft><div class=ft>1</div></div><div class=ft><div class=ft>2</div></div>'
    >>> [_repeated_part(page, (at, "<div class=ft>"), len(page)) for at in (0, 14, 41, 55)]
    [True, True, True, True]
    >>> _repeated_part('<div class=ft><div class=ft>1</div></div>', (0, "<div class=ft>"), 41)
    False
    """
    at, tag = found
    name = _TAG_NAME.match(tag).group(1)  # type: ignore[union-attr]
    floor = max(0, at - SIBLING_REACH)
    later = text.find(tag, at + len(tag), end)
    earlier = text.rfind(tag, floor, at)
    for _ in range(NESTED):  # identical tags nested in it, or it in them, are passed over
        if later >= 0:
            if _closes_before(text, at, name, later):
                return True
            later = text.find(tag, later + len(tag), end)
        if earlier >= 0:
            if _closes_before(text, earlier, name, at):
                return True
            earlier = text.rfind(tag, floor, earlier)
    return False


def _enclosing_marker(text: str, low: int, end: int, inner: int) -> tuple[int, int, str] | None:
    """The first footer-word marker within ``low:end`` whose element is still open at
    offset ``inner``, as (rank, offset, selector); of the first MAX_ENCLOSING words found.

    >>> _enclosing_marker('<div id="footer"><select></select><div>', 0, 30, 39)
    (1, 0, 'div#footer')
    >>> _enclosing_marker('<div id="footer"></div><div>', 0, 20, 28) is None
    True
    """
    found_at = sorted(match.start() for match in _MARKER_WORDS[0].finditer(text, low, end))
    for at in found_at[:MAX_ENCLOSING]:
        found = _start_tag_at(text, at)
        if found is None:
            continue
        marker = _marker_rank(found[1])
        if marker and marker[0] <= _FOOTER_WORD_RANK and not _closes_before(
                text, found[0], _TAG_NAME.match(found[1]).group(1), inner):  # type: ignore[union-attr]
            return marker[0], found[0], marker[1]
    return None


def _text_before_closing_tags(text: str, end: int) -> bool:
    """Whether text stands right before the run of end tags (bar a script's or a
    style's) that ends at ``end``. The run is matched on the reversed tail of the
    text, where it is a prefix: ``re`` reads CJK text slowly, but a match at the start
    of a short string costs little.

    >>> _text_before_closing_tags("<p>x</p>\\n</div>", 14)
    True
    >>> _text_before_closing_tags("<b></b></div>", 13)
    False
    >>> _text_before_closing_tags("<div><script>n=1;</script></div>", 32)
    False
    """
    tail = text[max(0, end - 200):end][::-1]
    before = tail[_END_TAGS_REVERSED.match(tail).end():][:1]  # type: ignore[union-attr]
    return before not in ("", ">")


def _closes_before(text: str, start: int, name: str, limit: int) -> bool:
    """Whether the ``name`` element whose start tag is at ``start`` ends before ``limit``.

    >>> page = "<div id=a><div>x</div></DIV><div>"
    >>> _closes_before(page, 0, "div", len(page)), _closes_before(page, 0, "div", 22)
    (True, False)
    """
    depth = 0
    for _, closing in _tags(text, name, start, limit):
        depth += -1 if closing else 1
        if depth <= 0:
            return True
    return False


def _tags(text: str, name: str, start: int, end: int) -> Iterator[tuple[int, bool]]:
    """The start and end tags named ``name`` (in lower or upper case) within
    ``text[start:end]``, as (offset, closing), in text order, found as they are asked
    for. Found with ``str.find``, which goes through CJK text several times faster than
    ``re``.

    >>> list(_tags("<p>a</p><P class=x><param></P>", "p", 0, 30))
    [(0, False), (4, True), (8, False), (26, True)]
    """
    name = name.lower()
    literals = dict.fromkeys((f"<{name}", f"<{name.upper()}", f"</{name}", f"</{name.upper()}"))
    return merge(*(_tags_written(text, literal, start, end) for literal in literals))


def _tags_written(text: str, literal: str, start: int, end: int) -> Iterator[tuple[int, bool]]:
    """The tags that begin with ``literal`` (``<div``, ``</DIV``), as for :func:`_tags`."""
    closing, after = literal[1] == "/", len(literal)
    at = text.find(literal, start, end)
    while at >= 0:
        if text[at + after:at + after + 1] in _TAG_ENDS:
            yield at, closing
        at = text.find(literal, at + 1, end)


def _comment_marker(text: str, low: int, end: int, tail: str) -> int | None:
    """Offset of the last ``<!-- … footer/底部 … -->`` comment in the tail that does not
    close the footer (``<!-- footer end -->``, ``<!--底部结束-->``)."""
    pos = tail.rfind("<!--")
    while pos >= 0:
        close = tail.find("-->", pos)
        body = tail[pos:close if close >= 0 else pos + 200]
        if (any(word in body for word in _COMMENT_WORDS) and "/" not in body[4:8]
                and not any(word in body for word in _COMMENT_CLOSERS)):
            return low + pos
        pos = tail.rfind("<!--", 0, pos)
    return None


def _copyright_block(text: str, low: int, end: int, tail: str) -> tuple[int, str] | None:
    """The table, or failing that the block, that holds the last copyright line."""
    hit = max(tail.rfind(word) for word in _COPYRIGHT_WORDS)
    if hit < 0:
        return None
    for tag, selector in (("<table", "table"), ("<div", "div"), ("<p", "p"), ("<td", "td")):
        start = tail.rfind(tag, max(0, hit - 4000), hit)
        if start >= 0:
            return low + start, selector
    return None
