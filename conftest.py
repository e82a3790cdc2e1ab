"""Collection settings for the checkout: the compiled page-reading modules (setup.py).

pytest collects doctests from each module's ``.py`` file by importing the module, but a
compiled module is imported from its extension, which keeps no examples; those files
are left out here and their doctests run on their Python source instead
(tests/test_compiled_doctests.py). A module edited after it was compiled would be
tested as it was before the edit, so the run stops and says how to rebuild.
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

ROOT = Path(__file__).parent
PACKAGES = ("crawler", "patterns", "reports")


def compiled_sources() -> dict[Path, Path]:
    """Each compiled module's source file in the checkout, with its extension file."""
    found = {}
    for package in PACKAGES:
        for extension in (ROOT / package).iterdir():
            suffix = next((s for s in EXTENSION_SUFFIXES if extension.name.endswith(s)), None)
            if suffix:  # the longest suffix comes first: .cpython-311-x86_64-linux-gnu.so
                found[extension.with_name(extension.name[:-len(suffix)] + ".py")] = extension
    return found


def pytest_configure(config: pytest.Config) -> None:
    stale = [source for source, extension in compiled_sources().items()
             if source.exists() and source.stat().st_mtime > extension.stat().st_mtime]
    if stale:
        names = ", ".join(str(path.relative_to(ROOT)) for path in sorted(stale))
        pytest.exit(f"{names} changed after it was compiled: rebuild with `make test` (or "
                    "`pip install -e .`), or remove the compiled modules with `make clean`",
                    returncode=2)


collect_ignore = [str(source) for source in compiled_sources()]
