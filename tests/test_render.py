"""``crawl --render``: script-built footers read in real headless Chromium.

The heuristic that picks the sites to render is tested on its own; then the real
``footer-audit crawl`` runs over the farm's script-built sites (tests/farm/sites/
render.toml) through the farm's proxy in each mode, with the system's Chromium. The
browser tests are skipped, with the reason, when Chromium or scrapy-playwright is
missing (``make test`` installs both).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.render import find_browser, script_built_signs
from tests.farm import Farm, Site, generate_sites, load_sites
from tests.servers import REDIS_SERVER

RENDER_SITES = Path(__file__).parent / "farm" / "sites" / "render.toml"
SITES = [site for site in load_sites(RENDER_SITES) if site.expect]
# Seconds: the never-loading site costs TIMEOUT per crawl that renders it, and a page
# showing no number costs WAIT; both leave room for a busy machine.
TIMEOUT, WAIT = "20", "10"


def _browser_missing() -> str | None:
    try:
        import scrapy_playwright  # noqa: F401
    except ImportError:
        return "scrapy-playwright is not installed (pip install '.[render]')"
    if find_browser() is None:
        return "no Chromium browser (make browser installs Debian's chromium)"
    return None


needs_browser = pytest.mark.skipif(_browser_missing() is not None,
                                   reason=_browser_missing() or "")


def _host(site: Site) -> str:
    return urlsplit(site.start_url).hostname or ""


def _target(site: Site) -> str:
    return site.aliases[0]  # a bare domain: https first, as users list them


def _home(site: Site) -> str:
    return site.page("/").render().join().decode("utf-8")


# --- the heuristic -----------------------------------------------------------------


@pytest.mark.parametrize("site", SITES, ids=_host)
def test_farm_pages_look_script_built_exactly_when_their_numbers_are_drawn_by_script(
        site: Site) -> None:
    script_built = site.expect["auto"] != "static"
    assert bool(script_built_signs(_home(site))) == script_built


@pytest.mark.parametrize("site", generate_sites(40, seed=5), ids=_host)
def test_realistic_static_pages_do_not_look_script_built(site: Site) -> None:
    page = site.page("/")
    assert script_built_signs(page.render().join().decode(page.charset, "replace")) == ()


@pytest.mark.parametrize(("html", "signs"), [
    ('<html><body><div id="root"></div><script src="/main.js"></script></body></html>',
     ("empty_root", "little_text")),
    ("<body><app-root></app-root><script src=runtime.js></script></body>",
     ("empty_root", "little_text")),
    ('<body><div id="__next"><div class="spinner"></div></div><script></script></body>',
     ("empty_root", "little_text")),
    ("<body><p>" + "公司简介" * 100 + "</p><footer></footer></body>", ("empty_footer",)),
    ("<body><p>" + "公司简介" * 100 + '</p><div id="footer"><script src="/js/footer.js">'
     "</script></div></body>", ("empty_footer", "footer_script")),
    ("<body><p>" + "公司简介" * 100 + "</p><script>document.write('<p>Copyright 2025</p>')"
     "</script></body>", ("footer_script",)),
    ("<body><p>" + "公司简介" * 100 + '</p><div class="footer">© 2025 某公司</div>'
     "<script>var _hmt = [];</script></body>", ()),
    ("<body><p>很短的页面</p></body>", ()),  # little text, but no script to draw more
    ("<body><div class='footer-clear'></div><p>" + "正文" * 200 + "</p></body>", ()),
    ("\x00\x01 not html", ()),
])
def test_script_built_signs(html: str, signs: tuple[str, ...]) -> None:
    assert script_built_signs(html) == signs


# --- real crawls in real Chromium ----------------------------------------------------


def _crawl(work: Path, farm: Farm, name: str, *options: str,
           env: dict[str, str] | None = None) -> dict[str, Any]:
    out = work / name
    run = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", *map(_target, SITES), "--out", str(out),
         "--proxy", farm.proxy_url, "--timeout", TIMEOUT, "--render-wait", WAIT, "--quiet",
         "--log-file", str(work / f"{name}.log"), *options],
        capture_output=True, text=True, timeout=600, env=env,
    )
    crawl: dict[str, Any] = {"run": run, "out": out, "log": work / f"{name}.log",
                             "requests": farm.requests}
    farm.reset()
    if (out / "results.jsonl").exists():
        lines = (out / "results.jsonl").read_text("utf-8").splitlines()
        crawl["rows"] = {row["input"]: row for row in map(json.loads, lines)}
    return crawl


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The same sites crawled with --render never, auto (with screenshots) and always."""
    work = tmp_path_factory.mktemp("render")
    with Farm(RENDER_SITES) as farm:
        return {
            "never": _crawl(work, farm, "never"),
            "auto": _crawl(work, farm, "auto", "--render", "auto", "--screenshots"),
            "always": _crawl(work, farm, "always", "--render", "always"),
        }


