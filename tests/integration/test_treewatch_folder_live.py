"""Per-folder ``watch.ini`` against a real rTorrent (both lines) and real inotify."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.metafiles import Metafile, make_metafile
from sandbox.rtorrent import RtorrentSandbox

from tests.integration.test_treewatch_live import LOGGER, Watch, item
from tests.support.polling import wait_for

_VERSION = [0]


@pytest.fixture
def tree(rt: RtorrentSandbox, tmp_path: Path) -> Iterator[Watch]:
    made = Watch(rt, tmp_path)
    yield made
    made.close()


def write_ini(watch: Watch, relative: str, text: str) -> Path:
    """Write ``relative/watch.ini``; each version gets its own mtime, however fast the rewrite."""
    folder = watch.tree / relative
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "watch.ini"
    path.write_text(text)
    _VERSION[0] += 1
    os.utime(path, ns=(_VERSION[0] * 1_000_000_000, _VERSION[0] * 1_000_000_000))
    return path


def drop(watch: Watch, relative: str, name: str) -> Metafile:
    meta = make_metafile(name)
    watch.write(relative, meta.data)
    wait_for(lambda: watch.loaded(meta), f"{name} loaded")
    return meta


def targetdir(watch: Watch, meta: Metafile) -> str:
    return str(watch.sandbox.rpc("d.custom", meta.info_hash, "targetdir"))


def test_overrides_at_two_levels(tree: Watch, caplog: pytest.LogCaptureFixture) -> None:
    write_ini(tree, "sub", "load_mode = start\n")
    write_ini(tree, "sub/deeper", "cmd.label = d.custom1.set=deeper\ntarget = /srv/done/tv shows, 100%\n")
    write_ini(tree, "queued", "load_mode = start\nqueued = yes\n")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        tree.start(cmd={"label": "d.custom1.set=job"})
        top = drop(tree, "top.torrent", "wini-top")
        sub = drop(tree, "sub/a.torrent", "wini-sub")
        deeper = drop(tree, "sub/deeper/x/b.torrent", "wini-deeper")
        queued = drop(tree, "queued/q.torrent", "wini-queued")
    assert (item(tree.sandbox, top)["d.state"], item(tree.sandbox, top)["d.custom1"]) == (0, "job")
    assert (item(tree.sandbox, sub)["d.state"], item(tree.sandbox, sub)["d.custom1"]) == (1, "job")
    details = item(tree.sandbox, deeper)
    assert (details["d.state"], details["d.custom1"]) == (1, "deeper")  # still started, label replaced
    assert targetdir(tree, deeper) == "/srv/done/tv shows, 100%"
    assert targetdir(tree, sub) == ""
    # The queue sees the folder's settings: started-for-the-queue means stopped, startable, queue woken.
    assert (item(tree.sandbox, queued)["d.state"], item(tree.sandbox, queued)["d.priority"]) == (0, 2)
    assert "[queued] [startable]" in caplog.text
    wait_for(lambda: tree.woken == ["queue"], "the queue woken once")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_change_while_running_is_picked_up(tree: Watch) -> None:
    path = write_ini(tree, "sub", "load_mode = start\ncmd.off = d.custom2.set=on\n")
    tree.start()
    first = drop(tree, "sub/1.torrent", "wini-first")
    assert (item(tree.sandbox, first)["d.state"], item(tree.sandbox, first)["d.custom2"]) == (1, "on")
    write_ini(tree, "sub", "load_mode = normal\ncmd.off =\n")
    second = drop(tree, "sub/2.torrent", "wini-second")
    assert (item(tree.sandbox, second)["d.state"], item(tree.sandbox, second)["d.custom2"]) == (0, "")
    path.unlink()
    write_ini(tree, "", "load_mode = start\n")  # a new file at the root counts for sub too
    third = drop(tree, "sub/3.torrent", "wini-third")
    assert item(tree.sandbox, third)["d.state"] == 1


def test_a_broken_watch_ini_is_logged_once_and_its_folder_falls_back(
    tree: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    write_ini(tree, "", "cmd.lab = d.custom1.set=root\n")
    bad = write_ini(tree, "sub", "cmd.lab = d.custom1.set=sub\nload_mode = start\nbogus = 1\n")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        tree.start()
        one = drop(tree, "sub/1.torrent", "wini-bad-1")
        two = drop(tree, "sub/deeper/2.torrent", "wini-bad-2")
    for meta in (one, two):
        assert (item(tree.sandbox, meta)["d.state"], item(tree.sandbox, meta)["d.custom1"]) == (0, "root")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "bogus: unknown key 'bogus'" in errors[0] and f"({bad} line 3)" in errors[0]
    write_ini(tree, "sub", "cmd.lab = d.custom1.set=sub\nload_mode = start\n")  # fixed
    three = drop(tree, "sub/3.torrent", "wini-bad-3")
    assert (item(tree.sandbox, three)["d.state"], item(tree.sandbox, three)["d.custom1"]) == (1, "sub")
