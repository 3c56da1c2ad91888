"""Moving an item's data (data_move): same file system, across file systems, failures and crashes.

All on real files; the second file system is a real tmpfs (root only, as the other tmpfs tests).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import pyrotorque
from pyrotorque.errors import DataError
from pyrotorque.jobs.rules.data_move import (
    How,
    ensure_directory,
    partial_path,
    place,
    remove_source,
)
from tests.support.data_trees import digest, make_tree, tmpfs, write_file

SIZES = {"a.bin": 300_000, "sub/b.bin": 70_000, "sub/deeper/c.txt": 5, "empty.bin": 0}
LINKS = {"inside": "sub/b.bin", "outside": "/etc/passwd", "sub/dangling": "../nowhere"}


@pytest.fixture
def disk(tmp_path: Path) -> Path:
    """A directory on the disk (where pytest's tmp_path lives)."""
    path = tmp_path / "disk"
    path.mkdir()
    return path


@pytest.fixture
def other_fs(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB tmpfs: another file system than ``disk``."""
    with tmpfs(tmp_path / "tmpfs", "64m") as mount_point:
        yield mount_point


def data_dir(root: Path, name: str = "Some.Item") -> Path:
    (root / "from").mkdir(exist_ok=True)
    (root / "to").mkdir(exist_ok=True)
    return make_tree(root / "from" / name, SIZES, LINKS)


def listed(sizes: dict[str, int] = SIZES) -> dict[str, int]:
    return dict(sizes)


# --- the same file system: one rename --------------------------------------------------------------------


def test_same_file_system_renames_a_directory(disk: Path) -> None:
    source = data_dir(disk)
    before, inode = digest(source), os.stat(source).st_ino
    placement = place(source, disk / "to", listed())
    assert placement.how is How.RENAMED and not placement.source_left
    target = disk / "to" / "Some.Item"
    assert placement.target == target and os.stat(target).st_ino == inode  # the same directory
    assert digest(target) == before and not source.exists()
    remove_source(placement)  # nothing left to remove
    assert digest(target) == before


def test_same_file_system_renames_a_single_file(disk: Path) -> None:
    (disk / "to").mkdir()
    write_file(disk / "file.iso", 1000, seed=7)
    before = digest(disk / "file.iso")
    placement = place(disk / "file.iso", disk / "to", {"file.iso": 1000})
    assert placement.how is How.RENAMED
    assert digest(disk / "to" / "file.iso") == before and not (disk / "file.iso").exists()


def test_data_already_in_the_directory_is_left_alone(disk: Path) -> None:
    source = data_dir(disk)
    before = digest(source)
    placement = place(source, disk / "from" / ".", listed())
    assert placement.how is How.IN_PLACE and placement.target == source
    remove_source(placement)
    assert digest(source) == before


# --- across file systems: copy, verify, place; remove the source later ------------------------------------


@pytest.mark.parametrize("direction", ["disk to tmpfs", "tmpfs to disk"])
def test_across_file_systems_copies_then_removes_the_source_on_request(
    disk: Path, other_fs: Path, direction: str
) -> None:
    start, end = (disk, other_fs) if direction == "disk to tmpfs" else (other_fs, disk)
    (end / "to").mkdir()
    source = data_dir(start)
    before = digest(source)
    placement = place(source, end / "to", listed())
    assert placement.how is How.COPIED and placement.source_left
    target = end / "to" / "Some.Item"
    assert digest(target) == before  # bytes, symlinks as links, file mtimes to the nanosecond
    assert digest(source) == before  # the source is only read
    assert not os.path.lexists(partial_path(end / "to", "Some.Item"))
    assert os.stat(target / "sub").st_mtime_ns == os.stat(source / "sub").st_mtime_ns
    remove_source(placement)
    assert not os.path.lexists(source) and digest(target) == before
    assert (start / "from").is_dir()  # only the data itself went


def test_across_file_systems_a_single_file(disk: Path, other_fs: Path) -> None:
    write_file(disk / "file.iso", 2_000_000, seed=3)
    os.chmod(disk / "file.iso", 0o640)
    before = digest(disk / "file.iso")
    placement = place(disk / "file.iso", other_fs, {"file.iso": 2_000_000})
    assert placement.how is How.COPIED
    assert digest(other_fs / "file.iso") == before
    assert os.stat(other_fs / "file.iso").st_mode & 0o777 == 0o640
    remove_source(placement)
    assert not (disk / "file.iso").exists()


def test_a_copy_that_does_not_match_the_file_list_is_discarded(disk: Path, other_fs: Path) -> None:
    source = data_dir(disk)
    before = digest(source)
    with pytest.raises(DataError, match=r"sub/b.bin has 70000 bytes, the item's file list says 70001"):
        place(source, other_fs, listed({**SIZES, "sub/b.bin": 70_001}))
    with pytest.raises(DataError, match=r"missing.bin is missing"):
        place(source, other_fs, listed({**SIZES, "missing.bin": 1}))
    assert sorted(os.listdir(other_fs)) == [] and digest(source) == before


def test_a_leftover_partial_copy_is_removed_and_the_copy_starts_over(disk: Path, other_fs: Path) -> None:
    source = data_dir(disk)
    partial = partial_path(other_fs, "Some.Item")
    make_tree(partial, {"a.bin": 10, "stale-junk": 99})
    placement = place(source, other_fs, listed())
    assert placement.how is How.COPIED
    assert digest(other_fs / "Some.Item") == digest(source) and not partial.exists()


# --- a target that exists ---------------------------------------------------------------------------------


def test_a_complete_copy_at_the_target_is_accepted(disk: Path, other_fs: Path) -> None:
    source = data_dir(disk)
    first = place(source, other_fs, listed())  # the daemon dies here, before rTorrent is switched
    again = place(source, other_fs, listed())
    assert first.how is How.COPIED and again.how is How.FOUND_COPY and again.source_left
    remove_source(again)
    assert not source.exists() and (other_fs / "Some.Item" / "a.bin").stat().st_size == 300_000


@pytest.mark.parametrize("change", ["other bytes count", "extra file", "other mtime", "a file"])
def test_a_target_that_is_not_a_copy_is_refused(disk: Path, other_fs: Path, change: str) -> None:
    source = data_dir(disk)
    target = other_fs / "Some.Item"
    if change == "a file":
        write_file(target, 10)
    else:
        make_tree(target, SIZES, LINKS)
    if change == "other bytes count":
        write_file(target / "sub/b.bin", 69_999, seed=2)
    elif change == "extra file":
        write_file(target / "extra", 1)
    elif change == "other mtime":
        os.utime(target / "a.bin", (0, 0))
    before_source, before_target = digest(source), digest(target)
    with pytest.raises(DataError, match=f"{target} already exists and is not a copy of {source}"):
        place(source, other_fs, listed())
    assert digest(source) == before_source and digest(target) == before_target


def test_a_same_fs_rename_done_before_a_crash_is_recognised_by_the_file_list(disk: Path) -> None:
    source = data_dir(disk)
    place(source, disk / "to", listed())  # renamed; rTorrent still points at the old place
    again = place(source, disk / "to", listed())
    assert again.how is How.FOUND_MOVED and not again.source_left
    with pytest.raises(DataError, match=f"{source} does not exist"):
        place(source, disk / "to")  # without the file list, nothing vouches for the target
    with pytest.raises(DataError, match=f"{source} does not exist"):
        place(source, disk / "to", listed({**SIZES, "a.bin": 1}))


# --- refusals and failures --------------------------------------------------------------------------------


def test_a_missing_or_symlinked_data_path_is_refused(disk: Path, other_fs: Path) -> None:
    source = data_dir(disk)
    os.symlink(source, disk / "from" / "link")
    with pytest.raises(DataError, match=f"{disk / 'from' / 'link'} is a symlink"):
        place(disk / "from" / "link", other_fs)
    with pytest.raises(DataError, match=f"{disk / 'from' / 'nothing'} does not exist"):
        place(disk / "from" / "nothing", other_fs, {"x": 1})
    with pytest.raises(DataError, match=f"{other_fs / 'absent'} is not a directory"):
        place(source, other_fs / "absent")
    with pytest.raises(DataError, match="inside the data"):
        place(source, source / "sub")
    assert os.listdir(other_fs) == []


def test_no_space_left_keeps_the_source_and_leaves_no_partial(disk: Path, tmp_path: Path) -> None:
    source = make_tree(disk / "Big.Item", {"one.bin": 700_000, "two.bin": 700_000})
    before = digest(source)
    with tmpfs(tmp_path / "small", "1m") as small:
        with pytest.raises(DataError, match=r"cannot copy .*two.bin.*: No space left on device"):
            place(source, small, {"one.bin": 700_000, "two.bin": 700_000})
        assert os.listdir(small) == []
    assert digest(source) == before


def test_what_data_never_is_stops_the_copy_cleanly(disk: Path, other_fs: Path) -> None:
    source = data_dir(disk)
    os.mkfifo(source / "sub" / "a-fifo")
    with pytest.raises(DataError, match=r"a-fifo: not a file, directory or symlink"):
        place(source, other_fs)
    assert os.listdir(other_fs) == [] and (source / "sub" / "a-fifo").exists()


def test_the_target_directory_is_created_once(disk: Path) -> None:
    assert ensure_directory(disk / "new" / "deep") is True
    assert ensure_directory(disk / "new" / "deep") is False
    write_file(disk / "a-file", 1)
    with pytest.raises(DataError, match=f"cannot create {disk / 'a-file' / 'x'}"):
        ensure_directory(disk / "a-file" / "x")


# --- SIGKILL halfway through a copy -----------------------------------------------------------------------

MOVER = """
import sys
from pathlib import Path
from pyrotorque.jobs.rules.data_move import place
print(place(Path(sys.argv[1]), Path(sys.argv[2])).how.name, flush=True)
"""


def test_a_copy_killed_halfway_loses_nothing_and_a_rerun_completes(tmp_path: Path, disk: Path) -> None:
    with tmpfs(tmp_path / "source-fs", "80m") as source_fs:
        # Many files, each fsynced on the disk: the copy takes long enough to be caught in the middle.
        source = make_tree(source_fs / "Many.Files", {f"part{n:03}.bin": 256 << 10 for n in range(200)})
        before = digest(source)
        partial = partial_path(disk, "Many.Files")
        env = {**os.environ, "PYTHONPATH": str(Path(pyrotorque.__file__).parents[1])}
        mover = subprocess.Popen([sys.executable, "-c", MOVER, str(source), str(disk)], env=env)
        try:
            _poll(lambda: partial.is_dir() and len(os.listdir(partial)) >= 2, mover)
            mover.send_signal(signal.SIGSTOP)  # hold it still to look: we are mid-copy by observation
            copied = len(os.listdir(partial))
            assert 2 <= copied < 200 and not os.path.lexists(disk / "Many.Files")
            mover.kill()
        finally:
            mover.kill()
            mover.wait()
        assert mover.returncode == -signal.SIGKILL
        assert digest(source) == before  # the source is complete
        assert not os.path.lexists(disk / "Many.Files")  # nothing is at the target name

        placement = place(source, disk)  # the rerun
        assert placement.how is How.COPIED and not partial.exists()
        assert digest(disk / "Many.Files") == before
        remove_source(placement)
        assert not source.exists()


def _poll(condition: object, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Poll fast (the copy is quick): until ``condition()`` holds; fail if the process ends first."""
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the mover ended first (exit {process.returncode})"
        assert time.monotonic() < deadline, "timed out waiting for the partial copy"
        time.sleep(0.001)
