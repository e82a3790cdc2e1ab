"""Licence knowledge: the pattern catalogue, its checks and its tables.

This package knows the formats of Chinese footer licence and filing numbers and
nothing about HTML, crawling or reports; ``crawler`` and ``reports`` build on it.
"""

from patterns.catalogue import (
    Catalogue,
    CatalogueError,
    Category,
    Example,
    Hit,
    load_catalogue,
)
from patterns.normalise import normalise

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Category",
    "Example",
    "Hit",
    "load_catalogue",
    "normalise",
]
