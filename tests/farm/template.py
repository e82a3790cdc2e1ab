"""The realistic Chinese corporate home page most farm pages are built from.

``templates/corporate.html`` has a head with inline CSS and an analytics snippet, a
navigation bar, a banner, an about block, a news list, products, friend links and a
footer whose last block (the copyright line) is the ``{{footer}}`` slot. The news list
grows until the page reaches the size asked for; pages larger than the pool repeat it,
so a 20 MB page is a handful of parts, not 20 MB of memory.

Everything but the footer derives from the company name, so a page is the same in
every process and every run.
"""

from __future__ import annotations

import html
import random
import re
import tomllib
import zlib
from functools import cache
from pathlib import Path

from tests.farm.bodies import Body

TEMPLATE_DIR = Path(__file__).with_name("templates")
WORDS = tomllib.loads((TEMPLATE_DIR / "words.toml").read_text(encoding="utf-8"))
CORPORATE = (TEMPLATE_DIR / "corporate.html").read_text(encoding="utf-8")
SLOT = re.compile(r"\{\{(\w+)\}\}")
BASE_NEWS_ITEMS = 8  # news items on a page when no size is asked for
NEWS_POOL_SIZE = 240
NEWS_SEED = 20240601

NEWS_ITEM = """\
    <li class="news-item clearfix">
      <div class="news-date"><span class="day">{day:02d}</span>\
<span class="ym">{year}-{month:02d}</span></div>
      <div class="news-text"><h4><a href="/news/{year}/{month:02d}{day:02d}/{id}.html" \
target="_blank" title="{title}">{title}</a></h4>
      <p>{summary}</p></div>
    </li>
"""


def _news_pool() -> tuple[str, ...]:
    """The news items every page draws from (fixed seed: identical in every process)."""
    rng = random.Random(NEWS_SEED)
    titles, sentences = WORDS["news"]["titles"], WORDS["news"]["sentences"]
    return tuple(
        NEWS_ITEM.format(day=rng.randint(1, 28), month=rng.randint(1, 12),
                         year=rng.randint(2019, 2025), id=1000 + i, title=rng.choice(titles),
                         summary="".join(rng.sample(sentences, 4)))
        for i in range(NEWS_POOL_SIZE)
    )


NEWS_POOL = _news_pool()


@cache
def _encoded_pool(charset: str) -> tuple[tuple[bytes, ...], bytes]:
    """The news items in ``charset`` and all of them joined (the repeat unit)."""
    items = tuple(item.encode(charset, "xmlcharrefreplace") for item in NEWS_POOL)
    return items, b"".join(items)


def _details(company: str) -> dict[str, str]:
    """Phone, e-mail, address and analytics id, derived from the company name."""
    digest = zlib.crc32(company.encode("utf-8"))
    streets, buildings = WORDS["address"]["streets"], WORDS["address"]["buildings"]
    return {
        "phone": f"400-{100 + digest % 900}-{1000 + digest // 1000 % 9000}",
        "email": f"{100_000_000 + digest % 900_000_000}@qq.com",
        "address": f"{streets[digest % len(streets)]}{1 + digest % 299}号"
                   f"{buildings[digest // 7 % len(buildings)]}{1 + digest % 28}层",
        "analytics": f"{digest:08x}" * 4,
    }


def render_corporate(*, company: str, footer: str, size: int, charset: str,
                     declared_charset: str) -> Body:
    """A home page for ``company`` with ``footer`` (HTML) in its footer slot.

    ``size`` > 0 pads the news list until the page has at least ``size`` bytes (it
    overshoots by less than one news item); ``charset`` encodes the bytes, while
    ``declared_charset`` goes into the meta tag.

    >>> page = render_corporate(company="杭州博远科技有限公司", footer="<p>©2024</p>",
    ...                         size=100_000, charset="gbk", declared_charset="gbk")
    >>> data = page.join()
    >>> 100_000 <= len(data) < 101_000, b'charset="gbk"' in data
    (True, True)
    >>> "<p>&#169;2024</p>" in data.decode("gbk")  # © is not in GBK
    True
    """
    values = {"company": html.escape(company), "charset": declared_charset, "footer": footer,
              **_details(company)}
    before, _, after = SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), CORPORATE) \
        .partition("{{news}}")
    head, tail = (text.encode(charset, "xmlcharrefreplace") for text in (before, after))
    items, block = _encoded_pool(charset)
    start = zlib.crc32(company.encode("utf-8")) % len(items)
    rotated = items[start:] + items[:start]
    if size <= 0:
        return Body(((head, 1), (b"".join(rotated[:BASE_NEWS_ITEMS]), 1), (tail, 1)))
    repeats, rest = divmod(max(size - len(head) - len(tail), 0), len(block))
    chosen, filled = [], 0
    for item in rotated:
        if filled >= rest:
            break
        chosen.append(item)
        filled += len(item)
    parts = ((head, 1), (block, repeats), (b"".join(chosen), 1), (tail, 1))
    return Body(tuple((chunk, n) for chunk, n in parts if chunk and n))
