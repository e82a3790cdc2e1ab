"""How long ``write_reports`` takes for 10,000 sites, format by format, and how big the files get.

Run ``python bench/report_speed.py`` (or give another number of sites). It makes
synthetic crawl results shaped like a real audit's (Chinese company names and footers,
one to six numbers a site of several categories, some malformed or badly linked, about
one site in seven unreachable, a business unit and an owner per line), writes every
report once through ``write_reports`` into a temporary directory, and prints the time
spent in each format's writer, timed inside that one run by wrapping the writers'
methods, then the rest (reading ``results.jsonl`` back, judging, counting) and the total.

Targets for 10,000 sites: under 20 s in all, and a ``report.html`` under 25 MB so a
browser opens it at once (its table renders 200 rows at a time). Exits 1 when missed.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reports import writer
from reports.csvfile import ExcelCsvWriter
from reports.html import HtmlReport
from reports.xlsx import WorkbookReport

SITES = 10_000
TOTAL_TARGET = 20.0  # seconds for 10,000 sites
HTML_BUDGET = 25_000_000  # bytes for 10,000 sites
SEED = 20261129

UNITS = ("华东事业部", "华南事业部", "华北事业部", "西南事业部", "集团总部", "海外事业部")
PROVINCES = "京沪粤浙苏鲁川渝闽湘鄂豫"
SYLLABLES = ("hua", "xin", "tong", "da", "yuan", "feng", "heng", "sheng", "jia", "kang", "rui",
             "bo", "tian", "long", "an", "ming", "zhi", "hai")  # fmt: skip
CITIES = ("北京", "上海", "深圳", "杭州", "南京", "青岛", "成都", "重庆", "福州", "长沙", "武汉")
NAMES = ("华信", "恒通", "瑞丰", "博远", "天成", "嘉和", "明德", "卓越", "龙腾", "安泰", "鼎盛")
TRADES = ("科技", "信息技术", "环保工程", "物流", "电子", "建设", "医药", "食品", "软件", "文化传媒")  # fmt: skip
# The categories a site shows, the first n of them for a site with n numbers.
CATEGORIES = ("icp_filing", "psb_filing", "uscc", "vats_license", "icp_license", "network_culture")
MENU = ("关于我们 公司简介 企业文化 荣誉资质 产品中心 核心产品 行业应用 新闻动态 公司新闻 "
        "行业资讯 通知公告 联系我们 人才招聘 在线留言 关注微信公众号 友情链接 网站地图 隐私政策")  # fmt: skip
UNREACHABLE = (("unreachable", "dns"), ("unreachable", "timeout"), ("unreachable", "refused"),
               ("unreachable", "tls"), ("unreachable", "http_404"), ("unreachable", "http_500"),
               ("not_html", "application/pdf"), ("too_large", "max_size"),
               ("blocked_by_robots", "robots_txt"))  # fmt: skip
LINKS = {
    "icp_filing": "https://beian.miit.gov.cn/",
    "psb_filing": "https://beian.mps.gov.cn/#/query/webSearch?code={digits}",
    "vats_license": "https://tsm.miit.gov.cn/",
}


def number(category: str, province: str, rng: random.Random) -> str:
    year = rng.randint(2005, 2025)
    if category == "icp_filing":
        return f"{province}ICP备{year}{rng.randint(0, 9999):04}号-{rng.randint(1, 12)}"
    if category == "psb_filing":
        return f"{province}公网安备{rng.randint(11, 65)}0{rng.randint(10**10, 10**11 - 1)}号"
    if category == "vats_license":
        return f"{province}B2-{year}{rng.randint(0, 9999):04}"
    if category == "icp_license":
        return f"{province}ICP证{rng.randint(0, 999999):06}号"
    if category == "uscc":
        return "91" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(16))
    return f"{province}网文〔{year}〕{rng.randint(1000, 9999)}-{rng.randint(100, 999)}号"


def finding(category: str, province: str, rng: random.Random) -> dict[str, Any]:
    text = number(category, province, rng)
    status = rng.choices(("valid", "malformed", "placeholder"), (85, 10, 5))[0]
    problems = {"valid": [], "placeholder": ["placeholder"],
                "malformed": [rng.choice(("digit_count", "missing_hao", "year_out_of_range"))]}  # fmt: skip
    link = LINKS.get(category)
    digits = "".join(ch for ch in text if ch.isdigit())
    link_status = (
        "not_required" if link is None
        else rng.choices(("ok", "unlinked", "stale_link", "wrong_link"), (70, 15, 8, 7))[0]
    )  # fmt: skip
    return {
        "category": category, "number": text, "status": status,
        "problems": problems[status], "warnings": [],
        "link": None if link is None or link_status == "unlinked" else link.format(digits=digits),
        "link_status": link_status,
        "location": rng.choices(("footer", "page", "script"), (85, 10, 5))[0], "raw": text,
    }  # fmt: skip


def result(line: int, rng: random.Random) -> dict[str, Any]:
    first, second = ("".join(rng.choices(SYLLABLES, k=2)) for _ in range(2))
    host = f"www.{first}-{second}{line}.cn"
    company = f"{rng.choice(CITIES)}{rng.choice(NAMES)}{rng.choice(TRADES)}有限公司"
    url = f"https://{host}/"
    outcome, reason = ("ok", None) if rng.random() < 0.86 else rng.choice(UNREACHABLE)
    reached = outcome == "ok"
    province = rng.choice(PROVINCES)  # one province a site, as its numbers should agree
    shown = CATEGORIES[: rng.randint(1, len(CATEGORIES))] if reached else []
    findings = [finding(category, province, rng) for category in shown]
    menu = " ".join(rng.sample(MENU.split(), k=rng.randint(6, 18)))
    footer = (
        f"{menu} 服务热线:400-{rng.randint(100, 999)}-{rng.randint(1000, 9999)} "
        f"公司地址:{rng.choice(CITIES)}市东湖路{rng.randint(1, 300)}号 "
        f"Copyright © 2012-2025 {company} 版权所有 " + " ".join(f["raw"] for f in findings)
    )
    return {
        "input": host, "source": "targets.csv", "line": line, "duplicate_lines": [],
        "extra": {"owner": company, "business_unit": rng.choice(UNITS)},
        "key": host, "host": host, "display_host": host, "registered_domain": host[4:],
        "url": url, "attempts": [{"url": url, "outcome": outcome, "reason": reason or ""}],
        "final_url": url if reached else None, "redirects": [],
        "status": 200 if reached else None, "fetched_at": "2026-11-29T17:20:00Z",
        "sha256": hashlib.sha256(footer.encode()).hexdigest() if reached else None,
        "encoding": "utf-8" if reached else None, "render": "static" if reached else None,
        "footer": {"found": reached, "selector": "div.footer" if reached else None,
                   "text": footer if reached else ""},
        "findings": findings, "outcome": outcome, "reason": reason,
        "message": None if reached else f"{outcome}: {reason}",
    }  # fmt: skip


def results(count: int) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    return [result(line, rng) for line in range(2, count + 2)]


class Stopwatch:
    """Time spent in wrapped functions, added up by format."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner: Any, names: tuple[str, ...], label: str) -> None:
        for name in names:
            setattr(owner, name, self._timed(getattr(owner, name), label))

    def _timed(self, func: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start

        return timed


def run(count: int) -> bool:
    start = time.perf_counter()
    sites = results(count)
    print(f"{count:,} synthetic sites, {sum(len(s['findings']) for s in sites):,} findings, "
          f"made in {time.perf_counter() - start:.1f} s")  # fmt: skip

    watch = Stopwatch()
    watch.wrap(writer, ("write_results",), "JSONL")
    watch.wrap(ExcelCsvWriter, ("__init__", "writerow", "close"), "CSV")
    watch.wrap(WorkbookReport, ("__init__", "add_site", "add_finding", "close"), "XLSX")
    watch.wrap(HtmlReport, ("__init__", "add_site", "close"), "HTML")
    files = {"JSONL": (writer.RESULTS,), "CSV": (writer.SITES, writer.FINDINGS),
             "XLSX": (writer.WORKBOOK,), "HTML": (writer.PAGE,)}  # fmt: skip

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "report"
        start = time.perf_counter()
        writer.write_reports(sites, out, {"tool_version": "bench"}, lang="zh")
        total = time.perf_counter() - start
        sizes = {label: sum((out / name).stat().st_size for name in names)
                 for label, names in files.items()}  # fmt: skip

    print(f"{'format':<32} {'seconds':>8} {'MB':>8}")
    for label in files:
        print(f"{label:<32} {watch.seconds[label]:>8.2f} {sizes[label] / 1e6:>8.1f}")
    rest = total - sum(watch.seconds.values())
    print(f"{'read back, judge, count, fsync':<32} {rest:>8.2f}")
    print(f"{'total':<32} {total:>8.2f}")

    scale = count / SITES
    time_ok = total <= TOTAL_TARGET * scale
    size_ok = sizes["HTML"] <= HTML_BUDGET * scale
    print(f"\ntotal {total:.1f} s against {TOTAL_TARGET * scale:.1f} s: "
          f"{'ok' if time_ok else 'TOO SLOW'}; report.html {sizes['HTML'] / count:,.0f} bytes a site, "
          f"{sizes['HTML'] / 1e6:.1f} MB against {HTML_BUDGET * scale / 1e6:.1f} MB: "
          f"{'ok' if size_ok else 'TOO BIG'}")  # fmt: skip
    return time_ok and size_ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("sites", nargs="?", type=int, default=SITES)
    sys.exit(0 if run(parser.parse_args().sites) else 1)


if __name__ == "__main__":
    main()
