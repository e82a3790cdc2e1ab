"""Run the farm in a subprocess for the length of a ``with`` block::

    from tests.farm import DEMO_SITES, Farm

    with Farm(DEMO_SITES) as farm:
        run_crawl(proxy=farm.proxy_url)
        fetched = [(r.host, r.path) for r in farm.requests if r.method == "GET"]
"""

from __future__ import annotations

import http.client
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.farm.server import CONTROL_HOST, ServedRequest
from tests.farm.sites import Site, check_unique, load_sites

REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 5.0

SitesSource = str | os.PathLike[str] | Iterable[str | os.PathLike[str] | Site]


class FarmError(RuntimeError):
    """The farm process did not start or does not answer."""


class Farm:
    """A farm process serving ``sites`` (files, directories or :class:`Site` objects).

    The sites are loaded and checked here first, so a bad definition fails in the
    caller; then ``python -m tests.farm`` serves them on another core. Leaving the
    ``with`` block always stops the process.
    """

    def __init__(self, sites: SitesSource, *, port: int = 0,
                 startup_timeout: float = 30.0, proxy_auth: str | None = None) -> None:
        items = [sites] if isinstance(sites, (str, os.PathLike)) else list(sites)
        self._paths = [Path(item) for item in items if not isinstance(item, Site)]
        self._defined = [item for item in items if isinstance(item, Site)]
        self.sites: list[Site] = check_unique([*load_sites(*self._paths), *self._defined])
        self._port = port
        self._startup_timeout = startup_timeout
        self._proxy_auth = proxy_auth  # USER:PASSWORD the proxy asks for; in proxy_url
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self.proxy_url = ""

    @property
    def port(self) -> int:
        """The proxy port on 127.0.0.1."""
        return int(self.proxy_url.rpartition(":")[2])

    @property
    def pid(self) -> int:
        """The farm process id (to watch its CPU time or memory)."""
        if self._process is None:
            raise FarmError("the farm is not running")
        return self._process.pid

    def __enter__(self) -> Self:
        self._workdir = tempfile.TemporaryDirectory(prefix="farm-")
        args = [sys.executable, "-m", "tests.farm", "--port", str(self._port)]
        if self._proxy_auth:
            args += ["--proxy-auth", self._proxy_auth]
        for path in self._paths:
            args += ["--sites", str(path.resolve())]
        if self._defined:
            generated = Path(self._workdir.name, "sites.json")
            generated.write_text(json.dumps({"site": [s.definition for s in self._defined]},
                                            ensure_ascii=False), encoding="utf-8")
            args += ["--sites", str(generated)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
        self._process = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE)
        try:
            self.proxy_url = self._first_line()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _first_line(self) -> str:
        """The proxy URL the farm prints once it listens."""
        assert self._process is not None and self._process.stdout is not None
        stdout, line = self._process.stdout, b""
        deadline = time.monotonic() + self._startup_timeout
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FarmError(f"the farm did not start within {self._startup_timeout} s")
            if select.select([stdout], [], [], remaining)[0]:
                data = os.read(stdout.fileno(), 1)
                if not data:
                    raise FarmError(f"the farm exited with code {self._process.wait()} "
                                    "before it was ready (see its stderr)")
                line += data
        return line.decode().strip()

    def close(self) -> None:
        """Stop the farm process (also done on leaving the ``with`` block)."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def _control(self, method: str, path: str) -> bytes:
        if self._process is None:
            raise FarmError("the farm is not running")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, f"http://{CONTROL_HOST}{path}")
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise FarmError(f"{method} {path}: the farm answered {response.status}")
        return data

    @property
    def requests(self) -> list[ServedRequest]:
        """Every request served so far, oldest first (fetched from the farm process)."""
        return [ServedRequest(**entry) for entry in json.loads(self._control("GET", "/requests"))]

    def reset(self) -> None:
        """Forget the request log and restart "fail N times" counters."""
        self._control("POST", "/reset")
