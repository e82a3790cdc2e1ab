"""``python -m tests.farm.bench``: how fast the farm serves, per second and per CPU second.

Keep-alive clients (asyncio, in this process) fetch through a farm subprocess for a
few seconds per scenario: tiny responses over http, ~90 KB generated home pages over
http, and tiny responses inside CONNECT+TLS tunnels. Besides wall-clock rates it
reports responses per CPU second of the farm process, which is what the farm can do
on one core however slow the client is.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass

from tests.farm.generate import generate_sites
from tests.farm.launcher import Farm
from tests.farm.sites import FAULT_SITES

SMALL_HOST, SMALL_PATH = "www.farm-basic.cn", "/hello.txt"


@dataclass(frozen=True)
class Result:
    """What one scenario measured."""

    responses: int
    body_bytes: int
    seconds: float
    farm_cpu_seconds: float
    errors: int

    def summary(self, name: str) -> str:
        """One line for the console."""
        per_cpu = self.responses / self.farm_cpu_seconds if self.farm_cpu_seconds else 0.0
        return (f"{name}: {self.responses / self.seconds:,.0f} responses/s, "
                f"{self.body_bytes / self.seconds / 1e6:,.1f} MB/s, "
                f"{per_cpu:,.0f} responses per farm CPU second, {self.errors} errors")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _read_reply(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status, length


async def _client(port: int, targets: Sequence[tuple[str, str]], https: bool, offset: int,
                  deadline: float, totals: list[int]) -> None:
    """One keep-alive connection fetching ``targets`` round-robin until ``deadline``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if https:
            host = targets[0][0]
            writer.write(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
            await reader.readuntil(b"\r\n\r\n")
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            await writer.start_tls(context, server_hostname=host)
        i = offset
        while time.monotonic() < deadline:
            host, path = targets[i % len(targets)]
            i += 1
            target = path if https else f"http://{host}{path}"
            writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n"
                         "Accept-Encoding: identity\r\n\r\n".encode())
            status, length = await _read_reply(reader)
            totals[0] += 1
            totals[1] += length
            totals[2] += status != 200
    finally:
        writer.close()


async def _run(port: int, targets: Sequence[tuple[str, str]], https: bool, connections: int,
               seconds: float) -> list[int]:
    totals = [0, 0, 0]  # responses, body bytes, errors
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(_client(port, targets, https, i * 7919, deadline, totals)
                           for i in range(connections)))
    return totals


def measure(farm: Farm, targets: Sequence[tuple[str, str]], *, https: bool = False,
            connections: int = 16, seconds: float = 3.0) -> Result:
    """Fetch ``targets`` ((host, path) pairs) through ``farm`` for ``seconds``."""
    cpu_before, started = cpu_seconds(farm.pid), time.monotonic()
    responses, body_bytes, errors = asyncio.run(_run(farm.port, targets, https, connections,
                                                     seconds))
    return Result(responses, body_bytes, time.monotonic() - started,
                  cpu_seconds(farm.pid) - cpu_before, errors)


def main(argv: list[str] | None = None) -> None:
    """Run the three scenarios against a fresh farm and print one line each."""
    parser = argparse.ArgumentParser(prog="python -m tests.farm.bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sites", type=int, default=500, help="generated sites for the page run")
    args = parser.parse_args(argv)
    generated = generate_sites(args.sites, seed=1)
    with Farm([FAULT_SITES, *generated]) as farm:
        small = [(SMALL_HOST, SMALL_PATH)]
        pages = [(site.host, "/") for site in generated]
        for name, targets, https in (("small http", small, False),
                                     ("generated pages http", pages, False),
                                     ("small https (tunnels)", small, True)):
            result = measure(farm, targets, https=https, connections=args.connections,
                             seconds=args.seconds)
            print(result.summary(name), flush=True)


if __name__ == "__main__":
    main()
