"""Distributed crawls: several ``footer-audit worker`` processes, on any number of
machines, share one crawl through Redis.

* ``enqueue`` (:func:`enqueue`) reads the target arguments with
  :func:`crawler.targets.iter_targets`, exactly as ``crawl`` does, and loads them once:
  each site onto the shared queue, each rejected line straight into the results,
  each repeated line into the duplicates. A site is queued once across several
  ``enqueue`` runs too: scrapy-redis's shared dupefilter (``RFPDupeFilter``, one Redis
  set of request fingerprints) remembers every site queued.
* ``worker`` runs :class:`DistributedFooterSpider`, the ``footer`` spider with its
  targets taken from the queue instead of from files (:class:`TargetQueue`), and
  :class:`RedisResultPipeline`, which stores each site's row.
* ``collect`` (:func:`collect`) writes one report from the stored rows, in input
  order, with :func:`reports.writer.write_reports`.

Why not scrapy-redis's spider and scheduler (version 0.9.1, read against Scrapy
2.19): ``RedisMixin`` feeds the crawl from ``start_requests()``, which Scrapy 2.13+
no longer calls (``Spider.start()`` replaced it), so only its ``spider_idle`` hook
still pulls URLs, in batches and only when the crawl has run dry; its ``Scheduler``
passes ``spider=`` to the stats collector (a ``ScrapyDeprecationWarning`` on every
request), empties the shared queue and dupefilter when any one worker closes unless
``SCHEDULER_PERSIST`` is set, and both pop destructively, so a worker that dies loses
what it held. What is used is its Redis connection (``get_redis``) and its
dupefilter; the queue below is a reliable one.

Reliable queue: a worker claims a target by moving it atomically (``LMOVE``) from
the shared pending list to its own processing list, and removes it from there in the
same transaction that stores the site's row. Each worker refreshes a heartbeat key
that expires after ``lease`` seconds; any worker that finds a registered worker
without a heartbeat moves that worker's processing list back to the front of the
pending list. Rows are stored under the target's sequence number, so a target
crawled twice (its worker was only slow, not dead) still gives one row. A worker
stops once nothing is pending, loading or held by any worker, so the last targets of
a worker that dies near the end are still retried by the others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import json
import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import scrapy
from scrapy.crawler import Crawler
from scrapy_redis.connection import get_redis
from scrapy_redis.dupefilter import RFPDupeFilter

from crawler.redact import redact
from crawler.results import invalid_result
from crawler.spider import FooterSpider
from crawler.targets import Duplicate, Invalid, Target, TargetCounts, iter_targets
from reports.history import record_run
from reports.summary import Summary
from reports.verdict import Judge
from reports.writer import write_reports

KEY_PREFIX = "footer-audit"
LOAD_BATCH = 1000  # records sent to Redis in one transaction by enqueue
READ_BATCH = 1000  # rows read from Redis in one round trip by collect
POLL_SECONDS = 0.2  # how often an idle worker looks for work, dead peers and the end
DEFAULT_LEASE_SECONDS = 15.0


class DistributedError(Exception):
    """Redis cannot be reached, or the crawl in it is not in a state for the command."""


class CrawlKeys:
    """The Redis keys of one crawl, all under ``prefix``.

    >>> CrawlKeys().pending, CrawlKeys("audit-7").processing("host:12:ab")
    ('footer-audit:pending', 'audit-7:processing:host:12:ab')
    """

    FIXED = ("pending", "results", "duplicates", "dupefilter", "seq", "loading", "counts",
             "meta", "arguments", "workers", "done_by", "vantages")

    def __init__(self, prefix: str = KEY_PREFIX) -> None:
        self.prefix = prefix
        (self.pending, self.results, self.duplicates, self.dupefilter, self.seq, self.loading,
         self.counts, self.meta, self.arguments, self.workers, self.done_by,
         self.vantages) = (f"{prefix}:{name}" for name in self.FIXED)

    def processing(self, worker: str) -> str:
        """The targets ``worker`` has claimed and not finished."""
        return f"{self.prefix}:processing:{worker}"

    def alive(self, worker: str) -> str:
        """``worker``'s heartbeat key (expires when it stops beating)."""
        return f"{self.prefix}:alive:{worker}"

    def all(self) -> list[str]:
        """Every fixed key (the per-worker ones are found through ``workers``)."""
        return [f"{self.prefix}:{name}" for name in self.FIXED]


KEYS = CrawlKeys()


