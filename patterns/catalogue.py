"""The pattern catalogue: one TOML file per licence category, loaded and checked.

A category file holds the knowledge about one kind of number: the regexes that find
it (``strict`` for well-formed numbers, ``loose`` for garbled ones), the checks that
judge a match, the registry it must link to, and its examples. ``Catalogue.scan``
runs every category over a piece of normalised text and returns :class:`Hit` objects.
Nothing here knows about HTML, Scrapy, the network or the clock.

A rule's ``regex`` should begin with a literal keyword of its number (the 备 of
ICP备, the 证 of ICP证, the dash of B2-…): Python's ``re`` then skips to it with a
fast substring search, where a regex that begins with a character class, a
look-behind or an optional group is tried at every position of the text, and
case-insensitive ASCII letters count as a class. What stands before the keyword (a
province character, a prefix, a class list) goes in the rule's optional ``before``
regex. ``before`` is tried only where ``regex`` matched, must end exactly where that
match starts, and reaches back at most ``BEFORE_REACH`` characters; of its possible
starts the leftmost wins, as it would in one regex. The whole match runs from the
start of ``before`` to the end of ``regex``; the number template and the checks see
the groups of both, whose names must differ.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Formatter
from typing import Any, NamedTuple

from patterns.checks import Check, CheckContext, Issue, build_check, compact
from patterns.normalise import normalise
from patterns.package_dir import package_dir
from patterns.tables import LinkRule, Tables, load_tables

BUILTIN_DIR = package_dir("patterns")
CATEGORY_ID = re.compile(r"[a-z][a-z0-9_]*")
STATUSES = ("valid", "malformed", "placeholder")
# A category's regexes run from this many characters before one of its anchors to
# this many after it: every pattern's match lies within that reach of an anchor.
REACH_BEFORE = 48
REACH_AFTER = 200
BEFORE_REACH = 32  # the most characters a rule's ``before`` regex may cover
# A scan that wants only the first numbers of a long text reads it in pieces of this
# many characters, overlapping by more than any number and the reach of its anchor.
SCAN_PIECE = 20_000
SCAN_OVERLAP = 512


class CatalogueError(ValueError):
    """A pattern file that cannot be used; the message names the file and the key."""


class RuleMatch(NamedTuple):
    """Where a rule matched, the text it matched and the groups of ``before`` and ``regex``."""

    start: int
    end: int
    text: str
    groups: dict[str, str | None]

    @classmethod
    def of(cls, match: re.Match[str]) -> RuleMatch:
        return cls(match.start(), match.end(), match.group(0), match.groupdict())


@dataclass(frozen=True)
class Rule:
    """One regex of a category with the canonical-number template and its checks."""

    kind: str  # "strict", "loose" or "link"
    regex: re.Pattern[str]
    number: str | None
    checks: tuple[Check, ...]
    problem: str | None
    upper: bool
    before: re.Pattern[str] | None = None  # compiled to match up to the end of the text

    def matches(self, text: str, spans: Iterable[tuple[int, int]],
                taken: bytearray | None = None) -> list[RuleMatch]:
        """Non-overlapping matches within each of ``spans`` of ``text``, left to right;
        those covering a character marked in ``taken`` are left out.

        >>> rule = Rule("strict", re.compile("备[0-9]+"), None, (), None, False,
        ...             before=re.compile("ICP$"))
        >>> [m.text for m in rule.matches("设备1 ICP备2 ICP备3", [(0, 15)])]
        ['ICP备2', 'ICP备3']
        """
        if self.before is None:  # the loop below, with no ``before`` to try: in C
            return [RuleMatch(m.start(), m.end(), m.group(), m.groupdict())
                    for start, end in spans for m in self.regex.finditer(text, start, end)
                    if m.end() > m.start() and (taken is None or taken.find(1, m.start(), m.end()) < 0)]
        found = []
        search, before_search = self.regex.search, self.before.search
        for start, end in spans:
            pos = floor = start
            while (main := search(text, pos, end)) is not None:
                before = before_search(text, max(floor, main.start() - BEFORE_REACH), main.start())
                if before is None:
                    pos = main.start() + 1
                    continue
                begin = before.start()
                if main.end() == begin:  # an empty match finds nothing
                    pos = begin + 1
                    continue
                pos = floor = main.end()
                if taken is None or taken.find(1, begin, main.end()) < 0:
                    groups = main.groupdict()
                    groups.update(before.groupdict())
                    found.append(RuleMatch(begin, main.end(), text[begin:main.end()], groups))
        return found


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
    # Words that introduce a number of the category but, unlike anchors, do not confine
    # its regexes: outside the footer, a page is read only around anchors and labels.
    labels: tuple[str, ...] = ()


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
            return rf"\d(?:\s*\d){{{int(arg) - 1}}}"
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


def _compile(source: str, flags: int, tables: Tables, where: str) -> re.Pattern[str]:
    try:
        return re.compile(_expand(source, tables), flags)
    except (re.error, ValueError) as exc:
        raise CatalogueError(f"{where}: {exc}") from exc


def _read_rule(data: Mapping[str, Any], where: str, kind: str, tables: Tables) -> Rule:
    """One ``[[strict]]``, ``[[loose]]`` or link rule; a defect names ``where`` and the key.

    >>> read = lambda data: _read_rule(data, "x.toml.strict[0]", "strict", load_tables())
    >>> rule = read({"before": "(?P<prov>京) ICP", "regex": "备 (?P<serial>[0-9]+)"})
    >>> [m.groups for m in rule.matches("沪ICP备1 京ICP备2", [(0, 14)])]
    [{'serial': '2', 'prov': '京'}]
    >>> read({"before": "(?P<prov>京", "regex": "备"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    patterns.catalogue.CatalogueError: x.toml.strict[0].before: missing ), unterminated subpattern...
    >>> read({"before": "(?P<serial>京)", "regex": "备(?P<serial>1)"})
    Traceback (most recent call last):
    patterns.catalogue.CatalogueError: x.toml.strict[0].before: group(s) also in the regex: serial
    >>> read({"regex": "备", "after": "号"})
    Traceback (most recent call last):
    patterns.catalogue.CatalogueError: x.toml.strict[0]: unknown key(s): after
    """
    reader = _Reader(data, where)
    source = reader.get("regex", str)
    before_source = reader.get("before", str, None)
    flags = re.VERBOSE | (re.IGNORECASE if reader.get("ignore_case", bool, True) else 0)
    regex = _compile(source, flags, tables, f"{where}.regex")
    groups = set(regex.groupindex)
    before = None
    if before_source is not None:
        # the newline ends a trailing comment of the verbose regex
        before = _compile(f"(?:{before_source}\n)\\Z", flags, tables, f"{where}.before")
        shared = groups & set(before.groupindex)
        if shared:
            raise CatalogueError(
                f"{where}.before: group(s) also in the regex: {', '.join(sorted(shared))}")
        groups |= set(before.groupindex)
    number = reader.get("number", str, None)
    if number is not None:
        fields = {f for _, f, _, _ in Formatter().parse(number) if f is not None}
        unknown = fields - groups
        if unknown:
            raise CatalogueError(f"{where}.number: no group named {', '.join(sorted(unknown))}")
    checks = []
    for i, spec in enumerate(reader.get("checks", list, [])):
        if not isinstance(spec, Mapping):
            raise CatalogueError(f"{where}.checks[{i}]: expected a table")
        try:
            group = spec.get("group")
            if group is not None and group not in groups:
                raise ValueError(f"no group named {group!r} in the regex")
            checks.append(build_check(spec, tables))
        except ValueError as exc:
            raise CatalogueError(f"{where}.checks[{i}]: {exc}") from exc
    problem = reader.get("problem", str, "malformed_number" if kind != "strict" else None)
    upper = reader.get("upper", bool, False)
    reader.done()
    return Rule(kind, regex, number, tuple(checks), problem, upper, before)


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
    labels = tuple(reader.get("labels", list, []))
    if not all(isinstance(a, str) and a for a in labels):
        raise CatalogueError(f"{where}.labels: a list of non-empty strings is required")
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
                    link_numbers, examples, path, labels)


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


class _Fields:
    """A match's groups as the number template reads them: unmatched or absent ones empty."""

    __slots__ = ("groups",)

    def __init__(self, groups: Mapping[str, str | None]) -> None:
        self.groups = groups

    def __getitem__(self, key: str) -> str:
        return self.groups.get(key) or ""


_Candidate = tuple[int, int, int, Category, Rule, RuleMatch]  # start, end, order, …


def merged_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans, overlapping and touching ones merged, in order.

    >>> merged_spans([(5, 9), (0, 3), (2, 4), (9, 10)])
    [(0, 4), (5, 10)]
    """
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _pick(candidates: list[_Candidate], taken: bytearray) -> list[tuple[Category, Rule, RuleMatch]]:
    """Keep candidates that overlap no character in ``taken``, the longest (then highest
    order) first, and mark their characters taken."""
    chosen = []
    for start, end, _, category, rule, match in sorted(
        candidates, key=lambda c: (c[0] - c[1], -c[2], c[0])
    ):
        if taken.find(1, start, end) < 0:
            taken[start:end] = b"\x01" * (end - start)
            chosen.append((category, rule, match))
    return chosen


_LOWER_LATIN = re.compile(r"[a-z]")
_NOT_DIGITS = re.compile(r"\D+")
_INNER_SPACE = re.compile(r"\S\s+\S")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Catalogue:
    """All categories, ready to scan text."""

    def __init__(self, categories: Iterable[Category], tables: Tables, version: str) -> None:
        self.categories = {c.id: c for c in categories}
        self.tables = tables
        self.version = version
        users: dict[str, list[str]] = {}  # anchor (ASCII ones lower-cased) -> category ids
        for category in self.categories.values():
            for anchor in dict.fromkeys(a.lower() if a.isascii() else a for a in category.anchors):
                users.setdefault(anchor, []).append(category.id)
        self._anchor_users = tuple((anchor, anchor.isascii(), tuple(ids)) for anchor, ids in users.items())
        self._unanchored = tuple(c.id for c in self.categories.values() if not c.anchors)
        self._strict = tuple((c, r) for c in self.categories.values() for r in c.strict)
        self._loose = tuple((c, r) for c in self.categories.values()
                            for r in (*c.loose, *(ln.rule for ln in c.link_numbers)))

    @property
    def anchors(self) -> frozenset[str]:
        """Every anchor of every category (ASCII ones lower-cased)."""
        return frozenset(anchor for anchor, _, _ in self._anchor_users)

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

    def _spans(self, text: str) -> dict[str, list[tuple[int, int]]]:
        """Where each category's regexes need to run: around each of its anchors, merged;
        everywhere for a category without anchors, nowhere for one whose anchors are absent.

        Running a regex only near its keywords keeps label-gated categories (a bare
        number that means something only after its label) from matching elsewhere."""
        lower = text.lower()
        if len(lower) != len(text):  # a few letters lower-case to two characters
            lower = text.translate(_ASCII_LOWER)
        spans: dict[str, list[tuple[int, int]]] = {i: [(0, len(text))] for i in self._unanchored}
        anchored: set[str] = set()  # categories whose spans come from more than one anchor
        for anchor, ascii_anchor, users in self._anchor_users:
            haystack = lower if ascii_anchor else text
            pos = haystack.find(anchor)
            if pos < 0:
                continue
            reaches: list[tuple[int, int]] = []  # merged as found: the positions only grow
            while pos >= 0:
                start = pos - REACH_BEFORE if pos > REACH_BEFORE else 0
                if reaches and start <= reaches[-1][1]:
                    reaches[-1] = (reaches[-1][0], pos + len(anchor) + REACH_AFTER)
                else:
                    reaches.append((start, pos + len(anchor) + REACH_AFTER))
                pos = haystack.find(anchor, pos + 1)
            for category_id in users:
                if category_id in spans:
                    anchored.add(category_id)
                spans.setdefault(category_id, []).extend(reaches)
        for category_id in anchored:
            spans[category_id] = merged_spans(spans[category_id])
        return spans

    @staticmethod
    def _candidates(rules: tuple[tuple[Category, Rule], ...], spans: dict[str, list[tuple[int, int]]],
                    text: str, taken: bytearray | None = None) -> list[_Candidate]:
        return [
            (match.start, match.end, category.order, category, rule, match)
            for category, rule in rules if category.id in spans
            for match in rule.matches(text, spans[category.id], taken)
        ]

    def scan(self, text: str, *, year: int, limit: int | None = None) -> list[Hit]:
        """Every number in already-normalised ``text``, in text order; or the first
        ``limit`` of them, in which case a long text is read piece by piece (pieces of
        SCAN_PIECE characters, overlapping by SCAN_OVERLAP) only as far as needed.

        Strict matches are kept first (the longest, then the highest ``order``, where
        they overlap), then loose matches where no strict one was kept."""
        ctx = CheckContext(self.tables, year)
        return [self.judge(c, r, m, ctx) for c, r, m in self._numbers(text, limit)]

    def number_spans(self, text: str, limit: int | None = None) -> list[tuple[int, int]]:
        """Where :meth:`scan` finds numbers in ``text``, unjudged (and so cheaper).

        >>> load_catalogue().number_spans("设备 京ICP备20018813号 2024")
        [(3, 17)]
        """
        return [(match.start, match.end) for _, _, match in self._numbers(text, limit)]

    def _numbers(self, text: str, limit: int | None) -> list[tuple[Category, Rule, RuleMatch]]:
        """The numbers in ``text`` (the first ``limit``), in text order."""
        if limit is None or len(text) <= SCAN_PIECE + SCAN_OVERLAP:
            return sorted(self._numbers_in(text), key=lambda number: number[2].start)[:limit]
        found: list[tuple[Category, Rule, RuleMatch]] = []
        for at in range(0, len(text), SCAN_PIECE):
            last = at + SCAN_PIECE >= len(text)
            for category, rule, match in sorted(self._numbers_in(text[at:at + SCAN_PIECE + SCAN_OVERLAP]),
                                                key=lambda number: number[2].start):
                if match.start < SCAN_PIECE or last:  # later ones are the next piece's
                    found.append((category, rule, match._replace(start=match.start + at,
                                                                  end=match.end + at)))
            if len(found) >= limit:
                break
        return found[:limit]

    def _numbers_in(self, text: str) -> list[tuple[Category, Rule, RuleMatch]]:
        """Strict numbers, then loose ones; a registry link written out in the text counts
        only if no number of its category there shows its record code.

        >>> cat = load_catalogue()
        >>> link = "https://beian.mps.gov.cn/#/query/webSearch?code=11010502045678"
        >>> blob = f'"police":"京公网安备11010502045678号","link":"{link}"'
        >>> [h.number for h in cat.scan_text(blob, year=2026)]
        ['京公网安备11010502045678号']
        >>> [h.problems for h in cat.scan_text(f'沪公安网备 {link}', year=2026)]
        [('number_only_in_link',)]
        """
        spans = self._spans(text)
        taken = bytearray(len(text))
        numbers = _pick(self._candidates(self._strict, spans, text), taken)
        numbers += _pick(self._candidates(self._loose, spans, text, taken), taken)
        links = [number for number in numbers if number[1].kind == "link"]
        if not links:
            return numbers
        digits: dict[str, list[str]] = {}  # category id -> the digits of its numbers
        for category, rule, match in numbers:
            if rule.kind != "link":
                digits.setdefault(category.id, []).append(_NOT_DIGITS.sub("", match.text))
        shown = {category_id: "\n".join(found) for category_id, found in digits.items()}
        return [(category, rule, match) for category, rule, match in numbers
                if rule.kind != "link" or (match.groups["code"] or "") not in shown.get(category.id, "")]

    def judge_link(self, category: str, link_number: LinkNumber, match: re.Match[str],
                   year: int) -> Hit:
        """Judge a record code read from a registry link (``link_number.rule`` matched it)."""
        return self.judge(self.categories[category], link_number.rule, match,
                          CheckContext(self.tables, year))

    def judge(self, category: Category, rule: Rule, match: re.Match[str] | RuleMatch,
              ctx: CheckContext) -> Hit:
        """Build the canonical number of one match and run its checks."""
        if isinstance(match, re.Match):
            match = RuleMatch.of(match)
        groups = match.groups
        if rule.number is None:
            number = compact(match.text)
        else:
            number = compact(rule.number.format_map(_Fields(groups)))
        if rule.upper:
            number = number.upper()
        issues: list[Issue] = []
        for check in rule.checks:
            issues.extend(check(groups, ctx))
        if rule.problem and (rule.kind == "link" or all(i.severity == "warning" for i in issues)):
            # a loose match is malformed even when no check names why; a number
            # carried only by a link always says so
            issues.insert(0, Issue(rule.problem, "problem"))
        value = groups.get("value") or match.text
        if _INNER_SPACE.search(value.strip()):
            issues.append(Issue("spaces_in_number", "warning"))
        if rule.kind != "link" and rule.number is not None and _LOWER_LATIN.search(value) and value.upper() != value \
                and not _LOWER_LATIN.search(number):
            issues.append(Issue("lowercase_letters", "warning"))
        if not issues:
            return Hit(category.id, number, "valid", (), (), match.start, match.end)
        severities = {i.severity for i in issues}
        status = ("placeholder" if "placeholder" in severities
                  else "malformed" if "problem" in severities else "valid")
        problems = tuple(dict.fromkeys(i.code for i in issues if i.severity != "warning"))
        warnings = tuple(dict.fromkeys(i.code for i in issues if i.severity == "warning"))
        return Hit(category.id, number, status, problems, warnings, match.start, match.end)
