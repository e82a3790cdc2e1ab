"""The pattern catalogue: one TOML file per licence category, loaded and checked.

A category file holds the knowledge about one kind of number: the regexes that find
it (``strict`` for well-formed numbers, ``loose`` for garbled ones), the checks that
judge a match, the registry it must link to, and its examples. ``Catalogue.scan``
runs every category over a piece of normalised text and returns :class:`Hit` objects.
Nothing here knows about HTML, Scrapy, the network or the clock.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Formatter
from typing import Any

from patterns.checks import CheckContext, Check, Issue, build_check, compact
from patterns.normalise import normalise
from patterns.tables import LinkRule, Tables, load_tables

BUILTIN_DIR = Path(__file__).parent
CATEGORY_ID = re.compile(r"[a-z][a-z0-9_]*")
STATUSES = ("valid", "malformed", "placeholder")
# A category's regexes run from this many characters before one of its anchors to
# this many after it: every pattern's match lies within that reach of an anchor.
REACH_BEFORE = 48
REACH_AFTER = 200


class CatalogueError(ValueError):
    """A pattern file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Rule:
    """One regex of a category with the canonical-number template and its checks."""

    kind: str  # "strict", "loose" or "link"
    regex: re.Pattern[str]
    number: str | None
    checks: tuple[Check, ...]
    problem: str | None
    upper: bool


@dataclass(frozen=True)
class LinkNumber:
    """A number that may be carried only by a registry link's query string."""

    hosts: frozenset[str]
    params: tuple[str, ...]
    rule: Rule


@dataclass(frozen=True)
class Example:
    kind: str  # valid, malformed, near_miss or known_gap
    text: str
    number: str | None = None
    problem: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    source: str
    anchors: tuple[str, ...]
    link: str | None
    order: int
    strict: tuple[Rule, ...]
    loose: tuple[Rule, ...]
    link_numbers: tuple[LinkNumber, ...]
    examples: tuple[Example, ...]
    path: Path


@dataclass(frozen=True)
class Hit:
    """One number found in a text: where, what, and what is wrong with it."""

    category: str
    number: str
    status: str
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    start: int
    end: int


# --- loading -----------------------------------------------------------------------

_MACRO = re.compile(r"\$\{(\w+)(?::(\d+))?\}")


def _expand(regex: str, tables: Tables) -> str:
    """Replace ``${D:8}`` (8 digits, spaces allowed between) and ``${set}`` (a
    province set from the tables, for use inside ``[...]``)."""

    def macro(m: re.Match[str]) -> str:
        name, arg = m.group(1), m.group(2)
        if name == "D":
            if not arg or int(arg) < 1:
                raise ValueError("${D:n} needs a digit count")
            return r"\d(?:\s*\d){%d}" % (int(arg) - 1)
        return re.escape(tables.province_set(name))

    return _MACRO.sub(macro, regex)


