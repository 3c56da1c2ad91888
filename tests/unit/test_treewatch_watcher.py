"""The watcher's reading of the inotify queue (``treewatch.watcher``): a burst is gathered into one
report, a lone file is reported at once. The queue here is scripted (what one read returns, then the
next); real inotify runs in the integration tests."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from inotify_simple import Event, INotify, flags

from pyrotorque.jobs.treewatch.plan import is_metafile_name
from pyrotorque.jobs.treewatch.watcher import TreeWatcher
from tests.support.clock import FakeClock

ROOT = Path("/srv/watch")


class ScriptedQueue:
    """Stands in for INotify: each read() returns the next scripted list of events (then nothing)."""

    def __init__(self, reads: list[list[Event]]) -> None:
        self.reads = reads
        self.timeouts: list[int | None] = []
        self._ready, self._writer = os.pipe()
        os.write(self._writer, b"x")  # select() sees the queue readable

    def fileno(self) -> int:
        return self._ready

    def read(self, timeout: int | None = None) -> list[Event]:
        self.timeouts.append(timeout)
        return self.reads.pop(0) if self.reads else []

    def add_watch(self, path: Path, mask: int) -> int:
        raise FileNotFoundError(path)  # the folder is gone again: nothing to watch, no warning

    def close(self) -> None:
        os.close(self._ready)
        os.close(self._writer)


class Owner:
    def __init__(self) -> None:
        self.reports: list[list[Path]] = []
        self.directories: list[tuple[Path, bool]] = []

    def files_changed(self, changes: list[tuple[Path, Path]]) -> None:
        self.reports.append([path for path, _root in changes])

    def directory_added(self, path: Path, root: Path, *, moved_in: bool = False) -> None:
        self.directories.append((path, moved_in))

    def rescan(self) -> None:
        raise AssertionError("no rescan here")

    def next_wakeup(self) -> float | None:
        return None

    def idle(self) -> None:
        raise AssertionError("nothing is due")


def moved_in(name: str) -> Event:
    return Event(wd=1, mask=flags.MOVED_TO, cookie=0, name=name)


@pytest.fixture
def pipes() -> Iterator[list[ScriptedQueue]]:
    made: list[ScriptedQueue] = []
    yield made
    for queue in made:
        queue.close()


def closed(name: str) -> Event:
    return Event(wd=1, mask=flags.CLOSE_WRITE, cookie=0, name=name)


def watcher_with(
    reads: list[list[Event]], pipes: list[ScriptedQueue]
) -> tuple[TreeWatcher, Owner, ScriptedQueue]:
    owner = Owner()
    watcher = TreeWatcher(
        (ROOT,), owner, logging.getLogger("test.watcher"), clock=FakeClock(), wanted=is_metafile_name
    )
    queue = ScriptedQueue(reads)
    pipes.append(queue)
    watcher._inotify = queue
    watcher._wake_read, wake_write = os.pipe()
    os.close(wake_write)
    watcher._paths[1] = (ROOT, ROOT)
    return watcher, owner, queue


def test_a_lone_file_is_reported_without_waiting_for_more(pipes: list[ScriptedQueue]) -> None:
    watcher, owner, queue = watcher_with([[moved_in("a.torrent")], [moved_in("b.torrent")]], pipes)
    watcher._wait_and_dispatch()
    assert owner.reports == [[ROOT / "a.torrent"]]
    assert queue.timeouts == [0]  # one read, no wait for a second


def test_a_file_written_under_a_temporary_name_and_renamed_is_a_lone_file(pipes: list[ScriptedQueue]) -> None:
    # Browsers, rsync and sync tools write to a temporary name, then rename: one read brings both the
    # temporary file's close and the metafile's arrival. Only the metafile counts, so nothing waits.
    reads = [[closed(".a.torrent.tmp"), moved_in("a.torrent")], [moved_in("b.torrent")]]
    watcher, owner, queue = watcher_with(reads, pipes)
    watcher._wait_and_dispatch()
    assert owner.reports == [[ROOT / "a.torrent"]]
    assert queue.timeouts == [0]


class RecordedReads:
    """Real inotify, with the timeout of each read recorded."""

    def __init__(self, inotify: INotify) -> None:
        self.inotify = inotify
        self.timeouts: list[int | None] = []

    def read(self, timeout: int | None = None) -> list[Event]:
        self.timeouts.append(timeout)
        events: list[Event] = self.inotify.read(timeout=timeout)
        return events

    def __getattr__(self, name: str) -> object:
        return getattr(self.inotify, name)


def test_the_kernels_events_of_a_temporary_file_renamed_in_make_no_burst(tmp_path: Path) -> None:
    # The same on real inotify: the events (the temporary file's close, its move away, the metafile's
    # arrival) are all queued before the one read, as when the thread is busy or slow to wake.
    owner = Owner()
    watcher = TreeWatcher((tmp_path,), owner, logging.getLogger("test.watcher"), wanted=is_metafile_name)
    inotify = INotify()
    queue = RecordedReads(inotify)
    watcher._inotify = queue
    watcher._wake_read, wake_write = os.pipe()
    try:
        watcher._watch_tree(tmp_path, tmp_path)
        temporary = tmp_path / ".x.torrent.part"
        temporary.write_bytes(b"d4:infode")
        os.rename(temporary, tmp_path / "x.torrent")
        watcher._wait_and_dispatch()
    finally:
        inotify.close()
        os.close(watcher._wake_read)
        os.close(wake_write)
    assert owner.reports == [[tmp_path / "x.torrent"]]
    assert queue.timeouts == [0]


def test_other_files_alone_are_not_reported(pipes: list[ScriptedQueue]) -> None:
    watcher, owner, queue = watcher_with([[closed("notes.txt"), closed("watch.ini")]], pipes)
    watcher._wait_and_dispatch()
    assert owner.reports == []
    assert queue.timeouts == [0]


def test_files_that_keep_coming_are_one_report(pipes: list[ScriptedQueue]) -> None:
    reads = [
        [moved_in("a.torrent"), moved_in("b.torrent")],
        [moved_in("c.torrent")],
        [moved_in("d.torrent"), moved_in("a.torrent")],  # a rewritten a.torrent counts once
    ]
    watcher, owner, queue = watcher_with(reads, pipes)
    watcher._wait_and_dispatch()
    assert owner.reports == [[ROOT / name for name in ("a.torrent", "b.torrent", "c.torrent", "d.torrent")]]
    # The first read takes what is there; each further one waits up to burst_gap (2 ms) for more,
    # and the empty one ends the burst.
    assert queue.timeouts == [0, 2, 2, 2]


def test_a_burst_is_reported_after_burst_max_even_if_files_keep_coming(pipes: list[ScriptedQueue]) -> None:
    watcher, owner, queue = watcher_with([[moved_in(f"{n}.torrent") for n in range(2)]], pipes)
    clock = watcher.clock
    assert isinstance(clock, FakeClock)
    endless = iter(range(2, 10_000))

    def read(timeout: int | None = None) -> list[Event]:
        queue.timeouts.append(timeout)
        if timeout == 0:
            return [moved_in("0.torrent"), moved_in("1.torrent")]
        clock.advance(0.01)  # each further read brings one more file, 10 ms later
        return [moved_in(f"{next(endless)}.torrent")]

    queue.read = read  # type: ignore[method-assign]
    watcher._wait_and_dispatch()
    assert len(owner.reports) == 1
    # burst_max is 50 ms: five further reads, 10 ms apart, then the report goes out.
    assert len(owner.reports[0]) == 2 + 5


def test_a_folder_moved_in_is_told_apart_from_one_created(pipes: list[ScriptedQueue]) -> None:
    # Moved in, its files are complete (the job loads them at once); created, they may still be written.
    reads = [
        [Event(wd=1, mask=flags.MOVED_TO | flags.ISDIR, cookie=7, name="done")],
        [Event(wd=1, mask=flags.CREATE | flags.ISDIR, cookie=0, name="new")],
    ]
    watcher, owner, _queue = watcher_with(reads, pipes)
    watcher._wait_and_dispatch()
    watcher._wait_and_dispatch()
    assert owner.directories == [(ROOT / "done", True), (ROOT / "new", False)]
    assert owner.reports == []
