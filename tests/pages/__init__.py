"""Page fixtures: whole home pages and what a correct extractor must report for them.

Each folder under ``tests/pages/`` is one fixture, named after what it exercises
(``layout-`` where the footer is, ``text-`` how the number is written, ``enc-`` the
page's bytes, ``num-`` number formats and faults, ``link-`` link rules, ``loc-``
numbers outside the footer or not displayed). It holds:

* ``page.html``: the page exactly as served (bytes; some are GBK);
* ``expected.json``: ``{"footer": {"found", "selector"?}, "findings": [...], "xfail"?}``.
  A finding is identified by ``category``, ``number``, ``status``, ``location`` and
  ``link_status``, and the lists are compared as multisets (a number reported twice
  must be expected twice); a finding's optional ``problems`` must all be among the
  reported ones.
  ``selector`` is compared only when present. ``xfail`` (a reason) marks a fixture
  the extractor is known to get wrong;
* ``meta.json`` (optional): ``base_url`` to resolve relative links, and notes
  for readers (``about``, ``encoding``).

Expectations are written by hand from LICENSE_FORMATS.md, never copied from the
extractor's output; ``python -m tests.pages.show NAME`` prints that output for review.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.extract import PageExtract

PAGES_DIR = Path(__file__).parent
KEY_FIELDS = ("category", "number", "status", "location", "link_status")
_TOP_KEYS = {"footer", "findings", "xfail"}
_FOOTER_KEYS = {"found", "selector"}
_FINDING_KEYS = {*KEY_FIELDS, "problems"}

Key = tuple[str, ...]


@dataclass(frozen=True)
class PageFixture:
    """One fixture folder, read and checked."""

    name: str
    body: bytes
    base_url: str | None
    expected: dict[str, Any]

    @property
    def xfail(self) -> str | None:
        return self.expected.get("xfail")


def fixture_names() -> list[str]:
    """Every fixture folder, sorted."""
    return sorted(p.name for p in PAGES_DIR.iterdir() if p.is_dir() and p.name != "__pycache__")


def load(name: str) -> PageFixture:
    """Read one fixture; a missing file or a malformed ``expected.json`` raises ``ValueError``."""
    folder = PAGES_DIR / name
    page, expected_path, meta_path = folder / "page.html", folder / "expected.json", folder / "meta.json"
    if not page.is_file() or not expected_path.is_file():
        raise ValueError(f"{folder}: a fixture needs page.html and expected.json")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    _check_expected(expected, expected_path)
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    return PageFixture(name, page.read_bytes(), meta.get("base_url"), expected)


def _check_expected(expected: dict[str, Any], path: Path) -> None:
    """Reject unknown or missing keys, so that a typo cannot switch a comparison off."""
    if not isinstance(expected, dict) or set(expected) - _TOP_KEYS or not {"footer", "findings"} <= set(expected):
        raise ValueError(f"{path}: top-level keys must be footer, findings and optionally xfail")
    footer = expected["footer"]
    if not isinstance(footer, dict) or "found" not in footer or set(footer) - _FOOTER_KEYS:
        raise ValueError(f"{path}: footer must have found and optionally selector")
    for i, finding in enumerate(expected["findings"]):
        well_formed = (isinstance(finding, dict) and set(KEY_FIELDS) <= set(finding) <= _FINDING_KEYS
                       and isinstance(finding.get("problems", []), list))
        if not well_formed:
            raise ValueError(f"{path}: findings[{i}] must have exactly {', '.join(KEY_FIELDS)} "
                             "and optionally a list of problems")


def as_expected(page: PageExtract) -> dict[str, Any]:
    """The extractor's output in the shape of ``expected.json`` (all problems listed)."""
    data = page.to_dict()
    findings = []
    for finding in data["findings"]:
        entry = {field: finding[field] for field in KEY_FIELDS}
        if finding["problems"]:
            entry["problems"] = finding["problems"]
        findings.append(entry)
    return {"footer": data["footer"], "findings": findings}


def _key(finding: dict[str, Any]) -> Key:
    return tuple(finding[field] for field in KEY_FIELDS)


def compare(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Every way ``actual`` differs from ``expected``; empty when they agree.

    >>> finding = {"category": "icp_filing", "number": "京ICP备20018813号-3", "status": "valid",
    ...            "location": "footer", "link_status": "ok"}
    >>> compare({"footer": {"found": True}, "findings": [finding]},
    ...         {"footer": {"found": True, "selector": "footer"}, "findings": []})
    ['missing: icp_filing 京ICP备20018813号-3 valid footer ok']
    """
    differences = []
    for field in ("found", "selector"):
        if field in expected["footer"] and expected["footer"][field] != actual["footer"].get(field):
            differences.append(f"footer {field}: expected {expected['footer'][field]!r}, "
                               f"got {actual['footer'].get(field)!r}")
    wanted = Counter(_key(f) for f in expected["findings"])
    got = Counter(_key(f) for f in actual["findings"])
    differences += [f"missing: {' '.join(key)}" for key in (wanted - got).elements()]
    differences += [f"unexpected: {' '.join(key)}" for key in (got - wanted).elements()]
    for finding in expected["findings"]:
        required = set(finding.get("problems", []))
        candidates = [set(f.get("problems", [])) for f in actual["findings"] if _key(f) == _key(finding)]
        if required and candidates and not any(required <= problems for problems in candidates):
            differences.append(f"problems of {' '.join(_key(finding))}: expected at least "
                               f"{sorted(required)}, got {[sorted(p) for p in candidates]}")
    return differences
