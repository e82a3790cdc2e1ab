"""The checks a category file can ask for, by name, with their parameters.

A check looks at the named groups of one match and returns the issues it finds.
Each issue has a code (reported to users, stable) and a severity:

* ``placeholder``: the value is a template default or mask, not a real number;
* ``problem``: the number is malformed (wrong digits, province, year, checksum...);
* ``warning``: cosmetic, the number stays valid.

Checks are built once, when the catalogue is loaded; a bad parameter is a
:class:`ValueError` naming the parameter, which the loader turns into an error that
names the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from patterns.tables import Tables

SEVERITIES = ("placeholder", "problem", "warning")


@dataclass(frozen=True)
class Issue:
    code: str
    severity: str


@dataclass(frozen=True)
class CheckContext:
    """What a check may know beyond the match: the tables and the audit year."""

    tables: Tables
    year: int


Groups = Mapping[str, str | None]
Check = Callable[[Groups, CheckContext], list[Issue]]

def compact(value: str | None) -> str:
    """Drop white space; ``None`` becomes the empty string.

    >>> compact(" 1100 0002 ")
    '11000002'
    """
    return "".join(value.split()) if value else ""


class _Params:
    """Reads a check's parameters, rejecting unknown or ill-typed ones."""

    def __init__(self, spec: Mapping[str, Any], name: str) -> None:
        self._spec = dict(spec)
        self._spec.pop("check", None)
        self._name = name

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self._spec:
            if default is ...:
                raise ValueError(f"check {self._name!r} needs {key!r}")
            return default
        value = self._spec.pop(key)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            raise ValueError(f"check {self._name!r}: {key!r} has the wrong type")
        return value

    def done(self) -> None:
        if self._spec:
            raise ValueError(f"check {self._name!r}: unknown key(s) {sorted(self._spec)}")


def _severity(params: _Params, default: str) -> str:
    severity = params.get("severity", str, default)
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, not {severity!r}")
    return severity


def _province(params: _Params, tables: Tables) -> Check:
    group = params.get("group", str)
    allowed = tables.province_set(params.get("allowed", str))
    nonstandard_name = params.get("nonstandard", str, None)
    nonstandard = tables.province_set(nonstandard_name) if nonstandard_name else ""
    missing = params.get("missing", str, None)
    nonstandard_code = params.get("nonstandard_problem", str, "nonstandard_province")

    def check(groups: Groups, ctx: CheckContext) -> list[Issue]:
        value = compact(groups.get(group))
        if not value:
            return [Issue(missing, "problem")] if missing else []
        if value in allowed and len(value) == 1:
            return []
        if len(value) == 1 and value in nonstandard:
            return [Issue(nonstandard_code, "problem")]
        if len(value) > 1 and any(ch in allowed + nonstandard for ch in value):
            return [Issue("nonstandard_prefix", "problem")]
        return [Issue("unknown_province", "problem")]

    return check


def _length(params: _Params, tables: Tables) -> Check:
    group = params.get("group", str)
    lengths = params.get("lengths", list)
    count = params.get("count", str, "digits")
    code = params.get("problem", str, "digit_count" if count == "digits" else "bad_length")
    if count not in ("digits", "chars") or not all(isinstance(n, int) for n in lengths):
        raise ValueError("length: count is digits or chars; lengths are whole numbers")

    def check(groups: Groups, ctx: CheckContext) -> list[Issue]:
        value = compact(groups.get(group))
        if not value:
            return []
        # counted in characters either way: where a value is not all digits, its masks
        # (x, *) stand for digits
        return [] if len(value) in lengths else [Issue(code, "problem")]

    return check


def _year(params: _Params, tables: Tables) -> Check:
    group = params.get("group", str)
    by_length = params.get("by_length", dict, None)
    rules: dict[int | None, tuple[int, int, int | None]] = {}
    if by_length is None:
        rules[None] = (params.get("digits", int, 4), params.get("min", int, 1990),
                       params.get("max", int, None))
    else:
        for length, rule in by_length.items():
            sub = _Params(rule, f"year.by_length.{length}")
            rules[int(length)] = (sub.get("digits", int), sub.get("min", int, 2000),
                                  sub.get("max", int, None))
            sub.done()

    def check(groups: Groups, ctx: CheckContext) -> list[Issue]:
        value = compact(groups.get(group))
        rule = rules.get(None if by_length is None else len(value))
        if not value.isdigit() or rule is None:
            return []
        digits, low, high = rule
        year = int(value[:digits]) + (2000 if digits == 2 else 0)
        high = ctx.year if high is None else min(high, ctx.year)
        return [] if low <= year <= high else [Issue("year_out_of_range", "problem")]

    return check


