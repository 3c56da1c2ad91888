"""The string rules of paths.py (used by the control commands' quick answer) match the Path ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrotorque import paths

CASES = ["conf", "conf/", "./a/../b", "/abs//dir/.", "~/.pyroscope", "~"]


@pytest.mark.parametrize("given", [None, *CASES])
def test_config_dir_and_pid_file_as_pathlib_would_have_them(
    given: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    environ = {"HOME": str(tmp_path / "home")}
    monkeypatch.setenv("HOME", environ["HOME"])
    config_dir = None if given is None else Path(given)
    expected = (config_dir or Path(paths.DEFAULT_CONFIG_DIR)).expanduser().absolute()
    assert paths.resolve_config_dir(config_dir, environ) == expected
    assert Path(paths.config_dir_name(given, environ)) == expected
    assert paths.pid_path(config_dir, None, environ) == expected / paths.PID_FILE_NAME
    assert paths.log_path(config_dir, environ) == expected / paths.LOG_DIR_NAME / paths.LOG_FILE_NAME
    if given is not None:
        assert paths.pid_path(None, Path(given), environ) == Path(given).absolute()
        assert Path(paths.pid_file_name(None, given, environ)) == Path(given).absolute()


def test_environment_names_the_config_dir(tmp_path: Path) -> None:
    environ = {paths.CONFIG_DIR_ENV: str(tmp_path / "env")}
    assert paths.resolve_config_dir(None, environ) == tmp_path / "env"
    assert paths.resolve_config_dir(tmp_path / "arg", environ) == tmp_path / "arg"
