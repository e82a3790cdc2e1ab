"""The organisation's licence register: what it holds, and which sites may show what.

A CSV file with one licence or filing per row::

    number,category,holder,authority,issued,expires,domains,province
    京ICP备20018813号,icp_filing,北京某某科技有限公司,北京市通信管理局,2020-05-01,,example.cn *.example.cn,京

``domains`` lists host patterns (``*`` wildcards, separated by spaces, commas or
semicolons) that the number covers; ``issued`` and ``expires`` are ISO dates (a VATS
licence without an expiry runs five years from issue); ``province`` (optional) is
the registered province character. A bad row is an error naming its line.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

COLUMNS = ("number", "category", "holder", "authority", "issued", "expires", "domains")
OPTIONAL_COLUMNS = ("province",)
VATS_TERM_YEARS = 5  # LICENSE_FORMATS.md §3.4: a VATS licence is valid for five years
EXPIRY_NOTICE_DAYS = 90  # renewal must be filed 90 days before expiry
_SPLIT = re.compile(r"[\s,;，；]+")
# A site serial (-3, -1A) after 号, or after the eight digits of a licence number.
_SITE_SERIAL = re.compile(r"(?:(?<=号)|(?<=[0-9]{8}))-\d{1,4}[A-Z]?$")


class RegisterError(ValueError):
    """A register file that cannot be used; the message names the file and line."""


def entity_number(number: str) -> str:
    """The entity's number: a site filing without its site serial.

    >>> [entity_number(n) for n in ("京ICP备20018813号-3", "粤B2-20090059-5", "京ICP证030173号-1",
    ...                              "京公网安备11000002000001号")]
    ['京ICP备20018813号', '粤B2-20090059', '京ICP证030173号', '京公网安备11000002000001号']
    """
    return _SITE_SERIAL.sub("", number)


@dataclass(frozen=True)
class Licence:
    """One row of the register."""

    line: int
    number: str
    category: str
    holder: str
    authority: str
    issued: dt.date | None
    expires: dt.date | None
    domains: tuple[str, ...]
    province: str = ""

    @property
    def entity(self) -> str:
        return entity_number(self.number)

    def covers(self, host: str | None) -> bool:
        """Whether ``host`` is one of the domains this number is for.

        >>> lic = Licence(2, "京ICP备20018813号", "icp_filing", "", "", None, None, ("example.cn", "*.example.cn"))
        >>> lic.covers("www.example.cn"), lic.covers("example.cn"), lic.covers("example.com")
        (True, True, False)
        """
        host = (host or "").lower().rstrip(".")
        return any(fnmatch.fnmatchcase(host, pattern) for pattern in self.domains)

    def expiry_state(self, on: dt.date) -> str | None:
        """``licence_expired``, ``licence_expiring`` (within 90 days) or ``None``."""
        if self.expires is None:
            return None
        if self.expires < on:
            return "licence_expired"
        if (self.expires - on).days <= EXPIRY_NOTICE_DAYS:
            return "licence_expiring"
        return None


@dataclass
class Register:
    """All licences, looked up by entity number; remembers where each was shown."""

    licences: tuple[Licence, ...]
    shown_on: dict[int, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_entity: dict[str, list[Licence]] = {}
        for licence in self.licences:
            self._by_entity.setdefault(licence.entity, []).append(licence)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(licence.category for licence in self.licences)

    def find(self, number: str) -> list[Licence]:
        """The licences whose entity number is that of ``number``."""
        return self._by_entity.get(entity_number(number), [])

    def covering(self, host: str | None) -> list[Licence]:
        return [licence for licence in self.licences if licence.covers(host)]

    def record_shown(self, licence: Licence, host: str | None) -> None:
        self.shown_on.setdefault(licence.line, set()).add(host or "")

    def holder_conflicts(self) -> dict[str, tuple[str, ...]]:
        """Entity numbers registered under more than one holder."""
        conflicts = {}
        for entity, licences in self._by_entity.items():
            holders = tuple(sorted({lic.holder for lic in licences if lic.holder}))
            if len(holders) > 1:
                conflicts[entity] = holders
        return conflicts

    def rows(self, on: dt.date) -> list[dict[str, object]]:
        """One report row per licence: where it is shown and what needs attention."""
        conflicts = self.holder_conflicts()
        rows = []
        for licence in self.licences:
            shown = sorted(self.shown_on.get(licence.line, ()))
            states = [s for s in (licence.expiry_state(on),) if s]
            if not shown:
                states.append("not_displayed")
            if licence.entity in conflicts:
                states.append("holder_conflict")
            rows.append({
                "number": licence.number, "category": licence.category,
                "holder": licence.holder, "authority": licence.authority,
                "issued": licence.issued.isoformat() if licence.issued else "",
                "expires": licence.expires.isoformat() if licence.expires else "",
                "domains": " ".join(licence.domains), "shown_on": shown,
                "status": states or ["ok"],
            })
        return rows


def _date(text: str, line: int, column: str, where: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RegisterError(f"{where}, line {line}: {column} {text!r} is not a date (YYYY-MM-DD)") from None


def parse_register(text: str, categories: Iterable[str], where: str = "register") -> Register:
    """Read register CSV text; ``categories`` are the known category ids."""
    known = frozenset(categories)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise RegisterError(f"{where}, line 1: missing column(s) {', '.join(missing)}")
    unknown = [c for c in header if c not in COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise RegisterError(f"{where}, line 1: unknown column(s) {', '.join(unknown)}")
    reader.fieldnames = header
    licences = []
    for row in reader:
        line = reader.line_num
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if None in row:
            raise RegisterError(f"{where}, line {line}: more cells than columns")
        licences.append(_licence(values, line, known, where))
    return Register(tuple(licences))


def _years_after(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (28 February for a 29 February start).

    >>> _years_after(dt.date(2024, 2, 29), 5)
    datetime.date(2029, 2, 28)
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _licence(values: Mapping[str, str], line: int, known: frozenset[str], where: str) -> Licence:
    number = re.sub(r"\s+", "", values["number"])
    category = values["category"]
    if not number:
        raise RegisterError(f"{where}, line {line}: the number is empty")
    if category not in known:
        raise RegisterError(f"{where}, line {line}: unknown category {category!r}")
    issued = _date(values["issued"], line, "issued", where)
    expires = _date(values["expires"], line, "expires", where)
    if expires is None and issued is not None and category == "vats_license":
        expires = _years_after(issued, VATS_TERM_YEARS)
    if issued and expires and expires < issued:
        raise RegisterError(f"{where}, line {line}: expires before it was issued")
    domains = tuple(d.lower() for d in _SPLIT.split(values["domains"]) if d)
    if not domains:
        raise RegisterError(f"{where}, line {line}: no domains listed")
    return Licence(line, number, category, values["holder"], values["authority"],
                   issued, expires, domains, values.get("province", ""))


def load_register(path: Path, categories: Iterable[str]) -> Register:
    """Read a register file; any defect raises :class:`RegisterError`."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegisterError(f"{path}: cannot read the register: {exc}") from exc
    return parse_register(text, categories, str(path))
