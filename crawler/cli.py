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
from crawler.targets import TargetFileError, iter_targets
from patterns import CatalogueError, load_catalogue
from reports.jsonl import ResultsFileError, read_results
from reports.register import RegisterError
from reports.rules import RulesError
from reports.summary import Summary, render_summary
from reports.verdict import RulesJudge
from reports.writer import SUMMARY, ReportDirError, check_replaceable, write_reports

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


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
    crawl.add_argument("--contact", metavar="TEXT",
                       help="contact (URL or e-mail) added to the user agent")
    crawl.add_argument("--log-file", type=Path, metavar="FILE", help="write Scrapy's log here")
    crawl.add_argument("--quiet", action="store_true", help="no progress line and no summary")
    _common(crawl)

    _judging(crawl)

    report = commands.add_parser("report", help="rebuild the reports from a results.jsonl")
    report.add_argument("results", type=Path, metavar="RESULTS.jsonl")
    report.add_argument("--out", required=True, type=Path, metavar="DIR")
    report.add_argument("--quiet", action="store_true", help="no summary")
    _common(report)
    _judging(report)
    return parser


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


def _exit_status(summary: dict[str, Any]) -> int:
    verdicts = summary.get("verdicts", {})
    bad = sum(count for verdict, count in verdicts.items() if verdict != "compliant")
    return EXIT_FINDINGS if bad else EXIT_OK


def _show_summary(summary: dict[str, Any], out: TextIO) -> None:
    counts = Summary(
        sites=summary["sites"],
        **{key: Counter(summary[key]) for key in ("verdicts", "outcomes", "problems", "notices")},
    )
    out.write(render_summary(counts) + "\n")


def run_crawl(args: argparse.Namespace, out: TextIO) -> int:
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler.spider import FooterSpider

    _judge(args)  # a bad pattern, rules or register file stops the run before any fetch
    try:
        check_replaceable(args.out.absolute())
        for _ in iter_targets(args.targets):
            break  # opening the sources checks every file is readable
    except (ReportDirError, TargetFileError) as exc:
        raise UsageError(str(exc)) from exc
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
        "FOOTER_AUDIT_META": {
            "tool_version": tool_version(),
            "vantage": f"proxy {args.proxy}" if args.proxy else "direct",
            "targets": list(args.targets),
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
        "LOG_LEVEL": "INFO" if args.log_file else "ERROR",
        "LOG_FILE": str(args.log_file) if args.log_file else None,
    }, priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl(FooterSpider)
    process.start()
    summary_path = args.out / SUMMARY
    if not summary_path.exists():
        print("footer-audit: the crawl ended without writing a report", file=sys.stderr)
        return EXIT_USAGE
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    if not args.quiet:
        _show_summary(summary, out)
        out.write(f"reports written to {args.out}\n")
    return _exit_status(summary)


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
        written = write_reports(read_results(args.results), args.out, meta, judge=judge,
                                lang=args.lang, register_rows=judge.register_rows())
    except (ReportDirError, ResultsFileError, OSError) as exc:
        raise UsageError(str(exc)) from exc
    summary = written.to_dict()
    if not args.quiet:
        _show_summary(summary, out)
    return _exit_status(summary)


COMMANDS = {"extract": run_extract, "crawl": run_crawl, "report": run_report}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of the ``footer-audit`` console script; returns the exit status."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out)
    except UsageError as exc:
        print(f"footer-audit: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
