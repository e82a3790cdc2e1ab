"""The labelled vectors in ../shared/reference/vectors.jsonl, run through extraction.

A valid vector must yield a finding of its category with exactly its number and
status ``valid``; an invalid one a finding with its number (or, when the number is
null, any finding of its category) whose status is ``malformed`` or ``placeholder``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.extract import Extractor

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "vectors.jsonl"


def _load() -> list[dict]:
    if not VECTORS.exists():
        return []
    return [json.loads(line) for line in VECTORS.read_text(encoding="utf-8").splitlines() if line.strip()]


CASES = _load()


@pytest.mark.skipif(not CASES, reason=f"{VECTORS} is not present")
@pytest.mark.parametrize("vector", CASES, ids=[f"{v['category']}:{v['text'][:60]}" for v in CASES])
def test_vector(vector: dict, extractor: Extractor) -> None:
    category = vector["category"].removeprefix("other:")
    findings = [f for f in extractor.extract(vector["text"]).findings if f.category == category]
    summary = [(f.number, f.status, f.problems) for f in findings]
    if vector["number"] is None:
        assert any(f.status != "valid" for f in findings), summary
        return
    same = [f for f in findings if f.number == vector["number"]]
    assert same, f"{vector['number']} not found in {summary}"
    if vector["valid"]:
        assert same[0].status == "valid", summary
    else:
        assert same[0].status in ("malformed", "placeholder"), summary


def test_vectors_are_all_there() -> None:
    if VECTORS.exists():
        assert len(CASES) >= 260
