"""What changed between two audit runs, site by site: pure functions, no storage.

A run is seen as :class:`SiteState` records sorted by site id (what
:mod:`reports.history` reads back); :func:`diff_states` walks two such runs side by
side and yields one :class:`SiteChange` per site that changed:

* ``added`` / ``removed``: the site is in only one of the runs;
* ``newly_unreachable`` / ``back_online``: its page could be audited in one run only
  (a site is *reached* when its verdict is ``compliant`` or ``non_compliant``);
* ``new_problem`` / ``resolved_problem`` / ``number_changed``: both runs audited the
  page, and its problems, or the numbers it shows in some category, differ.

Problems and numbers are only compared when both runs reached the page: a site that
went offline has not "resolved" its missing ICP number.

A change is *worse* (what ``--fail-on new`` alerts on) when the site has a problem it
did not have, or its verdict is now bad (not ``compliant``) and was not that same
verdict before: a compliant site turned non-compliant, a reachable site went
unreachable, a site back online or added is non-compliant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from reports.summary import render_table

REACHED = frozenset({"compliant", "non_compliant"})
# Kinds after which every problem the site has now is news.
WHOLLY_NEW = frozenset({"added", "back_online", "newly_unreachable"})
KINDS = (
    "added", "removed", "newly_unreachable", "back_online",
    "new_problem", "resolved_problem", "number_changed",
)  # fmt: skip
CHANGE_COLUMNS = (
    "site", "input", "changes", "verdict_before", "verdict_after", "new_problems",
    "resolved_problems", "numbers_before", "numbers_after", "problems_now", "worse",
)  # fmt: skip
SEPARATOR = "; "
CHANGE_LABELS: dict[str, tuple[str, str]] = {
    "site": ("Site", "网站"),
    "input": ("Input", "输入"),
    "changes": ("Changes", "变化"),
    "verdict_before": ("Verdict before", "上次结论"),
    "verdict_after": ("Verdict now", "本次结论"),
    "new_problems": ("New problems", "新增问题"),
    "resolved_problems": ("Resolved problems", "已解决问题"),
    "numbers_before": ("Numbers before", "上次编号"),
    "numbers_after": ("Numbers now", "本次编号"),
    "problems_now": ("Problems now", "当前问题"),
    "worse": ("Worse", "变差"),
    "added": ("Added sites", "新增网站"),
    "removed": ("Removed sites", "移除网站"),
    "newly_unreachable": ("Newly unreachable", "新近无法访问"),
    "back_online": ("Back online", "恢复访问"),
    "new_problem": ("Sites with new problems", "出现新问题的网站"),
    "resolved_problem": ("Sites with resolved problems", "问题已解决的网站"),
    "number_changed": ("Sites whose numbers changed", "编号变化的网站"),
    "changed": ("Sites changed", "有变化的网站"),
    # headings
    "since_last_run": ("Since last run", "与上次核查相比"),
    "changes_sheet": ("Changes", "变化"),
    "compared_with": ("Compared with run {run} (started {started})",
                      "对比第 {run} 次核查（开始于 {started}）"),
    "no_baseline": ("First run in this history: nothing to compare with.",
                    "这是该历史记录中的第一次核查，没有可对比的记录。"),
    "no_changes": ("No site changed.", "没有网站发生变化。"),
    "more_changes": ("{count} more changed sites in changes.csv",
                     "另有 {count} 个有变化的网站，见 changes.csv"),
}  # fmt: skip


@dataclass(frozen=True)
class SiteState:
    """One site as a run left it: its verdict, problems and the numbers it showed."""

    site: str
    input: str | None
    verdict: str
    problems: tuple[str, ...] = ()
    numbers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # by category


@dataclass(frozen=True)
class NumberChange:
    """The numbers one category showed before and now (each in the order first seen)."""

    category: str
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class SiteChange:
    """How one site changed between two runs; ``kinds`` are from :data:`KINDS`."""

    site: str
    input: str | None
    kinds: tuple[str, ...]
    verdict_before: str | None
    verdict_after: str | None
    new_problems: tuple[str, ...] = ()
    resolved_problems: tuple[str, ...] = ()
    numbers: tuple[NumberChange, ...] = ()
    problems_now: tuple[str, ...] = ()
    worse: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The change as plain JSON-ready values (``--format jsonl``)."""
        return {
            "site": self.site, "input": self.input, "changes": list(self.kinds),
            "verdict_before": self.verdict_before, "verdict_after": self.verdict_after,
            "new_problems": list(self.new_problems),
            "resolved_problems": list(self.resolved_problems),
            "numbers": [{"category": n.category, "before": list(n.before), "after": list(n.after)}
                        for n in self.numbers],
            "problems_now": list(self.problems_now), "worse": self.worse,
        }  # fmt: skip


