"""The Command job with real programs: its keys, argv splitting, shell only when asked, logging, dry_run."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, cast

import pytest

from pyrotorque.config import Config, JobConfig, Setting
from pyrotorque.errors import ConfigError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.loader import build_job, import_handler
from pyrotorque.jobs.rules.command_job import Command, CommandOptions

LOGGER = "pyrotorque.job.cmd"
INI = "/cfg/torque.ini"
#: A program that writes its argv (without itself), its cwd and PYRO_* / CMD_* variables as JSON.
DUMP = (
    "import json, os, sys\n"
    "env = {k: v for k, v in os.environ.items() if k.startswith(('CMD_', 'HOME'))}\n"
    "open(sys.argv[1], 'w').write(json.dumps({'argv': sys.argv[2:], 'cwd': os.getcwd(), 'env': env}))\n"
)


def job_config(**params: str) -> JobConfig:
    return JobConfig(
        name="cmd",
        handler=Setting("Command", INI, 7),
        schedule=Setting("minute=*", INI, 8),
        params={key: Setting(value, INI, 9) for key, value in params.items()},
    )


def build(*, dry_run: bool = False, **params: str) -> Command:
    return build_from(params, dry_run=dry_run)


def build_from(params: dict[str, str], *, dry_run: bool = False) -> Command:
    context = JobContext(
        name="cmd",
        client=cast(Any, object()),  # a Command job never talks to rTorrent
        config=Config(config_dir=Path("/cfg")),
        dry_run=dry_run,
        log=logging.getLogger(LOGGER),
    )
    job = build_job(job_config(**params), context)
    assert isinstance(job, Command)
    return job


def dump_args(tmp_path: Path, rest: str) -> tuple[str, Path]:
    script = tmp_path / "dump.py"
    script.write_text(DUMP)
    out = tmp_path / "out.json"
    return f"{sys.executable} {script} {out} {rest}", out


@pytest.mark.parametrize("name", ["Command", "pyrosimple.job.action:Command"])
def test_handler_names(name: str) -> None:
    config = JobConfig("cmd", Setting(name, INI, 1), Setting("minute=*", INI, 2))
    assert import_handler(config) is Command


def test_args_are_split_with_quotes_and_run_without_a_shell(tmp_path: Path) -> None:
    args, out = dump_args(tmp_path, "'two words' \"$HOME\" a\\ b ';' '$(touch made)'")
    job = build_from({"args": args, "cwd": str(tmp_path), "env.CMD_A": "1", "env.CMD_B": "x y"})
    job.run()
    seen = json.loads(out.read_text())
    assert seen["argv"] == ["two words", "$HOME", "a b", ";", "$(touch made)"]
    assert seen["cwd"] == str(tmp_path)
    assert seen["env"]["CMD_A"] == "1" and seen["env"]["CMD_B"] == "x y"
    assert not (tmp_path / "made").exists()


def test_shell_only_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    build(args=f"echo one | tr o O > {out}", shell="yes").run()
    assert out.read_text() == "One\n"


def test_without_shell_a_pipe_is_an_argument(tmp_path: Path) -> None:
    args, out = dump_args(tmp_path, "| tr > x")
    build(args=args, cwd=str(tmp_path)).run()
    assert json.loads(out.read_text())["argv"] == ["|", "tr", ">", "x"]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("check", "level"), [("no", logging.WARNING), ("yes", logging.ERROR)])
def test_a_failure_is_logged_at_the_checked_level(
    caplog: pytest.LogCaptureFixture, check: str, level: int
) -> None:
    job = build(args="/bin/sh -c 'echo oops >&2; exit 3'", check=check)
    with caplog.at_level(logging.DEBUG, LOGGER):
        job.run()  # never raises
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelno for r in failures] == [level]
    assert "exit status 3" in failures[0].getMessage() and "oops" in failures[0].getMessage()


def test_a_missing_program_is_a_logged_failure(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, LOGGER):
        build(args="/nonexistent/notify --now").run()
    assert "program not found: '/nonexistent/notify'" in caplog.text


def test_timeout_ends_the_tick(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, LOGGER):
        build(args="sleep 60", timeout="0.3").run()
    assert "killed after the timeout of 0.3 s" in caplog.text


def test_dry_run_runs_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    args, out = dump_args(tmp_path, "'a b'")
    with caplog.at_level(logging.INFO, LOGGER):
        build(dry_run=True, args=args).run()
    assert not out.exists()
    assert f"WOULD run {sys.executable}" in caplog.text and "'a b'" in caplog.text


def test_defaults() -> None:
    options = CommandOptions(args="true")
    assert (options.shell, options.cwd, options.timeout, options.check, options.env) == (
        False,
        "",
        60.0,
        False,
        {},
    )


@pytest.mark.parametrize(
    ("params", "key", "message"),
    [
        ({}, "job.cmd.args", "needs job.cmd.args"),
        ({"args": ""}, "job.cmd.args", "empty command line"),
        ({"args": "   "}, "job.cmd.args", "empty command line"),
        ({"args": "'' x"}, "job.cmd.args", "must name a program"),
        ({"args": "echo 'unclosed"}, "job.cmd.args", "no closing quotation"),
        ({"args": "true", "timeout": "0"}, "job.cmd.timeout", "more than 0"),
        ({"args": "true", "timeout": "soon"}, "job.cmd.timeout", "expected a number"),
        ({"args": "true", "shell": "maybe"}, "job.cmd.shell", "expected a boolean"),
        ({"args": "true", "matcher": "x"}, "job.cmd.matcher", "unknown key"),
    ],
)
def test_config_errors_name_the_key(params: dict[str, str], key: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_from(params)
    assert caught.value.key == key
    assert message in str(caught.value)
    assert INI in str(caught.value)
