"""What pyproject.toml cannot say: the compiled page-reading modules, and eggs.

The modules that read every page (decoding, finding the footer, extracting and
judging numbers) are compiled to C with mypyc when the build has a C compiler and
Python's headers: a page is then read in about four fifths of the time. Where they
cannot be compiled, or with ``FOOTER_AUDIT_COMPILE=0`` in the environment, they are
installed as plain Python, which gives the same results more slowly; the build says
so in a warning. ``python bench/extract_speed.py`` reports which kind it measured.

``scrapyd-deploy`` builds the project's egg with ``setup.py bdist_egg`` (without this
file it writes its own, which leaves out the pattern files). An egg stays plain
Python: Scrapyd imports it from a zip, from which a compiled module cannot load.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import BaseError, CCompilerError

# The page-reading path: every module it runs per page, and nothing that imports Scrapy.
COMPILED = [
    "crawler/encoding.py",
    "crawler/footer.py",
    "crawler/extract.py",
    "patterns/catalogue.py",
    "patterns/checks.py",
    "patterns/normalise.py",
    "patterns/tables.py",
]


class OptionalBuildExt(build_ext):
    """Builds the compiled modules, all of them or none: a module that fails to compile
    (no compiler, no Python headers) leaves every one of them plain Python."""

    def run(self) -> None:
        try:
            super().run()
        except (BaseError, CCompilerError, OSError) as error:  # no compiler, no headers…
            for extension in self.extensions:  # where this build put them (in place or not)
                Path(self.get_ext_fullpath(extension.name)).unlink(missing_ok=True)
            self.warn(f"footer-audit: the page-reading modules were not compiled ({error}); "
                      "they are installed as plain Python, which reads pages more slowly")


def compiled_modules() -> list:
    """The mypyc extensions, or none when compiling is switched off or impossible."""
    if os.environ.get("FOOTER_AUDIT_COMPILE", "1") == "0" or "bdist_egg" in sys.argv:
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:  # a build without the build requirements (setup.py run by hand)
        return []
    try:  # mypyc type-checks the modules first; lxml has no type information
        return mypycify(["--ignore-missing-imports", *COMPILED], opt_level="3")
    except SystemExit as error:  # how mypyc stops on a type error
        print(f"footer-audit: the page-reading modules cannot be compiled ({error}); "
              "they are installed as plain Python", file=sys.stderr)
        return []


setup(ext_modules=compiled_modules(), cmdclass={"build_ext": OptionalBuildExt})
