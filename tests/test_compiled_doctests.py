"""The doctests of the compiled page-reading modules, run on their Python source.

A module compiled by mypyc (setup.py) keeps no examples that doctest can find, and the
checkout's collection leaves its ``.py`` file out (conftest.py); so each such file is
loaded here beside its compiled module and its examples are run as pytest would run them.
Where the modules are plain Python, pytest collects their doctests itself and this
module has nothing to run.
"""

from __future__ import annotations

import doctest
import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from conftest import ROOT, compiled_sources

SOURCES = sorted(compiled_sources())


@cache
def _load_source(path: Path) -> ModuleType:
    """The module's Python source, loaded beside the compiled module, which stays in
    ``sys.modules`` for everything that imports it. It takes the module's own name, as
    the examples' tracebacks name its exceptions by it."""
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    importlib.import_module(name)  # the compiled one: dataclasses look their module up
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _doctests(path: Path) -> list[doctest.DocTest]:
    """The module's examples. doctest takes an object for the module's own by looking the
    module up by name, so the source stands in for the compiled module while they are found."""
    source = _load_source(path)
    compiled = sys.modules[source.__name__]
    sys.modules[source.__name__] = source
    try:
        return [test for test in doctest.DocTestFinder().find(source) if test.examples]
    finally:
        sys.modules[source.__name__] = compiled


CASES = [pytest.param(path, test.name, id=f"{path.relative_to(ROOT)}::{test.name.split('.', 1)[-1]}")
         for path in SOURCES for test in _doctests(path)]


@pytest.mark.skipif(not SOURCES, reason="the page-reading modules are not compiled here: "
                    "pytest collects their doctests from their files")
@pytest.mark.parametrize(("path", "name"), CASES or [pytest.param(None, None, id="none")])
def test_docstring_examples(path: Path, name: str) -> None:
    (test,) = [test for test in _doctests(path) if test.name == name]
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    output: list[str] = []
    runner.run(test, out=output.append)
    assert runner.failures == 0, "".join(output)
