"""Flatten crawl results into the rows and count tables that every report shows.

Column keys are stable English snake_case names; :data:`LABELS` maps each key to an
English and a Chinese header label, so a report can be headed in either language, and
:data:`HEADINGS` does the same for sheet names, headings and the HTML page's words.
Lists become one cell joined with ``"; "``; a missing value becomes an empty cell.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from patterns.catalogue import STATUSES
from reports.summary import Summary, _by_count
from reports.verdict import VERDICTS, Verdict

# Categories that always get a column in sites.csv, in this order, so spreadsheets
# built on one report fit the next; other categories follow when seen, sorted.
CORE_CATEGORIES = ("icp_filing", "icp_license", "vats_license", "psb_filing", "uscc")
SITE_HEAD = (
    "input", "line", "duplicate_lines", "host", "display_host", "registered_domain",
    "outcome", "reason", "final_url", "http_status", "fetched_at",
    "verdict", "problems", "notices", "waived",
)  # fmt: skip
SITE_TAIL = ("footer_selector", "evidence", "sha256", "render", "render_error", "screenshot")
FINDING_COLUMNS = (
    "input", "line", "host", "category", "number", "status", "problems", "warnings",
    "link", "link_status", "location", "raw",
)  # fmt: skip
# The licence register's columns, as the register rows name them. Its "status" is the
# standing of a licence, so its header label is that of "register_status".
REGISTER_COLUMNS = (
    "number", "category", "holder", "authority", "issued", "expires", "domains", "shown_on",
    "status",
)  # fmt: skip
REGISTER_HEADERS = (*REGISTER_COLUMNS[:-1], "register_status")
# Run facts from ``meta`` shown first, in this order; other keys of ``meta`` follow.
META_KEYS = (
    "started_at", "finished_at", "finish_reason", "partial", "remaining", "runs",
    "tool_version", "catalogue_version", "rules_file", "rules_sha256", "register_file",
    "register_sha256", "vantage", "targets", "lines",
)  # fmt: skip
BUSINESS_UNIT = "business_unit"  # the pass-through column that splits counts by unit
SEPARATOR = "; "
EVIDENCE_LIMIT = 500
LANGUAGES = ("en", "zh")

LABELS: dict[str, tuple[str, str]] = {
    "input": ("Input", "输入"),
    "line": ("Line", "行号"),
    "duplicate_lines": ("Duplicate lines", "重复行号"),
    "host": ("Host", "主机名"),
    "display_host": ("Host (as displayed)", "主机名（显示）"),
    "registered_domain": ("Registered domain", "注册域名"),
    "outcome": ("Crawl outcome", "抓取结果"),
    "reason": ("Reason", "原因"),
    "final_url": ("Final URL", "最终网址"),
    "http_status": ("HTTP status", "HTTP 状态码"),
    "fetched_at": ("Fetched at (UTC)", "抓取时间（UTC）"),
    "verdict": ("Verdict", "结论"),
    "problems": ("Problems", "问题"),
    "notices": ("Notices", "提示"),
    "icp_filing": ("ICP filing number", "ICP备案号"),
    "icp_license": ("ICP licence", "ICP证"),
    "vats_license": ("VATS licence", "增值电信业务经营许可证"),
    "psb_filing": ("Public security filing", "公安联网备案号"),
    "uscc": ("Unified social credit code", "统一社会信用代码"),
    "footer_selector": ("Footer selector", "页脚选择器"),
    "evidence": ("Evidence (footer text)", "证据（页脚文字）"),
    "sha256": ("Page SHA-256", "页面 SHA-256"),
    "render": ("Read as (static or browser)", "读取方式（静态或浏览器）"),
    "render_reason": ("Why rendered", "渲染原因"),
    "render_error": ("Rendering failed", "渲染失败原因"),
    "screenshot": ("Footer screenshot", "页脚截图"),
    "category": ("Category", "类别"),
    "number": ("Number", "编号"),
    "status": ("Format status", "格式状态"),
    "warnings": ("Warnings", "警告"),
    "link": ("Link", "链接"),
    "link_status": ("Link status", "链接状态"),
    "location": ("Found in", "所在位置"),
    "raw": ("Text as found", "原文"),
    "waived": ("Waived", "已豁免"),
    "numbers": ("Numbers found", "发现的编号"),
    "message": ("Message", "说明"),
    "url": ("URL", "网址"),
    # count tables
    "sites": ("Sites", "网站数"),
    "share": ("Share", "占比"),
    "problem": ("Problem", "问题"),
    "notice": ("Notice", "提示"),
    "waived_item": ("Waived item", "豁免项"),
    "compliant": ("Compliant", "合规"),
    "non_compliant": ("Non-compliant", "不合规"),
    "unreachable": ("Unreachable", "无法访问"),
    "invalid_input": ("Invalid input", "输入无效"),
    "valid": ("Valid", "格式正确"),
    "malformed": ("Malformed", "格式错误"),
    "placeholder": ("Placeholder", "占位号码"),
    BUSINESS_UNIT: ("Business unit", "事业部"),
    # licence register
    "holder": ("Holder", "持证主体"),
    "authority": ("Issuing authority", "发证机关"),
    "issued": ("Issued", "发证日期"),
    "expires": ("Expires", "有效期至"),
    "domains": ("Domains", "域名"),
    "shown_on": ("Shown on", "展示网站"),
    "register_status": ("Licence status", "许可状态"),
    # run facts
    "started_at": ("Run started (UTC)", "开始时间（UTC）"),
    "finished_at": ("Run finished (UTC)", "结束时间（UTC）"),
    "finish_reason": ("Finish reason", "结束原因"),
    "partial": ("Partial (crawl stopped early)", "部分结果（抓取提前停止）"),
    "remaining": ("Targets not yet audited", "尚未核查的目标"),
    "runs": ("Runs (resumed crawl)", "运行次数（续抓）"),
    "tool_version": ("Tool version", "工具版本"),
    "catalogue_version": ("Pattern catalogue version", "编号规则库版本"),
    "rules_file": ("Rules file", "规则文件"),
    "rules_sha256": ("Rules file SHA-256", "规则文件 SHA-256"),
    "register_file": ("Register file", "登记册文件"),
    "register_sha256": ("Register file SHA-256", "登记册文件 SHA-256"),
    "vantage": ("Vantage (proxy or direct)", "访问方式（代理或直连）"),
    "targets": ("Target lists", "目标清单"),
    "lines": ("Input lines", "输入行"),
    "rebuilt_from": ("Rebuilt from results", "由抓取结果重建"),
}

HEADINGS: dict[str, tuple[str, str]] = {
    "title": ("Footer licence audit", "网站页脚许可证核查报告"),
    "summary_sheet": ("Summary", "概要"),
    "sites_sheet": ("Sites", "网站"),
    "findings_sheet": ("Findings", "编号明细"),
    "register_sheet": ("Register", "许可证登记册"),
    "audit": ("What was audited", "核查范围"),
    "by_verdict": ("Sites by verdict", "按结论统计"),
    "by_problem": ("Sites by problem", "按问题统计"),
    "by_notice": ("Sites by notice", "按提示统计"),
    "by_waived": ("Waived items", "已豁免项"),
    "by_outcome": ("Sites by crawl outcome", "按抓取结果统计"),
    "by_category": ("Sites by licence category", "按许可证类别统计"),
    "by_business_unit": ("Sites by business unit", "按事业部统计"),
    "sites_total": ("Sites audited", "核查网站数"),
    "site_table": ("Sites", "网站列表"),
    "filter": ("Filter", "筛选"),
    "all_verdicts": ("All verdicts", "全部结论"),
    "showing": ("Showing {shown} of {matching} matching sites ({total} in all)",
                "显示 {shown} 个，共 {matching} 个符合条件（总计 {total} 个）"),
    "show_more": ("Show more", "显示更多"),
    "details": ("Details", "详情"),
    "findings": ("Numbers found", "发现的编号"),
    "attempts": ("Fetch attempts", "抓取尝试"),
    "none": ("None", "无"),
    "needs_script": ("The site table needs JavaScript; report.xlsx and sites.csv hold it too.",
                     "网站列表需要启用 JavaScript；report.xlsx 和 sites.csv 中也有该列表。"),
    "more_problems": ("{count} more problems in the table below", "另有 {count} 个问题，见下表"),
    "partial_report": ("Partial report: the crawl was stopped with {remaining} targets not yet "
                       "audited; run the same command again to finish it.",
                       "部分报告：抓取提前停止，尚有 {remaining} 个目标未核查；"
                       "再次运行同一命令可继续完成。"),
}  # fmt: skip

Result = Mapping[str, Any]


def headers(columns: Iterable[str], lang: str | None = None) -> list[str]:
    """The header row: the column keys, or their labels in ``lang`` ("en" or "zh").

    Columns without a label (other categories, pass-through columns) keep their key.

    >>> headers(["verdict", "icp_filing", "customer_id"], "zh")
    ['结论', 'ICP备案号', 'customer_id']
    """
    if lang is None:
        return list(columns)
    if lang not in LANGUAGES:
        raise ValueError(f"unknown header language {lang!r}; use one of {LANGUAGES}")
    index = LANGUAGES.index(lang)
    return [LABELS[key][index] if key in LABELS else key for key in columns]


def heading(key: str, lang: str) -> str:
    """A sheet name, heading or phrase of the reports in ``lang`` ("en" or "zh").

    >>> heading("sites_sheet", "en"), heading("sites_sheet", "zh")
    ('Sites', '网站')
    """
    return HEADINGS[key][LANGUAGES.index(lang)]


@dataclass
class SiteLayout:
    """The columns of ``sites.csv``, learnt by :meth:`include`-ing every result first."""

    other_categories: set[str] = field(default_factory=set)
    extras: dict[str, None] = field(default_factory=dict)  # insertion-ordered set

    def include(self, result: Result) -> None:
        for finding in result["findings"]:
            if finding["category"] not in CORE_CATEGORIES:
                self.other_categories.add(finding["category"])
        self.extras.update(dict.fromkeys(result["extra"]))

    @property
    def categories(self) -> tuple[str, ...]:
        return CORE_CATEGORIES + tuple(sorted(self.other_categories))

    def columns(self) -> list[str]:
        """The column keys; a pass-through column named like another gets ``extra_``.

        >>> layout = SiteLayout()
        >>> layout.include({"findings": [{"category": "news_license"}],
        ...                 "extra": {"customer": "A", "host": "x"}})
        >>> layout.columns()[-4:]
        ['render_error', 'screenshot', 'customer', 'extra_host']
        """
        columns = [*SITE_HEAD, *self.categories, *SITE_TAIL]
        taken = set(columns)
        for name in self.extras:
            while name in taken:
                name = f"extra_{name}"
            taken.add(name)
            columns.append(name)
        return columns


def site_row(result: Result, verdict: Verdict, layout: SiteLayout) -> list[object]:
    """One ``sites.csv`` row, in the order of ``layout.columns()``."""
    numbers: dict[str, dict[str, None]] = {category: {} for category in layout.categories}
    for finding in result["findings"]:
        numbers[finding["category"]][finding["number"]] = None
    footer = result["footer"]
    extra = result["extra"]
    return [
        result["input"],
        result["line"],
        _joined(result["duplicate_lines"]),
        result["host"],
        result["display_host"],
        result["registered_domain"],
        result["outcome"],
        result["reason"],
        result["final_url"],
        result["status"],
        result["fetched_at"],
        verdict.verdict,
        _joined(verdict.problems),
        _joined(verdict.notices),
        _joined(verdict.waived),
        *(_joined(numbers[category]) for category in layout.categories),
        footer["selector"],
        evidence(footer["text"]),
        result["sha256"],
        result.get("render"),
        result.get("render_error"),
        result.get("screenshot"),
        *(_cell(extra.get(name)) for name in layout.extras),
    ]


def finding_rows(result: Result) -> Iterator[list[object]]:
    """The ``findings.csv`` rows of one result, in the order of :data:`FINDING_COLUMNS`."""
    for finding in result["findings"]:
        yield [
            result["input"],
            result["line"],
            result["host"],
            finding["category"],
            finding["number"],
            finding["status"],
            _joined(finding["problems"]),
            _joined(finding["warnings"]),
            finding["link"],
            finding["link_status"],
            finding["location"],
            finding["raw"],
        ]


def register_row(entry: Mapping[str, Any]) -> list[object]:
    """One row of the licence register, in the order of :data:`REGISTER_COLUMNS`.

    >>> register_row({"number": "京ICP证030173号", "domains": ["a.cn", "b.cn"]})[:3]
    ['京ICP证030173号', None, None]
    >>> register_row({"domains": ["a.cn", "b.cn"]})[6]
    'a.cn; b.cn'
    """
    return [_cell(entry.get(column)) for column in REGISTER_COLUMNS]


def meta_rows(meta: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The run facts of ``meta`` as (key, text) pairs: :data:`META_KEYS` first.

    >>> meta_rows({"note": None, "lines": {"read": 3, "kept": 2}, "started_at": "T"})
    [('started_at', 'T'), ('lines', 'read: 3; kept: 2'), ('note', '')]
    """
    keys = [key for key in META_KEYS if key in meta]
    keys += [key for key in meta if key not in META_KEYS]
    return [(key, _text(meta[key])) for key in keys]


