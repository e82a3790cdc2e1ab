"""The report pipeline: results are spooled as they come and, when the crawl ends,
the reports are written into ``FOOTER_AUDIT_OUT`` in one atomic step."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.render import screenshot_spool
from crawler.state import CrawlState
from reports.history import record_run
from reports.verdict import RulesJudge
from reports.writer import write_reports


class ReportPipeline:
    """Spool every result to a temporary JSON Lines file (with ``--state``: the state's
    rows file, which keeps earlier runs' rows); write the reports at the end, marked
    partial when targets are left without a row.

    Duplicate input lines are known only once the whole list has been read, so they
    are attached to their first occurrence's row when the reports are written.
    """

    def __init__(self, out_dir: Path, meta: dict[str, Any], crawler: Crawler | None = None, *,
                 rules: Path | None = None, register: Path | None = None,
                 lang: str | None = None, history: Path | None = None) -> None:
        self.out_dir = out_dir
        self.meta = dict(meta)
        self.crawler = crawler
        self.rules, self.register, self.lang = rules, register, lang
        self.history = history  # the SQLite history file (--history), or None
        self.spool: IO[str] | None = None
        self.state: CrawlState | None = None
        self.rows = 0  # rows in the spool

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReportPipeline:
        settings = crawler.settings
        out = settings.get("FOOTER_AUDIT_OUT")
        if not out:
            raise NotConfigured
        rules, register = settings.get("FOOTER_AUDIT_RULES"), settings.get("FOOTER_AUDIT_REGISTER")
        history = settings.get("FOOTER_AUDIT_HISTORY")
        return cls(Path(out), settings.getdict("FOOTER_AUDIT_META"), crawler,
                   rules=Path(rules) if rules else None,
                   register=Path(register) if register else None,
                   lang=settings.get("FOOTER_AUDIT_LANG"),
                   history=Path(history) if history else None)

    def open_spider(self) -> None:
        spider = self.crawler.spider if self.crawler else None
        self.state = getattr(spider, "crawl_state", None)
        if self.state is None:
            self.meta.setdefault("started_at", _now())
            self.spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed below)
            self.rows = 0
        else:  # a resumable crawl: the rows of earlier runs are kept, new ones added
            self.state.begin_run()
            self.meta.update(started_at=self.state.started_at, runs=self.state.runs)
            self.spool = self.state.rows()
            self.rows = spider.done.rows

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        assert self.spool is not None
        self.spool.write(json.dumps(item, ensure_ascii=False) + "\n")
        self.rows += 1
        return item

    def close_spider(self) -> None:
        assert self.spool is not None
        spider = self.crawler.spider if self.crawler else None
        if spider is not None:
            spider.finish_reading()
        duplicates: dict[str, list[int]] = getattr(spider, "duplicates", {})
        counts = getattr(spider, "counts", None)
        # Targets without a row: a crawl stopped early (Ctrl-C, SIGTERM) reports them.
        remaining = counts.kept + counts.rejected - self.rows if counts is not None else 0
        reason = self.crawler.stats.get_value("finish_reason") if self.crawler and self.crawler.stats else None
        meta = {
            **self.meta,
            "finished_at": _now(),
            "finish_reason": reason,
            "catalogue_version": getattr(getattr(spider, "extractor", None), "catalogue", None)
            and spider.extractor.catalogue.version,
            "lines": vars(counts) if counts is not None else None,
            "partial": remaining > 0,
            "remaining": remaining,
        }
        categories = spider.extractor.catalogue.categories if spider else ()
        judge, about = RulesJudge.from_files(self.rules, self.register, categories)
        started = time.monotonic()
        # with --state the screenshots stay in the state, for the runs that follow
        kept = self.state.directory if self.state is not None else None
        screenshots = screenshot_spool(self.out_dir, kept)
        try:
            with record_run(self.history, {**meta, **about}) as run:  # history off: None
                write_reports(self._results(duplicates), self.out_dir, {**meta, **about},
                              judge=judge, lang=self.lang, register_rows=judge.register_rows(),
                              history=run, screenshots=screenshots,
                              keep_screenshots=kept is not None)
        finally:
            self.spool.close()
            if kept is None:
                shutil.rmtree(screenshots, ignore_errors=True)  # when not moved in
        if self.state is not None:
            self.state.end_run(complete=remaining == 0)
        if self.crawler and self.crawler.stats:
            self.crawler.stats.set_value("footer_audit/report_seconds", time.monotonic() - started)

    def _results(self, duplicates: dict[str, list[int]]) -> Iterator[dict[str, Any]]:
        assert self.spool is not None
        self.spool.seek(0)
        for line in self.spool:
            result = json.loads(line)
            result["duplicate_lines"] = duplicates.get(result.get("key") or "", [])
            yield result


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
