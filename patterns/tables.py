"""Shared data tables: province characters, region codes and registry link rules.

They live in ``patterns/tables/*.toml`` so that a change of province spelling or
registry host is a data change, reviewed like any other.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from patterns.package_dir import package_dir

TABLES_DIR = package_dir("patterns") / "tables"


@dataclass(frozen=True)
class LinkRule:
    """Where numbers of one kind must link (``ok_hosts``) and which hosts are retired."""

    ok_hosts: frozenset[str]
    stale_hosts: frozenset[str]
    code_params: tuple[str, ...] = ()

    def status(self, href: str | None, digits: str | None) -> str:
        """Judge one link target for a displayed number.

        >>> rule = LinkRule(frozenset({"beian.mps.gov.cn"}), frozenset({"www.beian.gov.cn"}), ("code",))
        >>> rule.status("https://beian.mps.gov.cn/#/query/webSearch?code=11000002000001", "11000002000001")
        'ok'
        >>> rule.status("https://beian.mps.gov.cn/#/query/webSearch?code=1", "11000002000001")
        'code_mismatch'
        >>> rule.status(None, "11000002000001")
        'unlinked'
        """
        if not href:
            return "unlinked"
        href = href.strip()
        if href.lower().startswith("javascript:"):
            return "not_crawlable"
        parts = urlsplit(href)
        host = (parts.hostname or "").lower().rstrip(".")
        if parts.scheme.lower() not in ("http", "https", "") or not host:
            return "wrong_link"
        if host in self.stale_hosts:
            return "stale_link"
        if host not in self.ok_hosts:
            return "wrong_link"
        if self.code_params and digits:
            code = link_code(href, self.code_params)
            if code is None:
                return "missing_code"
            if code != digits:
                return "code_mismatch"
        return "ok"


def link_code(href: str, params: tuple[str, ...]) -> str | None:
    """The record code carried in a registry link's query (also after ``#/…?``).

    >>> link_code("https://beian.mps.gov.cn/#/query/webSearch?code=11010802012345", ("code",))
    '11010802012345'
    """
    parts = urlsplit(href)
    for query in (parts.query, parts.fragment.partition("?")[2]):
        values = parse_qs(query)
        for name in params:
            for value in values.get(name, ()):
                if value.strip():
                    return value.strip()
    return None


@dataclass(frozen=True)
class Tables:
    """Everything in ``patterns/tables``, checked when loaded."""

    province_sets: dict[str, str]
    region_codes: dict[str, str]
    pinyin: frozenset[str]
    link_rules: dict[str, LinkRule] = field(default_factory=dict)

    def province_set(self, name: str) -> str:
        try:
            return self.province_sets[name]
        except KeyError:
            raise ValueError(
                f"unknown province set {name!r}; known: {', '.join(sorted(self.province_sets))}"
            ) from None


def load_tables(directory: Path = TABLES_DIR) -> Tables:
    """Read ``regions.toml`` and ``links.toml``; a malformed table raises ``ValueError``."""
    regions_path, links_path = directory / "regions.toml", directory / "links.toml"
    try:
        regions = tomllib.loads(regions_path.read_text(encoding="utf-8"))
        links = tomllib.loads(links_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{directory}: cannot read the tables: {exc}") from exc
    try:
        sets = {str(k): str(v) for k, v in regions["sets"].items()}
        codes = {str(k): str(v) for k, v in regions["codes"].items()}
        pinyin = frozenset(name.lower() for name in regions["pinyin"]["names"])
        rules = {
            name: LinkRule(
                frozenset(h.lower() for h in rule["ok_hosts"]),
                frozenset(h.lower() for h in rule.get("stale_hosts", [])),
                tuple(rule.get("code_params", [])),
            )
            for name, rule in links["rules"].items()
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{directory}: malformed table, missing or bad key {exc}") from exc
    return Tables(sets, codes, pinyin, rules)
