"""The ``footer-audit`` command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TextIO

from crawler.extract import Extractor, PageExtract
from crawler.history_commands import (
    add_history_commands,
    add_history_options,
    check_history_options,
    run_diff,
    run_history,
)
from crawler.redact import redact
from crawler.render import RENDER_MODES, BrowserMissing, check_rendering, playwright_settings
from crawler.state import CrawlState, StateError, crawl_fingerprint
from crawler.targets import TargetFileError, iter_targets
from patterns import CatalogueError, load_catalogue
from reports.history import HistoryError, record_run
from reports.jsonl import ResultsFileError, read_results
from reports.register import RegisterError
from reports.rules import RulesError
from reports.summary import Summary, render_summary
from reports.verdict import RulesJudge
from reports.writer import SUMMARY, ReportDirError, check_replaceable, write_reports

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
EXIT_PARTIAL = 3  # the crawl was stopped (Ctrl-C, SIGTERM) before every target was audited


class UsageError(Exception):
    """Bad arguments or unreadable input: reported in one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="footer-audit",
        description="Audit the licence and filing numbers in the footers of China-facing sites.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    extract = commands.add_parser("extract", help="extract numbers from local HTML files")
    extract.add_argument("files", nargs="+", metavar="FILE", help="HTML file, or - for standard input")
    extract.add_argument("--base-url", help="URL the pages came from (resolves relative links)")
    extract.add_argument("--format", choices=("table", "jsonl"),
                         help="output format (default: table on a terminal, else jsonl)")
    _common(extract)

    crawl = commands.add_parser("crawl", help="audit the home pages of a list of sites")
    crawl.add_argument("targets", nargs="+", metavar="TARGET",
                       help="a file of sites (text, one per line, or CSV with a domain/url "
                            "column), or a domain or URL")
    crawl.add_argument("--out", required=True, type=Path, metavar="DIR",
                       help="directory for the reports (created; an earlier report is replaced)")
    crawl.add_argument("--proxy", metavar="URL", help="fetch every site through this HTTP(S) proxy")
    crawl.add_argument("--concurrency", type=_positive, default=64, metavar="N",
                       help="sites fetched at once (default 64; one request at a time per site)")
    crawl.add_argument("--timeout", type=_positive, default=30, metavar="SECONDS",
                       help="download timeout per request (default 30)")
    crawl.add_argument("--retries", type=int, default=2, metavar="N",
                       help="retries of transient failures per request (default 2)")
    crawl.add_argument("--max-page-size", type=_positive, default=10 * 1024 * 1024, metavar="BYTES",
                       help="larger home pages are reported as too_large (default 10 MiB)")
    crawl.add_argument("--ignore-robots", action="store_true",
                       help="do not obey robots.txt (for auditing your own sites)")
    crawl.add_argument("--allow-private", action="store_true",
                       help="also fetch sites at private, loopback and link-local addresses "
                            "(for auditing internal staging sites)")
    crawl.add_argument("--contact", metavar="TEXT",
                       help="contact (URL or e-mail) added to the user agent")
    crawl.add_argument("--render", choices=RENDER_MODES, default="never",
                       help="read pages in headless Chromium too: auto = pages with no number "
                            "that look built by script, always = every page (default never)")
    crawl.add_argument("--render-wait", type=float, default=5.0, metavar="SECONDS",
                       help="how long a rendered page may take to show a licence number "
                            "(default 5)")
    crawl.add_argument("--screenshots", action="store_true",
                       help="save a PNG of each rendered footer in DIR/screenshots")
    crawl.add_argument("--log-file", type=Path, metavar="FILE", help="write Scrapy's log here")
    crawl.add_argument("--quiet", action="store_true", help="no progress line and no summary")
    crawl.add_argument("--state", type=Path, metavar="DIR",
                       help="keep the crawl's state here: a run stopped by Ctrl-C, SIGTERM or "
                            "kill continues where it stopped when the same command runs again")
    _common(crawl)

    _judging(crawl)
    add_history_options(crawl, fail_on=True)

    report = commands.add_parser("report", help="rebuild the reports from a results.jsonl")
    report.add_argument("results", type=Path, metavar="RESULTS.jsonl")
    report.add_argument("--out", required=True, type=Path, metavar="DIR")
    report.add_argument("--quiet", action="store_true", help="no summary")
    _common(report)
    _judging(report)
    add_history_options(report, fail_on=False)
    add_history_commands(commands)
    _distributed(commands, crawl)
    return parser


