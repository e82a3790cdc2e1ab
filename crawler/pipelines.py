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

from reports.verdict import RulesJudge
from reports.writer import write_reports


class ReportPipeline:
    """Spool every result to a temporary JSON Lines file; write the reports at the end.

    Duplicate input lines are known only once the whole list has been read, so they
    are attached to their first occurrence's row when the reports are written.
    """

    def __init__(self, out_dir: Path, meta: dict[str, Any], crawler: Crawler | None = None, *,
                 rules: Path | None = None, register: Path | None = None,
                 lang: str | None = None) -> None:
        self.out_dir = out_dir
        self.meta = dict(meta)
        self.crawler = crawler
        self.rules, self.register, self.lang = rules, register, lang
        self.spool: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReportPipeline:
        settings = crawler.settings
        out = settings.get("FOOTER_AUDIT_OUT")
        if not out:
            raise NotConfigured
        rules, register = settings.get("FOOTER_AUDIT_RULES"), settings.get("FOOTER_AUDIT_REGISTER")
        return cls(Path(out), settings.getdict("FOOTER_AUDIT_META"), crawler,
                   rules=Path(rules) if rules else None,
                   register=Path(register) if register else None,
                   lang=settings.get("FOOTER_AUDIT_LANG"))

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
        categories = spider.extractor.catalogue.categories if spider else ()
        judge, about = RulesJudge.from_files(self.rules, self.register, categories)
        started = time.monotonic()
        try:
            write_reports(self._results(duplicates), self.out_dir, {**meta, **about}, judge=judge,
                          lang=self.lang, register_rows=judge.register_rows())
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