_MASK = re.compile(r"[xX*＊]{2,}")
_NOT_DIGIT = re.compile(r"\D+")


def is_placeholder(value: str, known: frozenset[str] = frozenset()) -> bool:
    """True for masks, repeated digits, counting runs and known template values.

    >>> [is_placeholder(v) for v in ("12345678", "00000000", "1XXXXXX1", "20018813")]
    [True, True, True, False]
    """
    if not value:
        return False
    if value in known or _MASK.search(value):
        return True
    digits = value if value.isdecimal() else _NOT_DIGIT.sub("", value)
    if len(digits) >= 4 and len(set(digits)) == 1:
        return True
    return len(digits) >= 6 and digits in "0123456789012"


def _placeholder(params: _Params, tables: Tables) -> Check:
    group = params.get("group", str)
    known = frozenset(params.get("values", list, []))

    def check(groups: Groups, ctx: CheckContext) -> list[Issue]:
        value = compact(groups.get(group))
        return [Issue("placeholder", "placeholder")] if is_placeholder(value, known) else []

    return check


def _presence(present: bool) -> Callable[[_Params, Tables], Check]:
    """``required`` (the group must have matched) or ``absent`` (it must not have)."""

    def build(params: _Params, tables: Tables) -> Check:
        group = params.get("group", str)
        code = params.get("problem", str)
        severity = _severity(params, "problem")

        def check(groups: Groups, ctx: CheckContext) -> list[Issue]:
            return [] if bool(compact(groups.get(group))) == present else [Issue(code, severity)]

        return check

    return build


def _matches(params: _Params, tables: Tables) -> Check:
    group = params.get("group", str)
    pattern = re.compile(params.get("regex", str))
    code = params.get("problem", str)
    severity = _severity(params, "problem")

    def check(groups: Groups, ctx: CheckContext) -> list[Issue]:
        value = compact(groups.get(group))
        if not value or pattern.fullmatch(value):
            return []
        return [Issue(code, severity)]

    return check


def _region(params: _Params, tables: Tables) -> Check:
    group = params.get("group", str)
    province_group = params.get("province_group", str, None)

    def check(groups: Groups, ctx: CheckContext) -> list[Issue]:
        value = compact(groups.get(group))
        if len(value) < 2 or not value[:2].isdigit():
            return []
        chars = ctx.tables.region_codes.get(value[:2])
        if chars is None:
            return [Issue("unknown_region", "problem")]
        province = compact(groups.get(province_group)) if province_group else ""
        if len(province) == 1 and province not in chars:
            return [Issue("region_mismatch", "problem")]
        return []

    return check


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]


def uscc_check_character(code17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters.

    >>> uscc_check_character("91110000802100433")
    'B'
    """
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(code17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _uscc(params: _Params, tables: Tables) -> Check:
    group = params.get("group", str)

    def check(groups: Groups, ctx: CheckContext) -> list[Issue]:
        code = compact(groups.get(group)).upper()
        if not code or _MASK.search(code):
            return []
        if len(code) != 18:
            return [Issue("bad_length", "problem")]
        if any(ch not in USCC_ALPHABET for ch in code):
            return [Issue("bad_character", "problem")]
        issues = []
        if code[0] not in "123456789ANY":
            issues.append(Issue("bad_department", "problem"))
        if uscc_check_character(code[:17]) != code[17]:
            issues.append(Issue("bad_checksum", "problem"))
        return issues

    return check


def _pinyin_province(params: _Params, tables: Tables) -> Check:
    group = params.get("group", str)

    def check(groups: Groups, ctx: CheckContext) -> list[Issue]:
        value = compact(groups.get(group)).lower()
        if not value or value in ctx.tables.pinyin:
            return []
        return [Issue("unknown_province", "problem")]

    return check


BUILDERS: dict[str, Callable[[_Params, Tables], Check]] = {
    "province": _province,
    "length": _length,
    "year": _year,
    "placeholder": _placeholder,
    "required": _presence(True),
    "absent": _presence(False),
    "matches": _matches,
    "region": _region,
    "uscc": _uscc,
    "pinyin_province": _pinyin_province,
}


def build_check(spec: Mapping[str, Any], tables: Tables) -> Check:
    """Turn one ``{check = "...", ...}`` table into a check function."""
    name = spec.get("check")
    if name not in BUILDERS:
        raise ValueError(f"unknown check {name!r}; known: {', '.join(sorted(BUILDERS))}")
    params = _Params(spec, name)
    check = BUILDERS[name](params, tables)
    params.done()
    return check
