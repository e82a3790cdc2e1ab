"""Extraction never fails and stays right, whatever the page.

Property tests feed arbitrary text and bytes (NUL bytes, lone surrogates, invalid
UTF-8, charsets that lie or name no text encoding) and check that a ``PageExtract``
comes back whole. Then the adversarial pages of ``bench/extract_speed.py`` (long digit
runs, keyword soup, deep nesting, 100,000 links, giant attributes, numbers in comments
and scripts, 20,000 numbers in a footer, unclosed tags) are checked for what must be
found and what must not; their speed is the benchmark's business. The hostile pages
of ``bench/adversarial.py`` (100,000 nested tags, 10 MB attributes, invalid UTF-8,
charsets that lie) must come back whole, within a Python-memory bound, and with the
footer numbers an honest copy of the page shows.
"""

from __future__ import annotations

import json
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.adversarial import NESTING, hostile_pages
from bench.extract_speed import adversarial_pages, corporate_page
from crawler.extract import MAX_FINDINGS, Extractor, Finding, PageExtract

PROPERTY_SETTINGS = settings(deadline=None, max_examples=150,
                             suppress_health_check=[HealthCheck.too_slow])
STATUSES = {"valid", "malformed", "placeholder"}
LOCATIONS = {"footer", "page", "meta", "script"}
LINK_STATUSES = {"ok", "unlinked", "not_crawlable", "wrong_link", "stale_link", "missing_code",
                 "code_mismatch", "not_required"}
FOOTER_NUMBER = "京ICP备20018813号-3"

# Pieces that pages are made of: markup that opens and closes things the extractor
# cares about, licence words, numbers whole and broken, and characters that decoders
# and parsers trip over.
PIECES = st.sampled_from([
    "<div>", "</div>", "<p>", "</p>", "<span>", "</span>", "<a href='https://beian.miit.gov.cn/'>",
    "<a href='http://[::1'>", "<a onclick='x()'>", "</a>", "<br>", "<footer>", "</footer>",
    '<div class="footer">', '<div id="ft">', "<!--", "-->", "<!-- 底部 -->", "<script>", "</script>",
    "<style>", "</style>", '<p style="display:none">', "<meta name=x content='京ICP备20018813号'>",
    "<head>", "</head>", "</body>", "<![CDATA[", "<", ">", "&", "&#", "&nbsp;", "&#x4eac;",
    "京", "ICP", "备", "ICP备", "公网安备", "B2-", "许可证", "设备", "准备", "号", "-", "Copyright ©",
    "京ICP备20018813号-3", "京公网安备11010802032137号", "粤B2-20090059", "91110000802100433B",
    "2024-05-01", "0123456789", "\x00", "\ufeff", "\u200b", "\ud800", "\uff11", "\r\n", " ",
])
PAGES = st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=40).map("".join)
CHARSETS = st.sampled_from([None, "utf-8", "gbk", "gb2312", "big5", "latin-1", "utf-16", "utf-7",
                            "base64", "idna", "undefined", "x-nonsense", "unicode_escape", ""])


def _check(page: PageExtract, length: int) -> None:
    """What every extract must look like, whatever the input."""
    assert isinstance(page, PageExtract)
    assert 0 <= page.footer.start <= page.footer.end <= length
    assert len(page.findings) <= MAX_FINDINGS
    for finding in page.findings:
        assert isinstance(finding, Finding)
        assert finding.status in STATUSES, finding
        assert finding.location in LOCATIONS, finding
        assert finding.link_status in LINK_STATUSES, finding
        assert finding.number, finding
    json.dumps(page.to_dict(), ensure_ascii=False)


@PROPERTY_SETTINGS
@given(text=PAGES)
def test_any_text_gives_an_extract(text: str, extractor: Extractor) -> None:
    _check(extractor.extract(text, base_url="https://www.example.com/a/"), len(text))


@PROPERTY_SETTINGS
@given(body=st.binary(max_size=600), charset=CHARSETS)
def test_any_bytes_give_an_extract(body: bytes, charset: str | None, extractor: Extractor) -> None:
    content_type = None if charset is None else f"text/html; charset={charset}"
    page = extractor.extract(body, content_type=content_type)
    _check(page, len(body) * 4)


@PROPERTY_SETTINGS
@given(text=PAGES, encoding=st.sampled_from(["utf-8", "gbk", "gb18030", "utf-16"]), charset=CHARSETS,
       meta=st.sampled_from(["", "<meta charset='utf-8'>", "<meta charset=gbk>", "<meta charset=base64>"]))