def _numbers(row: dict[str, Any]) -> list[str]:
    return [finding["number"] for finding in row["findings"]]


@needs_browser
@pytest.mark.parametrize("mode", ["never", "auto", "always"])
def test_every_crawl_completes_with_one_row_per_site(crawls: dict[str, Any], mode: str) -> None:
    run = crawls[mode]["run"]
    assert run.returncode == 1, run.stderr  # some sites show no number
    assert "Traceback" not in run.stderr
    assert sorted(crawls[mode]["rows"]) == sorted(map(_target, SITES))
    assert all(row["outcome"] == "ok" for row in crawls[mode]["rows"].values())


@needs_browser
def test_never_renders_none_and_static_pages_miss_the_scripted_numbers(
        crawls: dict[str, Any]) -> None:
    rows = crawls["never"]["rows"]
    for site in SITES:
        row = rows[_target(site)]
        assert (row["render"], row["render_reason"], row["render_error"]) == ("static", None, None)
        assert _numbers(row) == (site.expect["numbers"] if site.expect["auto"] == "static" else [])
    assert "playwright" not in crawls["never"]["log"].read_text("utf-8")  # no handler installed


@needs_browser
@pytest.mark.parametrize("site", SITES, ids=_host)
def test_auto_renders_only_the_script_built_sites(crawls: dict[str, Any], site: Site) -> None:
    row = crawls["auto"]["rows"][_target(site)]
    expected = site.expect["auto"]
    if expected == "static":
        assert (row["render"], row["render_reason"]) == ("static", None)
    elif expected == "timeout":
        assert (row["render"], row["render_error"]) == ("static", "timeout")
        assert row["render_reason"].startswith("script_built:")
    else:
        assert (row["render"], row["render_error"]) == ("browser", None)
        assert row["render_reason"].startswith("script_built:")
    assert _numbers(row) == site.expect["numbers"]


@needs_browser
def test_the_browser_fetches_through_the_proxy(crawls: dict[str, Any]) -> None:
    fetched = {(r.host, r.path) for r in crawls["auto"]["requests"] if r.method == "GET"}
    assert ("js-footer-now.cn", "/static/js/footer.js") in fetched
    assert ("spa-shell.cn", "/assets/app.8b27d4.js") in fetched
    assert ("static-footer.cn", "/static/js/jquery-1.12.4.min.js") not in fetched
    never = {(r.host, r.path) for r in crawls["never"]["requests"] if r.method == "GET"}
    assert not any(path.endswith(".js") for _, path in never)


@needs_browser
def test_the_browser_calls_no_google_service_through_the_proxy(crawls: dict[str, Any]) -> None:
    # Chromium asks for component and time updates and sign-in whatever its flags;
    # those calls must not leave through the audit's vantage point
    hosts = {r.host for name in ("auto", "always") for r in crawls[name]["requests"]}
    assert "js-footer-now.cn" in hosts  # the browser did fetch through the proxy
    assert not {h for h in hosts if h.endswith((".google.com", ".googleapis.com", ".gvt1.com"))}


