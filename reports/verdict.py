"""The default verdict rule: one crawl result in, a verdict with its reasons out.

The rule runs when a report is written, not during the crawl, so stored results can
be judged again under another rule (anything with the signature of :func:`judge`).

* ``problems`` decide the verdict: the site is not compliant because of them;
* ``notices`` are reported but do not change the verdict: link problems, and
  malformed or placeholder numbers of categories the rule does not require.

Codes read ``<category>:<code>`` (``icp_filing:missing_hao``), ``missing:<category>``
or ``<outcome>:<reason>`` (``unreachable:dns``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

VERDICTS = ("compliant", "non_compliant", "unreachable", "invalid_input")
REQUIRED_CATEGORY = "icp_filing"
# Link states that are not a problem: a correct link, or no link rule for the category.
LINK_STATES_WITHOUT_PROBLEM = frozenset({"ok", "not_required"})

Result = Mapping[str, Any]


@dataclass(frozen=True)
class Verdict:
    """A verdict (one of :data:`VERDICTS`) and its codes, each listed once."""

    verdict: str
    problems: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()


Judge = Callable[[Result], Verdict]


def judge(result: Result) -> Verdict:
    """Judge one crawl result: is the ICP filing number on the home page well formed?

    >>> judge({"outcome": "unreachable", "reason": "dns", "findings": []})
    Verdict(verdict='unreachable', problems=('unreachable:dns',), notices=())
    >>> judge({"outcome": "ok", "reason": None, "findings": []}).problems
    ('missing:icp_filing',)
    >>> judge({"outcome": "ok", "reason": None, "findings": [
    ...     {"category": "icp_filing", "number": "京ICP备20018813号-3", "status": "valid",
    ...      "problems": [], "link_status": "stale_link"}]})
    Verdict(verdict='compliant', problems=(), notices=('icp_filing:stale_link',))
    """
    outcome = result["outcome"]
    if outcome != "ok":
        reason = result.get("reason")
        problem = f"{outcome}:{reason}" if reason else outcome
        verdict = "invalid_input" if outcome == "invalid_input" else "unreachable"
        return Verdict(verdict, (problem,))

    findings = result["findings"]
    required = [f for f in findings if f["category"] == REQUIRED_CATEGORY]
    compliant = any(f["status"] == "valid" for f in required)
    if not required:
        problems = [f"missing:{REQUIRED_CATEGORY}"]
    elif compliant:
        problems = []
    else:
        problems = list(_number_codes(required))

    others = [f for f in findings if f["category"] != REQUIRED_CATEGORY]
    notices = [*_link_codes(findings), *_number_codes(others)]
    if compliant:  # a second, broken ICP number next to a good one is only a notice
        notices.extend(_number_codes(required))
    return Verdict(
        "compliant" if compliant else "non_compliant",
        _unique(problems),
        _unique(notices),
    )


def _number_codes(findings: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    """``<category>:<problem>`` for each problem of the findings that are not valid.

    >>> list(_number_codes([{"category": "uscc", "status": "placeholder", "problems": []}]))
    ['uscc:placeholder']
    """
    for finding in findings:
        if finding["status"] == "valid":
            continue
        for code in finding["problems"] or [finding["status"]]:
            yield f"{finding['category']}:{code}"


def _link_codes(findings: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    for finding in findings:
        if finding["link_status"] not in LINK_STATES_WITHOUT_PROBLEM:
            yield f"{finding['category']}:{finding['link_status']}"


def _unique(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(codes))
