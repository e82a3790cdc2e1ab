"""Response bodies: bytes kept as repeated parts, gzip, bombs and small HTML pages."""

from __future__ import annotations

import html
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus

GZIP_LEVEL = 1  # nginx's default gzip_comp_level
BOMB_UNIT = 1 << 20
# a gzip member header: magic, deflate, no flags, mtime 0, max compression, unknown OS
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


@dataclass(frozen=True)
class Body:
    """Response bytes as ``(chunk, repeat)`` parts, so a 20 MB page costs kilobytes.

    >>> body = Body(((b"<p>", 1), (b"ab", 3), (b"</p>", 1)))
    >>> body.length, body.join(), body.head(5)
    (13, b'<p>ababab</p>', b'<p>ab')
    """

    parts: tuple[tuple[bytes, int], ...]

    @classmethod
    def of(cls, data: bytes) -> Body:
        """A body of plain bytes."""
        return cls(((data, 1),))

    @property
    def length(self) -> int:
        """The number of bytes, as sent in Content-Length."""
        return sum(len(chunk) * repeat for chunk, repeat in self.parts)

    def chunks(self) -> Iterator[bytes]:
        """The bytes in order, one part repetition at a time."""
        for chunk, repeat in self.parts:
            for _ in range(repeat):
                yield chunk

    def join(self) -> bytes:
        """All bytes at once: only for bodies that fit comfortably in memory."""
        return b"".join(self.chunks())

    def head(self, size: int) -> bytes:
        """The first ``size`` bytes, without building the rest."""
        out = bytearray()
        for chunk in self.chunks():
            if len(out) >= size:
                break
            out += chunk[: size - len(out)]
        return bytes(out)


def gzip_body(body: Body) -> Body:
    """The body gzip-compressed, as a web server would send it.

    >>> import gzip
    >>> gzip.decompress(gzip_body(Body.of(b"hello")).join())
    b'hello'
    """
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    data = b"".join(compressor.compress(chunk) for chunk in body.chunks()) + compressor.flush()
    return Body.of(data)


def bomb_body(size: int) -> Body:
    """A small gzip stream that expands to ``size`` spaces (rounded up to whole MiB).

    One MiB of spaces is compressed once and ended with a full flush, which makes the
    segment independent of what precedes it; repeating it builds the whole stream.

    >>> body = bomb_body(3 * BOMB_UNIT)
    >>> body.length < 5_000, len(zlib.decompress(body.join(), 31))
    (True, 3145728)
    """
    units = max(1, -(-size // BOMB_UNIT))
    unit = b" " * BOMB_UNIT
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(unit) + compressor.flush(zlib.Z_FULL_FLUSH)
    final_block = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(units):
        crc = zlib.crc32(unit, crc)
    trailer = struct.pack("<II", crc, units * BOMB_UNIT & 0xFFFFFFFF)
    return Body(((GZIP_HEADER, 1), (segment, units), (final_block + trailer, 1)))


def status_html(status: int) -> str:
    """The small error page nginx sends for a status.

    >>> status_html(404)[:34]
    '<html>\\r\\n<head><title>404 Not Found'
    """
    line = f"{status} {HTTPStatus(status).phrase}"
    return (f"<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n"
            f"<center><h1>{line}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n")


def meta_refresh_html(url: str, charset: str) -> str:
    """A page that sends the browser on with ``<meta http-equiv="refresh">``."""
    return (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="{charset}">\n'
            f'<meta http-equiv="refresh" content="0;url={html.escape(url)}">\n'
            "<title>页面跳转中</title>\n</head>\n<body>\n<p>页面跳转中，请稍候……</p>\n</body>\n</html>\n")


def js_redirect_html(url: str, charset: str) -> str:
    """A page that sends the browser on with ``location.href=``."""
    return (f'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="{charset}">\n<title>跳转中</title>\n'
            f"<script>location.href={_js_string(url)};</script>\n</head>\n<body></body>\n</html>\n")


def _js_string(text: str) -> str:
    """A JavaScript string literal that cannot end the script element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("</", "<\\/")
    return f'"{escaped}"'