@needs_browser
@pytest.mark.parametrize("site", SITES, ids=_host)
def test_always_renders_every_site(crawls: dict[str, Any], site: Site) -> None:
    row = crawls["always"]["rows"][_target(site)]
    assert row["render_reason"] == "always"
    if site.expect["auto"] == "timeout":
        assert (row["render"], row["render_error"]) == ("static", "timeout")
    else:
        assert (row["render"], row["render_error"]) == ("browser", None)
    assert _numbers(row) == site.expect["numbers"]
    assert row["screenshot"] is None  # not asked for


@needs_browser
@pytest.mark.skipif(REDIS_SERVER is None, reason="no redis-server (make redis installs it)")
def test_a_distributed_worker_renders_as_a_crawl_does(crawls: dict[str, Any], redis_url: str,
                                                      tmp_path: Path) -> None:
    def cli(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "crawler.cli", *arguments],
                              capture_output=True, text=True, timeout=600, check=False)

    assert cli("enqueue", *map(_target, SITES), "--redis", redis_url).returncode == 0
    with Farm(RENDER_SITES) as farm:
        worker = cli("worker", "--redis", redis_url, "--proxy", farm.proxy_url, "--timeout",
                     TIMEOUT, "--render", "always", "--render-wait", WAIT, "--quiet")
    assert worker.returncode == 0, worker.stderr[-2000:]
    assert cli("collect", "--redis", redis_url, "--out", str(tmp_path / "out"),
               "--quiet").returncode in (0, 1)
    lines = (tmp_path / "out" / "results.jsonl").read_text("utf-8").splitlines()
    rows = {row["input"]: row for row in map(json.loads, lines)}
    fields = ("render", "render_reason", "render_error")
    for site in SITES:
        expected = crawls["always"]["rows"][_target(site)]
        row = rows[_target(site)]
        assert [row[f] for f in fields] == [expected[f] for f in fields], _host(site)
        assert _numbers(row) == _numbers(expected) == site.expect["numbers"]


