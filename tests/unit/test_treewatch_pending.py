"""Pending metafiles and their retry backoff, on a fake clock."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from pyrotorque.errors import TransportError
from pyrotorque.jobs.treewatch.pending import PendingFiles
from pyrotorque.jobs.treewatch.scanner import Candidate, FileStamp
from tests.support.clock import FakeClock

LOGGER = "pyrotorque.job.treewatch"
DOWN = TransportError("connection refused", "scgi:///fake")


def candidate(path: Path) -> Candidate:
    path.write_bytes(b"data")
    return Candidate(path, path.parent, FileStamp.of(os.stat(path)))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(monotonic_start=100.0)


@pytest.fixture
def pending(clock: FakeClock) -> PendingFiles:
    return PendingFiles(clock, logging.getLogger(LOGGER), first=2.0, maximum=60.0)


def test_the_first_pending_file_sets_the_retry_time(
    tmp_path: Path, clock: FakeClock, pending: PendingFiles
) -> None:
    assert pending.retry_at is None
    pending.add(candidate(tmp_path / "a.torrent"))
    clock.advance(1)
    pending.add(candidate(tmp_path / "b.torrent"))  # joins the retry already planned
    assert pending.retry_at == 102.0 and len(pending) == 2 and tmp_path / "b.torrent" in pending
    pending.discard(tmp_path / "a.torrent")
    pending.discard(tmp_path / "b.torrent")
    assert pending.retry_at is None  # nothing left to retry


def test_failures_double_the_delay_up_to_the_maximum_and_success_resets_it(
    tmp_path: Path, clock: FakeClock, pending: PendingFiles, caplog: pytest.LogCaptureFixture
) -> None:
    pending.add(candidate(tmp_path / "a.torrent"))
    delays = []
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        for _ in range(7):
            pending.rtorrent_failed(DOWN)
            assert pending.retry_at is not None
            delays.append(pending.retry_at - clock.monotonic())
            clock.advance(delays[-1])
        assert delays == [4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
        pending.rtorrent_worked()
        assert pending.retry_at == clock.monotonic() + 2.0  # the file is still pending: retried soon
        pending.rtorrent_failed(DOWN)
    assert pending.retry_at == clock.monotonic() + 4.0  # the backoff starts over
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    warning = f"Cannot load metafiles now ({DOWN}); 1 file(s) stay pending and are retried"
    assert warnings == [warning, warning]  # one per outage
    assert caplog.text.count("Still cannot load 1 pending metafile(s)") == 6
    assert caplog.text.count("Loading metafiles works again") == 1


def test_working_without_an_outage_says_nothing_and_clears_the_retry(
    pending: PendingFiles, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        pending.rtorrent_worked()
    assert caplog.records == [] and pending.retry_at is None


def test_candidates_have_fresh_stamps_and_vanished_files_are_dropped(
    tmp_path: Path, pending: PendingFiles
) -> None:
    kept, gone, skipped = (candidate(tmp_path / name) for name in ("kept", "gone", "skipped"))
    for each in (kept, gone, skipped):
        pending.add(each)
    kept.path.write_bytes(b"longer data")
    gone.path.unlink()
    (fresh,) = pending.candidates(exclude={skipped.path})
    assert (fresh.path, fresh.root, fresh.stamp.size) == (kept.path, tmp_path, len(b"longer data"))
    assert gone.path not in pending and skipped.path in pending and len(pending) == 2
