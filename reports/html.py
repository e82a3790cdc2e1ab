"""``report.html``: one self-contained page a legal team can open, keep and pass on.

Headline figures, inline SVG bar charts of the verdicts and problems, the count
tables, and a sortable, filterable table of the sites with each site's evidence and,
on a click, its details: the numbers found, the fetch attempts, the waived items.
The page loads nothing: its CSS, JavaScript and charts are inline, and its content
security policy (``default-src 'none'``, the script and style allowed by their
SHA-256) stops anything else from loading or running.

Sites control much of the text shown, so:

* text and attributes written here go through :func:`html.escape`;
* the sites reach the script as JSON in ``<script type="application/json">``, with
  ``<``, ``>`` and ``&`` written as ``\\u003c``, ``\\u003e``, ``\\u0026``
  (:func:`script_json`), and the script only ever sets ``textContent``;
* a URL becomes a link only when it is a plain ``http(s)`` URL (:func:`web_href`);
  anything else (``javascript:``, ``data:``) is shown as text;
* a footer screenshot (``--screenshots``) is shown only from a path this tool writes,
  ``screenshots/NAME.png`` beside the page (:func:`screenshot_href`), and the policy
  lets images come from the page's own origin only (``img-src 'self'``, which covers
  a page opened from disk in Chromium and one served from the same server).

The sites stream to a temporary file as they come and are copied into the page in
:meth:`HtmlReport.close`, after the headline figures that need every site counted.
The script renders the table 200 rows at a time, so 10,000 sites stay quick.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, Self, TextIO

from reports.changes import KINDS, ChangeReport, change_headers, change_label, change_row
from reports.rows import (
    BUSINESS_UNIT,
    CountTable,
    evidence,
    headers,
    heading,
    meta_rows,
)
from reports.verdict import VERDICTS, Verdict

SITE_COLUMNS = ("input", "verdict", "problems", "numbers", BUSINESS_UNIT, "evidence")
CHART_BARS = 12  # problems beyond the most frequent twelve are counted in a note
CHANGE_ROWS = 500  # changed sites listed in the "since last run" section; all in changes.csv
BAR_COLOURS = dict(zip(VERDICTS, ("#4caf50", "#e53935", "#f9a825", "#9e9e9e"), strict=True))
PROBLEM_COLOUR = "#5c6bc0"
WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)
SCREENSHOT_PATH = re.compile(r"screenshots/[a-z0-9][a-z0-9._-]{0,150}\.png")
HTML_LANG = {"en": "en", "zh": "zh-CN"}
# Words the script needs, from reports.rows.HEADINGS.
SCRIPT_WORDS = ("showing", "details", "findings", "attempts", "none")

STYLE = r"""
:root { color-scheme: light; --line: #d0d7de; --muted: #57606a; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei",
       "Noto Sans CJK SC", sans-serif; margin: 0 auto; max-width: 1400px; padding: 0 1.5rem 3rem;
       color: #1f2328; }
h1 { margin: 1.5rem 0 0.25rem; } h2 { margin: 2rem 0 0.75rem; font-size: 1.2rem; }
.run { color: var(--muted); margin: 0; }
.partial { background: #fff4e5; border: 1px solid #f9a825; padding: 0.5rem 1rem; }
.figures { display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 1.25rem 0; padding: 0; }
.figures li { list-style: none; border: 1px solid var(--line); border-radius: 6px;
              padding: 0.5rem 1rem; min-width: 9rem; }
.figures strong { display: block; font-size: 1.6rem; }
.charts { display: flex; flex-wrap: wrap; gap: 2rem; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 0.25rem; }
svg text { font-size: 12px; fill: #1f2328; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.5rem; text-align: left;
         vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.counts { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
.controls { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin-bottom: 0.5rem; }
.controls input { width: 22rem; max-width: 90vw; }
#sites { width: 100%; }
#sites thead th { position: sticky; top: 0; background: #f6f8fa; }
#sites th button { font: inherit; font-weight: 600; border: 0; background: none; padding: 0;
                   cursor: pointer; }
#sites th[aria-sort=ascending] button::after { content: " \25B2"; }
#sites th[aria-sort=descending] button::after { content: " \25BC"; }
#sites tr.site { cursor: pointer; } #sites tr.site:hover { background: #f6f8fa; }
.scroll { overflow-x: auto; }
td.input, td.verdict, td.business_unit, #sites th { white-space: nowrap; }
td.problems, td.numbers { white-space: pre-line; }
td.evidence { max-width: 28rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
button.toggle { border: 0; background: none; cursor: pointer; padding: 0 0.25rem; }
.v-compliant { background: #c6efce; color: #006100; }
.v-non_compliant { background: #ffc7ce; color: #9c0006; }
.v-unreachable { background: #ffeb9c; color: #9c5700; }
.v-invalid_input { background: #d9d9d9; color: #333; }
tr.detail > td { background: #fbfbfc; padding: 0.75rem 1rem 1rem 2rem; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.15rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.detail h3 { font-size: 1rem; margin: 1rem 0 0.25rem; }
.detail table { font-size: 13px; }
.badge { border: 1px solid var(--muted); border-radius: 3px; padding: 0 0.3rem; margin-left: 0.4rem;
         font-size: 12px; color: var(--muted); }
.evidence-full { white-space: pre-wrap; overflow-wrap: anywhere; }
img.screenshot { max-width: 100%; border: 1px solid var(--muted); }
@media print { .controls, #more, button.toggle { display: none; } }
"""

SCRIPT = r"""
"use strict";
(() => {
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const page = read("page-data");
  const sites = read("site-data");
  const words = page.words;
  const labels = page.labels;
  const columns = page.columns;
  const PAGE_SIZE = 200;
  const collator = new Intl.Collator(document.documentElement.lang, { numeric: true });
  const table = document.getElementById("sites");
  const body = table.tBodies[0];
  const filterBox = document.getElementById("filter");
  const verdictBox = document.getElementById("verdict-filter");
  const more = document.getElementById("more");
  const count = document.getElementById("count");
  const text = (value) => (Array.isArray(value) ? value.join("; ") : value == null ? "" : String(value));
  const haystacks = sites.map((site) =>
    [site.input, site.host, site.verdict, site.outcome, site.business_unit, site.evidence,
     site.problems, site.notices, site.waived, site.numbers].map(text).join("\n").toLowerCase());
  let view = [];
  let shown = 0;
  let sortKey = null;
  let sortDirection = 1;

  function element(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content != null) node.textContent = content;
    return node;
  }

  function link(url, href) {
    if (!href) return element("span", null, text(url));
    const anchor = element("a", null, url);
    anchor.href = href;
    anchor.rel = "noopener noreferrer";
    anchor.target = "_blank";
    return anchor;
  }

  function siteRow(index) {
    const site = sites[index];
    const row = element("tr", "site");
    row.dataset.index = index;
    const toggle = element("button", "toggle", "\u25B8");
    toggle.type = "button";
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-label", words.details);
    const first = element("td");
    first.append(toggle);
    row.append(first);
    for (const key of columns) {
      const value = site[key];
      const content = Array.isArray(value) ? value.join("\n") : text(value);
      const cell = element("td", key === "verdict" ? "verdict v-" + site.verdict : key, content);
      if (key === "evidence") cell.title = content;
      row.append(cell);
    }
    return row;
  }

  function grid(keys, records, render) {
    if (!records.length) return element("p", null, words.none);
    const sheet = element("table");
    const head = sheet.createTHead().insertRow();
    for (const key of keys) head.append(element("th", null, labels[key]));
    const rows = sheet.createTBody();
    for (const record of records) {
      const row = rows.insertRow();
      for (const key of keys) row.insertCell().append(render(record, key));
    }
    return sheet;
  }

  function findingCell(finding, key) {
    return key === "link" ? link(finding.link, finding.href) : text(finding[key]);
  }

  function attemptCell(attempt, key) {
    return key === "url" ? link(attempt.url, attempt.href) : text(attempt[key]);
  }

  function detailRow(site) {
    const row = element("tr", "detail");
    const cell = row.insertCell();
    cell.colSpan = columns.length + 1;
    const facts = element("dl", "facts");
    const fact = (key, node) => {
      facts.append(element("dt", null, labels[key] ?? key), element("dd"));
      facts.lastChild.append(node);
    };
    fact("input", site.input);
    fact("line", text(site.line));
    fact("host", text(site.host));
    fact("outcome", text(site.outcome));
    if (site.message) fact("message", site.message);
    fact("final_url", link(site.final_url, site.final_href));
    fact("http_status", text(site.http_status));
    fact("fetched_at", text(site.fetched_at));
    for (const key of ["problems", "notices"]) fact(key, text(site[key]) || words.none);
    const waived = element("span");
    for (const code of site.waived) {
      waived.append(element("span", "waived", code), element("span", "badge", labels.waived), " ");
    }
    fact("waived", site.waived.length ? waived : words.none);
    fact("footer_selector", text(site.footer_selector));
    if (site.render) {
      const why = [site.render_reason, site.render_error].filter(Boolean).join(", ");
      fact("render", site.render + (why ? " (" + why + ")" : ""));
    }
    if (site.screenshot) {
      const image = element("img", "screenshot");
      image.src = site.screenshot;
      image.alt = labels.screenshot;
      const anchor = element("a");
      anchor.href = site.screenshot;
      anchor.target = "_blank";
      anchor.append(image);
      fact("screenshot", anchor);
    }
    for (const [key, value] of Object.entries(site.extra)) fact(key, text(value));
    cell.append(facts);
    cell.append(element("h3", null, words.findings));
    cell.append(grid(page.finding_columns, site.findings, findingCell));
    cell.append(element("h3", null, words.attempts));
    cell.append(grid(page.attempt_columns, site.attempts, attemptCell));
    cell.append(element("h3", null, labels.evidence));
    cell.append(element("p", "evidence-full", site.evidence || words.none));
    return row;
  }

  function renderMore() {
    const rows = document.createDocumentFragment();
    const end = Math.min(view.length, shown + PAGE_SIZE);
    for (; shown < end; shown++) rows.append(siteRow(view[shown]));
    body.append(rows);
    count.textContent = words.showing.replace("{shown}", shown)
      .replace("{matching}", view.length).replace("{total}", sites.length);
    more.hidden = shown >= view.length;
  }

  function update() {
    const terms = filterBox.value.toLowerCase().split(/\s+/).filter(Boolean);
    const verdict = verdictBox.value;
    view = [];
    sites.forEach((site, index) => {
      if (verdict && site.verdict !== verdict) return;
      if (terms.every((term) => haystacks[index].includes(term))) view.push(index);
    });
    if (sortKey) {
      view.sort((a, b) => sortDirection * collator.compare(text(sites[a][sortKey]),
                                                          text(sites[b][sortKey])));
    }
    body.replaceChildren();
    shown = 0;
    renderMore();
  }

  for (const button of table.tHead.querySelectorAll("button[data-key]")) {
    button.addEventListener("click", () => {
      sortDirection = button.dataset.key === sortKey ? -sortDirection : 1;
      sortKey = button.dataset.key;
      for (const header of table.tHead.rows[0].cells) header.removeAttribute("aria-sort");
      button.parentElement.setAttribute("aria-sort", sortDirection > 0 ? "ascending" : "descending");
      update();
    });
  }
  body.addEventListener("click", (event) => {
    const row = event.target.closest("tr.site");
    if (!row || event.target.closest("a") || String(getSelection())) return;
    const toggle = row.querySelector("button.toggle");
    const open = toggle.getAttribute("aria-expanded") === "true";
    if (open) row.nextElementSibling.remove();
    else row.after(detailRow(sites[Number(row.dataset.index)]));
    toggle.setAttribute("aria-expanded", String(!open));
    toggle.textContent = open ? "\u25B8" : "\u25BE";
  });
  filterBox.addEventListener("input", update);
  verdictBox.addEventListener("change", update);
  more.addEventListener("click", renderMore);
  update();
})();
"""


def _csp_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src {_csp_source(SCRIPT)}; style-src {_csp_source(STYLE)}; "
    "img-src 'self'; base-uri 'none'; form-action 'none'"
)
# What a site's details show (the script's detailRow), by column key.
DETAIL_FACTS = (
    "input", "line", "host", "outcome", "message", "final_url", "http_status", "fetched_at",
    "problems", "notices", "waived", "footer_selector", "render", "screenshot", "evidence",
)  # fmt: skip
FINDING_DETAIL = ("category", "number", "status", "problems", "link", "link_status", "location")
ATTEMPT_DETAIL = ("url", "outcome", "reason")


class HtmlReport:
    """Write ``report.html`` to a text file object: sites as they come, the page in
    :meth:`close` (the stream stays open). Used as a context manager, it lets go of
    its temporary file even when the page is never finished.

    >>> import io
    >>> out = io.StringIO()
    >>> with HtmlReport(out) as report:
    ...     report.add_site({"input": "<b>x</b>.cn", "line": 1, "outcome": "invalid_input",
    ...                      "reason": "invalid_host", "findings": [], "footer": {"text": ""},
    ...                      "extra": {}}, Verdict("invalid_input", ("invalid_input:invalid_host",)))
    ...     report.close({}, [CountTable("by_verdict", ("verdict", "sites", "share"),
    ...                                  [("invalid_input", 1, 1.0)])])
    >>> "<b>x</b>" in out.getvalue(), "\\\\u003cb\\\\u003ex\\\\u003c/b\\\\u003e.cn" in out.getvalue()
    (False, True)
    """

    def __init__(self, stream: TextIO, lang: str = "en") -> None:
        self._stream = stream
        self._lang = lang
        # Closed by close(), or on leaving the with block when close() is never reached.
        self._sites = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._count = 0
        self._business_units = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._sites.close()

    def add_site(self, result: Mapping[str, Any], verdict: Verdict) -> None:
        record = site_record(result, verdict)
        self._business_units |= record[BUSINESS_UNIT] is not None
        self._sites.write(",\n" if self._count else "\n")
        self._sites.write(script_json(record))
        self._count += 1

    def close(self, meta: Mapping[str, Any], tables: Sequence[CountTable],
              changes: ChangeReport | None = None) -> None:
        """Write the page: ``meta`` as the run facts, ``tables`` as figures, charts
        and tables, ``changes`` (history on) as a "since last run" section, then the
        sites; and let go of the temporary file."""
        lang, out = self._lang, self._stream
        columns = [c for c in SITE_COLUMNS if c != BUSINESS_UNIT or self._business_units]
        by_title = {table.title: table for table in tables}
        verdicts = by_title["by_verdict"]
        title = escape(heading("title", lang))
        out.write(
            f'<!DOCTYPE html>\n<html lang="{HTML_LANG[lang]}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
            f'<meta name="referrer" content="no-referrer">\n<title>{title}</title>\n'
            f"<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{title}</h1>\n"
            f"{_run_line(meta)}{_partial_note(meta, lang)}</header>\n"
        )
        out.write(_figures(verdicts, lang))
        out.write('<section class="charts">\n')
        out.write(_bar_chart(verdicts, lang, colours=BAR_COLOURS))
        if "by_problem" in by_title:
            out.write(_bar_chart(by_title["by_problem"], lang))
        out.write("</section>\n")
        if changes is not None:
            out.write(_changes_section(changes, lang))
        out.write(_site_table(columns, verdicts, lang))
        out.write(f"<section>\n<h2>{escape(heading('audit', lang))}</h2>\n")
        out.write(_facts(meta, lang))
        out.write('</section>\n<section class="counts">\n')
        for table in tables:
            if table.title != "by_verdict":  # the figures show the verdicts
                out.write(_count_table(table, lang))
        out.write("</section>\n")
        out.write(_page_data(columns, lang))
        out.write('<script type="application/json" id="site-data">[')
        self._sites.seek(0)
        shutil.copyfileobj(self._sites, out)
        self._sites.close()
        out.write(f"\n]</script>\n<script>{SCRIPT}</script>\n</body>\n</html>\n")


def site_record(result: Mapping[str, Any], verdict: Verdict) -> dict[str, Any]:
    """What the page knows of one site: the table's cells and the details.

    >>> record = site_record({"input": "a.cn", "line": 3, "outcome": "ok", "reason": None,
    ...     "final_url": "javascript:alert(1)", "footer": {"text": "备案"}, "extra": {},
    ...     "findings": [{"category": "icp_filing", "number": "京ICP备20018813号-3",
    ...                   "status": "valid", "problems": [], "warnings": [],
    ...                   "link": "https://beian.miit.gov.cn/", "link_status": "ok",
    ...                   "location": "footer"}]}, Verdict("compliant"))
    >>> record["numbers"], record["final_href"], record["findings"][0]["href"]
    (['京ICP备20018813号-3'], None, 'https://beian.miit.gov.cn/')
    """
    reason = result.get("reason")
    extra = result["extra"]
    findings = result["findings"]
    return {
        "input": result["input"],
        "line": result["line"],
        "host": result.get("display_host") or result.get("host"),
        "verdict": verdict.verdict,
        "problems": list(verdict.problems),
        "notices": list(verdict.notices),
        "waived": list(verdict.waived),
        "outcome": f"{result['outcome']}:{reason}" if reason else result["outcome"],
        "message": result.get("message"),
        "final_url": result.get("final_url"),
        "final_href": web_href(result.get("final_url")),
        "http_status": result.get("status"),
        "fetched_at": result.get("fetched_at"),
        "numbers": list(dict.fromkeys(finding["number"] for finding in findings)),
        BUSINESS_UNIT: extra.get(BUSINESS_UNIT),
        "evidence": evidence(result["footer"]["text"]),
        "footer_selector": result["footer"].get("selector"),
        "render": result.get("render"),
        "render_reason": result.get("render_reason"),
        "render_error": result.get("render_error"),
        "screenshot": screenshot_href(result.get("screenshot")),
        "extra": {key: value for key, value in extra.items() if key != BUSINESS_UNIT},
        "findings": [
            {key: finding.get(key) for key in FINDING_DETAIL} | {"href": web_href(finding["link"])}
            for finding in findings
        ],
        "attempts": [
            {key: attempt.get(key) for key in ATTEMPT_DETAIL} | {"href": web_href(attempt["url"])}
            for attempt in result.get("attempts", [])
        ],
    }


def web_href(url: object) -> str | None:
    """``url`` when it may be a link: an ``http(s)`` URL without spaces or control
    characters; otherwise None, and the page shows it as text.

    >>> web_href("https://beian.miit.gov.cn/"), web_href("HTTP://例子.cn/a?b=1")
    ('https://beian.miit.gov.cn/', 'HTTP://例子.cn/a?b=1')
    >>> [web_href(u) for u in ("javascript:alert(1)", " https://x.cn", "https://x.cn/\\tjs", None)]
    [None, None, None, None]
    """
    return url if isinstance(url, str) and WEB_URL.fullmatch(url) else None


def screenshot_href(path: object) -> str | None:
    """``path`` when it is a screenshot this tool writes (``screenshots/NAME.png``, next
    to the page); otherwise None, and no image is shown.

    >>> screenshot_href("screenshots/a.cn-1234abcd.png")
    'screenshots/a.cn-1234abcd.png'
    >>> [screenshot_href(p) for p in ("../x.png", "/etc/x.png", "screenshots/a.svg", None)]
    [None, None, None, None]
    """
    return path if isinstance(path, str) and SCREENSHOT_PATH.fullmatch(path) else None


def script_json(value: object) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment inside it.

    >>> print(script_json({"a": "</script><!-- & 备"}))
    {"a":"\\u003c/script\\u003e\\u003c!-- \\u0026 备"}
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # str.replace three times is several times faster than str.translate here.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page_data(columns: Sequence[str], lang: str) -> str:
    keys = sorted({*columns, *FINDING_DETAIL, *ATTEMPT_DETAIL, *DETAIL_FACTS})
    page = {
        "columns": list(columns),
        "finding_columns": FINDING_DETAIL,
        "attempt_columns": ATTEMPT_DETAIL,
        "labels": dict(zip(keys, headers(keys, lang), strict=True)),
        "words": {word: heading(word, lang) for word in SCRIPT_WORDS},
    }
    return f'<script type="application/json" id="page-data">{script_json(page)}</script>\n'


def _partial_note(meta: Mapping[str, Any], lang: str) -> str:
    """A warning under the title when the crawl was stopped before every target."""
    if not meta.get("partial"):
        return ""
    note = heading("partial_report", lang).format(remaining=meta.get("remaining"))
    return f'<p class="partial" role="alert">{escape(note)}</p>\n'


def _run_line(meta: Mapping[str, Any]) -> str:
    """When the run was and from where: ``start – end · vantage``."""
    parts = [
        " – ".join(str(meta[key]) for key in ("started_at", "finished_at") if meta.get(key)),
        str(meta.get("vantage") or ""),
    ]
    line = " · ".join(part for part in parts if part)
    return f'<p class="run">{escape(line)}</p>\n' if line else ""


def _figures(verdicts: CountTable, lang: str) -> str:
    total = sum(count for _, count, _ in verdicts.rows)
    items = [f"<li>{escape(heading('sites_total', lang))}<strong>{total:,}</strong></li>"]
    for name, count, share in verdicts.rows:
        label = escape(headers([str(name)], lang)[0])
        items.append(
            f'<li class="v-{escape(str(name))}">{label}<strong>{count:,}</strong>{share:.1%}</li>'
        )
    return '<ul class="figures">\n' + "\n".join(items) + "\n</ul>\n"


def _bar_chart(table: CountTable, lang: str, colours: Mapping[str, str] | None = None) -> str:
    """A horizontal bar chart of a count table's first two columns, as inline SVG."""
    rows = table.rows[:CHART_BARS]
    label_width, bar_width, bar_height, gap = 230, 260, 18, 6
    height = len(rows) * (bar_height + gap) + gap
    most = max((count for _, count, *_ in rows), default=0) or 1
    title = escape(heading(table.title, lang))
    bars = []
    for index, (name, count, *_) in enumerate(rows):
        y = gap + index * (bar_height + gap)
        width = round(bar_width * count / most)
        colour = (colours or {}).get(str(name), PROBLEM_COLOUR)
        label = str(name) if len(str(name)) <= 34 else str(name)[:33] + "…"
        bars.append(
            f"<g><title>{escape(str(name))}: {count}</title>"
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{width}" height="{bar_height}" '
            f'fill="{colour}"/>'
            f'<text x="{label_width + width + 4}" y="{y + 13}">{count:,}</text></g>'
        )
    note = ""
    if len(table.rows) > CHART_BARS:
        more = heading("more_problems", lang).format(count=len(table.rows) - CHART_BARS)
        note = f"<p>{escape(more)}</p>"
    return (
        f"<figure>\n<figcaption>{title}</figcaption>\n"
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{title}" '
        f'width="{label_width + bar_width + 60}" height="{height}" '
        f'viewBox="0 0 {label_width + bar_width + 60} {height}">\n'
        + "\n".join(bars)
        + f"\n</svg>\n{note}</figure>\n"
    )


def _site_table(columns: Sequence[str], verdicts: CountTable, lang: str) -> str:
    options = [f'<option value="">{escape(heading("all_verdicts", lang))}</option>']
    for name, count, _ in verdicts.rows:
        value, label = escape(str(name)), escape(headers([str(name)], lang)[0])
        options.append(f'<option value="{value}">{label} ({count:,})</option>')
    header_cells = "".join(
        f'<th><button type="button" data-key="{escape(key)}">{escape(label)}</button></th>'
        for key, label in zip(columns, headers(columns, lang), strict=True)
    )
    return (
        f'<section>\n<h2>{escape(heading("site_table", lang))}</h2>\n<div class="controls">\n'
        f"<label>{escape(heading('filter', lang))} "
        f'<input id="filter" type="search" autocomplete="off"></label>\n'
        f'<select id="verdict-filter" aria-label="{escape(headers(["verdict"], lang)[0])}">'
        + "".join(options)
        + '</select>\n<span id="count" role="status"></span>\n</div>\n'
        f"<noscript><p>{escape(heading('needs_script', lang))}</p></noscript>\n"
        f'<div class="scroll">\n<table id="sites">\n<thead><tr><th></th>{header_cells}</tr></thead>\n'
        f'<tbody></tbody>\n</table>\n</div>\n<p><button id="more" type="button" hidden>'
        f"{escape(heading('show_more', lang))}</button></p>\n</section>\n"
    )


def _changes_section(report: ChangeReport, lang: str) -> str:
    """What changed since the baseline run: counts by kind, then the changed sites
    (the first :data:`CHANGE_ROWS`), every cell escaped text."""
    parts = [f"<section>\n<h2>{escape(change_label('since_last_run', lang))}</h2>\n"]
    if report.baseline is None:
        parts.append(f"<p>{escape(change_label('no_baseline', lang))}</p>\n</section>\n")
        return "".join(parts)
    compared = change_label("compared_with", lang).format(
        run=report.baseline, started=report.baseline_started or "?")
    parts.append(f'<p class="run">{escape(compared)}</p>\n<ul class="figures">\n')
    counts = report.counts()
    for key in ("changed", *KINDS):
        label = escape(change_label(key, lang))
        parts.append(f"<li>{label}<strong>{counts[key]:,}</strong></li>\n")
    parts.append("</ul>\n")
    if not report.changes:
        parts.append(f"<p>{escape(change_label('no_changes', lang))}</p>\n</section>\n")
        return "".join(parts)
    head = "".join(f"<th>{escape(label)}</th>" for label in change_headers(lang))
    parts.append(f'<div class="scroll">\n<table class="changes">\n'
                 f"<thead><tr>{head}</tr></thead>\n<tbody>\n")
    for change in report.changes[:CHANGE_ROWS]:
        cells = "".join(f"<td>{escape('' if value is None else str(value))}</td>"
                        for value in change_row(change))
        parts.append(f"<tr>{cells}</tr>\n")
    parts.append("</tbody>\n</table>\n</div>\n")
    if len(report.changes) > CHANGE_ROWS:
        more = change_label("more_changes", lang).format(count=len(report.changes) - CHANGE_ROWS)
        parts.append(f"<p>{escape(more)}</p>\n")
    parts.append("</section>\n")
    return "".join(parts)


def _facts(meta: Mapping[str, Any], lang: str) -> str:
    rows = "".join(
        f"<tr><th>{escape(headers([key], lang)[0])}</th><td>{escape(text)}</td></tr>\n"
        for key, text in meta_rows(meta)
    )
    return f'<table class="facts">\n{rows}</table>\n'


def _count_table(table: CountTable, lang: str) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for label in headers(table.columns, lang))
    body = "".join(
        "<tr>"
        + "".join(
            _count_cell(column, value) for column, value in zip(table.columns, row, strict=True)
        )
        + "</tr>\n"
        for row in table.rows
    )
    return (
        f"<table>\n<caption>{escape(heading(table.title, lang))}</caption>\n"
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n"
    )


def _count_cell(column: str, value: object) -> str:
    """One cell of a count table: a share as a percentage, a count right-aligned.

    >>> _count_cell("share", 0.125), _count_cell("sites", 1200), _count_cell("problem", "<x>")
    ('<td class="n">12.5%</td>', '<td class="n">1,200</td>', '<td>&lt;x&gt;</td>')
    """
    if column == "share":
        return f'<td class="n">{value:.1%}</td>'
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    return f"<td>{escape('' if value is None else str(value))}</td>"
