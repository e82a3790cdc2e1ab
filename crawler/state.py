"""The state of a resumable crawl (``--state DIR``): the rows finished so far and
what the crawl is, so that a crawl stopped by Ctrl-C, SIGTERM or ``kill -9``
continues, with the same command, where it stopped.

DIR holds two files:

* ``results.jsonl``: every finished row, one JSON object a line, handed to the
  operating system as soon as it is known (line-buffered), so that ``kill -9`` loses
  only the sites in flight. A line cut short by a kill is dropped on the next start.
* ``state.json``: a fingerprint of the crawl (its target files by content, and the
  options that change its rows), when it started, how many runs it took and whether
  it finished. A fingerprint that differs from the new command's stops the run: the
  rows of one list must not be mixed into another's report.

Scrapy's ``JOBDIR`` is deliberately not used. Its request queue and ``spider.state``
are saved when the spider closes (the queue's index is stale after ``kill -9``), the
``start()`` generator that streams the targets is not saved at all, and requests in
flight are in no queue. Instead the targets are read again from the top and every
one whose row is here is skipped: sites that were in flight or still waiting are
fetched again, finished ones never are. Once a run writes a complete report the state
is marked finished, and the next run with the same DIR starts afresh (a nightly job).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from scrapy.settings import BaseSettings

from crawler.redact import redact
from crawler.render import kept_screenshots
from crawler.targets import Entry

STATE_FILE, ROWS_FILE = "state.json", "results.jsonl"
STATE_VERSION = 1


class StateError(ValueError):
    """The state directory cannot be used for this crawl (one-line message)."""


def crawl_fingerprint(settings: BaseSettings) -> dict[str, Any]:
    """The fingerprint of the crawl that ``settings`` describe: its targets, pattern
    directories and the options that change what a row holds."""
    return fingerprint(settings.getlist("FOOTER_AUDIT_TARGETS"),
                       settings.getlist("FOOTER_AUDIT_PATTERNS"), {
        # without its login: state.json must not hold a password
        "proxy": redact(settings.get("FOOTER_AUDIT_PROXY") or "") or None,
        "audit_year": audit_year(settings),
        "timeout": settings.getfloat("DOWNLOAD_TIMEOUT"),
        "retries": settings.getint("RETRY_TIMES"),
        "max_page_size": settings.getint("DOWNLOAD_MAXSIZE"),
        "obey_robots": settings.getbool("ROBOTSTXT_OBEY"),
        "render": settings.get("FOOTER_AUDIT_RENDER") or "never",
    })


def audit_year(settings: BaseSettings) -> int:
    """``FOOTER_AUDIT_YEAR``, or this year."""
    return settings.getint("FOOTER_AUDIT_YEAR") or dt.datetime.now(dt.UTC).year


def fingerprint(targets: Iterable[str], patterns: Iterable[str], options: dict[str, Any]
                ) -> dict[str, Any]:
    """What makes two commands the same crawl: every target argument (a file by the
    SHA-256 of its bytes; an inline entry with a login by the SHA-256 of its text, the
    login itself never stored), every pattern file by content, and ``options``.

    >>> fingerprint(["example.cn"], [], {"RETRY_TIMES": 2})
    {'targets': [['example.cn', None]], 'patterns': [], 'options': {'RETRY_TIMES': 2}}
    """
    pattern_files = sorted(
        path for directory in patterns for path in Path(directory).glob("**/*.toml"))
    return {
        "targets": [_target_identity(argument) for argument in targets],
        "patterns": [[str(path), _file_digest(path)] for path in pattern_files],
        "options": dict(options),
    }


def _target_identity(argument: str) -> list[str | None]:
    """``[argument, digest]`` as stored, with any login in ``argument`` masked.

    >>> _target_identity("http://bob:pw@example.cn/")[0]
    'http://***@example.cn/'
    """
    shown = redact(argument)
    if shown != argument:
        return [shown, hashlib.sha256(argument.encode("utf-8", "surrogatepass")).hexdigest()]
    return [argument, _file_digest(Path(argument))]


def _file_digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class DoneLines:
    """The input lines (per source) that have their row already: one bit per line.

    >>> done = DoneLines()
    >>> done.add("sites.txt", 3)
    >>> ("sites.txt", 3) in done, ("sites.txt", 4) in done, ("<arg>", 3) in done
    (True, False, False)
    """

    bitmaps: dict[str, bytearray] = field(default_factory=dict)
    rows: int = 0

    def add(self, source: str, line: int) -> None:
        bitmap = self.bitmaps.setdefault(source, bytearray())
        byte = line >> 3
        if byte >= len(bitmap):
            bitmap.extend(bytes(byte + 1 - len(bitmap)))
        bitmap[byte] |= 1 << (line & 7)
        self.rows += 1

    def __contains__(self, where: tuple[str, int]) -> bool:
        source, line = where
        bitmap = self.bitmaps.get(source)
        byte = line >> 3
        return bitmap is not None and byte < len(bitmap) and bool(bitmap[byte] >> (line & 7) & 1)

    def has(self, entry: Entry) -> bool:
        return (entry.source, entry.line) in self


class CrawlState:
    """One crawl's state directory; :meth:`open` checks it belongs to this crawl."""

    def __init__(self, directory: Path, about: dict[str, Any]) -> None:
        self.directory = directory
        self.about = about

    @property
    def rows_path(self) -> Path:
        return self.directory / ROWS_FILE

    @property
    def started_at(self) -> str:
        return str(self.about["started_at"])

    @property
    def runs(self) -> int:
        return int(self.about["runs"])

    @classmethod
    def open(cls, directory: Path, crawl: dict[str, Any]) -> CrawlState:
        """The state in ``directory`` for the crawl fingerprinted ``crawl``: created if
        absent, started afresh if its crawl finished, refused if it holds another
        crawl's unfinished state (or other files)."""
        state_file = directory / STATE_FILE
        if directory.exists() and not directory.is_dir():
            raise StateError(f"state directory {directory} is a file")
        if state_file.exists():
            try:
                about = json.loads(state_file.read_text(encoding="utf-8"))
                saved, finished = about["crawl"], about["finished"]
            except (ValueError, KeyError, TypeError) as exc:
                raise StateError(f"{state_file} is not a footer-audit crawl state ({exc})") from exc
            if not finished and saved != json.loads(json.dumps(crawl)):
                raise StateError(
                    f"state directory {directory} holds an unfinished crawl of other targets "
                    f"or options ({_difference(saved, crawl)}); run that crawl's command to "
                    "finish it, or use another (or empty) --state directory")
            if not finished:
                return cls(directory, about)
        elif directory.exists() and any(directory.iterdir()):
            raise StateError(f"state directory {directory} holds other files; "
                             "use a new or empty directory")
        directory.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(kept_screenshots(directory), ignore_errors=True)  # a finished crawl's
        state = cls(directory, {"version": STATE_VERSION, "crawl": crawl,
                                "started_at": _now(), "runs": 0, "finished": False})
        state.rows_path.write_bytes(b"")
        state._save()
        return state

    def done(self) -> DoneLines:
        """The lines whose rows are kept; a last line cut short by a kill is dropped."""
        done = DoneLines()
        with self.rows_path.open("rb+") as stream:
            good = 0
            for line in stream:
                if not line.endswith(b"\n"):
                    break
                try:
                    row = json.loads(line)
                except ValueError:
                    break
                done.add(row["source"], row["line"])
                good += len(line)
            stream.truncate(good)
        return done

    def rows(self) -> IO[str]:
        """The rows file, to append to (and read back); each line reaches the OS as it
        is written."""
        return self.rows_path.open("a+", encoding="utf-8", buffering=1)

    def begin_run(self) -> None:
        self.about["runs"] += 1
        self._save()

    def end_run(self, *, complete: bool) -> None:
        """Record how the run ended; a complete run lets the next one start afresh."""
        self.about["finished"] = complete
        self._save()

    def _save(self) -> None:
        temporary = self.directory / f".{STATE_FILE}.new"
        with temporary.open("w", encoding="utf-8") as stream:
            json.dump(self.about, stream, ensure_ascii=False, indent=2)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, self.directory / STATE_FILE)


def _difference(saved: dict[str, Any], crawl: dict[str, Any]) -> str:
    """Which part of the fingerprint changed, in a few words.

    >>> _difference({"targets": [["a.txt", "1"]], "options": {"RETRY_TIMES": 2}},
    ...             {"targets": [["a.txt", "2"]], "options": {"RETRY_TIMES": 3}})
    'the target list differs; RETRY_TIMES was 2, now 3'
    """
    notes = [f"the {name} differs" for key, name in (("targets", "target list"),
                                                     ("patterns", "pattern files"))
             if saved.get(key) != crawl.get(key)]
    old, new = saved.get("options", {}), crawl.get("options", {})
    notes += [f"{key} was {old.get(key)}, now {new.get(key)}"
              for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]
    return "; ".join(notes) or "another version of footer-audit wrote it"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
