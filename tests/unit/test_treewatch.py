"""The TreeWatch job with the shared fake rTorrent and a fake clock: events, scans, loads, retries, restarts.

The parts have their own files: test_treewatch_loader.py (one candidate to one outcome, the mode
table), test_treewatch_pending.py (retry backoff), test_treewatch_state.py (the state file, saving).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from sandbox.metafiles import make_metafile

from pyrotorque.config import Config, JobConfig, build_options
from pyrotorque.config.ini import Setting
from pyrotorque.errors import ConfigError, RtorrentError, TransportError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.treewatch import TreeWatch, TreeWatchOptions, split_roots
from pyrotorque.jobs.treewatch import loader as loader_module
from pyrotorque.jobs.treewatch.scanner import FileStamp, Outcome, SeenFiles, walk_metafiles
from pyrotorque.jobs.treewatch.state import backup_path, read_state, state_path
from pyrotorque.metafile import read_metafile
from pyrotorque.rtorrent.limits import request_cap
from tests.support.clock import FakeClock
from tests.support.fake_rtorrent import FakeRtorrent

LOGGER = "pyrotorque.job.treewatch"


def make_config(tmp_path: Path, *, queue_active: bool = True) -> Config:
    torque = {
        "job.queue.handler": Setting("pyrotorque.jobs.queue:QueueManager", "t.ini", 1),
        "job.queue.schedule": Setting("second=*/15", "t.ini", 2),
        "job.queue.active": Setting("yes" if queue_active else "no", "t.ini", 3),
        "job.treewatch.handler": Setting("pyrotorque.jobs.treewatch:TreeWatch", "t.ini", 5),
        "job.treewatch.schedule": Setting("hour=*", "t.ini", 6),
        "job.treewatch.path": Setting("", "user.ini", 7),
    }
    return Config(config_dir=tmp_path, sections={"torque": torque})


class Harness:
    """A TreeWatch on ``tmp_path/watch`` with its config dir (and state file) in ``tmp_path``.

    By default the job has run once before on the empty tree, so its state file exists and metafiles
    written afterwards are new to it; ``previous_run=False`` gives a first start instead. Every
    instance shares one FakeClock, and files are stamped with its time.
    """

    def __init__(
        self,
        tmp_path: Path,
        client: FakeRtorrent,
        *,
        dry_run: bool = False,
        previous_run: bool = True,
        **options: Any,
    ) -> None:
        self.tmp_path = tmp_path
        self.tree = tmp_path / "watch"
        self.tree.mkdir(exist_ok=True)
        self.client = client
        self.rpc = client.client()  # one client for every instance, as in the daemon
        self.dry_run = dry_run
        self.options = options
        self.woken: list[str] = []
        self.clock = FakeClock()
        if previous_run:
            earlier = self.new_job(dry_run=False)
            earlier.rescan()
            earlier.stop()
        self.job = self.new_job()

    def new_job(self, *, dry_run: bool | None = None) -> TreeWatch:
        """Another instance of the same job, as after a daemon restart."""
        context = JobContext(
            name="treewatch",
            client=self.rpc,
            config=make_config(self.tmp_path),
            dry_run=self.dry_run if dry_run is None else dry_run,
            log=logging.getLogger(LOGGER),
            wake_kind=self.woken.append,
            clock=self.clock,
        )
        return TreeWatch(context, TreeWatchOptions(path=str(self.tree), **self.options))

    def restart(self) -> TreeWatch:
        """Stop the job and replace it with a new instance (its memory is only what it saved)."""
        self.job.stop()
        self.job = self.new_job()
        return self.job

    def write(self, relative: str, data: bytes, *, age: float = 60.0) -> Path:
        path = self.tree / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self.touch(path, age=age)  # by default older than the settle time: a scan takes it at once

    def touch(self, path: Path, *, age: float = 0.0) -> Path:
        """Set the file's times to ``age`` seconds before the clock's now."""
        stamp = self.clock.time_ns() - round(age * 1e9)
        os.utime(path, ns=(stamp, stamp))
        return path


@pytest.fixture
def fake() -> FakeRtorrent:
    return FakeRtorrent()


# --- options -------------------------------------------------------------------------------------------


def test_roots_are_split_expanded_and_deduplicated(tmp_path: Path) -> None:
    assert split_roots(f" {tmp_path}/a/ :{tmp_path}/b::{tmp_path}/a") == (tmp_path / "a", tmp_path / "b")
    assert split_roots("/") == (Path("/"),)
    assert split_roots("~") == (Path.home(),)
    assert split_roots("  ") == ()


def test_empty_path_of_an_active_job_names_key_file_and_line(tmp_path: Path, fake: FakeRtorrent) -> None:
    context = JobContext(name="treewatch", client=fake.client(), config=make_config(tmp_path))
    with pytest.raises(ConfigError) as caught:
        TreeWatch(context, TreeWatchOptions(path=""))
    assert caught.value.key == "job.treewatch.path"
    assert (caught.value.path, caught.value.line) == ("user.ini", 7)


def test_path_that_is_not_a_directory_names_key_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    job = JobConfig(
        name="treewatch",
        handler=Setting("TreeWatch", "t.ini", 1),
        schedule=Setting("hour=*", "t.ini", 2),
        params={"path": Setting(f"{tmp_path}:{tmp_path}/file", "torque.ini", 9)},
    )
    with pytest.raises(ConfigError, match=r"file' is not a directory") as caught:
        build_options(TreeWatchOptions, job)
    assert (caught.value.key, caught.value.path, caught.value.line) == ("job.treewatch.path", "torque.ini", 9)


def test_bad_template_is_a_config_error_at_construction(tmp_path: Path, fake: FakeRtorrent) -> None:
    with pytest.raises(ConfigError, match=r"job\.treewatch\.cmd\.broken"):
        Harness(tmp_path, fake, cmd={"broken": "{{if}}"})


# --- the scan cache ------------------------------------------------------------------------------------


def test_seen_files_outcome_stands_while_the_stamp_is_unchanged() -> None:
    seen = SeenFiles()
    stamp = FileStamp(10, 1000, 5)
    seen.record(Path("/a"), stamp, Outcome.INVALID)
    assert seen.settled(Path("/a"), stamp) is not None
    assert seen.settled(Path("/a"), FileStamp(10, 1001, 5)) is None
    assert seen.settled(Path("/a"), FileStamp(11, 1000, 5)) is None
    assert seen.settled(Path("/b"), stamp) is None
    assert seen.keep_only([Path("/b")]) == 1
    assert len(seen) == 0


def test_walk_finds_nested_non_empty_metafiles_only(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.torrent").write_bytes(b"data")
    (tmp_path / "a" / "y.start").write_bytes(b"data")
    (tmp_path / "a" / "empty.torrent").write_bytes(b"")
    (tmp_path / "a" / "notes.txt").write_bytes(b"data")
    (tmp_path / "link").symlink_to(tmp_path / "a")
    found = sorted(candidate.path for candidate in walk_metafiles(tmp_path))
    assert found == [tmp_path / "a" / "b" / "x.torrent", tmp_path / "a" / "y.start"]


def test_rescan_reads_no_unchanged_file_and_asks_rtorrent_once(
    tmp_path: Path, fake: FakeRtorrent, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = Harness(tmp_path, fake)
    for index in range(5):
        harness.write(f"d{index % 2}/item{index}.torrent", make_metafile(f"item{index}").data)
    harness.write("bad.torrent", b"not bencode")
    harness.job.run()
    assert len(fake.items) == 5
    # "Loaded already?" for all six files: one request (the d.hash of each readable one), not one each;
    # then the five loads in one request, and one probe of the five new items.
    shapes = [
        (r.method, sorted({name for name, _ in r.calls}), len(r.calls))
        for r in fake.sent()
        if not r.is_detection and r.calls[0][0] != "print"
    ]
    assert shapes == [
        ("system.multicall", ["d.hash"], 5),
        ("system.multicall", ["load.raw_verbose"], 5),
        ("system.multicall", ["d.hash"], 5),
    ]

    reads: list[Path] = []
    original = read_metafile

    def counting_read(path: Path) -> Any:
        reads.append(path)
        return original(path)

    monkeypatch.setattr(loader_module, "read_metafile", counting_read)
    fake.clear()
    harness.job.run()
    assert reads == []
    assert fake.calls() == []  # nothing new: not even the loaded set is fetched

    changed = harness.write("bad.torrent", make_metafile("fixed").data)
    harness.job.run()
    assert reads == [changed]
    assert len(fake.items) == 6


def test_already_loaded_is_logged_once_at_info(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake)
    meta = make_metafile("present")
    fake.add_metafile(meta.data)
    harness.write("a.torrent", meta.data)
    harness.write("b.torrent", make_metafile("other").data)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        harness.job.run()
        harness.job.run()
    already = [r for r in caplog.records if r.getMessage().startswith("Already loaded")]
    assert len(already) == 1 and already[0].levelno == logging.DEBUG  # found by a scan
    assert "1 metafile(s) in the watch tree are loaded already" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(fake.calls("load.")) == 1


def test_already_loaded_file_written_again_is_logged_at_info(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake)
    meta = make_metafile("present")
    fake.add_metafile(meta.data)
    path = harness.write("a.torrent", meta.data)
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        harness.job.file_changed(path, harness.tree)
        harness.job.file_changed(path, harness.tree)
    already = [r for r in caplog.records if r.getMessage().startswith("Already loaded")]
    assert len(already) == 1 and already[0].levelno == logging.INFO
    # A lone file asks and loads in one request (d.hash first); rTorrent ignores the duplicate load.
    loads = [r for r in fake.sent() if any(method.startswith("load.") for method, _ in r.calls)]
    assert len(loads) == 1 and [method for method, _ in loads[0].calls] == ["d.hash", "load.raw_verbose"]
    item = fake.items[meta.info_hash]
    assert item.loaded_by == "load.raw" and item.commands == []  # as the test added it
    assert not [r for r in caplog.records if r.getMessage().startswith("Loaded")]


# --- loading -------------------------------------------------------------------------------------------


def test_load_request_order_tie_commands_priority(tmp_path: Path, fake: FakeRtorrent) -> None:
    harness = Harness(
        tmp_path, fake, queued=True, cmd={"b": "d.custom2.set=two", "a": "d.custom1.set=%(info_name)s"}
    )
    meta = make_metafile("x y,z")
    path = harness.write("tv/item.torrent", meta.data)
    harness.job.run()
    ((method, params),) = fake.calls("load.")
    assert method == "load.raw_verbose"
    assert params[0] == "" and params[1] == meta.data
    assert list(params[2:]) == [
        f"d.tied_to_file.set={path}".replace("/", "/"),
        "d.custom1.set=x\\ y\\,z",
        "d.custom2.set=two",
        "d.priority.set=0",
    ]
    assert harness.woken == ["queue"]


def test_started_load_and_announcement(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake, load_mode="start")
    meta = make_metafile("go")
    path = harness.write("movies/go.torrent", meta.data)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        harness.job.run()
    assert fake.items[meta.info_hash].loaded_by == "load.raw_start_verbose"
    assert f"Loaded 'go' from '{path}' [started]" in caplog.text
    ((_, printed),) = fake.calls("print")
    assert printed == ("", "TreeWatch: Loaded '", "go", "' from '", str(path), "' [started]")
    assert harness.woken == []


def test_quiet_prints_nothing(tmp_path: Path, fake: FakeRtorrent) -> None:
    harness = Harness(tmp_path, fake, quiet=True)
    harness.write("a.torrent", make_metafile("a").data)
    harness.job.run()
    assert len(fake.items) == 1
    assert not fake.calls("print")


def test_template_error_skips_the_command_and_still_loads(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake, cmd={"bad": "{{no_such_name}}", "good": "d.custom1.set=ok"})
    meta = make_metafile("t")
    harness.write("t.torrent", meta.data)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        harness.job.run()
    assert fake.items[meta.info_hash].commands[1:] == ["d.custom1.set=ok"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "job.treewatch.cmd.bad" in errors[0]


def test_dry_run_loads_nothing(tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture) -> None:
    harness = Harness(tmp_path, fake, dry_run=True)
    path = harness.write("a.start", make_metafile("dry").data)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        harness.job.run()
        harness.job.run()
    assert fake.calls("load.") == [] and fake.items == {}
    assert caplog.text.count(f"WOULD load 'dry' from '{path}' [started]") == 1


def test_invalid_file_is_reported_once_and_kept(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake)
    path = harness.write("broken.torrent", b"d4:infoi1ee")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        harness.job.run()
        harness.job.run()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and str(path) in errors[0] and "'info' is missing" in errors[0]
    assert path.read_bytes() == b"d4:infoi1ee"


def test_too_big_loads_by_path(tmp_path: Path, fake: FakeRtorrent) -> None:
    harness = Harness(tmp_path, fake)
    big = make_metafile("big", size=1 << 40, piece_length=1 << 23)  # 131,072 pieces: 2.6 MB of hashes
    assert len(big.data) > request_cap((0, 9, 8))
    path = harness.write("big.torrent", big.data)
    harness.job.run()
    ((method, params),) = fake.calls("load.")
    assert method == "load.verbose" and params[1] == str(path)
    assert big.info_hash in fake.items
    # The same file fits the 16 MiB cap of 0.16: sent as bytes there.
    fake16 = FakeRtorrent("0.16")
    (tmp_path / "16").mkdir()
    harness16 = Harness(tmp_path / "16", fake16)
    harness16.write("big.torrent", big.data)
    harness16.job.run()
    assert fake16.calls("load.")[0][0] == "load.raw_verbose"


def test_too_big_with_an_unsafe_name_is_an_error_naming_file_and_limit(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake)
    big = make_metafile("big", size=1 << 40, piece_length=1 << 23)
    path = harness.write("big*.torrent", big.data)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        harness.job.run()
    assert fake.calls("load.") == []
    (error,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert str(path) in error and str(request_cap((0, 9, 8), fake.xmlrpc_size_limit)) in error


def test_too_big_and_invisible_to_rtorrent_is_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeRtorrent()
    fake.paths_visible = False  # rTorrent runs elsewhere and cannot read the watch tree
    harness = Harness(tmp_path, fake)
    big = make_metafile("big", size=1 << 40, piece_length=1 << 23)
    path = harness.write("big.torrent", big.data)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        harness.job.run()
    (error,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert str(path) in error and "too big" in error
    assert sum(harness.clock.sleeps) == pytest.approx(5.0, abs=0.25)  # polled for the item on its clock


# --- rTorrent away: pending and retried ----------------------------------------------------------------


def test_rtorrent_down_keeps_files_pending_and_retries(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake)
    harness.write("one.torrent", make_metafile("one").data)
    path_two = harness.write("two.torrent", make_metafile("two").data)
    fake.down = True
    with caplog.at_level(logging.INFO, logger=LOGGER):
        with pytest.raises(TransportError):
            harness.job.run()  # the daemon's tick runner reports it
        harness.job.idle()  # the watcher's retry, still down: no exception, no second warning
        assert harness.job.next_wakeup() is not None
        assert fake.items == {}
        fake.down = False
        harness.job.file_changed(path_two, harness.tree)  # an event retries the pending files too
    assert sorted(item for item in fake.items) == sorted(
        [make_metafile("one").info_hash, make_metafile("two").info_hash]
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2 file(s) stay pending" in warnings[0]
    assert "Loading metafiles works again" in caplog.text
    assert harness.job.pending.retry_at is None  # nothing left to retry (the loads' recheck may remain)


def test_pending_file_that_vanished_is_dropped(tmp_path: Path, fake: FakeRtorrent) -> None:
    harness = Harness(tmp_path, fake)
    path = harness.write("gone.torrent", make_metafile("gone").data)
    fake.down = True
    harness.job.idle()
    harness.job.rescan()
    assert harness.job.next_wakeup() is not None
    path.unlink()
    fake.down = False
    harness.job.idle()
    assert harness.job.next_wakeup() is None and fake.items == {}


def test_young_files_wait_for_their_writer(tmp_path: Path, fake: FakeRtorrent) -> None:
    harness = Harness(tmp_path, fake)
    harness.write("young.torrent", make_metafile("young").data, age=0)
    harness.job.rescan()
    assert fake.items == {} and harness.job.next_wakeup() is not None
    harness.job.idle()
    assert len(fake.items) == 1


def test_empty_and_foreign_files_are_ignored_on_events(tmp_path: Path, fake: FakeRtorrent) -> None:
    harness = Harness(tmp_path, fake)
    empty = harness.write("placeholder.torrent", b"")
    other = harness.write("notes.txt", b"hello")
    harness.job.file_changed(empty, harness.tree)
    harness.job.file_changed(other, harness.tree)
    harness.job.file_changed(harness.tree / "vanished.torrent", harness.tree)
    assert fake.calls() == []


# --- the saved state: restarts, first start, odd names, damage --------------------------------------------

ODD_NAMES = [
    "plain.torrent",
    "new\nline.torrent",
    'quote"back\\slash.torrent',
    "späß ✓ 日本.torrent",
    os.fsdecode(b"latin1-\xe9\xff.torrent"),  # not UTF-8: a surrogate-escaped str
]


def test_erased_item_is_not_loaded_again_after_a_restart(tmp_path: Path, fake: FakeRtorrent) -> None:
    harness = Harness(tmp_path, fake)
    meta = make_metafile("erased")
    path = harness.write("a/erased.torrent", meta.data)
    harness.job.run()
    assert meta.info_hash in fake.items
    del fake.items[meta.info_hash]  # the user erases the item and keeps the metafile

    fake.clear()
    harness.restart().rescan()
    assert fake.calls("load.") == [] and meta.info_hash not in fake.items

    harness.touch(path, age=30)  # the user touches the file: a new version, loaded
    harness.restart().rescan()
    assert meta.info_hash in fake.items


def test_file_added_while_down_is_loaded_and_invalid_stays_reported_once(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake)
    bad = harness.write("bad.torrent", b"garbage")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        harness.job.run()
        harness.job.stop()
        meta = make_metafile("while-down")
        harness.write("later/while-down.torrent", meta.data)
        harness.restart().rescan()
        harness.restart().rescan()
    assert meta.info_hash in fake.items and len(fake.calls("load.")) == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and str(bad) in errors[0]
    assert bad.read_bytes() == b"garbage"


def test_first_start_records_existing_files_without_loading(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake, previous_run=False)
    old = [
        harness.write(f"d{index}/old{index}.torrent", make_metafile(f"old{index}").data) for index in range(3)
    ]
    harness.write("old-bad.torrent", b"garbage")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        harness.job.start()  # takes the start time; the watcher thread scans
        harness.job.stop()
        harness.job.run()
    assert fake.calls("load.") == []
    assert "first start of tree watch 'treewatch': 4 existing metafile(s) recorded, not loaded" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    state = read_state(state_path(tmp_path, "treewatch"))
    assert state is not None and state.roots == {harness.tree}
    assert {p for p, seen in state.files.items() if seen.outcome is Outcome.PREEXISTING} >= set(old)

    # Written after the start: new. Touched: a new version, loaded too. The rest stays unloaded.
    fresh = make_metafile("fresh")
    harness.write("fresh.torrent", fresh.data, age=-1)
    harness.touch(old[0])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        harness.restart().rescan()
        harness.job.idle()  # the touched and fresh files settle first
    assert fresh.info_hash in fake.items and make_metafile("old0").info_hash in fake.items
    assert len(fake.items) == 2
    assert "first start" not in caplog.text


def test_corrupt_state_without_a_usable_copy_is_a_warning_and_treated_as_missing(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake)
    state_file = state_path(tmp_path, "treewatch")
    state_file.write_bytes(b'{"format": "pyrotorque-treewatch-state", "version": 1, "roots": [')
    backup_path(state_file).unlink()
    path = harness.write("kept.torrent", make_metafile("kept").data)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        harness.restart().run()
        harness.job.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(state_file) in warnings[0] and "not valid JSON" in warnings[0]
    assert fake.calls("load.") == [] and path.exists()
    assert "1 existing metafile(s) recorded, not loaded" in caplog.text
    assert read_state(state_file) is not None  # rewritten whole


def test_rtorrent_away_keeps_the_file_unrecorded_across_a_restart(tmp_path: Path, fake: FakeRtorrent) -> None:
    harness = Harness(tmp_path, fake)
    meta = make_metafile("pending")
    harness.write("pending.torrent", meta.data)
    fake.down = True
    harness.job.rescan()
    fake.down = False
    harness.restart().rescan()
    assert meta.info_hash in fake.items


def test_state_is_saved_at_most_every_few_seconds_on_events(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake)

    def writes() -> list[Any]:
        """The number of files in each write of the state file, from the DEBUG line every write logs."""
        saves = [r for r in caplog.records if r.getMessage().startswith("Saved the state of")]
        return [r.args[0] for r in saves]  # type: ignore[index]

    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        for index in range(30):
            path = harness.write(f"burst/{index}.torrent", make_metafile(f"burst{index}").data)
            harness.job.file_changed(path, harness.tree)
        assert len(fake.items) == 30
        assert writes() == [1]  # the first change is saved at once, the rest waits for the save interval
        wakeup = harness.job.next_wakeup()
        assert wakeup is not None and wakeup > harness.clock.monotonic()
        harness.clock.advance(wakeup - harness.clock.monotonic())  # the watcher's wakeup is due
        harness.job.idle()
        assert writes() == [1, 30] and harness.job.state.save_at is None
        harness.job.stop()
        assert writes() == [1, 30]  # nothing changed since
    state = read_state(state_path(tmp_path, "treewatch"))
    assert state is not None and len(state.files) == 30


def test_dry_run_never_writes_the_state(tmp_path: Path, fake: FakeRtorrent) -> None:
    harness = Harness(tmp_path, fake, dry_run=True, previous_run=False)
    harness.write("a.torrent", make_metafile("a").data)
    harness.job.run()
    harness.job.stop()
    assert not state_path(tmp_path, "treewatch").exists()


def test_an_emptied_root_keeps_its_records(tmp_path: Path, fake: FakeRtorrent) -> None:
    """An empty root may be an unmounted share: its files must not all become new when it returns."""
    harness = Harness(tmp_path, fake)
    meta = make_metafile("share")
    path = harness.write("share.torrent", meta.data)
    harness.job.run()
    del fake.items[meta.info_hash]
    hidden = tmp_path / "hidden.torrent"
    path.rename(hidden)  # "unmounted"
    harness.restart().run()
    hidden.rename(path)  # back, same stamp
    harness.restart().run()
    assert fake.items == {}


def test_state_survives_odd_metafile_names(tmp_path: Path, fake: FakeRtorrent) -> None:
    harness = Harness(tmp_path, fake)
    metas = [make_metafile(f"odd{index}") for index in range(len(ODD_NAMES))]
    for name, meta in zip(ODD_NAMES, metas, strict=True):
        harness.write(name, meta.data)
    harness.job.run()
    assert len(fake.items) == len(ODD_NAMES)
    fake.items.clear()
    harness.restart().run()
    assert fake.calls("load.")[len(ODD_NAMES) :] == []
    assert fake.items == {}


# --- loads rTorrent lost before it saved them ---------------------------------------------------------


def test_an_item_rtorrent_lost_after_a_failed_request_is_loaded_again(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(tmp_path, fake)
    meta = make_metafile("lost-in-a-crash")
    path = harness.write("lost.torrent", meta.data)
    harness.job.file_changed(path, harness.tree)
    assert meta.info_hash in fake.items
    # rTorrent is killed before it saved the item: a request fails, and it comes back without it.
    fake.down = True
    with pytest.raises(RtorrentError):
        harness.rpc.call("system.pid", "")
    fake.down = False
    del fake.items[meta.info_hash]

    harness.clock.advance(harness.job.timing.recent_hold - 1)
    harness.job.idle()
    assert meta.info_hash not in fake.items  # its hold is not over yet
    harness.clock.advance(1)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        harness.job.idle()  # the check finds it lost and leaves it pending
        harness.clock.advance(harness.job.timing.retry_first)
        harness.job.idle()
    assert meta.info_hash in fake.items
    assert any(
        "rTorrent lost 1 item(s)" in r.getMessage() and str(path) in r.getMessage() for r in caplog.records
    )


def test_an_item_erased_while_rtorrent_answered_every_request_is_not_loaded_again(
    tmp_path: Path, fake: FakeRtorrent
) -> None:
    harness = Harness(tmp_path, fake)
    meta = make_metafile("erased-by-the-user")
    path = harness.write("erased.torrent", meta.data)
    harness.job.file_changed(path, harness.tree)
    del fake.items[meta.info_hash]  # the user erased it; no request failed
    fake.clear()

    harness.clock.advance(harness.job.timing.recent_hold + harness.job.timing.retry_first)
    harness.job.idle()
    harness.job.idle()

    assert meta.info_hash not in fake.items
    assert fake.calls("d.multicall") == [] and fake.calls("load.") == []  # the check cost nothing
    assert harness.job.recent.check_at is None and harness.job.next_wakeup() is None
