"""The team's compliance rules: what each site must show, and the waivers granted.

A rules file is TOML; every key is checked when it is read, and a bad one is an
error naming its line::

    [defaults]
    require = ["icp_filing"]            # categories every reachable site must show valid
    province_consistency = true         # ICP province vs police region vs register

    [links]                             # a wrong, stale or missing registry link is a
    icp_filing = "problem"              # "problem" (the site is not compliant) or only
    psb_filing = "problem"              # a "notice"

    [[group]]                           # sites matched by host pattern or CSV column
    name = "shops"
    domains = ["*.shop.example.cn"]
    columns = { business_unit = ["电商", "E-commerce"] }
    require = ["icp_filing", "psb_filing", "vats_license"]

    [[waiver]]                          # shown as waived, not hidden; stops at expiry
    site = "old.example.cn"             # host pattern
    category = "psb_filing"             # optional
    problem = "missing"                 # optional: missing, stale_link, placeholder, …
    owner = "法务部 王芳"
    reason = "police filing in progress (ticket LEGAL-42)"
    expires = 2027-03-31

A target list may also carry an ``expect`` column (``icp_filing psb_filing``) that
sets one site's required categories.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_REQUIRE = ("icp_filing",)
DEFAULT_LINKS = {"icp_filing": "problem", "icp_license": "problem", "psb_filing": "problem"}
LINK_SEVERITIES = ("problem", "notice")
_EXPECT_SPLIT = re.compile(r"[\s,;，；]+")


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Group:
    name: str
    domains: tuple[str, ...]
    columns: Mapping[str, tuple[str, ...]]
    require: tuple[str, ...]

    def matches(self, hosts: Iterable[str], extra: Mapping[str, Any]) -> bool:
        if any(fnmatch.fnmatchcase(h, p) for h in hosts for p in self.domains):
            return True
        return any(str(extra.get(column, "")).strip() in values
                   for column, values in self.columns.items())


@dataclass(frozen=True)
class Waiver:
    line: int
    site: str
    category: str | None
    problem: str | None
    owner: str
    reason: str
    expires: dt.date

    def covers(self, hosts: Iterable[str], code: str) -> bool:
        """Whether this waiver is about ``code`` (``icp_filing:stale_link``,
        ``missing:psb_filing``) on one of ``hosts``."""
        if not any(fnmatch.fnmatchcase(h, self.site) for h in hosts):
            return False
        first, _, second = code.partition(":")
        category, problem = (second, first) if first == "missing" else (first, second)
        return (self.category in (None, category)) and (self.problem in (None, problem))

    def describe(self) -> str:
        return f"waived by {self.owner} until {self.expires.isoformat()}: {self.reason}"


@dataclass(frozen=True)
class Rules:
    require: tuple[str, ...] = DEFAULT_REQUIRE
    links: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LINKS))
    province_consistency: bool = True
    groups: tuple[Group, ...] = ()
    waivers: tuple[Waiver, ...] = ()

    def required(self, hosts: Iterable[str], extra: Mapping[str, Any]) -> tuple[str, ...]:
        """The categories one site must show: its ``expect`` column, else the union
        of its groups' requirements, else the defaults."""
        expect = str(extra.get("expect") or "").strip()
        if expect:
            return tuple(dict.fromkeys(c for c in _EXPECT_SPLIT.split(expect) if c))
        hosts = list(hosts)
        groups = [g for g in self.groups if g.matches(hosts, extra)]
        if groups:
            return tuple(dict.fromkeys(c for g in groups for c in g.require))
        return self.require


DEFAULT_RULES = Rules()


# --- reading a rules file -------------------------------------------------------------


