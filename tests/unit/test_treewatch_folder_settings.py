"""Per-folder ``watch.ini`` of the tree watch: resolution, inheritance, changes, bad files (real files)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile

from pyrotorque.config.ini import parse_ini
from pyrotorque.jobs.treewatch.folder_settings import FolderResult, FolderSettings
from pyrotorque.jobs.treewatch.plan import is_metafile_name
from pyrotorque.jobs.treewatch.scanner import walk_metafiles
from pyrotorque.jobs.treewatch.templates import LoadCommand
from tests.support.fake_rtorrent import FakeRtorrent
from tests.unit.test_treewatch_loader import Setup

LOGGER = "pyrotorque.job.treewatch"


def command(name: str, text: str) -> LoadCommand:
    return LoadCommand.parse(f"job.treewatch.cmd.{name}", text, config_dir=Path("/"))


def settings(tmp_path: Path, **job: object) -> FolderSettings:
    commands = job.pop(
        "commands", {"a": command("a", "d.custom1.set=job"), "b": command("b", "d.custom2.set=job")}
    )
    return FolderSettings(
        load_mode=str(job.pop("load_mode", "normal")),
        queued=bool(job.pop("queued", False)),
        commands=commands,  # type: ignore[arg-type]
        log=logging.getLogger(LOGGER),
        config_dir=tmp_path,
    )


def write_ini(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "watch.ini"
    path.write_text(text)
    return path


def texts(result: FolderResult) -> list[str]:
    return [c.text for c in result.commands]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    made = tmp_path / "watch"
    made.mkdir()
    return made


def test_without_watch_ini_the_job_settings_apply(tmp_path: Path, root: Path) -> None:
    result = settings(tmp_path, load_mode="start", queued=True).for_file(root / "x/y.torrent", root)
    assert (result.load_mode, result.queued) == ("start", True)
    assert texts(result) == ["d.custom1.set=job", "d.custom2.set=job"]


def test_two_levels_nearest_wins_key_by_key(tmp_path: Path, root: Path) -> None:
    write_ini(root / "sub", "load_mode = start\ncmd.label = d.custom1.set=sub\n")
    write_ini(
        root / "sub/deeper",
        "[watch]\nqueued = yes\ncmd.label = d.custom1.set=deeper\ncmd.c = d.custom3.set=c\n",
    )
    folders = settings(tmp_path)
    top = folders.for_file(root / "top.torrent", root)
    sub = folders.for_file(root / "sub/a.torrent", root)
    deeper = folders.for_file(root / "sub/deeper/more/b.torrent", root)
    assert (top.load_mode, top.queued) == ("normal", False)
    assert (sub.load_mode, sub.queued, texts(sub)) == (
        "start",
        False,
        ["d.custom1.set=job", "d.custom2.set=job", "d.custom1.set=sub"],
    )
    # deeper: load_mode inherited from sub, queued its own, cmd.label replaced, cmd.c added (sorted by name).
    assert (deeper.load_mode, deeper.queued) == ("start", True)
    assert texts(deeper) == [
        "d.custom1.set=job",
        "d.custom2.set=job",
        "d.custom3.set=c",
        "d.custom1.set=deeper",
    ]


def test_an_empty_command_disables_it_below_and_a_deeper_file_can_set_it_again(
    tmp_path: Path, root: Path
) -> None:
    write_ini(root / "sub", 'cmd.a =\ncmd.b = ""\n')
    write_ini(root / "sub/again", "cmd.a = d.custom1.set=again\n")
    folders = settings(tmp_path)
    assert texts(folders.for_file(root / "sub/x.torrent", root)) == []
    assert texts(folders.for_file(root / "sub/again/x.torrent", root)) == ["d.custom1.set=again"]
    assert len(texts(folders.for_file(root / "other/x.torrent", root))) == 2


def test_target_sets_targetdir_escaped_and_replaces_cmd_target(tmp_path: Path, root: Path) -> None:
    job = {"target": command("target", "d.custom.set=targetdir,/done")}
    write_ini(root / "tv", "target = /srv/done/tv shows, 100%\n")
    result = settings(tmp_path, commands=job).for_file(root / "tv/x.torrent", root)
    assert len(result.commands) == 1
    assert result.commands[0].render({}) == r"d.custom.set=targetdir,/srv/done/tv\ shows\,\ 100%"


def test_a_change_is_picked_up_and_a_removed_file_no_longer_counts(tmp_path: Path, root: Path) -> None:
    path = write_ini(root / "sub", "load_mode = start\n")
    folders = settings(tmp_path)
    assert folders.for_file(root / "sub/x.torrent", root).load_mode == "start"
    path.write_text("load_mode = normal\nqueued = on\n")
    os.utime(path, ns=(1, 1))  # a new version even if the clock did not tick
    result = folders.for_file(root / "sub/x.torrent", root)
    assert (result.load_mode, result.queued) == ("normal", True)
    path.unlink()
    assert folders.for_file(root / "sub/x.torrent", root).queued is False


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("load_mode = start\nstart_now = yes\n", 2, "start_now"),
        ("queued = maybe\n", 1, "queued"),
        ("\nload_mode = fast\n", 2, "load_mode"),
        ("load_mode = start\ncmd.x = {{if}}\n", 2, "cmd.x"),
        ("target = relative/dir\n", 1, "target"),
        ("load_mode = start\nthis is not ini\n", 2, None),
    ],
)
def test_a_bad_file_is_logged_once_with_file_line_key_and_the_folder_falls_back(
    tmp_path: Path, root: Path, caplog: pytest.LogCaptureFixture, text: str, line: int, key: str | None
) -> None:
    write_ini(root, "load_mode = start\n")
    path = write_ini(root / "bad", text)
    folders = settings(tmp_path)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        for _ in range(3):
            result = folders.for_file(root / "bad/deeper/x.torrent", root)
            assert (result.load_mode, result.queued) == ("start", False)  # the root's, nothing of the bad one
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert f"({path} line {line})" in errors[0]
    if key is not None:
        assert f"{key}: " in errors[0]
    # Fixed, it counts again (and a new breakage would be logged again).
    path.write_text("queued = yes\n")
    os.utime(path, ns=(2, 2))
    assert folders.for_file(root / "bad/x.torrent", root).queued is True


def test_watch_ini_is_never_a_metafile_candidate(root: Path) -> None:
    write_ini(root / "sub", "load_mode = start\n")
    assert not is_metafile_name("watch.ini")
    assert list(walk_metafiles(root, include_empty=True)) == []


def test_parse_ini_default_section_keeps_lines() -> None:
    parsed = parse_ini("a = 1\n[watch]\nb = 2\n", "w.ini", default_section="watch")
    assert {key: (s.value, s.line) for key, s in parsed["watch"].items()} == {"a": ("1", 1), "b": ("2", 3)}


def test_the_loader_uses_the_folder_settings(tmp_path: Path) -> None:
    fake = FakeRtorrent()
    setup = Setup(tmp_path, fake, cmd={"a": "d.custom1.set=job"})
    write_ini(setup.root / "started", "load_mode = start\ncmd.a =\ncmd.b = d.custom2.set=%(info_name)s\n")
    write_ini(setup.root / "started/queue", "queued = yes\n")
    started, queued = make_metafile("started"), make_metafile("queued")
    setup.load(setup.candidate("started/s.torrent", started.data))
    result = setup.load(setup.candidate("started/queue/q.torrent", queued.data))
    assert fake.items[started.info_hash].loaded_by == "load.raw_start_verbose"
    assert fake.items[started.info_hash].commands[1:] == ["d.custom2.set=started"]
    assert result.plan is not None and result.plan.state == "[queued] [startable]"
    assert fake.items[queued.info_hash].loaded_by == "load.raw_verbose"