def compare(before: SiteState | None, after: SiteState | None) -> SiteChange | None:
    """The change of one site between two runs (either may lack it); None if none.

    >>> old = SiteState("a.cn", "a.cn", "compliant", (),
    ...                 {"icp_filing": ("京ICP备20018813号-3",)})
    >>> new = SiteState("a.cn", "a.cn", "non_compliant", ("missing:icp_filing",), {})
    >>> change = compare(old, new)
    >>> change.kinds, change.new_problems, change.numbers[0].after, change.worse
    (('new_problem', 'number_changed'), ('missing:icp_filing',), (), True)
    >>> compare(new, old).kinds, compare(new, old).worse
    (('resolved_problem', 'number_changed'), False)
    >>> gone = SiteState("a.cn", "a.cn", "unreachable", ("unreachable:dns",))
    >>> compare(new, gone).kinds, compare(new, gone).resolved_problems, compare(gone, new).kinds
    (('newly_unreachable',), (), ('back_online',))
    >>> compare(old, old) is None, compare(None, old).kinds, compare(old, None).worse
    (True, ('added',), False)
    """
    if before is None and after is None:
        return None
    kinds: list[str] = []
    new_problems: tuple[str, ...] = ()
    resolved: tuple[str, ...] = ()
    numbers: tuple[NumberChange, ...] = ()
    if before is None:
        kinds.append("added")
    elif after is None:
        kinds.append("removed")
    elif before.verdict in REACHED and after.verdict not in REACHED:
        kinds.append("newly_unreachable")
    elif before.verdict not in REACHED and after.verdict in REACHED:
        kinds.append("back_online")
    elif before.verdict in REACHED:  # both audited: compare what the page showed
        new_problems = tuple(p for p in after.problems if p not in before.problems)
        resolved = tuple(p for p in before.problems if p not in after.problems)
        numbers = number_changes(before.numbers, after.numbers)
        kinds += [kind for kind, seen in (("new_problem", new_problems),
                                          ("resolved_problem", resolved),
                                          ("number_changed", numbers)) if seen]
    if not kinds:
        return None
    verdict_before = before.verdict if before else None
    verdict_after = after.verdict if after else None
    bad_now = verdict_after is not None and verdict_after != "compliant"
    worse = bool(new_problems) or (bad_now and verdict_after != verdict_before)
    state = after or before
    assert state is not None
    return SiteChange(
        site=state.site, input=state.input, kinds=tuple(kinds),
        verdict_before=verdict_before, verdict_after=verdict_after,
        new_problems=new_problems, resolved_problems=resolved, numbers=numbers,
        problems_now=after.problems if after else (), worse=worse,
    )  # fmt: skip


def number_changes(before: Mapping[str, tuple[str, ...]],
                   after: Mapping[str, tuple[str, ...]]) -> tuple[NumberChange, ...]:
    """The categories whose set of numbers differs, by category name.

    >>> number_changes({"uscc": ("A",), "icp_filing": ("B", "C")},
    ...                {"icp_filing": ("C", "B"), "psb_filing": ("D",)})
    (NumberChange(category='psb_filing', before=(), after=('D',)), NumberChange(category='uscc', before=('A',), after=()))
    """
    return tuple(
        NumberChange(category, before.get(category, ()), after.get(category, ()))
        for category in sorted({*before, *after})
        if set(before.get(category, ())) != set(after.get(category, ()))
    )


def diff_states(before: Iterable[SiteState], after: Iterable[SiteState], *,
                partial: bool = False) -> Iterator[SiteChange]:
    """The changes between two runs, each given sorted by site id, in site order.

    Streams: only one site of each run is held at a time. With ``partial`` (the later
    run stopped before it reached every site) sites it lacks are not reported removed.

    >>> a = [SiteState("a.cn", "a.cn", "compliant"), SiteState("b.cn", "b.cn", "compliant")]
    >>> b = [SiteState("b.cn", "b.cn", "compliant"), SiteState("c.cn", "c.cn", "compliant")]
    >>> [(c.site, c.kinds) for c in diff_states(a, b)]
    [('a.cn', ('removed',)), ('c.cn', ('added',))]
    >>> [(c.site, c.kinds) for c in diff_states(a, b, partial=True)]
    [('c.cn', ('added',))]
    """
    old, new = iter(before), iter(after)
    left, right = next(old, None), next(new, None)
    while left is not None or right is not None:
        if right is None or (left is not None and left.site < right.site):
            change = None if partial else compare(left, None)
            left = next(old, None)
        elif left is None or right.site < left.site:
            change = compare(None, right)
            right = next(new, None)
        else:
            change = compare(left, right)
            left, right = next(old, None), next(new, None)
        if change is not None:
            yield change


