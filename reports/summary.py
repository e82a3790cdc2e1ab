"""Counts over a crawl (by verdict, outcome and reason, problem, notice) and a terminal table.

:class:`Summary` is built one result at a time, so it never holds the results.
:func:`render_table` aligns columns by display width: a Chinese character takes two
terminal cells, a combining mark none.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reports.verdict import VERDICTS, Verdict

SECTIONS = (  # summary field, first column of its table
    ("verdicts", "verdict"),
    ("outcomes", "outcome"),
    ("problems", "problem"),
    ("notices", "notice"),
)


@dataclass
class Summary:
    """How many sites had each verdict, outcome (``outcome:reason``), problem and notice.

    A problem or notice counts once per site.

    >>> summary = Summary()
    >>> summary.add({"outcome": "unreachable", "reason": "dns"},
    ...             Verdict("unreachable", ("unreachable:dns",)))
    >>> summary.to_dict()["outcomes"]
    {'unreachable:dns': 1}
    """

    sites: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    notices: Counter[str] = field(default_factory=Counter)

    def add(self, result: Mapping[str, Any], verdict: Verdict) -> None:
        self.sites += 1
        self.verdicts[verdict.verdict] += 1
        reason = result["reason"]
        self.outcomes[f"{result['outcome']}:{reason}" if reason else result["outcome"]] += 1
        self.problems.update(verdict.problems)
        self.notices.update(verdict.notices)

    def to_dict(self) -> dict[str, Any]:
        """Plain counts for ``summary.json``: every known verdict (zeros too) first, in
        :data:`VERDICTS` order; other counts from most to least frequent."""
        verdicts = {name: self.verdicts[name] for name in VERDICTS}
        return {
            "sites": self.sites,
            "verdicts": verdicts | _by_count(self.verdicts),
            "outcomes": _by_count(self.outcomes),
            "problems": _by_count(self.problems),
            "notices": _by_count(self.notices),
        }


def render_summary(summary: Summary) -> str:
    """The summary as tables for the terminal, with each count's share of the sites.

    >>> summary = Summary()
    >>> summary.add({"outcome": "ok", "reason": None}, Verdict("compliant"))
    >>> print(render_summary(summary).split("\\n\\n")[0])
    verdict        sites   share
    -------------  -----  ------
    compliant          1  100.0%
    non_compliant      0    0.0%
    unreachable        0    0.0%
    invalid_input      0    0.0%
    """
    counts = summary.to_dict()
    tables = []
    for key, name in SECTIONS:
        if counts[key]:
            rows = [(item, n, _share(n, summary.sites)) for item, n in counts[key].items()]
            tables.append(render_table((name, "sites", "share"), rows))
    return "\n\n".join(tables)


def render_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Aligned plain-text columns; a column of numbers or percentages is right-aligned.

    >>> print(render_table(("host", "n"), [("例子.中国", 3), ("example.cn", 12)]))
    host         n
    ----------  --
    例子.中国    3
    example.cn  12
    """
    lines = [[str(cell) for cell in header]]
    numeric = [True] * len(header)
    for row in rows:
        lines.append([str(cell) for cell in row])
        for i, cell in enumerate(row):
            numeric[i] &= isinstance(cell, int | float) or str(cell).endswith("%")
    widths = [max(display_width(line[i]) for line in lines) for i in range(len(header))]
    lines.insert(1, ["-" * width for width in widths])
    return "\n".join(
        "  ".join(
            _pad(cell, width, right) for cell, width, right in zip(line, widths, numeric)
        ).rstrip()
        for line in lines
    )


def display_width(text: str) -> int:
    """Terminal cells taken by ``text``: wide and full-width characters count two.

    >>> display_width("粤ICP备"), display_width("ＩＣＰ"), display_width("e\\u0301")
    (7, 6, 1)
    """
    return sum(_char_width(ch) for ch in text)


def _char_width(ch: str) -> int:
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):  # combining marks, zero-width
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "-"


def _by_count(counter: Counter[str]) -> dict[str, int]:
    """Counts from most to least frequent, ties by name.

    >>> _by_count(Counter({"b": 2, "a": 2, "c": 5}))
    {'c': 5, 'a': 2, 'b': 2}
    """
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))
