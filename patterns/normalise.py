"""Text normalisation applied before any pattern runs (LICENSE_FORMATS.md §9).

Harmless differences are folded away so that one regex per format is enough:
full-width letters and digits, ideographic and no-break spaces, zero-width
characters and the many dash look-alikes. White space is kept: the patterns allow
it between tokens and the canonical numbers drop it.
"""

from __future__ import annotations

import re
import unicodedata

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def normalise(text: str) -> str:
    """Fold width, invisible characters and dashes; keep everything else.

    >>> normalise("京ＩＣＰ备１２３４５６７８号－２")
    '京ICP备12345678号-2'
    >>> normalise("粤B2\u201320090059\u200b")
    '粤B2-20090059'
    >>> normalise("京公网安备\u00a011000002000001号")
    '京公网安备 11000002000001号'
    """
    if not _NON_ASCII.search(text):
        return text
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    return _DASHES.sub("-", text)
