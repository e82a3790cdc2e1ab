"""Distributed crawl throughput: 1, 2 and 3 local ``footer-audit worker`` processes.

Run from the repository root (needs ``redis-server``; about a minute on two cores)::

    python -m bench.workers                 # 2,000 generated farm sites
    python -m bench.workers --sites 4000 --concurrency 32

A private redis-server and the loopback farm are started; for each worker count the
crawl is enqueued afresh (``http://`` home pages, as in ``bench.crawl_speed``) and
that many workers crawl it through the farm's proxy. Pages/s is rows stored / the
time from the first row stored to the last (worker start-up is left out), sampled
from Redis every 50 ms; the ratio is against one worker in the same run. Every
worker, the farm and Redis share this machine's cores, so on two cores more workers
mostly compete for the same CPU: the figures show the overhead of sharing a crawl
through Redis rather than how it scales across machines.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.crawling import REPOSITORY, write_targets
from tests.farm import Farm, generate_sites

SEED = 5
SAMPLE_SECONDS = 0.05


def start_redis(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    """redis-server on a free loopback port, no persistence."""
    import socket

    import redis

    server = shutil.which("redis-server")
    if server is None:
        sys.exit("bench.workers: redis-server is not installed (make redis)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(work)],
                               stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        try:
            redis.Redis.from_url(url).ping()
            return process, url
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    sys.exit("bench.workers: redis-server did not start")


def measure(workers: int, targets: Path, redis_url: str, proxy: str, concurrency: int,
            work: Path) -> tuple[int, float]:
    """Enqueue afresh, run ``workers`` workers to the end; (rows, seconds first to last row)."""
    from crawler.distributed import KEYS, connect

    command = [sys.executable, "-m", "crawler.cli"]
    subprocess.run([*command, "enqueue", str(targets), "--redis", redis_url, "--reset"],
                   cwd=REPOSITORY, check=True, stdout=subprocess.DEVNULL)
    server = connect(redis_url)
    processes = [subprocess.Popen(
        [*command, "worker", "--redis", redis_url, "--proxy", proxy, "--quiet",
         "--concurrency", str(concurrency), "--log-file", str(work / f"worker{i}.log")],
        cwd=REPOSITORY, stdout=subprocess.DEVNULL) for i in range(workers)]
    first = last = None
    stored = 0
    while any(process.poll() is None for process in processes):
        now, count = time.perf_counter(), server.hlen(KEYS.results)
        if count and first is None:
            first = now
        if count > stored:
            stored, last = count, now
        time.sleep(SAMPLE_SECONDS)
    if any(process.returncode for process in processes) or first is None or last is None:
        raise RuntimeError(f"a worker failed; see {work}/worker*.log")
    return server.hlen(KEYS.results), last - first


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64, help="per worker")
    args = parser.parse_args(argv)
    sites = generate_sites(args.sites, seed=SEED)
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as name:
        work = Path(name)
        targets = work / "targets.txt"
        write_targets(sites, targets)
        redis_process, redis_url = start_redis(work)
        try:
            with Farm(sites) as farm:
                print(f"{args.sites} sites, concurrency {args.concurrency} per worker")
                baseline = None
                for workers in (1, 2, 3):
                    rows, seconds = measure(workers, targets, redis_url, farm.proxy_url,
                                            args.concurrency, work)
                    rate = rows / seconds
                    baseline = baseline or rate
                    print(f"  {workers} worker{'s' if workers > 1 else ' '}  {rate:6.1f} pages/s"
                          f"  ({rows} rows in {seconds:5.1f} s)  ratio {rate / baseline:4.2f}",
                          flush=True)
        finally:
            redis_process.terminate()
            redis_process.wait(10)


if __name__ == "__main__":
    main()
