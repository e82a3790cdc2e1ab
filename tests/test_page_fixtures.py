"""Whole home pages through the extractor, against hand-written expectations.

Every folder under ``tests/pages/`` is one case; its name is the test id. See
``tests/pages/__init__.py`` for the folder layout and how results are compared, and
``python -m tests.pages.show NAME`` to print what the extractor reports now.
"""

from __future__ import annotations

import json

import pytest

from crawler.extract import Extractor
from tests.pages import PageFixture, as_expected, compare, fixture_names, load


def _cases() -> list[pytest.param]:
    cases = []
    for name in fixture_names():
        fixture = load(name)
        marks = [pytest.mark.xfail(reason=fixture.xfail, strict=True)] if fixture.xfail else []
        cases.append(pytest.param(fixture, id=name, marks=marks))
    return cases


def _dump(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


@pytest.mark.parametrize("fixture", _cases())
def test_page_fixture(fixture: PageFixture, extractor: Extractor) -> None:
    actual = as_expected(extractor.extract(fixture.body, base_url=fixture.base_url))
    expected = {key: value for key, value in fixture.expected.items() if key != "xfail"}
    differences = compare(expected, actual)
    assert not differences, (
        f"{fixture.name}:\n  " + "\n  ".join(differences)
        + f"\nexpected:\n{_dump(expected)}\nactual:\n{_dump(actual)}"
    )


def _finding(number: str, status: str = "valid", problems: tuple[str, ...] = ()) -> dict:
    finding = {"category": "icp_filing", "number": number, "status": status,
               "location": "footer", "link_status": "ok"}
    if problems:
        finding["problems"] = list(problems)
    return finding


def test_compare_reports_every_kind_of_difference() -> None:
    expected = {
        "footer": {"found": True, "selector": "div#footer"},
        "findings": [_finding("京ICP备20018813号-3"), _finding("京ICP备20018813号-3"),
                     _finding("京ICP备2024001号", "malformed", ("digit_count",))],
    }
    actual = {
        "footer": {"found": True, "selector": "footer"},
        "findings": [_finding("京ICP备20018813号-3"), _finding("京ICP备2024001号", "malformed", ("missing_hao",)),
                     _finding("京ICP备12345678号", "placeholder", ("placeholder",))],
    }
    assert compare(expected, actual) == [
        "footer selector: expected 'div#footer', got 'footer'",
        "missing: icp_filing 京ICP备20018813号-3 valid footer ok",
        "unexpected: icp_filing 京ICP备12345678号 placeholder footer ok",
        ("problems of icp_filing 京ICP备2024001号 malformed footer ok: expected at least "
         "['digit_count'], got [['missing_hao']]"),
    ]


def test_compare_accepts_extra_problems_and_unchecked_selector() -> None:
    expected = {"footer": {"found": True}, "findings": [_finding("京ICP备2024001号", "malformed", ("digit_count",))]}
    actual = {"footer": {"found": True, "selector": "footer"},
              "findings": [_finding("京ICP备2024001号", "malformed", ("digit_count", "missing_hao"))]}
    assert compare(expected, actual) == []


def test_expected_json_rejects_unknown_keys(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "typo"
    folder.mkdir()
    (folder / "page.html").write_bytes(b"<footer>x</footer>")
    (folder / "expected.json").write_text(
        json.dumps({"footer": {"found": True}, "findings": [{**_finding("x"), "problem": ["typo"]}]}),
        encoding="utf-8")
    monkeypatch.setattr("tests.pages.PAGES_DIR", tmp_path)
    with pytest.raises(ValueError, match="findings\\[0\\]"):
        load("typo")