def connect(url: str) -> redis.Redis:
    """A client for the Redis at ``url`` (``redis://host:port/db``), checked with a PING."""
    try:
        server = get_redis(url=url, decode_responses=True, socket_connect_timeout=10,
                           socket_timeout=30, retry_on_timeout=True)
        server.ping()
    except (ValueError, redis.RedisError) as exc:
        raise DistributedError(f"cannot use Redis at {url}: {exc}") from exc
    return server


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- targets on the queue ------------------------------------------------------------

def target_payload(seq: int, target: Target) -> str:
    """A target as queued: its row's sequence number and every field, as JSON.

    >>> from crawler.targets import normalise_entry
    >>> target = normalise_entry("Example.CN")
    >>> target_from_payload(target_payload(7, target)) == (7, target)
    True
    """
    fields = {field.name: getattr(target, field.name) for field in dataclasses.fields(Target)}
    fields["columns"] = dict(target.columns)
    return json.dumps({"seq": seq, "target": fields}, ensure_ascii=False)


def target_from_payload(payload: str) -> tuple[int, Target]:
    data = json.loads(payload)
    fields = data["target"]
    return data["seq"], Target(**{**fields, "urls": tuple(fields["urls"])})


# --- enqueue -------------------------------------------------------------------------

def enqueue(server: redis.Redis, arguments: Sequence[str], *, reset: bool = False,
            keys: CrawlKeys = KEYS) -> TargetCounts:
    """Load the targets of ``arguments`` into the crawl; returns what was read.

    Sites already queued by an earlier ``enqueue`` of the same crawl become
    duplicate lines of their first row. ``reset`` first deletes the crawl.
    """
    if reset:
        reset_crawl(server, keys)
    counts = TargetCounts()
    dupefilter = RFPDupeFilter(server, keys.dupefilter)
    records = iter_targets(arguments, counts)  # opens every file: an unreadable one raises here
    server.incr(keys.loading)
    try:
        server.hsetnx(keys.meta, "started_at", utc_now())
        server.rpush(keys.arguments, *arguments)
        reported = TargetCounts()
        for batch in _batches(records, LOAD_BATCH):
            merged = _load_batch(server, dupefilter, batch, keys)
            counts.kept -= merged
            counts.merged += merged
            _add_counts(server, keys, counts, reported)
    finally:
        server.decr(keys.loading)
    return counts


def reset_crawl(server: redis.Redis, keys: CrawlKeys = KEYS) -> None:
    """Delete every key of the crawl."""
    workers = server.smembers(keys.workers)
    server.delete(*keys.all(), *(keys.processing(w) for w in workers),
                  *(keys.alive(w) for w in workers))


