"""How much memory ``iter_targets`` needs to stream a large list of distinct targets.

Run from the repository root::

    python -m bench.targets_memory            # 100,000 and 1,000,000 lines
    python -m bench.targets_memory 250000     # any sizes

Each size runs in a fresh process that writes the list to a temporary file (domains,
URLs, ports, IDNs, comments), reads every record and prints the peak RSS the reading
added. The time is printed for information only.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (100_000, 1_000_000)


def generated_lines(count: int) -> Iterator[str]:
    """``count`` distinct entries in the shapes a real list mixes.

    >>> list(generated_lines(5))
    ['site0.example.cn', 'https://www.site1.example.com/about?id=1', 'SITE2.Example.COM.CN:8443', '站点3.中国  # owner: legal', 'site4.example.cn']
    """
    for number in range(count):
        match number % 4:
            case 0:
                yield f"site{number}.example.cn"
            case 1:
                yield f"https://www.site{number}.example.com/about?id={number}"
            case 2:
                yield f"SITE{number}.Example.COM.CN:8443"
            case _:
                yield f"站点{number}.中国  # owner: legal"


def peak_rss_mb() -> float:
    """The peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(count: int) -> str:
    """Stream ``count`` generated lines and describe the memory and time it took."""
    from crawler.targets import TargetCounts, iter_targets

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "targets.txt")
        with path.open("w", encoding="utf-8") as listing:
            listing.write("# generated target list\n")
            listing.writelines(f"{line}\n" for line in generated_lines(count))
        before = peak_rss_mb()
        counts = TargetCounts()
        started = time.perf_counter()
        for _ in iter_targets([str(path)], counts):
            pass
        seconds = time.perf_counter() - started
        extra = peak_rss_mb() - before
    return (
        f"{count:>9,} lines: peak RSS {before:6.1f} MB before, +{extra:6.1f} MB while reading"
        f" ({seconds:5.1f} s; kept {counts.kept:,}, merged {counts.merged:,},"
        f" rejected {counts.rejected:,})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=DEFAULT_SIZES)
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.in_process:
        print(measure(arguments.sizes[0]), flush=True)
        return
    for size in arguments.sizes:
        command = [sys.executable, "-m", "bench.targets_memory", "--in-process", str(size)]
        subprocess.run(command, cwd=REPOSITORY, check=True)


if __name__ == "__main__":
    main()