@dataclass
class Breakdown:
    """The counts behind the summary tables that :class:`Summary` does not keep.

    Sites per licence category (how many show a number of it, and how many show one of
    each status), sites per business unit by verdict, and sites per waived item.

    >>> breakdown = Breakdown()
    >>> breakdown.add({"findings": [{"category": "uscc", "status": "valid"}] * 2,
    ...                "extra": {"business_unit": "华东"}}, Verdict("compliant"))
    >>> breakdown.categories["uscc"], breakdown.business_units["华东"]
    (Counter({'sites': 1, 'valid': 1}), Counter({'compliant': 1}))
    """

    categories: dict[str, Counter[str]] = field(default_factory=dict)
    business_units: dict[str | None, Counter[str]] = field(default_factory=dict)
    waived: Counter[str] = field(default_factory=Counter)

    def add(self, result: Result, verdict: Verdict) -> None:
        statuses: dict[str, set[str]] = {}
        for finding in result["findings"]:
            statuses.setdefault(finding["category"], set()).add(finding["status"])
        for category, seen in statuses.items():
            counts = self.categories.setdefault(category, Counter())
            counts["sites"] += 1
            counts.update(seen)
        unit = result["extra"].get(BUSINESS_UNIT)
        self.business_units.setdefault(None if unit is None else str(unit), Counter())[
            verdict.verdict
        ] += 1
        self.waived.update(verdict.waived)


