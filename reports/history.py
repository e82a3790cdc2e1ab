"""The audit history: every run and every site's result, in one SQLite file.

``footer-audit crawl --history FILE`` records each run: its facts (start and end in
UTC, target lists, tool and pattern-catalogue versions, rules and register files with
their SHA-256, whether it was partial) and, per site, the outcome, reason, verdict,
problems, notices, waived items and every finding (category, number, status,
problems, link status, location).

A run is written in one transaction, so a reader never sees half of one and a writer
that dies (even by ``kill -9``) leaves the earlier runs as they were. The file is in
WAL mode: readers go on while a run is being written. ``PRAGMA user_version`` holds
the schema version; :data:`MIGRATIONS` brings an older file up to date when opened.

Sites are keyed by their normalised target (``key``); a rejected input line by
``invalid:`` and its text. Run ids count up and are never reused, even after pruning.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from reports.changes import ChangeReport, SiteChange, SiteState, diff_states
from reports.verdict import VERDICTS, Verdict

SCHEMA_VERSION = 1
BATCH = 2000  # sites buffered before they are inserted
LOCK_TIMEOUT = 60.0  # seconds a writer waits for another writer to finish its run
CACHE_KIB = 65536  # page cache (KiB): a large run's pages mostly stay in memory until commit

SCHEMA_V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT, finished_at TEXT, recorded_at TEXT NOT NULL,
    tool_version TEXT, catalogue_version TEXT, targets TEXT NOT NULL,
    rules_file TEXT, rules_sha256 TEXT, register_file TEXT, register_sha256 TEXT,
    partial INTEGER NOT NULL DEFAULT 0, remaining INTEGER,
    sites INTEGER NOT NULL DEFAULT 0, verdicts TEXT NOT NULL DEFAULT '{}',
    meta TEXT NOT NULL
);
CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL, site TEXT NOT NULL, input TEXT, source TEXT, line INTEGER,
    host TEXT, outcome TEXT NOT NULL, reason TEXT, verdict TEXT NOT NULL,
    problems TEXT NOT NULL, notices TEXT NOT NULL, waived TEXT NOT NULL,
    fetched_at TEXT, final_url TEXT, digest BLOB NOT NULL
);
CREATE UNIQUE INDEX sites_by_run ON sites (run_id, site);
CREATE TABLE findings (
    site_id INTEGER NOT NULL, seq INTEGER NOT NULL,
    category TEXT NOT NULL, number TEXT NOT NULL, status TEXT NOT NULL,
    problems TEXT NOT NULL, link_status TEXT, location TEXT,
    PRIMARY KEY (site_id, seq)
) WITHOUT ROWID;
"""
# version reached -> the SQL that brings the previous version there
MIGRATIONS: dict[int, str] = {1: SCHEMA_V1}

RUN_FACTS = ("started_at", "finished_at", "tool_version", "catalogue_version", "rules_file",
             "rules_sha256", "register_file", "register_sha256")
INSERT_SITE = "INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
INSERT_FINDING = "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
STATES = """
SELECT s.site, s.input, s.verdict, s.problems, f.category, f.number
FROM sites AS s LEFT JOIN findings AS f ON f.site_id = s.id
WHERE s.run_id = ? ORDER BY s.site, f.seq
"""
# Sites whose digest differs between two runs (or that are in one run only): only
# those can have changed, so only they are read back in full.
CHANGED = "CREATE TEMP TABLE changed (site TEXT PRIMARY KEY) WITHOUT ROWID"
FIND_CHANGED = """
INSERT OR IGNORE INTO temp.changed SELECT site FROM sites AS one WHERE one.run_id = ?
AND NOT EXISTS (SELECT 1 FROM sites AS other WHERE other.run_id = ? AND other.site = one.site
                AND other.digest = one.digest)
"""
CHANGED_STATES = """
SELECT s.site, s.input, s.verdict, s.problems, f.category, f.number
FROM temp.changed AS c CROSS JOIN sites AS s ON s.run_id = ? AND s.site = c.site
LEFT JOIN findings AS f ON f.site_id = s.id
ORDER BY c.site, f.seq
"""


