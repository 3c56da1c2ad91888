"""The package's own torque.ini: every key of the original's defaults is there, explained."""

from __future__ import annotations

import re
from importlib import resources

import pytest

#: The [TORQUE] keys of pyrocore's torque.ini defaults (pyrocore-spec.md §1.3), commented-out ones with ";".
#: Left out on purpose, and said so in docs/configuration.md: httpd.* (no web server) and the
#: APScheduler 2 thread pool keys core_threads and keepalive (accepted and ignored).
_ORIGINAL_KEYS = """
apscheduler.threadpool.max_threads apscheduler.misfire_grace_time apscheduler.coalesce queue_startable_base
job.queue.handler job.queue.schedule job.queue.active job.queue.dry_run job.queue.quiet ;job.queue.log_level
job.queue.sort_fields job.queue.downloading_min job.queue.downloading_max job.queue.start_at_once
job.queue.intermission job.queue.startable ;job.queue.downloading
job.treewatch.handler job.treewatch.schedule job.treewatch.active job.treewatch.dry_run job.treewatch.quiet
job.treewatch.trace_inotify ;job.treewatch.log_level job.treewatch.path job.treewatch.load_mode
job.treewatch.queued
job.exporter.handler job.exporter.schedule job.exporter.active job.exporter.dry_run job.exporter.jobs
job.exporter.port job.exporter.prefix
job.connstats.handler job.connstats.schedule job.connstats.active
"""
ORIGINAL_KEYS = _ORIGINAL_KEYS.split()

_KEY = re.compile(r"^(;?[\w.]+)\s*=")


def package_torque_ini() -> str:
    return (resources.files("pyrotorque") / "data" / "torque.ini").read_text(encoding="utf-8")


def blocks() -> list[list[str]]:
    """The file's lines in blank-line separated blocks."""
    found: list[list[str]] = [[]]
    for line in package_torque_ini().splitlines():
        if line.strip():
            found[-1].append(line)
        elif found[-1]:
            found.append([])
    return [block for block in found if block]


def keys_in(block: list[str]) -> list[str]:
    return [match.group(1) for line in block if (match := _KEY.match(line))]


def test_every_key_of_the_original_defaults_is_there() -> None:
    present = {key for block in blocks() for key in keys_in(block)}
    missing = [key for key in ORIGINAL_KEYS if key not in present]
    assert missing == []


@pytest.mark.parametrize("key", ORIGINAL_KEYS)
def test_every_key_comes_with_an_explanation(key: str) -> None:
    (block,) = [block for block in blocks() if key in keys_in(block)]
    assert any(line.startswith("#") for line in block), block