@dataclass(frozen=True)
class CountTable:
    """One table of counts: a :data:`HEADINGS` key, column keys, and rows of cells.

    A ``share`` column holds fractions of all sites (0.25 for a quarter).
    """

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[object, ...]]


def count_tables(summary: Summary, breakdown: Breakdown) -> list[CountTable]:
    """The summary tables every report shows, in order; empty ones are left out
    (except the verdicts), and the business units only when some site names one.

    >>> summary, breakdown = Summary(), Breakdown()
    >>> result = {"outcome": "ok", "reason": None, "findings": [], "extra": {}}
    >>> for verdict in (Verdict("compliant"), Verdict("non_compliant", ("missing:icp",))):
    ...     summary.add(result, verdict)
    ...     breakdown.add(result, verdict)
    >>> tables = count_tables(summary, breakdown)
    >>> [table.title for table in tables]
    ['by_verdict', 'by_problem', 'by_outcome']
    >>> tables[1].columns, tables[1].rows
    (('problem', 'sites', 'share'), [('missing:icp', 1, 0.5)])
    """
    counts = summary.to_dict()
    sites = counts["sites"]

    def shares(
        column: str, counter: Mapping[str, int]
    ) -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
        rows = [(name, n, n / sites if sites else 0.0) for name, n in counter.items()]
        return (column, "sites", "share"), rows

    tables = [
        CountTable("by_verdict", *shares("verdict", counts["verdicts"])),
        CountTable("by_problem", *shares("problem", counts["problems"])),
        CountTable("by_notice", *shares("notice", counts["notices"])),
        CountTable("by_waived", *shares("waived_item", _by_count(breakdown.waived))),
        CountTable("by_outcome", *shares("outcome", counts["outcomes"])),
        CountTable(
            "by_category",
            ("category", "sites", *STATUSES),
            [
                (category, *(tally[column] for column in ("sites", *STATUSES)))
                for category, tally in sorted(breakdown.categories.items(), key=_category_order)
            ],
        ),
    ]
    units = breakdown.business_units
    if any(unit is not None for unit in units):
        tables.append(
            CountTable(
                "by_business_unit",
                (BUSINESS_UNIT, "sites", *VERDICTS),
                [
                    (unit, sum(tally.values()), *(tally[verdict] for verdict in VERDICTS))
                    for unit, tally in sorted(units.items(), key=lambda item: item[0] or "")
                ],
            )
        )
    return [table for table in tables if table.rows or table.title == "by_verdict"]