class _Table:
    """Pops keys from one TOML table, naming its line in every error."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise RulesError(f"{where}: expected a table")
        self.data, self.where = dict(data), where

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise RulesError(f"{self.where}: missing key {key!r}")
            return default
        value = self.data.pop(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise RulesError(f"{self.where}: {key!r} has the wrong type")
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        values = self.get(key, list, list(default))
        if not all(isinstance(v, str) and v.strip() for v in values):
            raise RulesError(f"{self.where}: {key!r} must be a list of non-empty strings")
        return tuple(v.strip() for v in values)

    def done(self) -> None:
        if self.data:
            raise RulesError(f"{self.where}: unknown key(s) {', '.join(sorted(self.data))}")


def _line_of(text: str, header: str, index: int) -> int:
    """Line number of the ``index``-th ``header`` (``[defaults]``, ``[[waiver]]``)."""
    pattern = re.compile(r"^[ \t]*" + re.escape(header) + r"[ \t]*(#.*)?$", re.M)
    matches = list(pattern.finditer(text))
    if index < len(matches):
        return text.count("\n", 0, matches[index].start()) + 1
    return 1


def parse_rules(text: str, categories: Iterable[str], where: str = "rules") -> Rules:
    """Read a rules file's text; ``categories`` are the known category ids."""
    known = frozenset(categories)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{where}: {exc}") from exc
    top = _Table(data, f"{where}, line 1")

    def check_categories(names: Iterable[str], at: str) -> None:
        unknown = sorted(set(names) - known)
        if unknown:
            raise RulesError(f"{at}: unknown categor{'y' if len(unknown) == 1 else 'ies'} "
                             f"{', '.join(unknown)}")

    defaults = _Table(top.get("defaults", dict, {}), f"{where}, line {_line_of(text, '[defaults]', 0)}")
    require = defaults.strings("require", DEFAULT_REQUIRE)
    check_categories(require, defaults.where)
    province = defaults.get("province_consistency", bool, True)
    defaults.done()

    links_at = f"{where}, line {_line_of(text, '[links]', 0)}"
    links = dict(DEFAULT_LINKS)
    for category, severity in top.get("links", dict, {}).items():
        check_categories([category], links_at)
        if severity not in LINK_SEVERITIES:
            raise RulesError(f"{links_at}: {category} must be \"problem\" or \"notice\"")
        links[category] = severity

    groups = []
    for i, item in enumerate(top.get("group", list, [])):
        table = _Table(item, f"{where}, line {_line_of(text, '[[group]]', i)}")
        name = table.get("name", str)
        domains = tuple(d.lower() for d in table.strings("domains"))
        columns_data = table.get("columns", dict, {})
        columns = {}
        for column, values in columns_data.items():
            values = [values] if isinstance(values, str) else values
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise RulesError(f"{table.where}: columns.{column} must be a string or a list of strings")
            columns[column] = tuple(v.strip() for v in values)
        group_require = table.strings("require")
        check_categories(group_require, table.where)
        if not domains and not columns:
            raise RulesError(f"{table.where}: group {name!r} matches no site (give domains or columns)")
        if not group_require:
            raise RulesError(f"{table.where}: group {name!r} requires nothing")
        table.done()
        groups.append(Group(name, domains, columns, group_require))

    waivers = []
    for i, item in enumerate(top.get("waiver", list, [])):
        line = _line_of(text, "[[waiver]]", i)
        table = _Table(item, f"{where}, line {line}")
        site = table.get("site", str).strip().lower()
        category = table.get("category", str, None)
        if category is not None:
            check_categories([category], table.where)
        problem = table.get("problem", str, None)
        owner = table.get("owner", str).strip()
        reason = table.get("reason", str).strip()
        expires = table.get("expires", dt.date)
        if isinstance(expires, dt.datetime):
            raise RulesError(f"{table.where}: expires is a date (YYYY-MM-DD), not a time")
        if not (site and owner and reason):
            raise RulesError(f"{table.where}: a waiver needs a site, an owner and a reason")
        table.done()
        waivers.append(Waiver(line, site, category, problem, owner, reason, expires))
    top.done()
    return Rules(require, links, province, tuple(groups), tuple(waivers))


def load_rules(path: Path, categories: Iterable[str]) -> Rules:
    """Read a rules file; any defect raises :class:`RulesError`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read the rules: {exc}") from exc
    return parse_rules(text, categories, str(path))