class HistoryError(Exception):
    """The history file cannot be used (not SQLite, newer schema, unknown run...)."""


@dataclass(frozen=True)
class RunInfo:
    """One recorded run as ``footer-audit history`` lists it."""

    id: int
    started_at: str | None
    finished_at: str | None
    tool_version: str | None
    catalogue_version: str | None
    targets: list[str]
    sites: int
    verdicts: dict[str, int]
    partial: bool
    remaining: int | None


class History:
    """An open history file (created when missing). Use as a context manager."""

    def __init__(self, path: Path, *, timeout: float = LOCK_TIMEOUT,
                 cache_kib: int = CACHE_KIB) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open history file {path}: {exc}") from None
        try:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise HistoryError(f"{path} is not a usable history file: {exc}") from None
        except HistoryError:
            self._db.close()
            raise

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{self.path} was written by a newer footer-audit (history "
                               f"schema {version}; this one reads up to {SCHEMA_VERSION})")
        if version == SCHEMA_VERSION:
            return
        with self._transaction():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]  # under the lock
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {target}")

    @contextmanager
    def _transaction(self, *, commit: bool = True) -> Iterator[None]:
        """A write transaction: committed at the end (rolled back when not ``commit``),
        rolled back on any error."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT" if commit else "ROLLBACK")

    def runs(self) -> list[RunInfo]:
        """Every recorded run, oldest first."""
        rows = self._db.execute(
            "SELECT id, started_at, finished_at, tool_version, catalogue_version, targets, "
            "sites, verdicts, partial, remaining FROM runs ORDER BY id"
        ).fetchall()
        return [_run_info(row) for row in rows]

    def run(self, run_id: int) -> RunInfo:
        """One run by id; :class:`HistoryError` if there is none."""
        for run in self.runs():
            if run.id == run_id:
                return run
        raise HistoryError(f"no run {run_id} in {self.path}")

    def baseline(self, before: int | None = None) -> RunInfo | None:
        """The latest complete (not partial) run, or the latest before run ``before``."""
        complete = [run for run in self.runs() if not run.partial
                    and (before is None or run.id < before)]
        return complete[-1] if complete else None

    def states(self, run_id: int, *, changed_only: bool = False) -> Iterator[SiteState]:
        """The sites of a run as :class:`SiteState`, sorted by site id (with
        ``changed_only``, only those :meth:`compare` put in the ``changed`` table)."""
        rows = self._db.execute(CHANGED_STATES if changed_only else STATES, (run_id,))
        for (site, text, verdict, problems), group in groupby(rows, key=lambda r: r[:4]):
            numbers: dict[str, dict[str, None]] = {}
            for *_, category, number in group:
                if category is not None:
                    numbers.setdefault(category, {})[number] = None
            yield SiteState(site, text, verdict, tuple(json.loads(problems)),
                            {category: tuple(shown) for category, shown in numbers.items()})

    def diff(self, run_a: int | None = None, run_b: int | None = None) -> ChangeReport:
        """The changes from run ``run_a`` to ``run_b``. Without ``run_b``, the latest
        run; without ``run_a``, the latest complete run before ``run_b``."""
        later = self.run(run_b) if run_b is not None else _last(self.runs(), self.path)
        earlier = self.run(run_a) if run_a is not None else self.baseline(before=later.id)
        if earlier is None:
            raise HistoryError(f"{self.path} holds no earlier complete run to compare "
                               f"run {later.id} with")
        changes = self.compare(earlier.id, later.id, partial=later.partial)
        return ChangeReport(later.id, earlier.id, earlier.started_at, changes)

    def compare(self, run_a: int, run_b: int, *, partial: bool = False) -> list[SiteChange]:
        """The changes from run ``run_a`` to ``run_b`` (see :func:`diff_states`): sites
        with the same digest in both runs are equal and skipped without being read."""
        with self._snapshot():
            self._db.execute(CHANGED)
            try:
                self._db.execute(FIND_CHANGED, (run_a, run_b))
                self._db.execute(FIND_CHANGED, (run_b, run_a))
                return list(diff_states(self.states(run_a, changed_only=True),
                                        self.states(run_b, changed_only=True), partial=partial))
            finally:
                self._db.execute("DROP TABLE temp.changed")

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that see one state of the file (a prune cannot come between);
        inside a run being recorded, that run's transaction already does."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def prune(self, keep: int) -> int:
        """Keep the newest ``keep`` runs, delete the others and give back their space;
        returns how many runs were deleted."""
        with self._transaction():
            old = "(SELECT id FROM runs ORDER BY id DESC LIMIT -1 OFFSET ?)"
            deleted = self._db.execute(f"SELECT count(*) FROM {old}", (keep,)).fetchone()[0]
            self._db.execute("DELETE FROM findings WHERE site_id IN (SELECT id FROM sites "
                             f"WHERE run_id IN {old})", (keep,))
            self._db.execute(f"DELETE FROM sites WHERE run_id IN {old}", (keep,))
            self._db.execute(f"DELETE FROM runs WHERE id IN {old}", (keep,))
        if deleted:
            self._db.execute("VACUUM")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    @contextmanager
    def recording(self, meta: Mapping[str, Any], *, keep: bool = True) -> Iterator[RunRecorder]:
        """Record a run: sites go to :meth:`RunRecorder.add`; on leaving the block the
        run is committed or, with ``keep=False`` (rebuilt results compared with the
        latest run), dropped. An error inside the block rolls the whole run back."""
        with self._transaction(commit=keep):
            recorder = RunRecorder(self, self._db, meta)
            yield recorder
            recorder.finish()


class RunRecorder:
    """Receives the judged sites of one run inside its transaction."""

    def __init__(self, history: History, db: sqlite3.Connection, meta: Mapping[str, Any]) -> None:
        self._history = history
        self._db = db
        self.partial = bool(meta.get("partial"))
        remaining = meta.get("remaining")
        self.baseline = history.baseline()
        facts = [_text(meta.get(key)) for key in RUN_FACTS]
        cursor = db.execute(
            "INSERT INTO runs (started_at, finished_at, tool_version, catalogue_version, "
            "rules_file, rules_sha256, register_file, register_sha256, recorded_at, targets, "
            "partial, remaining, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
            "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, ?, ?, ?)",
            (*facts, json.dumps(list(meta.get("targets") or []), ensure_ascii=False),
             int(self.partial), remaining if isinstance(remaining, int) else None,
             json.dumps(meta, ensure_ascii=False, default=str)),
        )
        self.run_id = cursor.lastrowid
        # Site rows are numbered here (the run holds the write lock), so that findings
        # can name their site in the same batch; numbers rise, so rows are appended.
        self._last_site_id = db.execute("SELECT coalesce(max(id), 0) FROM sites").fetchone()[0]
        self._sites: list[tuple[object, ...]] = []
        self._findings: list[tuple[object, ...]] = []
        self._seen: set[str] = set()
        self._verdicts: dict[str, int] = dict.fromkeys(VERDICTS, 0)

    def add(self, result: Mapping[str, Any], verdict: Verdict) -> None:
        """Record one site's result and verdict."""
        site = self._site_id(result)
        self._last_site_id += 1
        site_id = self._last_site_id
        self._verdicts[verdict.verdict] = self._verdicts.get(verdict.verdict, 0) + 1
        self._sites.append((
            site_id, self.run_id, site, result.get("input"), result.get("source"),
            result.get("line"), result.get("host"), result["outcome"], result.get("reason"), verdict.verdict,
            _json(verdict.problems), _json(verdict.notices), _json(verdict.waived),
            result.get("fetched_at"), result.get("final_url"),
            digest(verdict.verdict, verdict.problems, result.get("findings") or ()),
        ))  # fmt: skip
        self._findings.extend(
            (site_id, seq, f["category"], f["number"], f["status"],
             _json(f.get("problems") or ()), f.get("link_status"), f.get("location"))
            for seq, f in enumerate(result.get("findings") or ())
        )
        if len(self._sites) >= BATCH:
            self._flush()

    def changes(self) -> ChangeReport:
        """This run against the latest complete run before it (``baseline`` None and
        no changes when there is none)."""
        self._flush()
        if self.baseline is None:
            return ChangeReport(self.run_id, None, None, [])
        changes = self._history.compare(self.baseline.id, self.run_id, partial=self.partial)
        return ChangeReport(self.run_id, self.baseline.id, self.baseline.started_at, changes)

    def finish(self) -> None:
        """Write the last sites and the run's counts (still inside the transaction)."""
        self._flush()
        self._db.execute("UPDATE runs SET sites = ?, verdicts = ? WHERE id = ?",
                         (sum(self._verdicts.values()), json.dumps(self._verdicts), self.run_id))

    def _site_id(self, result: Mapping[str, Any]) -> str:
        """The site's key; ``invalid:`` and the text for a rejected line; a repeat within
        the run gets `` #2``, `` #3``..."""
        base = result.get("key") or f"invalid:{result.get('input')}"
        site, repeat = base, 1
        while site in self._seen:
            repeat += 1
            site = f"{base} #{repeat}"
        self._seen.add(site)
        return site

    def _flush(self) -> None:
        self._db.executemany(INSERT_SITE, self._sites)
        self._db.executemany(INSERT_FINDING, self._findings)
        self._sites.clear()
        self._findings.clear()


