"""Many realistic sites for benchmarks and large end-to-end tests, deterministic by seed.

``generate_sites(2000, seed=1)`` returns 2,000 :class:`Site` objects whose home pages
are ~60–120 KB corporate pages with varied footers. Each site's ``expect`` says what
its footer shows, in the same shape as ``demo.toml``::

    {"scenario": "compliant", "company": "杭州博远科技有限公司",
     "numbers": [{"category": "icp_filing", "number": "浙ICP备2021012345号-1",
                  "status": "valid", "link": "ok"}, ...]}

``status`` and ``problems`` use the pattern catalogue's words; ``link`` uses
``LinkRule.status``'s (ok, stale_link, wrong_link).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tests.farm.sites import Site, parse_sites
from tests.farm.template import WORDS

# footer scenario -> weight
SCENARIO_WEIGHTS = {"compliant": 55, "placeholder": 10, "malformed": 15, "stale_link": 5,
                   "wrong_link": 5, "missing": 10}
GBK_SHARE = 0.10
GZIP_SHARE = 0.30
ROBOTS_SHARE = 0.30
WWW_ONLY_SHARE = 0.30
TLDS = ("cn", "com.cn", "com", "net.cn")
MIIT_URL = "https://beian.miit.gov.cn/"
MPS_URL = "https://beian.mps.gov.cn/#/query/webSearch?code={code}"
STALE_MIIT_URLS = ("http://www.miitbeian.gov.cn/", "http://www.beian.miit.gov.cn/")
WRONG_MIIT_URLS = ("http://www.beian.gov.cn/portal/index.do", "https://www.miit.gov.cn/",
                   "https://icp.chinaz.com/")
ROBOTS = "User-agent: *\nDisallow: /admin/\nDisallow: /search/\n"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class City:
    """A city companies are generated in, with its filing characters and district."""

    name: str
    icp: str  # ICP filing character (蜀, 黔, 滇, 陇 for 51, 52, 53, 62)
    psb: str  # police filing character
    vats: str  # VATS licence character
    district: str  # GB/T 2260 district code


CITIES = tuple(City(**entry) for entry in WORDS["company"]["cities"])


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character of a Unified Social Credit Code.

    >>> uscc_check_char("91110000802100433"), uscc_check_char("91440300708461136")
    ('B', 'T')
    """
    total = sum(USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character of an organisation code (positions 9–17 of a USCC).

    >>> org_code_check_char("80210043"), org_code_check_char("70846113")
    ('3', '6')
    """
    total = sum(int(c, 36) * w for c, w in zip(first8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _serial(rng: random.Random, digits: int) -> str:
    """A serial that no placeholder check mistakes for a mask or a counting run."""
    while True:
        value = f"{rng.randint(1, 10 ** digits - 1):0{digits}d}"
        if len(set(value)) > 2:
            return value


def icp_filing(rng: random.Random, city: City) -> str:
    """A well-formed ICP filing number (8- or 10-digit serial, site suffix)."""
    if rng.random() < 0.5:
        serial = f"{rng.randint(2019, 2025)}{_serial(rng, 6)}"
    else:
        serial = f"{rng.randint(5, 20):02d}{_serial(rng, 6)}"
    guangdong_entity_number = city.icp == "粤" and rng.random() < 0.5
    suffix = "" if guangdong_entity_number else f"-{rng.choice((1, 1, 1, 2, 3))}"
    return f"{city.icp}ICP备{serial}号{suffix}"


def psb_code(rng: random.Random, city: City) -> str:
    """14 digits: district code, 02, serial."""
    return f"{city.district}02{_serial(rng, 6)}"


def vats_licence(rng: random.Random, city: City) -> str:
    """A well-formed VATS (B2) licence number."""
    return f"{city.vats}B2-{rng.randint(2019, 2024)}{rng.randint(1001, 9999)}"


def uscc(rng: random.Random, city: City) -> str:
    """A Unified Social Credit Code with both check characters right."""
    org = _serial(rng, 8)
    first17 = f"91{city.district}{org}{org_code_check_char(org)}"
    return first17 + uscc_check_char(first17)


def _number(category: str, number: str, status: str = "valid", problems: Sequence[str] = (),
            link: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"category": category, "number": number, "status": status}
    if problems:
        entry["problems"] = list(problems)
    if link is not None:
        entry["link"] = link
    return entry


def _icp_anchor(number: str, href: str, split: bool) -> str:
    if split:  # 京ICP备<span>2021012345</span>号-1, as some CMS themes render it
        head, _, tail = number.partition("备")
        serial, _, rest = tail.partition("号")
        number = f"{head}备<span>{serial}</span>号{rest}"
    return f'<a href="{href}" target="_blank" rel="nofollow">{number}</a>'


def _psb_anchor(number: str, code: str) -> str:
    return (f'<a href="{MPS_URL.format(code=code)}" target="_blank" rel="noreferrer">'
            f'<img src="/static/images/beian.png" alt="" width="16">{number}</a>')


def footer(rng: random.Random, city: City, company: str, scenario: str
           ) -> tuple[str, list[dict[str, Any]]]:
    """A footer snippet for ``scenario`` and the numbers it shows."""
    copyright_line = f"<p>Copyright &copy; {rng.randint(2008, 2020)}-2025 {company} 版权所有</p>"
    if scenario == "missing":
        return copyright_line + "<p>技术支持：<a href=\"/\">网站建设</a></p>", []
    split = rng.random() < 0.25
    numbers: list[dict[str, Any]] = []
    code = psb_code(rng, city)
    psb = f"{city.psb}公网安备{code}号"
    if scenario == "placeholder":
        icp = rng.choice(("京ICP备12345678号-1", "京ICP备04000001号", "京ICP备12345678号"))
        numbers.append(_number("icp_filing", icp, "placeholder", ["placeholder"], "ok"))
        icp_html = _icp_anchor(icp, MIIT_URL, split=False)
    elif scenario == "malformed":
        icp, problem = _malformed_icp(rng, city)
        numbers.append(_number("icp_filing", icp, "malformed", [problem], "ok"))
        icp_html = _icp_anchor(icp, MIIT_URL, split=False)
    else:
        icp = icp_filing(rng, city)
        href, link = {"compliant": (MIIT_URL, "ok"),
                      "stale_link": (rng.choice(STALE_MIIT_URLS), "stale_link"),
                      "wrong_link": (rng.choice(WRONG_MIIT_URLS), "wrong_link")}[scenario]
        numbers.append(_number("icp_filing", icp, link=link))
        icp_html = _icp_anchor(icp, href, split)
    lines = [copyright_line, f"<p>{icp_html}"]
    if rng.random() < 0.7:
        numbers.append(_number("psb_filing", psb, link="ok"))
        lines[-1] += f"&nbsp;&nbsp;{_psb_anchor(psb, code)}"
    lines[-1] += "</p>"
    extras = []
    if rng.random() < 0.15:
        licence = vats_licence(rng, city)
        numbers.append(_number("vats_license", licence))
        extras.append(f"增值电信业务经营许可证：{licence}")
    if rng.random() < 0.3:
        credit_code = uscc(rng, city)
        numbers.append(_number("uscc", credit_code))
        extras.append(f"统一社会信用代码：{credit_code}")
    if extras:
        lines.append(f"<p>{'&nbsp;&nbsp;|&nbsp;&nbsp;'.join(extras)}</p>")
    return "\n".join(lines), numbers


def _malformed_icp(rng: random.Random, city: City) -> tuple[str, str]:
    """A garbled ICP filing number and the problem the catalogue reports for it."""
    serial = f"{rng.randint(2019, 2025)}{_serial(rng, 6)}"
    variants = [
        (f"{city.icp}ICP备{serial}-1", "missing_hao"),  # 号 left out
        (f"{city.icp}ICP备{serial[:7]}号", "digit_count"),  # truncated serial
        (f"{city.icp}ICP备20{rng.randint(35, 99)}{_serial(rng, 6)}号", "year_out_of_range"),
    ]
    return rng.choice(variants)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def site_definition(index: int, rng: random.Random, page_size: tuple[int, int]
                    ) -> dict[str, Any]:
    """One generated site, as the table a sites file would hold."""
    city = rng.choice(CITIES)
    brand, brand_pinyin = rng.choice(WORDS["company"]["brands"])
    industry, industry_pinyin = rng.choice(WORDS["company"]["industries"])
    company = f"{city.name}{brand}{industry}{rng.choice(('有限公司',) * 4 + ('股份有限公司',))}"
    scenario = _weighted(rng, SCENARIO_WEIGHTS)
    footer_html, numbers = footer(rng, city, company, scenario)
    domain = f"{brand_pinyin}{industry_pinyin}{index}.{rng.choice(TLDS)}"
    home: dict[str, Any] = {"template": "corporate", "company": company, "footer": footer_html,
                            "size": rng.randint(*page_size)}
    if rng.random() < GBK_SHARE:
        home["charset"] = "gbk"
    if rng.random() < GZIP_SHARE:
        home["gzip"] = True
    pages: dict[str, Any] = {"/": home}
    if rng.random() < ROBOTS_SHARE:
        pages["/robots.txt"] = {"body": ROBOTS, "content_type": "text/plain"}
    return {
        "host": f"www.{domain}",
        "aliases": [] if rng.random() < WWW_ONLY_SHARE else [domain],
        "pages": pages,
        "expect": {"scenario": scenario, "company": company, "numbers": numbers},
    }


def generate_sites(n: int, seed: int = 0, *, page_size: tuple[int, int] = (60_000, 120_000)
                   ) -> list[Site]:
    """``n`` sites with corporate home pages of ``page_size`` bytes; same seed, same sites."""
    rng = random.Random(seed)
    return parse_sites((site_definition(i, rng, page_size) for i in range(n)),
                       f"generate_sites({n}, {seed})")
