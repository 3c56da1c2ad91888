"""Argument parsing and the settings derived from it (no daemon is started here)."""

from __future__ import annotations

import argparse
import logging
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from pyrotorque import cli, logsetup
from pyrotorque.daemon import Settings
from pyrotorque.exitcodes import EXIT_NOT_RUNNING, EXIT_OK


def parse(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(list(argv))


def test_defaults() -> None:
    args = parse()
    assert not any(
        getattr(args, name) for name in ("foreground", "stop", "restart", "status", "cron", "dry_run")
    )
    assert args.config_file == [] and args.define == []
    assert args.view == "main"


def test_repeatable_and_aliases() -> None:
    args = parse(
        "--config-file", "a.ini", "--config-file", "b.ini", "-D", "x=1", "--define", "y=2", "--no-fork", "-?"
    )
    assert args.config_file == ["a.ini", "b.ini"]
    assert args.define == ["x=1", "y=2"]
    assert args.foreground and args.status


def test_quietly_verbose_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["-q", "-v", "--status"])
    assert caught.value.code == 2
    assert "-q cannot be combined" in capsys.readouterr().err


def test_two_commands_at_once_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--status", "--stop"])
    assert caught.value.code == 2
    assert "--status" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("pyrotorque 0.")


def test_guard_file_default_only_in_the_background(tmp_path: Path) -> None:
    background = Settings(config_dir=tmp_path, environ={})
    foreground = Settings(config_dir=tmp_path, foreground=True, environ={})
    explicit = Settings(config_dir=tmp_path, foreground=True, guard_file=tmp_path / "g", environ={})
    assert background.guard_path == tmp_path / "run" / "pyrotorque"
    assert foreground.guard_path is None
    assert explicit.guard_path == tmp_path / "g"
    assert background.pid_path == tmp_path / "run" / "pyrotorque.pid"
    assert background.log_path == tmp_path / "log" / "torque.log"


def test_config_dir_from_environment(tmp_path: Path) -> None:
    settings = Settings(environ={"PYRO_CONFIG_DIR": str(tmp_path)})
    assert settings.pid_path == tmp_path / "run" / "pyrotorque.pid"


def test_status_without_daemon_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--status", "--config-dir", str(tmp_path)]) == EXIT_NOT_RUNNING
    assert "not running" in capsys.readouterr().out


def test_stop_without_daemon_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "pyrotorque.pid").write_text("999999\n")
    assert cli.main(["--stop", "--config-dir", str(tmp_path)]) == EXIT_OK
    assert "was not running" in capsys.readouterr().out


@pytest.mark.parametrize(("flag", "level"), [("--debug", logging.DEBUG), ("-v", logging.WARNING)])
def test_only_debug_lets_the_schedulers_own_debug_lines_through(
    tmp_path: Path, flag: str, level: int
) -> None:
    try:
        assert cli.main([flag, "--status", "--config-dir", str(tmp_path)]) == EXIT_NOT_RUNNING
        assert logging.getLogger("apscheduler").level == level
        assert logging.getLogger().level == logging.DEBUG
    finally:
        logsetup.setup_logging(logging.WARNING, console=False)


def test_console_script_points_at_main() -> None:
    (script,) = [ep for ep in entry_points(group="console_scripts") if ep.name == "pyrotorque"]
    assert script.load() is cli.main
