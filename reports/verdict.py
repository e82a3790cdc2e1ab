"""Verdicts: one crawl result in, a verdict with its reasons out.

The rules run when a report is written, not during the crawl, so stored results can
be judged again under other rules or another register (``footer-audit report``).

* ``problems`` decide the verdict: the site is not compliant because of them;
* ``notices`` are reported but do not change the verdict (a malformed number of a
  category the site need not show, a licence expiring within 90 days…);
* ``waived`` are problems a current waiver covers: shown, with who waived them and
  until when, but not counted against the site.

Codes read ``<category>:<code>`` (``icp_filing:missing_hao``), ``missing:<category>``,
``<outcome>:<reason>`` (``unreachable:dns``) or ``province_mismatch:<what>``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from patterns.tables import load_tables
from reports.register import Register, load_register
from reports.rules import DEFAULT_RULES, Rules, load_rules

VERDICTS = ("compliant", "non_compliant", "unreachable", "invalid_input")
# Link states that are not a problem: a correct link, or no link rule for the category.
LINK_STATES_WITHOUT_PROBLEM = frozenset({"ok", "not_required"})
# Where a number must be seen for its link to matter: not a copy in a script or meta tag.
VISIBLE = frozenset({"footer", "page"})

Result = Mapping[str, Any]


@dataclass(frozen=True)
class Verdict:
    """A verdict (one of :data:`VERDICTS`) and its codes, each listed once."""

    verdict: str
    problems: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    waived: tuple[str, ...] = ()


Judge = Callable[[Result], Verdict]


def _region_codes() -> dict[str, str]:
    """Province character -> GB/T 2260 province code (蜀 and 川 both give 51)."""
    return {char: code for code, chars in load_tables().region_codes.items() for char in chars}


class RulesJudge:
    """Judges results under a set of rules and, optionally, a licence register.

    ``as_of`` is the day expiries and waivers are judged against; by default the day
    each site was fetched.
    """

    def __init__(self, rules: Rules = DEFAULT_RULES, register: Register | None = None,
                 as_of: dt.date | None = None) -> None:
        self.rules = rules
        self.register = register
        self.as_of = as_of
        self._province_code = _region_codes()

    @classmethod
    def from_files(cls, rules: Path | None, register: Path | None,
                   categories: Iterable[str]) -> tuple[RulesJudge, dict[str, str | None]]:
        """A judge for the rules and register files (either may be absent), and what
        a report must say about them: their paths and SHA-256 digests.

        Raises ``RulesError`` or ``RegisterError`` for a file that cannot be used.
        """
        categories = tuple(categories)
        judge = cls(load_rules(rules, categories) if rules else DEFAULT_RULES,
                    load_register(register, categories) if register else None)
        about: dict[str, str | None] = {}
        for name, path in (("rules", rules), ("register", register)):
            about[f"{name}_file"] = str(path) if path else None
            about[f"{name}_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest() if path else None
        return judge, about

    def __call__(self, result: Result) -> Verdict:
        outcome = result["outcome"]
        if outcome != "ok":
            reason = result.get("reason")
            problem = f"{outcome}:{reason}" if reason else outcome
            return Verdict("invalid_input" if outcome == "invalid_input" else "unreachable", (problem,))
        hosts = _hosts(result)
        day = self.as_of or _day(result)
        findings = result["findings"]
        required = self.rules.required(hosts, result.get("extra") or {})
        problems: list[str] = []
        notices: list[str] = list(result.get("notices", ()))  # the extraction's (findings_capped…)
        for category in required:
            shown = [f for f in findings if f["category"] == category]
            if not shown:
                problems.append(f"missing:{category}")
            elif any(f["status"] == "valid" for f in shown):
                notices.extend(_number_codes(shown))  # a broken copy next to a good one
            else:
                problems.extend(_number_codes(shown))
        notices.extend(_number_codes(f for f in findings if f["category"] not in required))
        for category, code in self._link_codes(findings):
            target = problems if self.rules.links.get(category) == "problem" else notices
            target.append(f"{category}:{code}")
        if self.rules.province_consistency:
            problems.extend(self._province_codes(findings))
        if self.register is not None:
            self._register_codes(findings, hosts, day, problems, notices)
        return self._waive(hosts, day, problems, notices)

    def register_rows(self) -> Iterator[dict[str, object]]:
        """The register's report rows, worked out when iterated: after judging, so
        that they say which sites showed each licence."""
        if self.register is not None:
            yield from self.register.rows(self.as_of or dt.datetime.now(dt.timezone.utc).date())

    def _link_codes(self, findings: Iterable[Mapping[str, Any]]) -> Iterable[tuple[str, str]]:
        """For each category shown, the link state of its best-linked visible number,
        when even that one is not linked right."""
        by_category: dict[str, list[Mapping[str, Any]]] = {}
        for finding in findings:
            if finding["location"] in VISIBLE:
                by_category.setdefault(finding["category"], []).append(finding)
        for category, shown in by_category.items():
            states = [f["link_status"] for f in shown]
            if not LINK_STATES_WITHOUT_PROBLEM.intersection(states):
                yield category, states[0]

    def _province_codes(self, findings: Iterable[Mapping[str, Any]]) -> list[str]:
        """ICP province against police region code against the registered province."""
        valid = [f for f in findings if f["status"] == "valid"]
        icp = {self._province_code.get(f["number"][:1]) for f in valid
               if f["category"] == "icp_filing"} - {None}
        police = {"".join(ch for ch in f["number"] if ch.isdigit())[:2] for f in valid
                  if f["category"] == "psb_filing"}
        codes = []
        if icp and police and not icp & police:
            codes.append("province_mismatch:icp_psb")
        if self.register is not None:
            for finding in valid:
                for licence in self.register.find(finding["number"]):
                    province = licence.province
                    code = province[:2] if province[:2].isdigit() else self._province_code.get(province[:1])
                    if code and code != self._province_code.get(finding["number"][:1], code):
                        codes.append("province_mismatch:register")
        return codes

    def _register_codes(self, findings: Iterable[Mapping[str, Any]], hosts: list[str],
                        day: dt.date, problems: list[str], notices: list[str]) -> None:
        register = self.register
        assert register is not None
        tracked = register.categories
        shown_entities: set[str] = set()
        shown_numbers: set[str] = set()  # registered numbers, so never "another number"
        for finding in findings:
            if finding["status"] != "valid":
                continue
            category, number = finding["category"], finding["number"]
            licences = register.find(number)
            if not licences:
                if category in tracked:
                    problems.append(f"{category}:unregistered_number")
                continue
            shown_entities.add(licences[0].entity)
            shown_numbers.add(number)
            covering = [lic for lic in licences if any(lic.covers(h) for h in hosts)]
            if not covering:
                problems.append(f"{category}:number_not_for_domain")
                continue
            for licence in covering:
                register.record_shown(licence, hosts[0] if hosts else None)
                state = licence.expiry_state(day)
                if state == "licence_expired":
                    problems.append(f"{category}:{state}")
                elif state:
                    notices.append(f"{category}:{state}")
        for licence in {lic.entity: lic for h in hosts for lic in register.covering(h)}.values():
            # the register says which number this site is for: showing another is wrong
            others = [f for f in findings if f["category"] == licence.category
                      and f["status"] == "valid" and f["number"] not in shown_numbers]
            if licence.entity not in shown_entities and others:
                problems.append(f"{licence.category}:wrong_number")

    def _waive(self, hosts: list[str], day: dt.date, problems: list[str],
               notices: list[str]) -> Verdict:
        kept, waived = [], []
        for code in dict.fromkeys(problems):
            waivers = [w for w in self.rules.waivers if w.covers(hosts, code)]
            current = [w for w in waivers if w.expires >= day]
            if current:
                waived.append(f"{code} ({current[0].describe()})")
            else:
                kept.append(code)
                notices.extend(f"waiver_expired:{code}" for _ in waivers[:1])
        return Verdict("non_compliant" if kept else "compliant", tuple(kept),
                       _unique(notices), tuple(waived))


def _hosts(result: Result) -> list[str]:
    hosts = [result.get("host") or ""]
    final = urlsplit(result.get("final_url") or "").hostname
    if final and final not in hosts:
        hosts.append(final)
    return [h.lower().rstrip(".") for h in hosts if h]


def _day(result: Result) -> dt.date:
    fetched = result.get("fetched_at")
    if fetched:
        return dt.date.fromisoformat(fetched[:10])
    return dt.datetime.now(dt.timezone.utc).date()


def judge(result: Result) -> Verdict:
    """Judge one result under the default rules: every reachable site must show a
    valid ICP filing number, correctly linked (and a police number, if shown, too).

    >>> judge({"outcome": "unreachable", "reason": "dns", "findings": []})
    Verdict(verdict='unreachable', problems=('unreachable:dns',), notices=(), waived=())
    >>> judge({"outcome": "ok", "reason": None, "findings": []}).problems
    ('missing:icp_filing',)
    >>> judge({"outcome": "ok", "reason": None, "fetched_at": "2026-11-29T00:00:00Z", "findings": [
    ...     {"category": "icp_filing", "number": "京ICP备20018813号-3", "status": "valid",
    ...      "problems": [], "link_status": "stale_link", "location": "footer"}]}).problems
    ('icp_filing:stale_link',)
    """
    return _DEFAULT_JUDGE(result)


_DEFAULT_JUDGE = RulesJudge()


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


def _unique(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(codes))
