"""The pattern-file loader: bad files are rejected with the file and key named, and a
user's own category works without touching Python."""

from __future__ import annotations

from pathlib import Path

import pytest

from patterns import CatalogueError, load_catalogue
from tests.conftest import AUDIT_YEAR

GOOD = (Path(__file__).parent / "data" / "demo_permit.toml").read_text(encoding="utf-8")

BAD_FILES = [
    ("unknown key", GOOD.replace('source =', 'sauce = "x"\nsource ='), "unknown key(s): sauce"),
    ("bad regex", GOOD.replace("(?P<num>", "(?P<num"), ".strict[0].regex"),
    ("template names a missing group", GOOD.replace("演示证{num}", "演示证{serial}"),
     ".strict[0].number: no group named serial"),
    ("unknown check", GOOD.replace('check = "placeholder"', 'check = "checksum"'),
     ".strict[0].checks[0]: unknown check 'checksum'"),
    ("check on a missing group", GOOD.replace('group = "num"', 'group = "digits"'),
     "no group named 'digits'"),
    ("unknown province set", GOOD.replace("演示证 \\s*", "[${nowhere}] 演示证 \\s*"),
     "unknown province set 'nowhere'"),
    ("no valid example", GOOD.replace("valid = [", "near_miss = [\"x\"]\nmalformed = [").replace(
        'number = "演示证123457" }', 'number = "演示证123457", problem = "p" }'),
     "at least one valid example"),
    ("no strict pattern", GOOD.replace("[[strict]]", "[[loose]]"), "strict"),
    ("TOML syntax", GOOD + "\n[examples\n", "demo_permit.toml"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_pattern_file_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "demo_permit.toml").write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as raised:
        load_catalogue([tmp_path])
    assert "demo_permit.toml" in str(raised.value)
    assert message in str(raised.value)


def test_bad_file_name_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "Demo-Permit.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(CatalogueError, match="category id"):
        load_catalogue([tmp_path])


def test_user_category_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "demo_permit.toml").write_text(GOOD, encoding="utf-8")
    catalogue = load_catalogue([tmp_path])
    hits = catalogue.scan_text("京ICP备20018813号-3 演示证：000000 演示证：123457", year=AUDIT_YEAR)
    assert [(h.category, h.number, h.status) for h in hits] == [
        ("icp_filing", "京ICP备20018813号-3", "valid"),
        ("demo_permit", "演示证000000", "placeholder"),
        ("demo_permit", "演示证123457", "valid"),
    ]


def test_user_file_replaces_builtin_category(tmp_path: Path) -> None:
    (tmp_path / "uscc.toml").write_text(GOOD, encoding="utf-8")
    catalogue = load_catalogue([tmp_path])
    assert catalogue.categories["uscc"].title == "Demo permit"
    assert catalogue.version != load_catalogue().version


def test_catalogue_version_is_stable() -> None:
    assert load_catalogue().version == load_catalogue().version
