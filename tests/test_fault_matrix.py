"""The fault matrix: every way a site can fail, and the exact row each one gets.

One real ``footer-audit crawl`` through the loopback farm's proxy of one target per
fault (sites in ``tests/farm/sites/faults.toml`` and ``hostile.toml``). Each target
must get exactly its (outcome, reason), the run must finish with exit status 1 and
no traceback, and the summary's counts must add up to the rows. Where a target is
also in the end-to-end crawl's table (``tests/test_crawl_e2e.py``), both tables
must agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.farm import FAULT_SITES, Farm
from tests.farm.sites import SITES_DIR
from tests.test_crawl_e2e import FAULTS

HOSTILE_SITES = SITES_DIR / "hostile.toml"
TIMEOUT = 3  # --timeout, seconds: the black hole must not hold the run up for long

# fault -> (target, outcome, reason)
MATRIX: dict[str, tuple[str, str, str | None]] = {
    "DNS failure": ("www.fault-nxdomain.cn", "unreachable", "dns"),
    "connection refused": ("www.fault-refused.cn", "unreachable", "refused"),
    "timeout (no answer)": ("www.fault-timeout.cn", "unreachable", "timeout"),
    "slow drip": ("www.fault-drip.cn", "ok", None),
    "reset mid-body": ("www.fault-reset.cn", "unreachable", "reset"),
    "truncated gzip": ("https://www.fault-gzip.cn/truncated", "unreachable", "truncated_body"),
    "decompression bomb": ("https://www.fault-gzip.cn/bomb", "too_large", "decompressed_size"),
    "TLS failure": ("www.fault-tls.cn", "unreachable", "tls"),
    "redirect loop": ("https://www.fault-redirect.cn/loop-a", "unreachable", "redirect_loop"),
    "cross-host redirect": ("https://www.fault-redirect.cn/elsewhere", "ok", None),
    "429, Retry-After 2 s": ("https://www.fault-status.cn/busy", "ok", None),
    "429, Retry-After 1 h": ("www.fault-busy.cn", "unreachable", "http_429"),
    "503 twice, then 200": ("www.fault-status.cn", "ok", None),
    "500 every time": ("https://www.fault-status.cn/500", "unreachable", "http_500"),
    "redirect to loopback": ("https://www.hostile-redirect.cn/loopback", "blocked",
                             "private_address"),
    "private address target": ("192.168.1.1", "blocked", "private_address"),
}


def run_crawl(targets: list[str], out: Path, proxy: str | None, *options: str,
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``footer-audit crawl TARGETS --out OUT [--proxy PROXY] OPTIONS --quiet``, with
    Scrapy's log in ``OUT.log`` (without a log file its errors go to standard error)."""
    proxy_options = ["--proxy", proxy] if proxy else []
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", "crawl", *targets, "--out", str(out),
         *proxy_options, "--timeout", str(TIMEOUT), "--quiet",
         "--log-file", str(out.with_suffix(".log")), *options],
        capture_output=True, text=True, timeout=timeout, cwd=Path(__file__).parents[1])


def read_report(out: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The result rows by input, and the summary."""
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text("utf-8").splitlines()]
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    return {row["input"]: row for row in rows}, summary


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("matrix") / "report"
    targets = [target for target, _, _ in MATRIX.values()]
    with Farm([FAULT_SITES, HOSTILE_SITES]) as farm:
        run = run_crawl(targets, out, farm.proxy_url)
        served = farm.requests
    rows, summary = read_report(out)
    return {"run": run, "rows": rows, "summary": summary, "served": served}


@pytest.mark.parametrize("fault", MATRIX)
def test_fault_gets_its_exact_row(matrix: dict[str, Any], fault: str) -> None:
    target, outcome, reason = MATRIX[fault]
    row = matrix["rows"][target]
    assert (row["outcome"], row["reason"]) == (outcome, reason), row["attempts"]
    if outcome != "ok":
        assert row["findings"] == [] and row["sha256"] is None  # nothing half-read is audited


def test_the_run_completes_and_the_counts_add_up(matrix: dict[str, Any]) -> None:
    run, rows, summary = matrix["run"], matrix["rows"], matrix["summary"]
    assert run.returncode == 1, run.stderr  # some sites could not be checked
    assert "Traceback" not in run.stderr
    assert len(rows) == summary["sites"] == len(MATRIX)
    assert sum(summary["verdicts"].values()) == len(MATRIX)
    expected = Counter(f"{outcome}:{reason}" if reason else outcome
                       for _, outcome, reason in MATRIX.values())
    assert summary["outcomes"] == dict(expected)
    failed = sum(1 for _, outcome, _ in MATRIX.values() if outcome != "ok")
    assert summary["verdicts"]["unreachable"] == failed


def test_retry_after_is_waited_for_and_a_long_one_is_not(matrix: dict[str, Any]) -> None:
    busy = [r.time for r in matrix["served"]
            if (r.host, r.path, r.method) == ("www.fault-status.cn", "/busy", "GET")]
    assert len(busy) == 2 and busy[1] - busy[0] >= 2 - 0.05  # Retry-After: 2
    hour = [r for r in matrix["served"]
            if (r.host, r.path, r.method) == ("www.fault-busy.cn", "/", "GET")]
    assert [r.status for r in hour] == [429]  # an hour is beyond the cap: no retry


def test_cross_host_redirect_is_recorded(matrix: dict[str, Any]) -> None:
    row = matrix["rows"]["https://www.fault-redirect.cn/elsewhere"]
    assert row["final_url"] == "http://www.farm-basic.cn/"
    assert row["redirects"] == ["https://www.fault-redirect.cn/elsewhere"]


def test_matrix_agrees_with_the_end_to_end_table() -> None:
    shared = [(target, outcome, reason) for target, outcome, reason in MATRIX.values()
              if target in FAULTS]
    assert len(shared) >= 10
    for target, outcome, reason in shared:
        assert FAULTS[target][:2] == (outcome, reason), target
