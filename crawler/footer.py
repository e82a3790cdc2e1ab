"""Finding where a page's footer starts, without parsing the whole page.

A full DOM of a 1 MB home page costs more than everything else footer-audit does with
it, so the footer is found in the text: the end of the page content (before
``</body>`` and any trailing scripts) is searched for a ``<footer>`` tag, then for
elements whose id or class names a footer (footer, foot, ft, bottom, copyright,
beian, record…), the strongest kind first and the first of a kind winning; a weaker
kind is not searched for once a stronger one is found. Failing those, a comment that
marks the footer (``<!-- 底部 -->``), then the table or block holding the copyright
line; failing all, the last part of the page stands in for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

TAIL = 24_000  # characters before the end of the content that are searched for markers
FALLBACK = 3_000  # characters taken as the footer when no marker is found

_TAG_NAME = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)")
_ATTR = re.compile(r"""\b(id|class)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_FOOTER_TOKEN = re.compile(
    r"(?:^|[-_])(footer|foot|ft|bottom|copyright|copy|beian|record|icp)(?:$|[-_\d])", re.IGNORECASE)
_COMMENT_WORDS = ("footer", "foot", "bottom", "copyright", "底部", "页脚", "版权", "尾部")
_COPYRIGHT_WORDS = ("copyright", "©", "&copy;", "版权所有")
# Strength of a marker (lower is stronger): a <footer> tag, then footer words, then
# "bottom", then words that only say "copyright" or "record"; an id beats a class.
_WORD_TIER = {"footer": 0, "foot": 0, "ft": 0, "bottom": 1}


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
    """Offset of ``</body>``, moved back over any scripts that trail the content.

    >>> page = "<p>x</p><script>var a=1;</script>\\n</body></html>"
    >>> page[:content_end(page)]
    '<p>x</p>'
    """
    end = text.rfind("</body")
    end = max(end, text.rfind("</BODY", max(0, end)))  # the search stops at the first found
    end = len(text) if end < 0 else end
    while True:
        while end > 0 and text[end - 1].isspace():
            end -= 1
        closing = text[max(0, end - 9):end].lower()
        if closing.endswith("</script>"):
            tag = "<script"
        elif closing.endswith("</style>"):
            tag = "<style"
        else:
            return end
        start = text.rfind(tag, 0, end)
        start = max(start, text.rfind(tag.upper(), max(0, start), end))
        if start < 0:
            return end
        end = start


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
                if marker and (best is None or (marker[0], found[0]) < best[:2]):
                    best = marker[0], found[0], marker[1]
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


def _comment_marker(text: str, low: int, end: int, tail: str) -> int | None:
    """Offset of the last ``<!-- … footer/底部 … -->`` comment in the tail."""
    pos = tail.rfind("<!--")
    while pos >= 0:
        close = tail.find("-->", pos)
        body = tail[pos:close if close >= 0 else pos + 200]
        if any(word in body for word in _COMMENT_WORDS) and "end" not in body and "/" not in body[4:8]:
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
