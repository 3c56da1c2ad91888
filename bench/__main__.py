"""``python -m bench --lines=0.9.8,0.16``: run every registered benchmark once per rTorrent line."""

from __future__ import annotations

import argparse
import sys
import traceback

from sandbox.rtorrent import LINES, unavailable_reason

from bench import discover
from bench.common import DEFAULT_ITEMS, DEFAULT_REPEAT, loaded_sandbox


def main(argv: list[str] | None = None) -> int:
    """Parse the options, then for each line start one sandbox, load the items and run the benchmarks."""
    registry = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--lines", default="0.9.8,0.16", help="comma-separated rTorrent lines (%(default)s)")
    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS, help="items to load (%(default)s)")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="timed repetitions (%(default)s)")
    parser.add_argument(
        "--only", action="append", choices=sorted(registry), help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    options = parser.parse_args(argv)

    if options.list:
        for benchmark in registry.values():
            print(f"{benchmark.name:20s} {benchmark.description}")
        return 0
    lines = [line.strip() for line in options.lines.split(",") if line.strip()]
    unknown = [line for line in lines if line not in LINES]
    if unknown:
        parser.error(f"unknown rTorrent line(s) {', '.join(unknown)}; known: {', '.join(LINES)}")
    failed: list[str] = []
    selected = [benchmark for name, benchmark in registry.items() if not options.only or name in options.only]

    for line in lines:
        reason = unavailable_reason(line)
        if reason is not None:
            print(f"rTorrent {line}: skipped, {reason}", file=sys.stderr)
            continue
        with loaded_sandbox(line, options.items, options.repeat) as context:
            for benchmark in selected:
                try:
                    benchmark.run(context)
                except Exception:  # one broken benchmark must not hide the others' numbers
                    failed.append(f"{benchmark.name} on {line}")
                    print(f"\n[{benchmark.name}] FAILED on rTorrent {line}:", file=sys.stderr)
                    traceback.print_exc()
        print()
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
