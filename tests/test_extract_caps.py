"""The bounds of extraction are visible: a page that hits one says so.

At most ``MAX_FINDINGS`` findings are read from a page, and past ``MAX_KEYWORDS``
keywords the page outside the footer is read as one window. A page that hits either
carries a notice (``findings_capped``, ``keywords_capped``) in its extract, in the
``extract --format jsonl`` object, in the crawl's result row and in the site's
``notices`` cell of ``sites.csv``; a page that hits neither carries none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.extract import (
    FINDINGS_CAPPED,
    KEYWORDS_CAPPED,
    MAX_FINDINGS,
    MAX_KEYWORDS,
    Extractor,
    PageExtract,
)
from crawler.results import page_result
from crawler.targets import Target, iter_targets
from reports.rows import SiteLayout, site_row
from reports.verdict import judge

REPO = Path(__file__).resolve().parents[1]
FOOTER = '<div class="footer"><a href="https://beian.miit.gov.cn/">京ICP备20018813号-3</a></div>'


def _numbers(count: int) -> str:
    """``count`` distinct valid ICP numbers, one paragraph each."""
    return "".join(f"<p>京ICP备2001{serial:04d}号</p>" for serial in range(1000, 1000 + count))


def _page(body: str) -> str:
    return f"<html><body>{body}{FOOTER}</body></html>"


def test_an_ordinary_page_has_no_notices(extractor: Extractor) -> None:
    page = extractor.extract(_page("<p>关于我们</p>"))
    assert page.notices == ()
    assert page.to_dict()["notices"] == []


def test_exactly_the_cap_is_not_a_cut(extractor: Extractor) -> None:
    page = extractor.extract(_page(f'<div class="news">{_numbers(MAX_FINDINGS - 1)}</div>'))
    assert len(page.findings) == MAX_FINDINGS
    assert page.notices == ()


def test_one_number_past_the_cap_is_a_cut(extractor: Extractor) -> None:
    page = extractor.extract(_page(f'<div class="news">{_numbers(MAX_FINDINGS)}</div>'))
    assert len(page.findings) == MAX_FINDINGS
    assert page.notices == (FINDINGS_CAPPED,)
    assert ("京ICP备20018813号-3", "footer") in [(f.number, f.location) for f in page.findings]


def test_a_footer_past_the_cap_is_a_cut(extractor: Extractor) -> None:
    footer = f'<div class="footer">{_numbers(MAX_FINDINGS + 1)}</div>'
    page = extractor.extract(f"<html><body>{footer}</body></html>")
    assert len(page.findings) == MAX_FINDINGS
    assert page.notices == (FINDINGS_CAPPED,)


def test_keyword_soup_says_so(extractor: Extractor) -> None:
    soup = "<p>设备编号备1 准备2</p>" * (MAX_KEYWORDS // 2 + 1)
    page = extractor.extract(_page(soup))
    assert KEYWORDS_CAPPED in page.notices
    assert [f.number for f in page.findings if f.location == "footer"] == ["京ICP备20018813号-3"]


def test_jsonl_carries_the_notice(tmp_path: Path) -> None:
    capped, plain = tmp_path / "capped.html", tmp_path / "plain.html"
    capped.write_text(_page(_numbers(MAX_FINDINGS + 5)), encoding="utf-8")
    plain.write_text(_page(""), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "crawler.cli", "extract", str(capped), str(plain),
                             "--format", "jsonl"], capture_output=True, cwd=REPO, timeout=120)
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [line["notices"] for line in lines] == [[FINDINGS_CAPPED], []]
    assert len(lines[0]["findings"]) == MAX_FINDINGS
    assert result.returncode == 0


@pytest.fixture
def target() -> Target:
    (record,) = iter_targets(["capped.example.cn"])
    assert isinstance(record, Target)
    return record


def _row(target: Target, page: PageExtract) -> dict[str, object]:
    return page_result(target, final_url="https://capped.example.cn/", redirects=[], status=200,
                       body=b"<html></html>", page=page, encoding=page.encoding,
                       fetched_at="2026-11-29T00:00:00Z", attempts=[])


@pytest.mark.parametrize(("count", "notices"), [(3, []), (MAX_FINDINGS + 1, [FINDINGS_CAPPED])])
def test_the_result_row_and_sites_csv_show_the_notice(count: int, notices: list[str], target: Target,
                                                      extractor: Extractor) -> None:
    result = _row(target, extractor.extract(_page(_numbers(count))))
    assert result["notices"] == notices
    layout = SiteLayout()
    layout.include(result)
    verdict = judge(result)
    assert verdict.notices[:len(notices)] == tuple(notices)
    cells = dict(zip(layout.columns(), site_row(result, verdict, layout)))
    assert cells["notices"].split("; ")[:len(notices)] == notices
