"""The result record of one audited site: the dict that the report layer reads.

One record per distinct target and one per rejected input line; pure functions of
what the spider learnt, so the spider stays thin. The keys are documented in the
README ("Result fields").
"""

from __future__ import annotations

import hashlib
from typing import Any

from crawler.domains import registered_domain
from crawler.extract import PageExtract
from crawler.targets import Invalid, Target


# The render keys of a row read from the static page (see crawler.render.rendered_fields).
NOT_RENDERED = {"render_reason": None, "render_error": None, "screenshot": None}


def _entry_fields(source: str, line: int, text: str, columns: Any) -> dict[str, Any]:
    return {"input": text, "source": source, "line": line, "duplicate_lines": [],
            "extra": dict(columns)}


def _empty_fetch() -> dict[str, Any]:
    return {"final_url": None, "redirects": [], "status": None, "fetched_at": None,
            "sha256": None, "encoding": None, "render": None, **NOT_RENDERED,
            "footer": {"found": False, "selector": None, "text": ""}, "findings": [], "notices": []}


def invalid_result(record: Invalid) -> dict[str, Any]:
    """The row of an input line that names no site we can audit."""
    return {
        **_entry_fields(record.source, record.line, record.text, record.columns),
        "key": None, "host": None, "display_host": None, "registered_domain": None,
        "url": None, "attempts": [], **_empty_fetch(),
        "outcome": "invalid_input", "reason": record.reason, "message": record.message,
    }


def _target_fields(target: Target) -> dict[str, Any]:
    return {
        **_entry_fields(target.source, target.line, target.text, target.columns),
        "key": target.key, "host": target.host, "display_host": target.display_host,
        "registered_domain": registered_domain(target.host), "url": target.urls[0],
    }


def failed_result(target: Target, outcome: str, reason: str, message: str,
                  attempts: list[dict[str, str]], fetched_at: str, *,
                  status: int | None = None, final_url: str | None = None,
                  redirects: list[str] | None = None) -> dict[str, Any]:
    """The row of a site that could not be checked (or whose page is not a page)."""
    return {
        **_target_fields(target), **_empty_fetch(), "attempts": attempts,
        "fetched_at": fetched_at, "status": status, "final_url": final_url,
        "redirects": redirects or [],
        "outcome": outcome, "reason": reason, "message": message,
    }


def page_result(target: Target, *, final_url: str, redirects: list[str], status: int,
                body: bytes, page: PageExtract, encoding: str, fetched_at: str,
                attempts: list[dict[str, str]]) -> dict[str, Any]:
    """The row of a fetched home page with everything extracted from it."""
    return {
        **_target_fields(target), "attempts": attempts,
        "final_url": final_url, "redirects": redirects, "status": status,
        "fetched_at": fetched_at, "sha256": hashlib.sha256(body).hexdigest(),
        "encoding": encoding, "render": "static", **NOT_RENDERED,
        "footer": {"found": page.footer.found, "selector": page.footer.selector,
                   "text": page.footer_text},
        "findings": [f.to_dict() for f in page.findings],
        "notices": list(page.notices),  # bounds the extraction hit (findings_capped…)
        "outcome": "ok", "reason": None, "message": None,
    }
