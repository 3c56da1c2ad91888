"""Bad metafiles dropped into a real tree watch beside a real rTorrent: each is reported once, kept
byte for byte where it is, and does not stop the next good file from loading."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.metafile import MAX_METAFILE_SIZE
from tests.integration.test_treewatch_live import LOGGER, Watch
from tests.support.polling import wait_for

GOOD = make_metafile("good-after-bad", seed=71)


def _truncated() -> bytes:
    return GOOD.data[: len(GOOD.data) // 2]


def _not_bencode() -> bytes:
    return b"<html><body>404 Not Found</body></html>\n"


def _huge() -> bytes:
    return b"d4:info" + b"x" * (MAX_METAFILE_SIZE + 1)


def _no_info() -> bytes:
    return b"d8:announce20:http://example.org/ae"


BAD_FILES: dict[str, Callable[[], bytes]] = {
    "truncated": _truncated,
    "not-bencode": _not_bencode,
    "huge": _huge,
    "no-info-dict": _no_info,
}


@pytest.fixture
def watch(rt: RtorrentSandbox, tmp_path: Path) -> Iterator[Watch]:
    made = Watch(rt, tmp_path)
    yield made
    made.close()


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def _drop_and_check(watch: Watch, caplog: pytest.LogCaptureFixture, relative: bytes, data: bytes) -> None:
    job = watch.start()
    path = Path(os.fsdecode(os.fsencode(watch.tree) + b"/" + relative))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        path.write_bytes(data)
        wait_for(lambda: _errors(caplog), "the bad file's error line")
        job.rescan()  # a later scan finds it again and must stay quiet about it
        job.run()
        (watch.tree / "good.torrent").write_bytes(GOOD.data)
        wait_for(lambda: watch.loaded(GOOD), "the good file after the bad one")
    errors = _errors(caplog)
    assert len(errors) == 1, errors
    assert repr(str(path)) in errors[0]
    assert path.read_bytes() == data  # left in place, unchanged
    assert watch.sandbox.item_hashes() == [GOOD.info_hash]


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_a_bad_metafile_is_reported_once_and_left_in_place(
    watch: Watch, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    _drop_and_check(watch, caplog, f"{kind}.torrent".encode(), BAD_FILES[kind]())


def test_a_file_name_that_is_not_utf8_is_reported_once_and_left_in_place(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    _drop_and_check(watch, caplog, b"caf\xe9-latin1.torrent", _truncated())


def test_an_empty_file_is_quiet_as_a_placeholder_then_reported_once_by_a_scan(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    job = watch.start()
    job.rescan()  # the first start's scan, which records what is there without loading it
    with caplog.at_level(logging.INFO, logger=LOGGER):
        placeholder = watch.write("placeholder.torrent", b"")
        left_empty = watch.write("left-empty.torrent", b"", old=True)
        job.rescan()
        job.rescan()  # no second report while the file stays as it is
        placeholder.write_bytes(GOOD.data)  # the browser's final write
        wait_for(lambda: watch.loaded(GOOD), "the placeholder's final content to load")
        job.rescan()
    reports = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert reports == [reports[0]] and repr(str(left_empty)) in reports[0] and "Empty metafile" in reports[0]
    assert left_empty.read_bytes() == b""
    assert watch.sandbox.item_hashes() == [GOOD.info_hash]