def evidence(text: str, limit: int = EVIDENCE_LIMIT) -> str:
    """The footer text, cut to ``limit`` characters with an ellipsis.

    >>> evidence("京ICP备20018813号-3 版权所有", limit=10)
    '京ICP备2001…'
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _joined(values: Iterable[object]) -> str:
    """Several values in one cell.

    >>> _joined([3, 7]), _joined([])
    ('3; 7', '')
    """
    return SEPARATOR.join(str(value) for value in values)


def _cell(value: object) -> object:
    """A list or set as one joined cell; anything else as it is."""
    return _joined(value) if isinstance(value, list | tuple | set | frozenset) else value


def _text(value: object) -> str:
    """A run fact as text: a mapping as ``key: value`` pairs, a list joined.

    >>> _text({"a": 1, "b": None}), _text(["x.csv", "y.csv"]), _text(None), _text(3)
    ('a: 1; b: ', 'x.csv; y.csv', '', '3')
    """
    if isinstance(value, Mapping):
        return SEPARATOR.join(f"{key}: {_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return _joined(_text(item) for item in value)
    return "" if value is None else str(value)


def _category_order(item: tuple[str, object]) -> tuple[int, str]:
    """The core categories first in their fixed order, then the others by name."""
    category = item[0]
    core = CORE_CATEGORIES.index(category) if category in CORE_CATEGORIES else len(CORE_CATEGORIES)
    return core, category
