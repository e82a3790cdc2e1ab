"""The report pipeline: results are spooled as they come and, when the crawl ends,
the reports are written into ``FOOTER_AUDIT_OUT`` in one atomic step."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from reports.writer import write_reports


class ReportPipeline:
    """Spool every result to a temporary JSON Lines file; write the reports at the end.

    Duplicate input lines are known only once the whole list has been read, so they
    are attached to their first occurrence's row when the reports are written.
    """

    def __init__(self, out_dir: Path, meta: dict[str, Any], crawler: Crawler | None = None) -> None:
        self.out_dir = out_dir
        self.meta = dict(meta)
        self.crawler = crawler
        self.spool: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReportPipeline:
        out = crawler.settings.get("FOOTER_AUDIT_OUT")
        if not out:
            raise NotConfigured
        return cls(Path(out), crawler.settings.getdict("FOOTER_AUDIT_META"), crawler)

    def open_spider(self) -> None:
        self.meta.setdefault("started_at", _now())
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed in close_spider)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        assert self.spool is not None
        self.spool.write(json.dumps(item, ensure_ascii=False) + "\n")
        return item

    def close_spider(self) -> None:
        assert self.spool is not None
        spider = self.crawler.spider if self.crawler else None
        duplicates: dict[str, list[int]] = getattr(spider, "duplicates", {})
        counts = getattr(spider, "counts", None)
        reason = self.crawler.stats.get_value("finish_reason") if self.crawler and self.crawler.stats else None
        meta = {
            **self.meta,
            "finished_at": _now(),
            "finish_reason": reason,
            "catalogue_version": getattr(getattr(spider, "extractor", None), "catalogue", None)
            and spider.extractor.catalogue.version,
            "lines": vars(counts) if counts is not None else None,
        }
        started = time.monotonic()
        try:
            write_reports(self._results(duplicates), self.out_dir, meta)
        finally:
            self.spool.close()
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
