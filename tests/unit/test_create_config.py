"""``pyrotorque --create-config`` and ``--show-includes``: the layout, a second run, the user's files."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from pyrotorque import layout
from pyrotorque.cli import main

SHIPPED = Path(layout.__file__).parent / "data"


def create(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["--create-config", "--config-dir", str(config_dir)])
    return code, capsys.readouterr().out


def rc_lines(out: str) -> list[str]:
    """The lines printed for rtorrent.rc (between the announcement and the next blank line)."""
    after = out.split("Add these lines to your rtorrent.rc, then restart rTorrent:\n\n", 1)[1]
    return after.split("\n\n", 1)[0].splitlines()


def test_first_run_lays_out_the_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_dir = tmp_path / "pyro"
    code, out = create(config_dir, capsys)
    assert code == 0
    assert (config_dir / "run").is_dir() and (config_dir / "log").is_dir()
    assert not (config_dir / "run" / "pyrotorque").exists()  # the guard file is the user's decision
    assert (config_dir / "torque.ini.default").read_text() == (SHIPPED / "torque.ini").read_text()
    assert (config_dir / "config.ini.default").read_text() == (SHIPPED / "config.ini").read_text()
    for name in ("timestamps.rc", "torque.rc"):
        copy = config_dir / "rtorrent.d" / f"{name}.default"
        assert copy.read_text() == (SHIPPED / "rtorrent.d" / name).read_text()
        assert f"created   {copy}\n" in out
    assert not (config_dir / "torque.ini").exists() and not (config_dir / "config.ini").exists()


def test_printed_rc_lines_import_the_copies_with_absolute_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = tmp_path / "with blank"
    _, out = create(config_dir, capsys)
    lines = rc_lines(out)
    assert lines == [
        f'import = "{config_dir}/rtorrent.d/timestamps.rc.default"',
        f'import = "{config_dir}/rtorrent.d/torque.rc.default"',
        f"pyrotorque.command.set = {layout.command_path()}",
        f'pyrotorque.config_dir.set = "{config_dir}"',
    ]


def test_second_run_is_harmless_and_never_touches_user_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = tmp_path / "pyro"
    create(config_dir, capsys)
    user_files = {
        config_dir / "torque.ini": "[TORQUE]\njob.queue.active = yes\n",
        config_dir / "config.ini": "[GLOBAL]\nscgi_url = scgi:///tmp/x\n",
        config_dir / "run" / "pyrotorque": "",
        config_dir / "rtorrent.d" / "mine.rc": "# mine\n",
    }
    for path, text in user_files.items():
        path.write_text(text)
    stale = config_dir / "rtorrent.d" / "torque.rc.default"
    stale.write_text("# an older release's include\n")  # ours: a new release replaces it
    before = {path: path.stat().st_mtime_ns for path in user_files}

    code, out = create(config_dir, capsys)

    assert code == 0
    assert {path: path.read_text() for path in user_files} == user_files
    assert {path: path.stat().st_mtime_ns for path in user_files} == before
    assert stale.read_text() == (SHIPPED / "rtorrent.d" / "torque.rc").read_text()
    assert f"updated   {stale}\n" in out
    assert f"unchanged {config_dir / 'torque.ini.default'}\n" in out
    assert "created" not in out
    assert sorted(path.name for path in (config_dir / "rtorrent.d").iterdir()) == [
        "mine.rc",
        "timestamps.rc.default",
        "torque.rc.default",
    ]


def test_a_symlink_in_place_of_a_default_file_is_replaced_not_written_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = tmp_path / "pyro"
    config_dir.mkdir()
    precious = tmp_path / "precious.ini"
    precious.write_text("keep me\n")
    (config_dir / "torque.ini.default").symlink_to(precious)
    code, _ = create(config_dir, capsys)
    assert code == 0
    assert precious.read_text() == "keep me\n"
    assert not (config_dir / "torque.ini.default").is_symlink()


def test_unwritable_place_is_exit_74(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["--create-config", "--config-dir", str(blocker / "pyro")])
    assert code == 74
    assert "pyrotorque: cannot create" in capsys.readouterr().err


def test_systemd_unit_runs_this_installation_in_the_foreground(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = tmp_path / "50% done"
    create(config_dir, capsys)
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.read_string((config_dir / "pyrotorque.service.default").read_text())
    assert unit["Service"]["ExecStart"] == f'{layout.command_path()} --fg --config-dir "{tmp_path}/50%% done"'
    assert unit["Service"]["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert unit["Service"]["RestartPreventExitStatus"] == "78"
    assert unit["Install"]["WantedBy"] == "default.target"


def test_shipped_unit_is_usable_as_it_is() -> None:
    text = (SHIPPED / "systemd" / "pyrotorque.service").read_text()
    assert layout.SHIPPED_EXEC_START in text.splitlines()


def test_show_includes_prints_the_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--show-includes"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [str(SHIPPED / "rtorrent.d" / name) for name in ("timestamps.rc", "torque.rc")]
    assert all(Path(path).is_absolute() and Path(path).is_file() for path in printed)


@pytest.mark.parametrize(
    ("text", "value"),
    [("/a/b.rc", "/a/b.rc"), ("/a b/c", '"/a b/c"'), ('/a"b', '"/a\\"b"'), ("", '""')],
)
def test_rc_values_are_quoted_when_needed(text: str, value: str) -> None:
    assert layout.rc_value(text) == value
