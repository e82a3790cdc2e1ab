"""Shared fixtures: one catalogue and extractor for the whole run."""

from __future__ import annotations

import pytest

from crawler.extract import Extractor
from patterns import Catalogue, load_catalogue

AUDIT_YEAR = 2026  # tests judge years against a fixed audit year, never the clock


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def extractor(catalogue: Catalogue) -> Extractor:
    return Extractor(catalogue, AUDIT_YEAR)
