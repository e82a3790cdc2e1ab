"""Local servers the tests start: a free loopback port, waiting for a server to
answer, and a private ``redis-server`` (the Debian package; ``make test`` installs it)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server")
WAIT_LIMIT = 240.0  # seconds any one wait may take before the test fails


def wait_for(condition: Callable[[], object], what: str, limit: float = WAIT_LIMIT) -> None:
    """Poll ``condition`` until it is true; fail the test after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_redis(directory: Path) -> Iterator[str]:
    """A redis-server on loopback without persistence, working in ``directory``; its URL."""
    import redis

    assert REDIS_SERVER is not None, "redis-server is not installed"
    port = free_port()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(directory), "--daemonize", "no"],
        stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)

    def answers() -> bool:
        assert process.poll() is None, "redis-server exited"
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_for(answers, "redis-server to answer", 20)
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(10)