class _Reader:
    """Pops keys from one TOML table and remembers where it is, for error messages."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        if not isinstance(data, Mapping):
            raise CatalogueError(f"{where}: expected a table")
        self.data, self.where = dict(data), where

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise CatalogueError(f"{self.where}: missing key {key!r}")
            return default
        value = self.data.pop(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise CatalogueError(f"{self.where}.{key}: expected {kind.__name__}")
        return value

    def done(self) -> None:
        if self.data:
            raise CatalogueError(f"{self.where}: unknown key(s): {', '.join(sorted(self.data))}")


def _read_rule(data: Mapping[str, Any], where: str, kind: str, tables: Tables) -> Rule:
    reader = _Reader(data, where)
    source = reader.get("regex", str)
    flags = re.X | (re.I if reader.get("ignore_case", bool, True) else 0)
    try:
        regex = re.compile(_expand(source, tables), flags)
    except (re.error, ValueError) as exc:
        raise CatalogueError(f"{where}.regex: {exc}") from exc
    number = reader.get("number", str, None)
    if number is not None:
        fields = {f for _, f, _, _ in Formatter().parse(number) if f is not None}
        unknown = fields - set(regex.groupindex)
        if unknown:
            raise CatalogueError(f"{where}.number: no group named {', '.join(sorted(unknown))}")
    checks = []
    for i, spec in enumerate(reader.get("checks", list, [])):
        try:
            if not isinstance(spec, Mapping):
                raise ValueError("expected a table")
            group = spec.get("group")
            if group is not None and group not in regex.groupindex:
                raise ValueError(f"no group named {group!r} in the regex")
            checks.append(build_check(spec, tables))
        except ValueError as exc:
            raise CatalogueError(f"{where}.checks[{i}]: {exc}") from exc
    problem = reader.get("problem", str, "malformed_number" if kind != "strict" else None)
    upper = reader.get("upper", bool, False)
    reader.done()
    return Rule(kind, regex, number, tuple(checks), problem, upper)


def _read_link_number(data: Mapping[str, Any], where: str, tables: Tables) -> LinkNumber:
    reader = _Reader(data, where)
    hosts = tuple(h.lower() for h in reader.get("hosts", list))
    params = tuple(reader.get("params", list))
    if not hosts or not params:
        raise CatalogueError(f"{where}: hosts and params must not be empty")
    host_alt = "|".join(re.escape(h) for h in hosts)
    param_alt = "|".join(re.escape(p) for p in params)
    rule_data = {
        "regex": rf"https?://(?:{host_alt})[^\s)\]\"'<>]*?[?&](?:{param_alt})=(?P<code>[0-9A-Za-z*]+)",
        "number": reader.get("number", str, "{code}"),
        "checks": reader.get("checks", list, []),
        "problem": reader.get("problem", str, "number_only_in_link"),
    }
    reader.done()
    return LinkNumber(frozenset(hosts), params, _read_rule(rule_data, where, "link", tables))


def _read_examples(data: Mapping[str, Any], where: str) -> tuple[Example, ...]:
    reader = _Reader(data, where)
    examples: list[Example] = []
    for kind in ("valid", "malformed", "near_miss", "known_gap"):
        for i, item in enumerate(reader.get(kind, list, [])):
            at = f"{where}.{kind}[{i}]"
            if kind == "near_miss":
                if not isinstance(item, str):
                    raise CatalogueError(f"{at}: a near miss is a plain string")
                examples.append(Example(kind, item))
                continue
            entry = _Reader(item, at)
            text = entry.get("text", str)
            number = entry.get("number", str, None)
            problem = entry.get("problem", str, None)
            reason = entry.get("reason", str, None)
            entry.done()
            if kind == "valid" and number is None:
                raise CatalogueError(f"{at}: a valid example needs its number")
            if kind == "malformed" and problem is None:
                raise CatalogueError(f"{at}: a malformed example needs its problem")
            if kind == "known_gap" and reason is None:
                raise CatalogueError(f"{at}: a known gap needs its reason")
            examples.append(Example(kind, text, number, problem, reason))
    reader.done()
    if not any(e.kind == "valid" for e in examples):
        raise CatalogueError(f"{where}: at least one valid example is required")
    return tuple(examples)


def load_category(path: Path, tables: Tables) -> Category:
    """Read one category file; any defect raises :class:`CatalogueError`."""
    where = str(path)
    if not CATEGORY_ID.fullmatch(path.stem):
        raise CatalogueError(f"{where}: the file name must be a category id ([a-z][a-z0-9_]*)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{where}: {exc}") from exc
    reader = _Reader(data, where)
    title = reader.get("title", str)
    source = reader.get("source", str)
    anchors = tuple(reader.get("anchors", list))
    if not all(isinstance(a, str) and a for a in anchors):
        raise CatalogueError(f"{where}.anchors: a list of non-empty strings is required")
    link = reader.get("link", str, None)
    if link is not None and link not in tables.link_rules:
        raise CatalogueError(f"{where}.link: unknown link rule {link!r}")
    order = reader.get("order", int, 0)
    strict = tuple(
        _read_rule(r, f"{where}.strict[{i}]", "strict", tables)
        for i, r in enumerate(reader.get("strict", list))
    )
    if not strict:
        raise CatalogueError(f"{where}.strict: at least one strict pattern is required")
    loose = tuple(
        _read_rule(r, f"{where}.loose[{i}]", "loose", tables)
        for i, r in enumerate(reader.get("loose", list, []))
    )
    link_numbers = tuple(
        _read_link_number(r, f"{where}.link_number[{i}]", tables)
        for i, r in enumerate(reader.get("link_number", list, []))
    )
    examples = _read_examples(reader.get("examples", dict), f"{where}.examples")
    reader.done()
    return Category(path.stem, title, source, anchors, link, order, strict, loose,
                    link_numbers, examples, path)


def category_files(extra_dirs: Iterable[Path] = ()) -> dict[str, Path]:
    """Built-in category files, then those in ``extra_dirs`` (same stem replaces)."""
    files = {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.toml"))}
    for directory in extra_dirs:
        directory = Path(directory)
        if not directory.is_dir():
            raise CatalogueError(f"{directory}: not a directory of pattern files")
        files.update({p.stem: p for p in sorted(directory.glob("*.toml"))})
    return files


def load_catalogue(extra_dirs: Iterable[Path] = ()) -> Catalogue:
    """Load the built-in categories plus any from ``extra_dirs``."""
    tables = load_tables()
    files = category_files(extra_dirs)
    categories = [load_category(path, tables) for path in files.values()]
    digest = hashlib.sha256()
    for path in [*sorted(files.values()), *sorted(Path(BUILTIN_DIR / "tables").glob("*.toml"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return Catalogue(categories, tables, digest.hexdigest()[:12])


# --- scanning ------------------------------------------------------------------------


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _overlaps(a: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    return any(a[0] < end and start < a[1] for start, end in spans)


def _pick(candidates: list[tuple[int, int, int, Category, Rule, re.Match[str]]],
          taken: list[tuple[int, int]]) -> list[tuple[Category, Rule, re.Match[str]]]:
    """Keep non-overlapping candidates, the longest (then highest order) first."""
    chosen = []
    for start, end, _, category, rule, match in sorted(
        candidates, key=lambda c: (c[0] - c[1], -c[2], c[0])
    ):
        if not _overlaps((start, end), taken):
            taken.append((start, end))
            chosen.append((category, rule, match))
    return chosen


_LOWER_LATIN = re.compile(r"[a-z]")


class Catalogue:
    """All categories, ready to scan text."""

    def __init__(self, categories: Iterable[Category], tables: Tables, version: str) -> None:
        self.categories = {c.id: c for c in categories}
        self.tables = tables
        self.version = version
        self._anchors = {
            c.id: tuple(a.lower() if a.isascii() else a for a in c.anchors)
            for c in self.categories.values()
        }

    @property
    def anchors(self) -> frozenset[str]:
        """Every anchor of every category (ASCII ones lower-cased)."""
        return frozenset(a for anchors in self._anchors.values() for a in anchors)

    def link_rule(self, category: str) -> LinkRule | None:
        name = self.categories[category].link
        return self.tables.link_rules[name] if name else None

    def scan_text(self, text: str, *, year: int) -> list[Hit]:
        """Normalise plain text, then :meth:`scan` it.

        >>> cat = load_catalogue()
        >>> [(h.number, h.status) for h in cat.scan_text("京ＩＣＰ备05012345号－1", year=2026)]
        [('京ICP备05012345号-1', 'valid')]
        """
        return self.scan(normalise(text), year=year)

    def _spans(self, category: Category, text: str, lower: str) -> list[tuple[int, int]]:
        """Where the category's regexes need to run: around each anchor, merged.

        Running a regex only near its keywords keeps a scan proportional to the
        keywords found rather than to the text, whatever the regexes look like."""
        if not category.anchors:
            return [(0, len(text))]
        spans = []
        for anchor in self._anchors[category.id]:
            haystack = lower if anchor.isascii() else text
            pos = haystack.find(anchor)
            while pos >= 0:
                spans.append((max(0, pos - REACH_BEFORE), pos + len(anchor) + REACH_AFTER))
                pos = haystack.find(anchor, pos + 1)
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def _matches(self, rules: Iterable[tuple[Category, Rule]], spans: dict[str, list[tuple[int, int]]],
                 text: str) -> list[tuple[int, int, int, Category, Rule, re.Match[str]]]:
        return [
            (m.start(), m.end(), category.order, category, rule, m)
            for category, rule in rules
            for start, end in spans[category.id]
            for m in rule.regex.finditer(text, start, end)
            if m.end() > m.start()
        ]

    def scan(self, text: str, *, year: int) -> list[Hit]:
        """Every number in already-normalised ``text``, in text order."""
        lower = text.lower()
        spans = {c.id: self._spans(c, text, lower) for c in self.categories.values()}
        active = [c for c in self.categories.values() if spans[c.id]]
        taken: list[tuple[int, int]] = []
        strict = _pick(self._matches(((c, r) for c in active for r in c.strict), spans, text), taken)
        loose_rules = ((c, r) for c in active for r in (*c.loose, *(ln.rule for ln in c.link_numbers)))
        loose = _pick(
            [m for m in self._matches(loose_rules, spans, text) if not _overlaps(m[:2], taken)],
            taken,
        )
        ctx = CheckContext(self.tables, year)
        hits = [self.judge(c, r, m, ctx) for c, r, m in strict + loose]
        return sorted(hits, key=lambda h: h.start)

    def judge_link(self, category: str, link_number: LinkNumber, match: re.Match[str],
                   year: int) -> Hit:
        """Judge a record code read from a registry link (``link_number.rule`` matched it)."""
        return self.judge(self.categories[category], link_number.rule, match,
                          CheckContext(self.tables, year))

    def judge(self, category: Category, rule: Rule, match: re.Match[str], ctx: CheckContext) -> Hit:
        """Build the canonical number of one match and run its checks."""
        groups = match.groupdict()
        if rule.number is None:
            number = compact(match.group(0))
        else:
            number = compact(rule.number.format_map(_Fields({k: v or "" for k, v in groups.items()})))
        if rule.upper:
            number = number.upper()
        issues: list[Issue] = []
        for check in rule.checks:
            issues.extend(check(groups, ctx))
        if rule.problem and (rule.kind == "link" or all(i.severity == "warning" for i in issues)):
            # a loose match is malformed even when no check names why; a number
            # carried only by a link always says so
            issues.insert(0, Issue(rule.problem, "problem"))
        value = match.group("value") if "value" in groups and groups["value"] else match.group(0)
        if re.search(r"\S\s+\S", value.strip()):
            issues.append(Issue("spaces_in_number", "warning"))
        if rule.kind != "link" and rule.number is not None and _LOWER_LATIN.search(value) and value.upper() != value \
                and not _LOWER_LATIN.search(number):
            issues.append(Issue("lowercase_letters", "warning"))
        severities = {i.severity for i in issues}
        status = ("placeholder" if "placeholder" in severities
                  else "malformed" if "problem" in severities else "valid")
        problems = tuple(dict.fromkeys(i.code for i in issues if i.severity != "warning"))
        warnings = tuple(dict.fromkeys(i.code for i in issues if i.severity == "warning"))
        return Hit(category.id, number, status, problems, warnings, match.start(), match.end())
