"""For ``scrapyd-deploy``, which builds the project's egg with ``setup.py bdist_egg``
(without this file it writes its own, which leaves out the pattern files); the
configuration is in pyproject.toml."""

from setuptools import setup

setup()
