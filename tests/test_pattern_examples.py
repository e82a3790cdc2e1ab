"""Tests generated from the examples in every pattern file.

Each category file carries its own valid, malformed, near-miss and known-gap
examples; a failure names the category and the input.
"""

from __future__ import annotations

import pytest

from patterns import Catalogue, Example, load_catalogue
from tests.conftest import AUDIT_YEAR

_CATALOGUE = load_catalogue()


def _cases(kind: str) -> list[pytest.param]:
    return [
        pytest.param(category.id, example, id=f"{category.id}:{example.text[:50]}")
        for category in _CATALOGUE.categories.values()
        for example in category.examples
        if example.kind == kind
    ]


def _hits(catalogue: Catalogue, category: str, text: str) -> list:
    return [h for h in catalogue.scan_text(text, year=AUDIT_YEAR) if h.category == category]


@pytest.mark.parametrize(("category", "example"), _cases("valid"))
def test_valid_example(category: str, example: Example, catalogue: Catalogue) -> None:
    hits = _hits(catalogue, category, example.text)
    assert [(h.number, h.status) for h in hits if h.number == example.number] == [
        (example.number, "valid")
    ], [(h.number, h.status, h.problems) for h in hits]


@pytest.mark.parametrize(("category", "example"), _cases("malformed"))
def test_malformed_example(category: str, example: Example, catalogue: Catalogue) -> None:
    hits = _hits(catalogue, category, example.text)
    if example.number is not None:
        hits = [h for h in hits if h.number == example.number]
    assert any(h.status != "valid" and example.problem in h.problems for h in hits), [
        (h.number, h.status, h.problems) for h in hits
    ]


@pytest.mark.parametrize(("category", "example"), _cases("near_miss"))
def test_near_miss_example(category: str, example: Example, catalogue: Catalogue) -> None:
    assert _hits(catalogue, category, example.text) == []


@pytest.mark.parametrize(("category", "example"), _cases("known_gap"))
@pytest.mark.xfail(strict=True, reason="a known gap, listed in the pattern file")
def test_known_gap_example(category: str, example: Example, catalogue: Catalogue) -> None:
    hits = _hits(catalogue, category, example.text)
    assert any(h.number == example.number and h.status == "valid" for h in hits)
