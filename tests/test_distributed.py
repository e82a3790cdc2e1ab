"""Distributed crawls (``enqueue``, ``worker``, ``collect``) on a real redis-server.

Each test starts its own ``redis-server`` on a free loopback port, without
persistence, in a temporary directory. The main test runs three real workers
against the loopback farm, kills one with SIGKILL while it holds targets, and checks
that the collected report has exactly one row per target.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.farm import FAULT_SITES, Farm, generate_sites
from tests.servers import REDIS_SERVER, WAIT_LIMIT, free_port, wait_for

pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None,
    reason="redis-server is not installed (Debian package redis-server; `make test` installs it)")

REPOSITORY = Path(__file__).resolve().parents[1]


def _cli(*arguments: str, timeout: float = WAIT_LIMIT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawler.cli", *arguments], cwd=REPOSITORY,
                          capture_output=True, text=True, timeout=timeout)


def _rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text("utf-8").splitlines()]


def test_a_dead_workers_claims_go_back_to_the_queue_and_rows_are_not_doubled(
        redis_url: str) -> None:
    from crawler.distributed import KEYS, TargetQueue, connect, enqueue, target_from_payload

    server = connect(redis_url)
    enqueue(server, ["a.example.cn", "b.example.cn", "c.example.cn"])
    dead, alive = TargetQueue(server, "dead", lease=0.3), TargetQueue(server, "alive", lease=5)
    dead.join()
    alive.join()
    held = [dead.claim(), dead.claim()]
    assert None not in held and server.llen(KEYS.pending) == 1
    assert not alive.finished()  # the dead worker's targets are not done
    assert alive.reclaim_dead() == 0  # its heartbeat still lives

    dead.stop_heartbeat()
    wait_for(lambda: not server.exists(KEYS.alive("dead")), "the heartbeat to expire", 10)
    assert alive.reclaim_dead() == 2
    assert server.smembers(KEYS.workers) == {"alive"}
    retried = [alive.claim() for _ in range(3)]
    assert sorted(retried[:2]) == sorted(held)  # retried first, from the front of the queue

    # The "dead" worker was only slow: it finishes one of them after all, and so does
    # the worker that took it over. One row.
    seq, target = target_from_payload(held[0])
    dead.complete(held[0], seq, {"key": target.key, "by": "dead"})
    for payload in retried:
        seq, target = target_from_payload(payload)
        assert not alive.finished()
        alive.complete(payload, seq, {"key": target.key, "by": "alive"})
    assert server.hlen(KEYS.results) == 3
    assert alive.finished()
    assert alive.leave() == 0


def test_enqueue_accounts_for_every_line_and_later_lists_join_the_crawl(
        redis_url: str, tmp_path: Path) -> None:
    from crawler.distributed import KEYS, connect, crawl_state, stored_results

    first = tmp_path / "first.txt"
    first.write_text("a.example.cn\nnot a host\n# comment\nA.EXAMPLE.CN.\nb.example.cn\n", "utf-8")
    run = _cli("enqueue", str(first), "--redis", redis_url)
    assert (run.returncode, run.stdout) == (
        0, "2 sites queued, 1 rejected lines, 1 duplicate lines\n"), run.stderr
    second = tmp_path / "second.txt"
    second.write_text("c.example.cn\nb.example.cn\n", "utf-8")
    run = _cli("enqueue", str(second), "--redis", redis_url)
    # b.example.cn is already queued: the shared dupefilter makes it a duplicate line
    assert run.stdout == "1 sites queued, 0 rejected lines, 1 duplicate lines\n", run.stderr

    server = connect(redis_url)
    pending = [json.loads(p)["target"]["key"] for p in server.lrange(KEYS.pending, 0, -1)]
    assert pending == ["a.example.cn", "b.example.cn", "c.example.cn"]
    counts = server.hgetall(KEYS.counts)
    assert {k: int(v) for k, v in counts.items()} == {
        "lines_read": 7, "skipped": 1, "kept": 3, "merged": 2, "rejected": 1}
    state = crawl_state(server)
    assert (state.expected, state.stored, state.complete) == (4, 1, False)
    [invalid] = list(stored_results(server))  # only the rejected line has its row yet
    assert (invalid["input"], invalid["outcome"], invalid["reason"]) == (
        "not a host", "invalid_input", "whitespace")

    run = _cli("collect", "--redis", redis_url, "--out", str(tmp_path / "report"))
    assert run.returncode == 2 and "1 of 4 rows stored" in run.stderr
    assert "Traceback" not in run.stderr
    history = tmp_path / "history.sqlite"
    run = _cli("collect", "--redis", redis_url, "--out", str(tmp_path / "report"), "--partial",
               "--quiet", "--history", str(history))
    assert run.returncode == 1, run.stderr  # the invalid line is not compliant
    assert [r["input"] for r in _rows(tmp_path / "report")] == ["not a host"]
    runs = _cli("history", "--history", str(history)).stdout
    assert "partial (3 not reached)" in runs, runs  # recorded, and marked partial

    run = _cli("enqueue", "c.example.cn", "--redis", redis_url, "--reset")
    assert run.stdout.startswith("1 sites queued"), run.stderr


def test_bad_redis_or_input_is_one_line_and_status_2(redis_url: str, tmp_path: Path) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    for arguments in (("enqueue", "a.example.cn", "--redis", closed),
                      ("collect", "--redis", closed, "--out", str(tmp_path / "r")),
                      ("worker", "--redis", closed),
                      ("worker", "--redis", redis_url),  # nothing enqueued
                      ("collect", "--redis", redis_url, "--out", str(tmp_path / "r")),
                      ("enqueue", str(tmp_path / "missing.txt"), "--redis", redis_url),
                      ("enqueue", "a.example.cn", "--redis", "http://not-redis")):
        run = _cli(*arguments)
        assert run.returncode == 2, (arguments, run.stderr)
        assert run.stderr.startswith("footer-audit: ") and run.stderr.count("\n") == 1, run.stderr


GENERATED = generate_sites(300, seed=21)
FAULTS = {"www.fault-refused.cn": ("unreachable", "refused"),
          "www.fault-robots.cn": ("blocked_by_robots", "robots_txt"),
          "www.fault-binary.cn": ("not_html", "application/pdf"),
          "www.fault-delay.cn": ("ok", None)}


def _worker_holding(server: Any, pid: int) -> tuple[str, list[str]] | None:
    """The id of the worker process ``pid`` and the targets it holds, once it holds any."""
    from crawler.distributed import KEYS

    for worker in server.smembers(KEYS.workers):
        if f":{pid}:" in worker:
            held = server.lrange(KEYS.processing(worker), 0, -1)
            return (worker, held) if held else None
    return None


def test_three_workers_one_killed_one_row_per_target(redis_url: str, tmp_path: Path) -> None:
    from crawler.distributed import KEYS, connect, target_from_payload

    lines = [f"http://{site.host}/" for site in GENERATED] + list(FAULTS)
    lines += ["not a host", "ftp://files.example.cn", f"HTTP://{GENERATED[0].host.upper()}/"]
    targets = tmp_path / "targets.txt"
    targets.write_text("\n".join(lines) + "\n", "utf-8")
    server = connect(redis_url)
    assert _cli("enqueue", str(targets), "--redis", redis_url).returncode == 0

    with Farm([FAULT_SITES, *GENERATED]) as farm:
        workers = [subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "worker", "--redis", redis_url,
             "--proxy", farm.proxy_url, "--concurrency", "4", "--timeout", "5", "--lease", "2",
             "--quiet", "--log-file", str(tmp_path / f"worker{i}.log")],
            cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i in range(3)]
        try:
            victim = workers[0]

            def part_way() -> bool:
                holding = _worker_holding(server, victim.pid)
                return (server.hlen(KEYS.results) >= len(lines) // 5 and holding is not None
                        and int(server.hget(KEYS.done_by, holding[0]) or 0) > 0)

            wait_for(part_way, "the first worker to be part-way, with targets in hand")
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(30)
            held = _worker_holding(server, victim.pid)
            survivors = [w.communicate(timeout=WAIT_LIMIT) for w in workers[1:]]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                worker.communicate()
    assert held is not None, "the killed worker's targets were put back before it was dead"
    victim_id, victim_targets = held
    assert victim.returncode == -signal.SIGKILL
    for (stdout, stderr), worker in zip(survivors, workers[1:], strict=True):
        assert worker.returncode == 0, stderr
        assert "Traceback" not in stderr
    # Nothing is left claimed or registered.
    assert not server.keys(KEYS.processing("*")) and not server.scard(KEYS.workers)

    out = tmp_path / "report"
    run = _cli("collect", "--redis", redis_url, "--out", str(out), "--quiet")
    assert run.returncode == 1, run.stderr  # the fault sites are not compliant
    rows = _rows(out)
    inputs = Counter(row["input"] for row in rows)
    assert inputs == Counter(lines[:-1])  # every line once; the repeat is merged
    assert [row["line"] for row in rows] == list(range(1, len(lines)))  # in input order
    by_input = {row["input"]: row for row in rows}
    assert by_input[lines[0]]["duplicate_lines"] == [len(lines)]
    for target, (outcome, reason) in FAULTS.items():
        assert (by_input[target]["outcome"], by_input[target]["reason"]) == (outcome, reason)
    assert all(by_input[f"http://{site.host}/"]["outcome"] == "ok" for site in GENERATED)
    # What the killed worker held was crawled by the others.
    for payload in victim_targets:
        _, target = target_from_payload(payload)
        assert by_input[target.text]["fetched_at"] is not None

    # Collected twice into a history: the second run is compared with the first, and
    # --fail-on new passes since nothing got worse.
    history = tmp_path / "history.sqlite"
    statuses = []
    for name in ("first", "second"):
        run = _cli("collect", "--redis", redis_url, "--out", str(tmp_path / name), "--quiet",
                   "--history", str(history), "--fail-on", "new")
        statuses.append(run.returncode)
    assert statuses == [1, 0]  # no last run to compare the first with: any problem fails it
    since = json.loads((tmp_path / "second" / "summary.json").read_text("utf-8"))["since_last_run"]
    assert (since["run"], since["baseline_run"], since["worse"]) == (2, 1, 0)
    runs = _cli("history", "--history", str(history)).stdout
    assert runs.count("complete") == 2, runs

    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["meta"]["lines"]["kept"] == len(GENERATED) + len(FAULTS)
    assert (summary["meta"]["lines"]["merged"], summary["meta"]["lines"]["rejected"]) == (1, 2)
    done_by = summary["meta"]["workers"]
    assert sum(done_by.values()) >= len(GENERATED) + len(FAULTS)
    assert len(done_by) == 3 and done_by[victim_id] > 0
    for name in ("sites.csv", "findings.csv", "report.xlsx", "report.html"):
        assert (out / name).stat().st_size > 0