@dataclass
class ChangeReport:
    """The changes of a run against its baseline (None: nothing to compare with)."""

    run: int | None
    baseline: int | None
    baseline_started: str | None
    changes: list[SiteChange]

    def counts(self) -> dict[str, Any]:
        """Counts of sites by kind of change, for ``summary.json`` and the reports.

        >>> report = ChangeReport(2, 1, "T", [SiteChange("a.cn", None, ("added",), None,
        ...                                              "non_compliant", worse=True)])
        >>> report.counts()["added"], report.counts()["worse"], report.counts()["changed"]
        (1, 1, 1)
        """
        counts: dict[str, Any] = {"run": self.run, "baseline_run": self.baseline,
                                  "changed": len(self.changes)}
        counts |= {kind: sum(kind in c.kinds for c in self.changes) for kind in KINDS}
        counts["worse"] = sum(c.worse for c in self.changes)
        return counts


def change_headers(lang: str | None, columns: Iterable[str] = CHANGE_COLUMNS) -> list[str]:
    """Header labels of the change columns: keys, or labels in ``lang`` ("en", "zh").

    >>> change_headers("zh", ["site", "worse"]), change_headers(None, ["site"])
    (['网站', '变差'], ['site'])
    """
    if lang is None:
        return list(columns)
    return [change_label(column, lang) for column in columns]


def change_label(key: str, lang: str) -> str:
    """A label or phrase of the change reports in ``lang`` ("en" or "zh")."""
    return CHANGE_LABELS[key][1 if lang == "zh" else 0]


def change_row(change: SiteChange) -> list[object]:
    """One ``changes.csv`` row, in the order of :data:`CHANGE_COLUMNS`.

    >>> change_row(SiteChange("a.cn", "a.cn", ("number_changed",), "compliant", "compliant",
    ...     numbers=(NumberChange("icp_filing", ("京ICP备1号",), ("京ICP备2号", "京ICP备3号")),)))
    ['a.cn', 'a.cn', 'number_changed', 'compliant', 'compliant', '', '', 'icp_filing: 京ICP备1号', 'icp_filing: 京ICP备2号, 京ICP备3号', '', 'no']
    """
    return [
        change.site, change.input, SEPARATOR.join(change.kinds),
        change.verdict_before, change.verdict_after,
        SEPARATOR.join(change.new_problems), SEPARATOR.join(change.resolved_problems),
        _numbers(change.numbers, "before"), _numbers(change.numbers, "after"),
        SEPARATOR.join(change.problems_now), "yes" if change.worse else "no",
    ]  # fmt: skip


def _numbers(numbers: Iterable[NumberChange], side: str) -> str:
    return SEPARATOR.join(
        f"{n.category}: {', '.join(getattr(n, side)) or '-'}" for n in numbers
    )


def render_changes(report: ChangeReport) -> str:
    """The changes as a table for the terminal, under a line saying what was compared.

    >>> report = ChangeReport(2, 1, "2026-11-28T02:00:00Z", [SiteChange("a.cn", "a.cn",
    ...     ("newly_unreachable",), "compliant", "unreachable",
    ...     problems_now=("unreachable:dns",), worse=True)])
    >>> print(render_changes(report))
    run 1 (started 2026-11-28T02:00:00Z) -> run 2: 1 site changed, 1 worse
    <BLANKLINE>
    site  changes            verdict                   new problems     resolved  numbers
    ----  -----------------  ------------------------  ---------------  --------  -------
    a.cn  newly_unreachable  compliant -> unreachable  unreachable:dns
    """
    counts = report.counts()
    plural = "" if counts["changed"] == 1 else "s"
    line = (f"run {report.baseline} (started {report.baseline_started or '?'}) -> run "
            f"{report.run}: {counts['changed']} site{plural} changed, {counts['worse']} worse")
    if not report.changes:
        return line
    rows = [
        (
            change.site, ", ".join(change.kinds),
            f"{change.verdict_before or '-'} -> {change.verdict_after or '-'}",
            ", ".join(_new_problems(change)),
            ", ".join(change.resolved_problems),
            SEPARATOR.join(f"{n.category}: {', '.join(n.before) or '-'} -> "
                           f"{', '.join(n.after) or '-'}" for n in change.numbers),
        )
        for change in report.changes
    ]
    header = ("site", "changes", "verdict", "new problems", "resolved", "numbers")
    return line + "\n\n" + render_table(header, rows)


def _new_problems(change: SiteChange) -> tuple[str, ...]:
    """The problems a reader has not seen for the site: all of them when it was not
    audited before (added, back online) or cannot be now (newly unreachable)."""
    return change.problems_now if WHOLLY_NEW.intersection(change.kinds) else change.new_problems
