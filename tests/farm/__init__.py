"""A loopback farm of virtual websites behind one HTTP proxy, for crawler tests.

* :class:`Farm` runs ``python -m tests.farm`` in a subprocess; ``farm.proxy_url`` goes
  to the crawler's ``--proxy`` and ``farm.requests`` lists what was served.
* Sites are data (``sites/*.toml``, see :mod:`tests.farm.sites`); ``DEMO_SITES`` is
  the demo set and ``FAULT_SITES`` one site per fault.
* :func:`generate_sites` builds thousands of realistic sites, deterministic by seed.
"""

from tests.farm.generate import generate_sites
from tests.farm.launcher import Farm, FarmError
from tests.farm.server import CONTROL_HOST, ServedRequest
from tests.farm.sites import (
    DEMO_SITES,
    FAULT_SITES,
    Fault,
    Page,
    Site,
    SiteError,
    load_sites,
    parse_sites,
)

__all__ = [
    "CONTROL_HOST",
    "DEMO_SITES",
    "FAULT_SITES",
    "Farm",
    "FarmError",
    "Fault",
    "Page",
    "ServedRequest",
    "Site",
    "SiteError",
    "generate_sites",
    "load_sites",
    "parse_sites",
]