def test_a_worker_takes_no_screenshots_option(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "crawler.cli", "worker", "--redis",
                          "redis://127.0.0.1:9/0", "--render", "always", "--screenshots"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 2 and "--screenshots" in run.stderr


@needs_browser
def test_sites_csv_says_how_each_row_was_read(crawls: dict[str, Any]) -> None:
    with (crawls["auto"]["out"] / "sites.csv").open(encoding="utf-8-sig", newline="") as stream:
        rows = {row["input"]: row for row in csv.DictReader(stream)}
    for site in SITES:
        row = rows[_target(site)]
        assert row["render"] == ("browser" if site.expect["auto"] == "browser" else "static")
        assert row["render_error"] == ("timeout" if site.expect["auto"] == "timeout" else "")
        assert bool(row["screenshot"]) == (site.expect["auto"] == "browser")


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@needs_browser
def test_screenshots_are_pngs_in_the_report(crawls: dict[str, Any]) -> None:
    out = crawls["auto"]["out"]
    shots = {row["input"]: row["screenshot"] for row in crawls["auto"]["rows"].values()
             if row["screenshot"]}
    assert sorted(shots) == sorted(_target(s) for s in SITES if s.expect["auto"] == "browser")
    for path in shots.values():
        width, height = _png_size(out / path)
        assert width > 100 and height > 10
    assert sorted(p.name for p in (out / "screenshots").iterdir()) == \
        sorted(Path(p).name for p in shots.values())
    assert not any(out.parent.glob(".*screenshots"))  # the spool was moved in


async def _shown_images(page_path: Path, inputs: list[str]) -> dict[str, int]:
    """Open the report in Chromium, open each site's details, and return the natural
    width of its screenshot image (0: blocked or broken)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_browser(),
                                                   args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            await page.goto(page_path.as_uri())
            widths = {}
            for text in inputs:
                row = page.locator("tr.site", has_text=text)
                await row.locator("button.toggle").click()
                image = page.locator("tr.detail img.screenshot")
                await image.wait_for()
                await page.wait_for_function(
                    "() => document.querySelector('tr.detail img.screenshot').complete")
                widths[text] = await image.evaluate("(node) => node.naturalWidth")
                await row.locator("button.toggle").click()  # close the details again
            return widths
        finally:
            await browser.close()


@needs_browser
def test_a_resumed_crawl_keeps_the_screenshots_of_the_runs_before(tmp_path: Path) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    targets = [_target(site) for site in SITES if site.expect["auto"] != "timeout"]
    with Farm(RENDER_SITES) as farm:
        # one site at a time, so that a stop leaves sites not begun
        command = [sys.executable, "-m", "crawler.cli", "crawl", *targets, "--concurrency", "1",
                   "--out", str(out), "--state", str(state), "--proxy", farm.proxy_url,
                   "--timeout", TIMEOUT, "--render", "always", "--render-wait", WAIT,
                   "--screenshots", "--quiet", "--log-file", str(tmp_path / "crawl.log")]
        first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def shot_rows() -> list[str]:
            rows = (state / "results.jsonl").read_text("utf-8").splitlines() \
                if (state / "results.jsonl").exists() else []
            return [row["input"] for row in map(json.loads, rows) if row["screenshot"]]

        deadline = time.monotonic() + 120
        while not shot_rows() and time.monotonic() < deadline:
            time.sleep(0.05)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=120) == 3  # stopped: a partial report
        before = shot_rows()
        assert before
        second = subprocess.run(command, capture_output=True, text=True, timeout=600,
                                check=False)
    assert second.returncode in (0, 1), second.stderr
    rows = {row["input"]: row for row in map(json.loads, (out / "results.jsonl").read_text(
        "utf-8").splitlines())}
    assert set(rows) == set(targets)
    for name in before:  # rendered in the first run, reported after the second
        path = out / rows[name]["screenshot"]
        assert path.is_file() and _png_size(path)[0] > 0, name


@needs_browser
def test_the_html_report_shows_the_screenshots(crawls: dict[str, Any]) -> None:
    out = crawls["auto"]["out"]
    html = (out / "report.html").read_text("utf-8")
    assert "img-src 'self'" in html
    rendered = [row for row in crawls["auto"]["rows"].values() if row["screenshot"]]
    for row in rendered:
        assert f'"screenshot":"{row["screenshot"]}"' in html
    widths = asyncio.run(_shown_images(out / "report.html", [row["input"] for row in rendered]))
    assert widths == {row["input"]: _png_size(out / row["screenshot"])[0] for row in rendered}


@needs_browser
def test_a_rerun_replaces_a_report_with_screenshots(crawls: dict[str, Any]) -> None:
    with Farm(RENDER_SITES) as farm:
        target = _target(SITES[0])
        out = crawls["auto"]["out"].parent / "again"
        for _ in range(2):
            run = subprocess.run(
                [sys.executable, "-m", "crawler.cli", "crawl", target, "--out", str(out),
                 "--proxy", farm.proxy_url, "--quiet", "--render", "auto", "--screenshots"],
                capture_output=True, text=True, timeout=300)
            assert run.returncode == 0, run.stderr
        assert len(list((out / "screenshots").iterdir())) == 1


def test_a_missing_browser_stops_the_crawl_before_any_fetch(tmp_path: Path) -> None:
    env = {**os.environ, "FOOTER_AUDIT_BROWSER": str(tmp_path / "none")}
    with Farm(RENDER_SITES) as farm:
        for mode in ("auto", "always"):
            run = subprocess.run(
                [sys.executable, "-m", "crawler.cli", "crawl", _target(SITES[0]),
                 "--out", str(tmp_path / mode), "--proxy", farm.proxy_url, "--render", mode],
                capture_output=True, text=True, timeout=120, env=env)
            assert run.returncode == 2
            assert run.stderr.count("\n") == 1, run.stderr
            assert run.stderr.startswith(f"footer-audit: --render {mode}: rendering needs ")
        assert farm.requests == []
    assert not (tmp_path / "auto").exists()


def test_screenshots_need_rendering(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", "example.cn", "--out", str(tmp_path / "o"),
         "--screenshots"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr == "footer-audit: --screenshots needs --render auto or --render always\n"
