"""``footer-audit extract`` as a user runs it, and the installed wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGE = ('<html><body><div id="footer"><a href="https://beian.miit.gov.cn/">京ICP备2021012345号-1</a>'
        ' 京公网安备11010802012345号</div></body></html>')


def run(*args: str, stdin: bytes | None = None, cwd: Path = REPO,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "crawler.cli", "extract", *args], input=stdin,
                          capture_output=True, cwd=cwd, env=env, timeout=120)


def test_jsonl_one_object_per_input_in_order(tmp_path: Path) -> None:
    utf8 = tmp_path / "a.html"
    utf8.write_text(PAGE, encoding="utf-8")
    gbk = tmp_path / "b.html"
    gbk.write_bytes(PAGE.replace("<html>", '<html><meta charset="gbk">').encode("gbk"))
    result = run(str(utf8), str(tmp_path / "missing.html"), str(gbk), "--format", "jsonl")
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [line["source"] for line in lines] == [str(utf8), str(tmp_path / "missing.html"), str(gbk)]
    assert lines[0]["footer"] == {"found": True, "selector": "div#footer"}
    assert [(f["number"], f["status"], f["link_status"]) for f in lines[0]["findings"]] == [
        ("京ICP备2021012345号-1", "valid", "ok"), ("京公网安备11010802012345号", "valid", "unlinked")]
    assert "error" in lines[1] and "findings" not in lines[1]
    assert lines[2]["findings"] == lines[0]["findings"]
    assert result.returncode == 2  # one input could not be read


def test_standard_input_and_table_format() -> None:
    result = run("-", "--format", "table", stdin=PAGE.encode())
    assert result.returncode == 0
    assert "京ICP备2021012345号-1" in result.stdout.decode()


def test_user_patterns_directory(tmp_path: Path) -> None:
    patterns = tmp_path / "mine"
    patterns.mkdir()
    (patterns / "demo_permit.toml").write_bytes((REPO / "tests" / "data" / "demo_permit.toml").read_bytes())
    result = run("-", "--patterns", str(patterns), "--format", "jsonl", stdin="演示证：123457".encode())
    assert json.loads(result.stdout)["findings"][0]["number"] == "演示证123457"


def test_bad_patterns_directory_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text("title = 1\n", encoding="utf-8")
    result = run("-", "--patterns", str(tmp_path), stdin=b"")
    assert result.returncode == 2
    assert b"broken.toml" in result.stderr and b"Traceback" not in result.stderr


def _can_compile() -> bool:
    """Whether this machine can build the compiled modules: a C compiler and Python's headers."""
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    return shutil.which(os.environ.get("CC", "cc")) is not None and headers.exists()


@pytest.mark.parametrize("compiler", ["as found", "missing"])
def test_wheel_ships_the_pattern_files_and_runs_anywhere(tmp_path: Path, compiler: str) -> None:
    """A built wheel (not the checkout) carries every pattern file and table and
    extracts from any working directory; its page-reading modules are compiled where a
    C compiler is found and plain Python where none is, and read every page fixture as
    the checkout does."""
    source = tmp_path / "source"  # without the checkout's build products, which pip would reuse
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".*", "build", "*.egg-info", "*.so", "__pycache__", "demo-report"))
    env = {**os.environ, **({"CC": "/bin/false"} if compiler == "missing" else {})}
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp_path / "dist"), str(source)],
                           capture_output=True, timeout=900, env=env)
    assert build.returncode == 0, build.stderr.decode()
    wheel = next((tmp_path / "dist").glob("footer_audit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if n.startswith("patterns/") and n.endswith(".toml")}
    expected = {p.name for p in (REPO / "patterns").rglob("*.toml")}
    assert expected <= shipped
    compiled = any(n.startswith("crawler/extract.") and not n.endswith(".py") for n in names)
    assert compiled == (compiler == "as found" and _can_compile())
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "page.html").write_text(PAGE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = run("page.html", "--format", "jsonl", cwd=elsewhere, env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout)["findings"][0]["number"] == "京ICP备2021012345号-1"
    probe = subprocess.run([sys.executable, "-c", "import crawler.extract; print(crawler.extract.__file__)"],
                           capture_output=True, text=True, cwd=elsewhere, env=env)
    assert probe.stdout.startswith(str(site))
    assert probe.stdout.strip().endswith(".py") != compiled
    pages = sorted(str(path) for path in (REPO / "tests" / "pages").glob("*/page.html"))
    from_wheel = run(*pages, "--format", "jsonl", cwd=elsewhere, env=env)
    from_checkout = run(*pages, "--format", "jsonl")
    assert from_wheel.returncode == from_checkout.returncode == 0
    assert from_wheel.stdout == from_checkout.stdout
