"""Shared fixtures: one catalogue and extractor for the whole run; a private Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.extract import Extractor
from patterns import Catalogue, load_catalogue
from tests.servers import running_redis

AUDIT_YEAR = 2026  # tests judge years against a fixed audit year, never the clock


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def extractor(catalogue: Catalogue) -> Extractor:
    return Extractor(catalogue, AUDIT_YEAR)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private redis-server on loopback, stopped after the test."""
    with running_redis(tmp_path) as url:
        yield url