# Options of ``crawl`` that are about the report, not the fetching: ``worker`` takes
# every other crawl option (``collect`` the judging ones). Screenshots are kept with a
# crawl's report, which a worker does not write.
_NOT_FOR_WORKERS = frozenset({"help", "targets", "out", "state", "rules", "register", "lang",
                              "history", "fail_on", "screenshots"})


def _distributed(commands: argparse._SubParsersAction[argparse.ArgumentParser],
                 crawl: argparse.ArgumentParser) -> None:
    """``enqueue``, ``worker`` and ``collect``: one crawl shared through Redis."""
    redis_help = "the crawl's Redis, e.g. redis://queue.example.cn:6379/0"
    enqueue = commands.add_parser("enqueue", help="load targets into a distributed crawl")
    enqueue.add_argument("targets", nargs="+", metavar="TARGET", help="as for crawl")
    enqueue.add_argument("--redis", required=True, metavar="URL", help=redis_help)
    enqueue.add_argument("--reset", action="store_true",
                         help="delete the crawl already in this Redis first")
    worker = commands.add_parser("worker", help="crawl targets of a distributed crawl until "
                                                "none is left; run one or more per machine")
    worker.add_argument("--redis", required=True, metavar="URL", help=redis_help)
    worker.add_argument("--lease", type=_positive, default=15, metavar="SECONDS",
                        help="a worker silent this long is taken for dead and its targets "
                             "are crawled by the others (default 15)")
    for action in crawl._actions:
        if action.dest not in _NOT_FOR_WORKERS:
            worker._add_action(action)
    worker.set_defaults(**{action.dest: action.default for action in crawl._actions
                           if action.dest in _NOT_FOR_WORKERS - {"help"}})
    worker.set_defaults(targets=[])
    collect = commands.add_parser("collect", help="write the report of a distributed crawl")
    collect.add_argument("--redis", required=True, metavar="URL", help=redis_help)
    collect.add_argument("--out", required=True, type=Path, metavar="DIR")
    collect.add_argument("--partial", action="store_true",
                         help="report an unfinished crawl (the sites done so far)")
    collect.add_argument("--quiet", action="store_true", help="no summary")
    _common(collect)
    _judging(collect)
    add_history_options(collect, fail_on=True)


def _judging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", type=Path, metavar="FILE",
                        help="compliance rules (TOML): required categories, links, waivers")
    parser.add_argument("--register", type=Path, metavar="FILE",
                        help="the organisation's licence register (CSV)")
    parser.add_argument("--lang", choices=("en", "zh"),
                        help="CSV headers as English or Chinese labels (default: column keys); "
                             "the workbook and HTML page are in English unless zh")


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def tool_version() -> str:
    try:
        return version("footer-audit")
    except PackageNotFoundError:
        return "unknown"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patterns", action="append", type=Path, default=[], metavar="DIR",
                        help="extra directory of pattern files (a file replaces the built-in "
                             "category of the same name); may be repeated")
    parser.add_argument("--audit-year", type=int, default=None, metavar="YEAR",
                        help="year that numbers' years are judged against (default: this year)")


def _extractor(args: argparse.Namespace) -> Extractor:
    try:
        catalogue = load_catalogue(args.patterns)
    except CatalogueError as exc:
        raise UsageError(f"bad pattern file: {exc}") from exc
    year = args.audit_year or dt.datetime.now(dt.timezone.utc).year
    return Extractor(catalogue, year)


