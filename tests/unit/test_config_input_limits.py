"""Values that used to escape as foreign exceptions (a traceback, exit 70) are config errors with key,
file and line: too many digits for Python's int, floats beyond range, paths too long for the file
system; and configuration files that are directories are errors, not missing files."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pyrotorque.config import build_options, job_configs, legacy_params, load_config, option
from pyrotorque.config.convert import BadValue, parse_float, parse_int
from pyrotorque.errors import ConfigError

TOO_MANY_DIGITS = "1" * (sys.get_int_max_str_digits() + 1)
TOO_LONG_NAME = "/tmp/" + "x" * 300


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "cfg"
    directory.mkdir()
    (directory / "config.ini").write_text("[GLOBAL]\n")
    return directory


def torque(config_dir: Path, text: str) -> None:
    (config_dir / "torque.ini").write_text("[TORQUE]\n" + text)


def test_an_integer_with_too_many_digits_is_a_bad_value() -> None:
    with pytest.raises(BadValue, match=f"at most {sys.get_int_max_str_digits()} digits"):
        parse_int(TOO_MANY_DIGITS)
    assert parse_int("-" + "9" * 100) == -int("9" * 100)


@pytest.mark.parametrize("text", ["1" * 400, "1e400", "-1e999"])
def test_a_float_beyond_range_is_a_bad_value(text: str) -> None:
    with pytest.raises(BadValue, match="too large"):
        parse_float(text)


@dataclass(frozen=True)
class Options:
    count: int = 1
    folder: str = option("", check=lambda text: None if not text or Path(text).is_dir() else "no folder")


@pytest.mark.parametrize(("param", "value"), [("count", TOO_MANY_DIGITS), ("folder", TOO_LONG_NAME)])
def test_a_value_a_conversion_or_check_chokes_on_names_key_file_and_line(
    config_dir: Path, param: str, value: str
) -> None:
    torque(config_dir, f"job.mine.handler = x:Y\njob.mine.schedule = hour=*\njob.mine.{param} = {value}\n")
    (job,) = [job for job in job_configs(load_config(config_dir, environ={})) if job.name == "mine"]
    with pytest.raises(ConfigError) as info:
        build_options(Options, job)
    error = info.value
    assert (error.key, error.path, error.line) == (f"job.mine.{param}", str(config_dir / "torque.ini"), 4)
    assert str(error).startswith(f"job.mine.{param}: ")
    if param == "folder":
        assert "File name too long" in str(error)


def test_a_pyrocore_style_param_with_too_many_digits_names_its_key(config_dir: Path) -> None:
    torque(
        config_dir, f"job.old.handler = x:Y\njob.old.schedule = hour=*\njob.old.limit = {TOO_MANY_DIGITS}\n"
    )
    (job,) = [job for job in job_configs(load_config(config_dir, environ={})) if job.name == "old"]
    with pytest.raises(ConfigError) as info:
        legacy_params(job)
    assert (info.value.key, info.value.line) == ("job.old.limit", 4)


@pytest.mark.parametrize("name", ["torque.ini", "config.ini"])
def test_a_configuration_file_that_is_a_directory_is_an_error(config_dir: Path, name: str) -> None:
    (config_dir / name).unlink(missing_ok=True)
    (config_dir / name).mkdir()
    with pytest.raises(ConfigError) as info:
        load_config(config_dir, environ={})
    assert info.value.path == str(config_dir / name)
    assert "is a directory" in str(info.value)


def test_an_extra_file_that_is_a_directory_or_too_long_a_name(config_dir: Path) -> None:
    (config_dir / "extra.d").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(config_dir, extra_files=["extra.d"], environ={})
    with pytest.raises(ConfigError, match="File name too long") as info:
        load_config(config_dir, extra_files=[TOO_LONG_NAME], environ={})
    assert info.value.path == TOO_LONG_NAME


def test_a_missing_torque_ini_or_config_dir_still_means_the_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nowhere", environ={})
    assert len(config.files) == 2  # the package files only
    (tmp_path / "a-file").write_text("")
    assert len(load_config(tmp_path / "a-file", environ={}).files) == 2