def test_encoded_pages_whatever_they_declare(text: str, encoding: str, charset: str | None, meta: str,
                                              extractor: Extractor) -> None:
    body = (meta + text).encode(encoding, errors="replace")
    content_type = None if charset is None else f"text/html; charset={charset}"
    _check(extractor.extract(body, content_type=content_type), len(body))


# Well-formed pages whose text holds licence words but no whole number: a number
# planted in a footer at their end must come out, whichever way the page is encoded
# and whatever it declares.
_BODY_TEXT = st.text(alphabet="版权所有设备准备ICP备号许可证公网安备京沪2024-05年月日 ：，。abc", max_size=30)
_BLOCKS = st.lists(st.tuples(st.sampled_from(["div", "p", "li", "span", "td"]), _BODY_TEXT), max_size=12)


@PROPERTY_SETTINGS
@given(blocks=_BLOCKS, encoding=st.sampled_from(["utf-8", "gbk"]),
       declared=st.sampled_from(["utf-8", "gbk", "gb2312", None]))
def test_a_footer_number_is_found_whatever_the_page_around_it(
        blocks: list[tuple[str, str]], encoding: str, declared: str | None, extractor: Extractor) -> None:
    content = "".join(f"<{tag}>{words}</{tag}>" for tag, words in blocks)
    html = (f"<html><head><title>x</title></head><body>{content}"
            f'<div class="footer"><a href="https://beian.miit.gov.cn/">{FOOTER_NUMBER}</a></div></body></html>')
    content_type = None if declared is None else f"text/html; charset={declared}"
    page = extractor.extract(html.encode(encoding), content_type=content_type)
    ours = [f for f in page.findings if f.number == FOOTER_NUMBER]
    assert [(f.status, f.location, f.link_status) for f in ours] == [("valid", "footer", "ok")], page.findings


@pytest.mark.parametrize("split", ["<span>", "<b>", "<font color=red>", "<a href='/x'>"])
def test_a_number_split_by_inline_tags_is_one_number(split: str, extractor: Extractor) -> None:
    closing = "</" + split[1:].split()[0].rstrip(">") + ">"
    html = f'<div class="footer">京ICP备{split}2001{closing}8813号-3</div>'
    assert [f.number for f in extractor.extract(html).findings] == [FOOTER_NUMBER]


# --- adversarial pages ---------------------------------------------------------------

ADVERSARIAL = adversarial_pages()


@pytest.fixture(scope="module")
def adversarial(extractor: Extractor) -> dict[str, PageExtract]:
    return {name: extractor.extract(body) for name, body in ADVERSARIAL.items()}


def test_adversarial_pages_give_whole_extracts(adversarial: dict[str, PageExtract]) -> None:
    for name, page in adversarial.items():
        _check(page, len(ADVERSARIAL[name]))


@pytest.mark.parametrize("name", [n for n in ADVERSARIAL if n != "links in the footer"])
def test_the_footer_number_survives_every_adversarial_page(name: str, adversarial: dict[str, PageExtract]) -> None:
    footer = [(f.number, f.status, f.link_status) for f in adversarial[name].findings if f.location == "footer"]
    assert (FOOTER_NUMBER, "valid", "ok") in footer, footer


def test_digit_runs_are_never_valid_numbers(adversarial: dict[str, PageExtract]) -> None:
    findings = adversarial["digit runs"].findings
    assert [f.number for f in findings if f.status == "valid"] == [FOOTER_NUMBER]
    assert {f.category for f in findings if f.status != "valid"} == {"icp_filing", "psb_filing"}


def test_keyword_soup_is_read_up_to_the_cap(adversarial: dict[str, PageExtract]) -> None:
    findings = adversarial["keywords"].findings
    assert len(findings) == MAX_FINDINGS
    assert adversarial["keywords"].notices == ("keywords_capped", "findings_capped")
    soup = [f for f in findings if f.location == "page"]
    assert {(f.number, f.status) for f in soup if f.category == "psb_filing"} == {
        ("京公网安备11010802032137号", "valid")}
    assert not any(f.number == "粤B2-2009" for f in soup)  # a cut-off licence is no number


def test_deep_nesting_is_walked_to_the_bottom(adversarial: dict[str, PageExtract]) -> None:
    assert [(f.number, f.location) for f in adversarial["nesting"].findings] == [
        ("京ICP备20018813号", "page"), (FOOTER_NUMBER, "footer")]
    assert adversarial["nesting"].notices == ()  # no bound was hit


def test_a_hundred_thousand_links_hide_nothing(adversarial: dict[str, PageExtract]) -> None:
    assert [f.number for f in adversarial["links"].findings] == [FOOTER_NUMBER]


def test_numbers_in_attributes_are_not_text(adversarial: dict[str, PageExtract]) -> None:
    findings = adversarial["attributes"].findings
    assert [(f.number, f.status) for f in findings] == [("京ICP备2001881", "malformed"), (FOOTER_NUMBER, "valid")]
    assert findings[0].link.startswith("https://beian.miit.gov.cn/?q=999")