def _read(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    return Path(source).read_bytes()


def _table(source: str, page: PageExtract, out: TextIO) -> None:
    selector = page.footer.selector or "(none: end of page used)"
    out.write(f"{source}  footer: {selector}  encoding: {page.encoding}\n")
    if not page.findings:
        out.write("  no licence or filing number found\n")
    for f in page.findings:
        problems = ", ".join(f.problems + f.warnings) or "-"
        out.write(f"  {f.category:<22} {f.number:<32} {f.status:<11} link:{f.link_status:<12} "
                  f"{f.location:<7} {problems}\n")


def run_extract(args: argparse.Namespace, out: TextIO) -> int:
    extractor = _extractor(args)
    fmt = args.format or ("table" if out.isatty() else "jsonl")
    status = EXIT_OK
    for source in args.files:
        try:
            body = _read(source)
        except OSError as exc:
            status = EXIT_USAGE
            error = f"cannot read {source}: {exc.strerror or exc}"
            if fmt == "jsonl":
                out.write(json.dumps({"source": source, "error": error}, ensure_ascii=False) + "\n")
            else:
                out.write(f"{source}  error: {error}\n")
            continue
        page = extractor.extract(body, base_url=args.base_url)
        if fmt == "jsonl":
            out.write(json.dumps({"source": source, **page.to_dict()}, ensure_ascii=False) + "\n")
        else:
            _table(source, page, out)
    return status


def _count_lines(arguments: Sequence[str]) -> int:
    """Non-blank lines of the target files plus inline entries: the progress total."""
    total = 0
    for argument in arguments:
        path = Path(argument)
        if path.is_file():
            with path.open("rb") as stream:
                total += sum(1 for line in stream if line.strip() and not line.lstrip().startswith(b"#"))
        else:
            total += 1
    return total


def _exit_status(summary: dict[str, Any], fail_on: str = "any") -> int:
    """1 when a site is not compliant; with ``fail_on`` "new", only when something got
    worse since the last run (and, with no run to compare with, as for "any")."""
    since = summary.get("since_last_run")
    if fail_on == "new" and since and since.get("baseline_run") is not None:
        return EXIT_FINDINGS if since["worse"] else EXIT_OK
    verdicts = summary.get("verdicts", {})
    bad = sum(count for verdict, count in verdicts.items() if verdict != "compliant")
    return EXIT_FINDINGS if bad else EXIT_OK


def _show_summary(summary: dict[str, Any], out: TextIO) -> None:
    counts = Summary(
        sites=summary["sites"],
        **{key: Counter(summary[key]) for key in ("verdicts", "outcomes", "problems", "notices")},
    )
    out.write(render_summary(counts) + "\n")


def _add_rendering(args: argparse.Namespace, settings: Settings) -> None:
    """Settings for ``--render`` and ``--screenshots``; a missing browser is a usage
    error, found before any fetch."""
    if args.render == "never":
        if args.screenshots:
            raise UsageError("--screenshots needs --render auto or --render always")
        return
    try:
        browser = check_rendering()
    except BrowserMissing as exc:
        raise UsageError(f"--render {args.render}: {exc}") from exc
    concurrency = settings.getint("FOOTER_AUDIT_RENDER_CONCURRENCY")
    settings.setdict({"FOOTER_AUDIT_RENDER": args.render,
                      "FOOTER_AUDIT_SCREENSHOTS": args.screenshots,
                      "FOOTER_AUDIT_RENDER_WAIT": args.render_wait,
                      **playwright_settings(browser, args.proxy, args.timeout, concurrency)},
                     priority="cmdline")


def _crawl_settings(args: argparse.Namespace) -> Settings:
    """Scrapy settings from the crawl options (``crawl`` and ``worker``)."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    user_agent = f"footer-audit/{tool_version()} (licence footer compliance audit"
    user_agent += f"; +{args.contact})" if args.contact else ")"
    interactive = not args.quiet and sys.stderr.isatty()
    settings.setdict({
        "FOOTER_AUDIT_TARGETS": list(args.targets),
        "FOOTER_AUDIT_OUT": str(args.out),
        "FOOTER_AUDIT_PROXY": args.proxy,
        "FOOTER_AUDIT_PATTERNS": [str(p) for p in args.patterns],
        "FOOTER_AUDIT_YEAR": args.audit_year,
        "FOOTER_AUDIT_RULES": str(args.rules) if args.rules else None,
        "FOOTER_AUDIT_REGISTER": str(args.register) if args.register else None,
        "FOOTER_AUDIT_LANG": args.lang,
        "FOOTER_AUDIT_HISTORY": str(args.history) if args.history else None,
        "FOOTER_AUDIT_STATE": str(args.state) if args.state else None,
        "FOOTER_AUDIT_META": {
            "tool_version": tool_version(),
            "vantage": f"proxy {redact(args.proxy)}" if args.proxy else "direct",
            "targets": [redact(target) for target in args.targets],
        },
        "FOOTER_AUDIT_PROGRESS": interactive,
        "FOOTER_AUDIT_PROGRESS_TOTAL": _count_lines(args.targets) if interactive else 0,
        "EXTENSIONS": {"crawler.progress.Progress": 500},
        "USER_AGENT": user_agent,
        "CONCURRENT_REQUESTS": args.concurrency,
        "DOWNLOAD_TIMEOUT": args.timeout,
        "RETRY_TIMES": args.retries,
        "DOWNLOAD_MAXSIZE": args.max_page_size,
        "ROBOTSTXT_OBEY": not args.ignore_robots,
        "FOOTER_AUDIT_ALLOW_PRIVATE": args.allow_private,
        "LOG_LEVEL": "INFO" if args.log_file else "ERROR",
        "LOG_FILE": str(args.log_file) if args.log_file else None,
    }, priority="cmdline")
    return settings


def run_crawl(args: argparse.Namespace, out: TextIO) -> int:
    from scrapy.crawler import CrawlerProcess

    from crawler.spider import FooterSpider

    _judge(args)  # a bad pattern, rules or register file stops the run before any fetch
    try:
        check_replaceable(args.out.absolute())
        for _ in iter_targets(args.targets):
            break  # opening the sources checks every file is readable
    except (ReportDirError, TargetFileError) as exc:
        raise UsageError(str(exc)) from exc
    check_history_options(args)
    settings = _crawl_settings(args)
    _add_rendering(args, settings)
    if args.state:
        try:
            CrawlState.open(args.state, crawl_fingerprint(settings))
        except StateError as exc:
            raise UsageError(str(exc)) from exc
    summary_path = args.out / SUMMARY
    earlier = summary_path.stat().st_mtime_ns if summary_path.exists() else None
    process = CrawlerProcess(settings)
    process.crawl(FooterSpider)
    process.start()
    if not summary_path.exists() or summary_path.stat().st_mtime_ns == earlier:
        kept = f"; its state is kept in {args.state}: run the same command to continue" \
            if args.state else ""
        print(f"footer-audit: the crawl ended without writing a report{kept}", file=sys.stderr)
        return EXIT_PARTIAL if args.state else EXIT_USAGE
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    if not args.quiet:
        _show_summary(summary, out)
        out.write(f"reports written to {args.out}\n")
    if summary.get("partial"):
        again = "run the same command to continue" if args.state else \
            "run it again with --state DIR to be able to continue a stopped crawl"
        print(f"footer-audit: the crawl was stopped: the report is partial, "
              f"{summary['remaining']} targets not audited yet; {again}", file=sys.stderr)
        return EXIT_PARTIAL
    return _exit_status(summary, args.fail_on)


def _judge(args: argparse.Namespace) -> tuple[RulesJudge, dict[str, str | None]]:
    """The verdict rule from ``--rules`` and ``--register``; a bad file is a usage error."""
    categories = _extractor(args).catalogue.categories
    try:
        return RulesJudge.from_files(args.rules, args.register, categories)
    except (RulesError, RegisterError) as exc:
        raise UsageError(str(exc)) from exc


def run_report(args: argparse.Namespace, out: TextIO) -> int:
    judge, about = _judge(args)
    try:
        check_replaceable(args.out.absolute())
        meta = {"rebuilt_from": str(args.results), "tool_version": tool_version(), **about}
        with record_run(args.history, meta, keep=False) as compared:  # compared, not recorded
            written = write_reports(read_results(args.results), args.out, meta, judge=judge,
                                    lang=args.lang, register_rows=judge.register_rows(),
                                    history=compared)
    except (ReportDirError, ResultsFileError) as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"could not write the report to {args.out}: {exc.strerror or exc}; "
                         "an earlier report there is untouched") from exc
    summary = written.to_dict()
    if not args.quiet:
        _show_summary(summary, out)
    return _exit_status(summary)


def _redis(url: str) -> Any:
    from crawler.distributed import DistributedError, connect

    try:
        return connect(url)
    except DistributedError as exc:
        raise UsageError(str(exc)) from exc


def run_enqueue(args: argparse.Namespace, out: TextIO) -> int:
    from crawler.distributed import enqueue

    server = _redis(args.redis)
    try:
        counts = enqueue(server, args.targets, reset=args.reset)
    except TargetFileError as exc:
        raise UsageError(str(exc)) from exc
    out.write(f"{counts.kept} sites queued, {counts.rejected} rejected lines, "
              f"{counts.merged} duplicate lines\n")
    return EXIT_OK


def run_worker(args: argparse.Namespace, out: TextIO) -> int:
    from scrapy.crawler import CrawlerProcess

    from crawler.distributed import DistributedFooterSpider, TargetQueue, worker_id

    _extractor(args)  # a bad pattern file stops the worker before any fetch
    if not TargetQueue(_redis(args.redis), worker_id()).loaded():
        raise UsageError(f"no crawl in {redact(args.redis)}: run footer-audit enqueue first")
    settings = _crawl_settings(args)
    _add_rendering(args, settings)
    settings.setdict({
        "FOOTER_AUDIT_OUT": None,
        "FOOTER_AUDIT_REDIS": args.redis,
        "FOOTER_AUDIT_LEASE": args.lease,
        "ITEM_PIPELINES": {"crawler.distributed.RedisResultPipeline": 800},
    }, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(DistributedFooterSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    if not args.quiet:
        out.write(f"worker finished ({stats.get('finish_reason')}): "
                  f"{stats.get('item_scraped_count', 0)} sites crawled\n")
    return EXIT_OK if stats.get("finish_reason") == "finished" else EXIT_PARTIAL


def run_collect(args: argparse.Namespace, out: TextIO) -> int:
    from crawler.distributed import DistributedError, collect

    judge, about = _judge(args)
    check_history_options(args)
    server = _redis(args.redis)
    try:
        check_replaceable(args.out.absolute())
        collect(server, args.out, {"tool_version": tool_version(), **about}, judge=judge,
                lang=args.lang, register_rows=judge.register_rows(), partial=args.partial,
                history=args.history)
    except (DistributedError, ReportDirError, OSError) as exc:
        raise UsageError(str(exc)) from exc
    # as written, with what changed since the last run (--history)
    summary = json.loads((args.out / SUMMARY).read_text(encoding="utf-8"))
    if not args.quiet:
        _show_summary(summary, out)
        out.write(f"reports written to {args.out}\n")
    return _exit_status(summary, args.fail_on)


COMMANDS = {"extract": run_extract, "crawl": run_crawl, "report": run_report,
            "history": run_history, "diff": run_diff, "enqueue": run_enqueue,
            "worker": run_worker, "collect": run_collect}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of the ``footer-audit`` console script; returns the exit status."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out)
    except (UsageError, HistoryError) as exc:
        print(f"footer-audit: {redact(str(exc))}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
