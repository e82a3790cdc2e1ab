"""Flatten crawl results into the rows of ``sites.csv`` and ``findings.csv``.

Column keys are stable English snake_case names; :data:`LABELS` maps each key to an
English and a Chinese header label, so a report can be headed in either language.
Lists become one cell joined with ``"; "``; a missing value becomes an empty cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from reports.verdict import Verdict

# Categories that always get a column in sites.csv, in this order, so spreadsheets
# built on one report fit the next; other categories follow when seen, sorted.
CORE_CATEGORIES = ("icp_filing", "icp_license", "vats_license", "psb_filing", "uscc")
SITE_HEAD = (
    "input", "line", "duplicate_lines", "host", "display_host", "registered_domain",
    "outcome", "reason", "final_url", "http_status", "fetched_at",
    "verdict", "problems", "notices",
)  # fmt: skip
SITE_TAIL = ("footer_selector", "evidence", "sha256")
FINDING_COLUMNS = (
    "input", "line", "host", "category", "number", "status", "problems", "warnings",
    "link", "link_status", "location", "raw",
)  # fmt: skip
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
    "category": ("Category", "类别"),
    "number": ("Number", "编号"),
    "status": ("Format status", "格式状态"),
    "warnings": ("Warnings", "警告"),
    "link": ("Link", "链接"),
    "link_status": ("Link status", "链接状态"),
    "location": ("Found in", "所在位置"),
    "raw": ("Text as found", "原文"),
}

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
        ['evidence', 'sha256', 'customer', 'extra_host']
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
        *(_joined(numbers[category]) for category in layout.categories),
        footer["selector"],
        evidence(footer["text"]),
        result["sha256"],
        *(
            _joined(value) if isinstance(value, list) else value
            for value in (extra.get(name) for name in layout.extras)
        ),
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
