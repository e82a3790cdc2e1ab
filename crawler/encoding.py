"""Turning a page's bytes into text, even when the page lies about its charset.

Chinese sites often declare UTF-8 and send GBK, or the reverse. Text that decodes
as strict UTF-8 is UTF-8 (GBK text almost never does); otherwise the declared
charset is used, with GB18030 (a superset of GBK and GB2312) for any Chinese
declaration, for none, for a declared codec that is no text encoding, and for a
Western single-byte declaration (a server's ISO-8859-1 default) over bytes that read
as GBK characters. Bytes that do not decode become U+FFFD; decoding never raises.
"""

from __future__ import annotations

import codecs
import re

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]{1,40})""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_.:-]{1,40})", re.IGNORECASE)
_CHINESE = {"gbk", "gb2312", "gb18030", "x-gbk", "cp936", "euc-cn", "hz-gb-2312"}
# Python text codecs that no page is written in: a declaration naming one is ignored
_NOT_CHARSETS = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"}


def declared_charset(body: bytes, content_type: str | None = None) -> str | None:
    """The charset named by the HTTP header, else by a ``<meta>`` in the first 4 KB.

    >>> declared_charset(b'<meta charset="gb2312">')
    'gb2312'
    >>> declared_charset(b"", "text/html; charset=UTF-8")
    'utf-8'
    """
    if content_type:
        header = _HEADER_CHARSET.search(content_type)
        if header:
            return header.group(1).lower()
    meta = _META_CHARSET.search(body[:4096])
    return meta.group(1).decode("ascii").lower() if meta else None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return None if codec in _NOT_CHARSETS else codec


# A UTF-8 page with a few bad bytes (a character cut in two by a CMS excerpt, a
# fragment saved as GBK) is still UTF-8: at most one bad spot per this many bytes of
# multi-byte characters. The bad spots are read as GB18030 where they make a character.
_UTF8_BAD_SPOT_RATIO = 100
_GB18030_SPOTS = "footer-audit-gb18030-spots"


def _gb18030_spot(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: read an undecodable spot as one GB18030 (GBK) character."""
    assert isinstance(error, UnicodeDecodeError)
    pair = error.object[error.start:error.start + 2]
    try:
        return pair.decode("gb18030"), error.start + 2
    except UnicodeDecodeError:
        return "\ufffd", error.start + 1


codecs.register_error(_GB18030_SPOTS, _gb18030_spot)


def _bad_spots(part: bytes) -> tuple[int, int]:
    """Spots of ``part`` that are not UTF-8, and the bytes its multi-byte characters save."""
    text = part.decode("utf-8", errors="replace")
    return text.count("\ufffd") - part.count("\ufffd".encode()), len(part) - len(text)


def _mostly_utf8(body: bytes, first_bad: int) -> str | None:
    """The body as UTF-8 if only a few spots of it are not, else None. GBK text is
    nearly all bad spots, which shows in the 4 KB from the first one: looked at first,
    so that a GBK page is not decoded twice over."""
    bad, saved = _bad_spots(body[first_bad:first_bad + 4096])
    if bad > 32 and bad * 2 > saved:
        return None
    bad, saved = _bad_spots(body)
    if bad * _UTF8_BAD_SPOT_RATIO > saved:
        return None
    return body.decode("utf-8", errors=_GB18030_SPOTS)


# Single-byte Western charsets that servers (Tomcat, IIS) send by default: a page
# declared so whose bytes above ASCII pair up as GB2312 characters is Chinese text.
_WESTERN = frozenset({"iso8859-1", "cp1252", "iso8859-15"})
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
_GB2312_PAIR = re.compile(rb"[\xa1-\xf7][\xa1-\xfe]")
_MIN_GB_PAIRS = 8


def looks_gbk(body: bytes) -> bool:
    """Whether the bytes above ASCII come in the pairs of GB2312 characters (lead byte
    A1–F7, trail byte A1–FE), as in GBK text, rather than alone, as in Latin text.

    >>> looks_gbk("<p>北京某某科技有限公司 版权所有 京ICP备05012345号</p>".encode("gbk"))
    True
    >>> looks_gbk("<p>Café Français, Zürich, São Paulo, Ærø, Malmö</p>".encode("latin-1"))
    False
    """
    pairs = len(_GB2312_PAIR.findall(body))
    return pairs >= _MIN_GB_PAIRS and pairs * 2 >= 0.9 * len(_HIGH_BYTE.findall(body))


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page; return the text and the encoding actually used.

    >>> decode_html("京ICP备".encode("gbk"), "text/html; charset=utf-8")
    ('京ICP备', 'gb18030')
    >>> decode_html("京ICP备".encode("utf-8"), "text/html; charset=gbk")
    ('京ICP备', 'utf-8')
    >>> decode_html("京ICP备".encode("gbk"), "text/html; charset=base64")
    ('京ICP备', 'gb18030')
    >>> decode_html("版权所有：北京某某科技有限公司".encode("gbk"), "text/html; charset=ISO-8859-1")
    ('版权所有：北京某某科技有限公司', 'gb18030')
    >>> decode_html("Café Zürich".encode("latin-1"), "text/html; charset=ISO-8859-1")
    ('Café Zürich', 'iso8859-1')
    >>> text, encoding = decode_html("版权所有".encode() * 300 + b"\\xff " + "京ICP备".encode("gbk"))
    >>> text[-12:], encoding
    ('有版权所有� 京ICP备', 'utf-8')
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        first_bad = error.start
    text = _mostly_utf8(body, first_bad)
    if text is not None:
        return text, "utf-8"
    declared = declared_charset(body, content_type)
    codec = _codec(declared)
    if codec is None or declared in _CHINESE or codec in ("utf-8", "ascii") \
            or (codec in _WESTERN and looks_gbk(body)):
        codec = "gb18030"
    try:
        return body.decode(codec, errors="replace"), codec
    except (LookupError, UnicodeError):  # base64, zlib…: a codec, but no text encoding
        return body.decode("gb18030", errors="replace"), "gb18030"
