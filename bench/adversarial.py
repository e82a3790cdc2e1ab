"""Time and peak memory of extraction on hostile pages, next to ordinary pages.

Run ``python bench/adversarial.py``. Every page of ``bench/extract_speed.py``'s
``adversarial_pages`` (keyword soup, digit runs, 100,000 links…) and of
:func:`hostile_pages` here (100,000 nested tags, 10 MB attributes, invalid UTF-8,
charsets that lie) is extracted. The baseline, measured in the same run, is the
extraction time per MB of realistic 1 MB corporate pages; the table shows each
hostile page's best time of three, its ratio to an ordinary page of the same size,
and the growth of peak resident memory while extracting it once (Linux ``VmHWM``,
in a forked child per page, so lxml's own C memory counts too).
``tests/test_extract_robustness.py`` checks what these pages give and bounds their
Python memory; their speed is this script's business.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.extract_speed import (ADVERSARIAL_FOOTER, AUDIT_YEAR, adversarial_pages,
                                 corporate_page, seconds)
from crawler.extract import Extractor
from patterns import load_catalogue

NESTING = 100_000
GIANT = 10_000_000  # bytes of one attribute
REPEATS = 3


def _page(body: str, head: str = "<meta charset='utf-8'>") -> str:
    return f"<html><head>{head}</head><body>{body}{ADVERSARIAL_FOOTER}</body></html>"


def _with_bad_bytes(body: bytes, every: int, rng: random.Random) -> bytes:
    """UTF-8 bytes with a stray byte or a character cut in two every ``every`` bytes."""
    out = bytearray()
    for start in range(0, len(body), every):
        out += body[start:start + every]
        out += rng.choice([b"\xff", b"\xc3", b"\xe4\xb8", b"\x80", b"\xed\xa0\x80"])
    return bytes(out)


def hostile_pages() -> dict[str, tuple[bytes, str | None]]:
    """Pages built to break or slow extraction: ``name -> (body, Content-Type)``.

    All but "random bytes" end in ``ADVERSARIAL_FOOTER``; "UTF-8 declared GBK" and
    the GBK lies carry a corporate footer of their own (see ``corporate_page``).
    """
    rng = random.Random(7)
    utf8_page, _ = corporate_page(200_000, 3)
    gbk_page, _ = corporate_page(200_000, 10)
    declared = "text/html; charset={}".format
    nested = "<div>" * NESTING + "京ICP备20018813号" + "</div>" * NESTING
    return {
        f"{NESTING:,} nested tags": (_page(nested).encode(), None),
        "unclosed nesting": (_page("<div><span><b>" * (NESTING // 3)).encode(), None),
        "10 MB text attribute":
            (_page(f'<div title="{"京ICP备20018813号 " * (GIANT // 24)}">x</div>').encode(), None),
        "10 MB link":
            (_page(f'<a href="https://beian.miit.gov.cn/?q={"9" * GIANT}">京ICP备2001881</a>')
             .encode(), None),
        "10 MB unquoted attribute": (_page(f"<p class={'x' * GIANT}>备案</p>").encode(), None),
        "keywords and digits, 1 MB":
            (_page("京ICP备 公网安备 B2- 号 0123456789 " * 30_000).encode(), None),
        "invalid UTF-8 throughout": (_with_bad_bytes(utf8_page, 4_000, rng), declared("utf-8")),
        "random bytes": (rng.randbytes(1_000_000), declared("utf-8")),
        "GBK declared UTF-8": (gbk_page, declared("utf-8")),
        "UTF-8 declared GBK": (utf8_page, declared("gbk")),
        "GBK declared base64": (gbk_page, declared("base64")),
        "GBK declared ISO-8859-1": (gbk_page, declared("iso-8859-1")),
        "UTF-16 without a BOM": (_page("版权所有 " * 10_000).encode("utf-16-le"), declared("utf-8")),
    }


# --- measuring --------------------------------------------------------------------------


def _peak_growth(func: Callable[[], object]) -> float | None:
    """Bytes by which peak resident memory grows while ``func`` runs, measured in a
    forked child (Linux: ``VmHWM`` reset through ``clear_refs``); None elsewhere."""
    if not Path("/proc/self/clear_refs").exists() or not hasattr(os, "fork"):
        return None
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.close(reader)
        try:
            with open("/proc/self/clear_refs", "w") as control:
                control.write("5")  # VmHWM := the current resident size
            before = _status_kb("VmRSS")
            func()
            os.write(writer, str((_status_kb("VmHWM") - before) * 1024).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        answer = pipe.read()
    os.waitpid(child, 0)
    return float(answer) if answer else None


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def main() -> None:
    extractor = Extractor(load_catalogue(), AUDIT_YEAR)
    pages = {name: (body, None) for name, body in adversarial_pages().items()} | hostile_pages()
    growth = {name: _peak_growth(lambda b=body, c=ctype: extractor.extract(b, content_type=c))
              for name, (body, ctype) in pages.items()}  # before anything warms the heap
    ordinary = [corporate_page(1_000_000, seed) for seed in range(1, 4)]
    per_mb = min(seconds(lambda: [extractor.extract(b, content_type=f"text/html; charset={c}")
                                   for b, c in ordinary]) for _ in range(REPEATS))
    per_mb /= sum(len(body) for body, _ in ordinary) / 1e6
    print(f"baseline: ordinary corporate pages, {per_mb * 1000:.1f} ms per MB\n")
    print(f"{'page':<28} {'MB':>6} {'ms':>8} {'ratio':>7} {'peak +MB':>8} {'findings':>8}")
    for name, (body, content_type) in pages.items():
        extract = (lambda b=body, c=content_type: extractor.extract(b, content_type=c))
        best = min(seconds(extract) for _ in range(REPEATS))
        size = len(body) / 1e6
        peak = "n/a" if growth[name] is None else f"{growth[name] / 1e6:.1f}"
        print(f"{name:<28} {size:>6.2f} {best * 1000:>8.1f} {best / (per_mb * size):>7.2f} "
              f"{peak:>8} {len(extract().findings):>8}")


if __name__ == "__main__":
    main()
