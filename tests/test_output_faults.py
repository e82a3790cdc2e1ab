"""An output folder that cannot take the report: refused before any fetch, and a disk
that fills up while the report is written leaves the earlier report untouched.

Real processes throughout: ``footer-audit`` runs as a user runs it; a full disk is a
file-size limit (``RLIMIT_FSIZE``) on that process, so its writes fail with EFBIG the
way they fail with ENOSPC on a full disk, at whatever byte the limit falls.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reports.writer import write_reports
from tests.test_reports import site

REPOSITORY = Path(__file__).resolve().parents[1]

def footer_audit(*arguments: str, file_size_limit: int | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails instead of killing
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run([sys.executable, "-m", "crawler.cli", *arguments],
                          capture_output=True, text=True, timeout=120, cwd=REPOSITORY,
                          preexec_fn=limit_file_size, env={**os.environ, **(env or {})})


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


@pytest.mark.parametrize("out", ["/proc/footer-audit-report", "{tmp}/a-file/report"],
                         ids=["read-only file system", "under a file"])
def test_an_unwritable_out_folder_stops_the_crawl_before_any_fetch(tmp_path: Path,
                                                                   out: str) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    # the target would take seconds to fail (nothing listens there): a quick exit
    # shows that nothing was fetched
    run = footer_audit("crawl", "http://192.0.2.1/", "--out", out.format(tmp=tmp_path),
                       "--quiet", "--allow-private")
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("footer-audit: cannot write the report under "), run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


def test_too_little_free_space_stops_the_crawl_before_any_fetch(tmp_path: Path) -> None:
    run = footer_audit("crawl", "http://192.0.2.1/", "--out", str(tmp_path / "report"),
                       "--quiet", env={"FOOTER_AUDIT_MIN_FREE_MB": str(2**40)})
    assert run.returncode == 2, run.stderr
    assert "MiB free under" in run.stderr and "FOOTER_AUDIT_MIN_FREE_MB" in run.stderr
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("limit", [0, 4096, 64 * 1024], ids=["at once", "4 KB in", "64 KB in"])
def test_a_disk_that_fills_up_leaves_the_earlier_report_untouched(tmp_path: Path,
                                                                   limit: int) -> None:
    out = tmp_path / "report"
    write_reports([site(footer_text="京ICP备05012345号")], out, {"run": "earlier"})
    before = snapshot(out)
    results = tmp_path / "results.jsonl"
    rows = [site(f"site{n}.cn", n, footer_text="京ICP备05012345号") for n in range(1, 400)]
    results.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                       encoding="utf-8")

    run = footer_audit("report", str(results), "--out", str(out), "--quiet",
                       file_size_limit=limit)

    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("footer-audit: "), run.stderr
    assert "File too large" in run.stderr and "Traceback" not in run.stderr
    assert snapshot(out) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report", "results.jsonl"]