def digest(verdict: str, problems: Sequence[str],
           findings: Iterable[Mapping[str, Any]]) -> bytes:
    """What a diff compares of a site, hashed: its verdict, its set of problems and its
    set of (category, number). Equal digests mean nothing to report.

    >>> a = digest("compliant", [], [{"category": "icp_filing", "number": "京ICP备1号"}] * 2)
    >>> a == digest("compliant", [], [{"category": "icp_filing", "number": "京ICP备1号"}])
    True
    >>> a == digest("compliant", [], [{"category": "icp_license", "number": "京ICP备1号"}])
    False
    """
    numbers = sorted({(f["category"], f["number"]) for f in findings})
    key = repr((verdict, sorted(set(problems)), numbers)).encode()
    return hashlib.blake2b(key, digest_size=16).digest()


def _run_info(row: tuple[Any, ...]) -> RunInfo:
    run_id, started, finished, tool, catalogue, targets, sites, verdicts, partial, remaining = row
    return RunInfo(run_id, started, finished, tool, catalogue, json.loads(targets), sites,
                   json.loads(verdicts), bool(partial), remaining)


def _last(runs: list[RunInfo], path: Path) -> RunInfo:
    if not runs:
        raise HistoryError(f"{path} holds no runs")
    return runs[-1]


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json(values: Sequence[str]) -> str:
    """A list of codes as JSON text; most are empty, so that is the fast path.

    >>> _json(()), _json(["icp_filing:missing_hao", "缺号"])
    ('[]', '["icp_filing:missing_hao","缺号"]')
    """
    return _ENCODE(list(values)) if values else "[]"


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@contextmanager
def record_run(path: Path | None, meta: Mapping[str, Any], *,
               keep: bool = True) -> Iterator[RunRecorder | None]:
    """:meth:`History.recording` on the file at ``path``; None when there is no file
    (history off), so a caller needs no branch of its own."""
    if path is None:
        yield None
        return
    with History(path) as history, history.recording(meta, keep=keep) as recorder:
        yield recorder