def test_comments_hide_numbers_and_scripts_show_them(adversarial: dict[str, PageExtract]) -> None:
    findings = adversarial["comments and scripts"].findings
    assert len(findings) == MAX_FINDINGS
    assert {f.location for f in findings} == {"script", "footer"}
    assert {(f.number, f.status) for f in findings} == {("京ICP备20018813号", "valid"), (FOOTER_NUMBER, "valid")}


def test_a_footer_of_twenty_thousand_links_is_cut_at_the_cap(adversarial: dict[str, PageExtract]) -> None:
    page = adversarial["links in the footer"]
    assert not page.footer.found  # its start tag lies far before the end: the tail stands in
    assert len(page.findings) == MAX_FINDINGS
    assert page.notices == ("keywords_capped", "findings_capped")  # the footer is all keywords
    assert {f.status for f in page.findings} == {"valid"}
    linked = [f for f in page.findings if f.link is not None]
    assert len(linked) >= MAX_FINDINGS - 1  # the tail may start inside the first one's <a>
    assert all(f.link.startswith("https://beian.miit.gov.cn/") and f.link_status == "ok" for f in linked)


def test_unclosed_tags_do_not_swallow_the_footer(adversarial: dict[str, PageExtract]) -> None:
    numbers = [(f.number, f.location) for f in adversarial["unclosed tags"].findings]
    assert (FOOTER_NUMBER, "footer") in numbers


# --- hostile pages (bench/adversarial.py): bounded memory, the right numbers ------------

HOSTILE = hostile_pages()
# Python-heap peak allowed while extracting a page: generous, but a copy per tag or a
# quadratic join of a 10 MB attribute would break it (lxml's C memory is the bench's).
HEAP_PER_BYTE, HEAP_SLACK = 8, 16_000_000


@pytest.fixture(scope="module")
def hostile(extractor: Extractor) -> dict[str, tuple[PageExtract, int]]:
    """Each hostile page's extract and the Python heap's peak while it was made."""
    extracts = {}
    for name, (body, content_type) in HOSTILE.items():
        tracemalloc.start()
        try:
            page = extractor.extract(body, content_type=content_type)
            extracts[name] = (page, tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return extracts


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_page_is_extracted_in_bounded_memory(
        name: str, hostile: dict[str, tuple[PageExtract, int]]) -> None:
    body = HOSTILE[name][0]
    page, peak = hostile[name]
    _check(page, len(body))
    assert peak <= HEAP_PER_BYTE * len(body) + HEAP_SLACK, f"{peak / 1e6:.0f} MB"


def _footer_numbers(page: PageExtract) -> list[tuple[str, str]]:
    return [(f.number, f.status) for f in page.findings if f.location == "footer"]


@pytest.mark.parametrize(("name", "numbers"), [
    (f"{NESTING:,} nested tags", [("京ICP备20018813号", "page"), (FOOTER_NUMBER, "footer")]),
    ("unclosed nesting", [(FOOTER_NUMBER, "footer")]),
    ("10 MB text attribute", [(FOOTER_NUMBER, "footer")]),  # attribute values are no text
    ("10 MB link", [("京ICP备2001881", "page"), (FOOTER_NUMBER, "footer")]),
    ("10 MB unquoted attribute", [(FOOTER_NUMBER, "footer")]),
    ("keywords and digits, 1 MB", [(FOOTER_NUMBER, "footer")]),
])
def test_hostile_page_numbers(name: str, numbers: list[tuple[str, str]],
                              hostile: dict[str, tuple[PageExtract, int]]) -> None:
    assert [(f.number, f.location) for f in hostile[name][0].findings] == numbers


@pytest.mark.parametrize(("name", "seed", "charset"), [
    ("invalid UTF-8 throughout", 3, "utf-8"),  # a stray byte every 4 KB: still UTF-8
    ("GBK declared UTF-8", 10, "gbk"),
    ("UTF-8 declared GBK", 3, "utf-8"),
    ("GBK declared base64", 10, "gbk"),
    ("GBK declared ISO-8859-1", 10, "gbk"),
])
def test_pages_that_lie_about_their_charset_show_their_footer(
        name: str, seed: int, charset: str, extractor: Extractor,
        hostile: dict[str, tuple[PageExtract, int]]) -> None:
    honest = extractor.extract(corporate_page(200_000, seed)[0],
                               content_type=f"text/html; charset={charset}")
    assert len(_footer_numbers(honest)) == 3
    assert _footer_numbers(hostile[name][0]) == _footer_numbers(honest)
