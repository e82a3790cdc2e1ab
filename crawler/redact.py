"""Credentials out of everything the tool writes: user names and passwords in URLs.

A proxy given as ``http://user:secret@proxy:3128`` or a target pasted with its
login must never reach a report, the summary, the log or the terminal. Pure text
functions; nothing here imports Scrapy.
"""

from __future__ import annotations

import re

MASK = "***"
# scheme://userinfo@ : the userinfo runs to the last "@" before the host's end
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?:[^/?#\s@]*@)+")
# user:password@host without a scheme, as pasted into a target list
_BARE_LOGIN = re.compile(r"(?<![^\s\"'<(])(?!mailto:)[^\s/?#@:]+:[^\s/?#@]*@", re.I)


def redact(text: str) -> str:
    """``text`` with the user name and password of every URL in it replaced by ``***``.

    >>> redact("proxy http://bob:s3cr%40t@10.0.0.1:3128 and https://a.cn/@x")
    'proxy http://***@10.0.0.1:3128 and https://a.cn/@x'
    >>> redact("HTTPS://token@proxy.example:8443/")
    'HTTPS://***@proxy.example:8443/'
    >>> redact("http://u:p@q@host/")  # a raw "@" in the password
    'http://***@host/'
    >>> redact("bob:hunter2@example.cn, mailto:bob@example.cn")
    '***@example.cn, mailto:bob@example.cn'
    """
    if "@" not in text:
        return text
    text = _USERINFO.sub(lambda match: f"{match['scheme']}{MASK}@", text)
    return _BARE_LOGIN.sub(f"{MASK}@", text)
