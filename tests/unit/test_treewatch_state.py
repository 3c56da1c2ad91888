"""The tree watch's state: the file format, and the StateKeeper's loading, first-start rule and saving."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from pyrotorque.jobs.treewatch.scanner import Candidate, FileStamp, Outcome, Seen
from pyrotorque.jobs.treewatch.state import (
    StateError,
    WatchState,
    backup_path,
    encode_state,
    read_state,
    state_path,
    write_state,
)
from pyrotorque.jobs.treewatch.state_keeper import STAMP_SLACK_NS, StateKeeper
from tests.support.clock import FakeClock
from tests.unit.test_treewatch import ODD_NAMES

LOGGER = "pyrotorque.job.treewatch"
ROOT = Path("/w")


# --- the file --------------------------------------------------------------------------------------------


def test_state_round_trips_odd_names(tmp_path: Path) -> None:
    files = {
        Path("/w") / name: Seen(FileStamp(index + 1, 10**18 + index, 2**40 + index), outcome, "AB" * index)
        for index, (name, outcome) in enumerate(zip(ODD_NAMES, list(Outcome), strict=False))
    }
    state = WatchState({Path("/w"), Path(os.fsdecode(b"/r\xff"))}, files)
    path = state_path(tmp_path, "tree/watch x")
    assert path == tmp_path / "run" / "treewatch-tree_watch_x.state"
    write_state(path, state)
    assert path.read_bytes().isascii()
    back = read_state(path)
    assert back == state
    assert back is not None and {os.fsencode(p) for p in back.files} == {os.fsencode(p) for p in files}
    # The same save twice (the copy outlives damage to one file), and no temporary left behind.
    assert sorted(p.name for p in tmp_path.joinpath("run").iterdir()) == [path.name, backup_path(path).name]
    assert backup_path(path).read_bytes() == path.read_bytes()


def test_missing_state_is_none_and_damaged_state_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "state"
    assert read_state(path) is None
    good = encode_state(
        WatchState({Path("/w")}, {Path("/w/a.torrent"): Seen(FileStamp(1, 2, 3), Outcome.LOADED)})
    )
    for damaged in (
        good[:-5],
        b"\xff\xfe",
        b"[]",
        good.replace(b'"loaded"', b'"eaten"'),
        good.replace(b"[1,2,3", b"[-1,2,3"),
        good.replace(b'"version":1', b'"version":9'),
    ):
        path.write_bytes(damaged)
        with pytest.raises(StateError):
            read_state(path)


# --- the keeper ------------------------------------------------------------------------------------------


def keeper(path: Path, clock: FakeClock, *, dry_run: bool = False) -> StateKeeper:
    return StateKeeper(
        path, (ROOT,), job_name="tw", clock=clock, log=logging.getLogger(LOGGER), dry_run=dry_run
    )


def saves(caplog: pytest.LogCaptureFixture) -> list[object]:
    """The number of files in each write of the state file, from the DEBUG line every write logs."""
    written = [r for r in caplog.records if r.getMessage().startswith("Saved the state of")]
    return [r.args[0] for r in written]  # type: ignore[index]


def record(state: StateKeeper, index: int) -> None:
    state.seen.record(ROOT / f"{index}.torrent", FileStamp(1, index, 1), Outcome.LOADED)


def test_changes_are_saved_at_once_then_at_most_every_interval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(monotonic_start=50.0)
    state = keeper(tmp_path / "run" / "tw.state", clock)
    state.load()
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        state.save_soon()
        assert saves(caplog) == [0]  # no state file yet: written, even empty
        state.save_soon()
        assert saves(caplog) == [0] and state.save_at is None  # nothing changed: nothing to write
        clock.advance(10)
        record(state, 1)
        state.save_soon()
        assert saves(caplog) == [0, 1]  # the first change after a while: at once
        clock.advance(1)
        for index in range(2, 5):
            record(state, index)
            state.save_soon()
        assert saves(caplog) == [0, 1] and state.save_at == 65.0  # batched until the interval has passed
        clock.advance(3.9)
        state.save_if_due()
        assert saves(caplog) == [0, 1]
        clock.advance(0.1)
        state.save_if_due()
        assert saves(caplog) == [0, 1, 4] and state.save_at is None
        clock.advance(10)
        record(state, 5)
        state.save_soon()
        assert saves(caplog) == [0, 1, 4, 5]
    back = read_state(tmp_path / "run" / "tw.state")
    assert back is not None and len(back.files) == 5


def test_a_failed_save_warns_once_and_is_retried_every_minute(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(monotonic_start=0.0)
    blocker = tmp_path / "blocker"
    state = keeper(blocker / "run" / "tw.state", clock)
    state.load()
    blocker.write_text("a file where the run directory should be")
    record(state, 1)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        state.save()
        assert state.save_at == 60.0
        clock.advance(60)
        state.save_if_due()
        assert state.save_at == 120.0
        blocker.unlink()
        blocker.mkdir()
        clock.advance(60)
        state.save_if_due()
    assert state.save_at is None and read_state(blocker / "run" / "tw.state") is not None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "Cannot save the tree watch state" in warnings[0]
    assert "Saved the tree watch state to" in caplog.text and "again" in caplog.text


def test_dry_run_never_writes(tmp_path: Path) -> None:
    state = keeper(tmp_path / "tw.state", FakeClock(), dry_run=True)
    state.load()
    record(state, 1)
    state.save_soon()
    state.save()
    assert not (tmp_path / "tw.state").exists() and state.save_at is None


def test_load_keeps_only_the_configured_roots(tmp_path: Path) -> None:
    path = tmp_path / "tw.state"
    seen = Seen(FileStamp(1, 2, 3), Outcome.LOADED)
    write_state(path, WatchState({ROOT, Path("/old")}, {ROOT / "a": seen, Path("/old/b"): seen}))
    state = keeper(path, FakeClock())
    state.load()
    assert len(state.seen) == 1 and state.seen.settled(ROOT / "a", seen.stamp) == seen
    state.save()  # as read, nothing to write
    assert read_state(path) == WatchState({ROOT, Path("/old")}, {ROOT / "a": seen, Path("/old/b"): seen})


def test_first_scan_records_only_files_older_than_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    state = keeper(tmp_path / "tw.state", clock)
    state.load()
    started = state.mark_start()
    assert started == clock.time_ns() - STAMP_SLACK_NS
    old = Candidate(ROOT / "old.torrent", ROOT, FileStamp(1, started - 1, 1))
    # Stamped by the coarse clock a few ms behind the start, yet written after it: new.
    new = Candidate(ROOT / "new.torrent", ROOT, FileStamp(1, clock.time_ns() - 4_000_000, 2))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        state.reconcile_root(ROOT, [old, new], clean=False)  # a listing error: first scan again next time
        state.reconcile_root(ROOT, [old, new], clean=True)
    assert state.seen.settled(old.path, old.stamp) == Seen(old.stamp, Outcome.PREEXISTING)
    assert state.seen.settled(new.path, new.stamp) is None
    assert caplog.text.count("first start of tree watch 'tw'") == 2
    assert "1 existing metafile(s) recorded" in caplog.text and "0 existing metafile(s)" in caplog.text
    state.save()
    back = read_state(tmp_path / "tw.state")
    assert back is not None and back.roots == {ROOT}


def test_a_known_root_forgets_gone_files_unless_it_looks_empty_or_unlistable(tmp_path: Path) -> None:
    state = keeper(tmp_path / "tw.state", FakeClock())
    state.load()
    state.reconcile_root(ROOT, [], clean=True)  # the first scan: an empty tree
    for index in range(3):
        record(state, index)
    state.reconcile_root(ROOT, [], clean=True)  # an empty root may be an unmounted share
    state.reconcile_root(ROOT, [Candidate(ROOT / "0.torrent", ROOT, FileStamp(1, 0, 1))], clean=False)
    assert len(state.seen) == 3
    state.reconcile_root(ROOT, [Candidate(ROOT / "0.torrent", ROOT, FileStamp(1, 0, 1))], clean=True)
    assert len(state.seen) == 1
