"""Where the pattern files are on disk, also when the package is imported from a zip.

Scrapyd imports a deployed project from its egg, a zip archive, where the pattern
files have no path of their own; the catalogue reads them as files (``glob``, digests,
``--patterns`` directories alongside), so they are copied out of the archive into a
private temporary directory for the life of the process.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path


def package_dir(package: str) -> Path:
    """The directory holding ``package``'s files.

    >>> package_dir("patterns") == Path(__file__).parent
    True
    """
    root = files(package)
    if isinstance(root, Path):
        return root
    target = Path(tempfile.mkdtemp(prefix=f"footer-audit-{package}-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    _copy_data_files(root, target)
    return target


def _copy_data_files(directory: Traversable, target: Path) -> None:
    """Copy the ``.toml`` files under ``directory`` (an archive's) into ``target``."""
    for entry in directory.iterdir():
        if entry.is_dir():
            _copy_data_files(entry, target / entry.name)
        elif entry.name.endswith(".toml"):
            target.mkdir(parents=True, exist_ok=True)
            (target / entry.name).write_bytes(entry.read_bytes())