def _batches(records: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(records)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _load_batch(server: redis.Redis, dupefilter: RFPDupeFilter, batch: list[Any],
                keys: CrawlKeys) -> int:
    """Queue one batch of records; returns how many sites were already queued."""
    targets = [record for record in batch if isinstance(record, Target)]
    with server.pipeline(transaction=False) as pipe:
        for target in targets:
            request = scrapy.Request(target.urls[0])
            pipe.sadd(dupefilter.key, dupefilter.request_fingerprint(request))
        fresh = {id(t) for t, added in zip(targets, pipe.execute(), strict=True) if added}
    rows = sum(1 for r in batch if isinstance(r, Invalid) or id(r) in fresh)
    seq = server.incrby(keys.seq, rows) - rows if rows else 0
    merged = 0
    with server.pipeline(transaction=True) as pipe:
        for record in batch:
            if isinstance(record, Invalid):
                seq += 1
                row = json.dumps(invalid_result(record), ensure_ascii=False)
                pipe.hset(keys.results, str(seq), row)
            elif id(record) in fresh:
                seq += 1
                pipe.rpush(keys.pending, target_payload(seq, record))
            else:  # a repeated line, or a site queued by an earlier enqueue
                merged += isinstance(record, Target)
                pipe.rpush(keys.duplicates, json.dumps([record.key, record.line]))
        pipe.execute()
    return merged


def _add_counts(server: redis.Redis, keys: CrawlKeys, counts: TargetCounts,
                reported: TargetCounts) -> None:
    """Add what ``counts`` gained since ``reported`` to the crawl's line counts."""
    with server.pipeline(transaction=True) as pipe:
        for name, value in vars(counts).items():
            if delta := value - getattr(reported, name):
                pipe.hincrby(keys.counts, name, delta)
                setattr(reported, name, value)
        pipe.execute()


# --- the reliable queue --------------------------------------------------------------

class TargetQueue:
    """One worker's view of the shared queue: claim, complete, reclaim, finish.

    ``lease`` is how long the worker's heartbeat lives; it is refreshed three times
    per lease by a thread, so a worker counts as dead ``lease`` seconds after its
    process stops.
    """

    def __init__(self, server: redis.Redis, worker: str, *, lease: float = DEFAULT_LEASE_SECONDS,
                 keys: CrawlKeys = KEYS) -> None:
        self.server, self.worker, self.lease, self.keys = server, worker, lease, keys
        self.processing = keys.processing(worker)
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def loaded(self) -> bool:
        """Whether anything was ever enqueued in this crawl."""
        return bool(self.server.exists(self.keys.seq))

    def join(self) -> None:
        """Register the worker and start its heartbeat."""
        self._beat()
        self.server.sadd(self.keys.workers, self.worker)
        self._heartbeat = threading.Thread(target=self._beat_until_stopped, daemon=True,
                                           name=f"heartbeat {self.worker}")
        self._heartbeat.start()

    def _beat(self) -> None:
        self.server.set(self.keys.alive(self.worker), utc_now(), px=int(self.lease * 1000))

    def _beat_until_stopped(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                self._beat()
            except redis.RedisError:
                continue  # Redis away for a moment: the next beat may get through

    def claim(self) -> str | None:
        """Move the next pending target to this worker's processing list."""
        return self.server.lmove(self.keys.pending, self.processing, "LEFT", "RIGHT")

    def complete(self, payload: str, seq: int, result: Mapping[str, Any]) -> None:
        """Store a target's row and release its claim, in one transaction."""
        with self.server.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.results, str(seq), json.dumps(result, ensure_ascii=False))
            pipe.lrem(self.processing, 1, payload)
            pipe.hincrby(self.keys.done_by, self.worker, 1)
            pipe.execute()

    def reclaim_dead(self) -> int:
        """Give the claims of every worker whose heartbeat has expired back to the
        queue (to its front, so they are retried first); returns how many."""
        moved = 0
        for worker in self.server.smembers(self.keys.workers):
            if worker == self.worker or self.server.exists(self.keys.alive(worker)):
                continue
            moved += self._requeue(self.keys.processing(worker))
            self.server.srem(self.keys.workers, worker)
        return moved

    def _requeue(self, processing: str) -> int:
        moved = 0
        while self.server.lmove(processing, self.keys.pending, "RIGHT", "LEFT") is not None:
            moved += 1
        return moved

    def finished(self) -> bool:
        """Nothing is being loaded, pending, or held by any registered worker."""
        if int(self.server.get(self.keys.loading) or 0) > 0 or self.server.llen(self.keys.pending):
            return False
        return not any(self.server.llen(self.keys.processing(worker))
                       for worker in self.server.smembers(self.keys.workers))

    def stop_heartbeat(self) -> None:
        """Stop refreshing the heartbeat: ``lease`` seconds later the others take this
        worker for dead."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()

    def leave(self) -> int:
        """Stop the heartbeat, give back unfinished claims (a worker stopped early)
        and deregister; returns how many claims were given back."""
        self.stop_heartbeat()
        given_back = self._requeue(self.processing)
        self.server.srem(self.keys.workers, self.worker)
        self.server.delete(self.keys.alive(self.worker))
        return given_back


def worker_id() -> str:
    """``host:pid:random``: unique across the machines of a crawl."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


@dataclass(frozen=True)
class Lease:
    """A claimed target: its row number and the payload as claimed."""

    seq: int
    payload: str


class DistributedFooterSpider(FooterSpider):
    """The ``footer`` spider fed from the shared queue; its rows go to Redis.

    Settings: ``FOOTER_AUDIT_REDIS`` (URL), ``FOOTER_AUDIT_LEASE`` (seconds),
    ``FOOTER_AUDIT_WORKER`` (id; default :func:`worker_id`).
    """

    name = "footer-distributed"
    needs_target_args = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> DistributedFooterSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.queue = TargetQueue(connect(settings["FOOTER_AUDIT_REDIS"]),
                                   settings.get("FOOTER_AUDIT_WORKER") or worker_id(),
                                   lease=settings.getfloat("FOOTER_AUDIT_LEASE",
                                                           DEFAULT_LEASE_SECONDS))
        spider.leases = {}
        return spider

    async def start(self) -> AsyncIterator[Any]:
        queue: TargetQueue = self.queue
        engine = self.crawler.engine
        self._describe_worker()
        queue.join()
        next_reclaim = 0.0
        while True:
            if time.monotonic() >= next_reclaim:
                if moved := queue.reclaim_dead():
                    self.logger.warning("%d targets of dead workers put back in the queue", moved)
                next_reclaim = time.monotonic() + queue.lease / 2
            while engine is not None and engine.needs_backout():
                await asyncio.sleep(0.01)
            payload = queue.claim()
            if payload is None:
                if queue.finished():
                    return
                await asyncio.sleep(POLL_SECONDS)
                continue
            seq, target = target_from_payload(payload)
            self.leases[target.key] = Lease(seq, payload)
            yield self._request(target, list(target.urls), [], www_tried=False)

    def _describe_worker(self) -> None:
        """Record the worker's vantage and catalogue for the report's summary."""
        settings, server, keys = self.crawler.settings, self.queue.server, self.queue.keys
        proxy = settings.get("FOOTER_AUDIT_PROXY")
        server.sadd(keys.vantages, f"proxy {redact(proxy)}" if proxy else "direct")
        server.hsetnx(keys.meta, "catalogue_version", self.extractor.catalogue.version)

    async def closed(self, reason: str) -> None:
        given_back = self.queue.leave()
        if given_back:
            self.logger.warning("%d unfinished targets given back to the queue", given_back)
        await super().closed(reason)


class RedisResultPipeline:
    """Store each row in the crawl and release its target's claim."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisResultPipeline:
        return cls(crawler)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        spider = self.crawler.spider
        assert isinstance(spider, DistributedFooterSpider)
        lease = spider.leases.pop(item["key"])
        spider.queue.complete(lease.payload, lease.seq, item)
        return item


# --- collect -------------------------------------------------------------------------

@dataclass(frozen=True)
class CrawlState:
    """How far a crawl has got."""

    expected: int  # rows once every site is in: distinct sites + rejected lines
    stored: int
    loading: int  # enqueue runs still loading
    workers: int

    @property
    def complete(self) -> bool:
        return not self.loading and self.stored == self.expected


def crawl_state(server: redis.Redis, keys: CrawlKeys = KEYS) -> CrawlState:
    counts = server.hgetall(keys.counts)
    return CrawlState(int(counts.get("kept", 0)) + int(counts.get("rejected", 0)),
                      server.hlen(keys.results), int(server.get(keys.loading) or 0),
                      server.scard(keys.workers))


def stored_results(server: redis.Redis, keys: CrawlKeys = KEYS) -> Iterator[dict[str, Any]]:
    """Every stored row in input order, with its duplicate lines attached."""
    duplicates: dict[str, list[int]] = defaultdict(list)
    for start in itertools.count(0, READ_BATCH):
        entries = server.lrange(keys.duplicates, start, start + READ_BATCH - 1)
        for entry in entries:
            key, line = json.loads(entry)
            duplicates[key].append(line)
        if len(entries) < READ_BATCH:
            break
    last = int(server.get(keys.seq) or 0)
    for first in range(1, last + 1, READ_BATCH):
        fields = [str(seq) for seq in range(first, min(first + READ_BATCH, last + 1))]
        for row in server.hmget(keys.results, fields):
            if row is not None:
                result = json.loads(row)
                result["duplicate_lines"] = duplicates.get(result.get("key") or "", [])
                yield result


def collect(server: redis.Redis, out: Path, meta: Mapping[str, Any], *, judge: Judge,
            lang: str | None, register_rows: Iterable[Mapping[str, Any]],
            partial: bool = False, history: Path | None = None,
            keys: CrawlKeys = KEYS) -> Summary:
    """Write the crawl's reports into ``out``, recording the run in the ``history``
    file if one is given. An unfinished crawl is refused unless ``partial``."""
    state = crawl_state(server, keys)
    if not state.expected and not state.stored:
        raise DistributedError("no crawl in this Redis: run footer-audit enqueue first")
    if not state.complete and not partial:
        raise DistributedError(
            f"the crawl is not finished: {state.stored} of {state.expected} rows stored, "
            f"{state.workers} workers registered"
            + (", targets still being enqueued" if state.loading else "")
            + "; wait for the workers, or pass --partial")
    stored = server.hgetall(keys.meta)
    counts = {name: int(value) for name, value in server.hgetall(keys.counts).items()}
    summary_meta = {
        "started_at": stored.get("started_at"),
        "finished_at": utc_now(),
        "finish_reason": "finished" if state.complete else "partial",
        "catalogue_version": stored.get("catalogue_version"),
        "vantage": ", ".join(sorted(server.smembers(keys.vantages))) or None,
        "targets": server.lrange(keys.arguments, 0, -1),
        "lines": {name: counts.get(name, 0) for name in vars(TargetCounts())},
        "workers": {w: int(n) for w, n in sorted(server.hgetall(keys.done_by).items())},
        "partial": not state.complete,
        "remaining": max(0, state.expected - state.stored),
        **meta,
    }
    with record_run(history, summary_meta) as run:  # history off: None
        return write_reports(stored_results(server, keys), out, summary_meta, judge=judge,
                             lang=lang, register_rows=register_rows, history=run)
