"""exec= and ItemCommand with the shared fake rTorrent and real programs: argv per word, env, caps."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from pyrotorque.clock import as_clock
from pyrotorque.config import Config, JobConfig, Setting
from pyrotorque.errors import ConfigError, TemplateError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.loader import build_job, import_handler
from pyrotorque.jobs.rules import Action, ActionOptions
from pyrotorque.jobs.rules.actions import VERBS, action_problem, parse_action
from pyrotorque.jobs.rules.item_command import ItemCommand
from pyrotorque.jobs.rules.verb_exec import EXEC_TIMEOUT, ExecVerb
from tests.support.fake_rtorrent import FakeRtorrent

LOGGER = "pyrotorque.job.rules"
INI = "/cfg/torque.ini"
HOSTILE = "a b; $(touch PWNED) `touch PWNED2` 'q\" \\ é -rf {{hash}} %(name)s"
#: Appends its argv (without itself and the output path) and its PYRO_* variables to a JSON-lines file.
RECORDER = (
    "import json, os, sys\n"
    "env = {k: v for k, v in os.environ.items() if k.startswith('PYRO_')}\n"
    "with open(sys.argv[1], 'a') as out:\n"
    "    out.write(json.dumps({'argv': sys.argv[2:], 'env': env}) + '\\n')\n"
)


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[str, Path]:
    """The command-line start of the recorder and the file it writes."""
    script = tmp_path / "record.py"
    script.write_text(RECORDER)
    return f"{sys.executable} {script} {tmp_path / 'runs.jsonl'}", tmp_path / "runs.jsonl"


def runs(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def rtorrent(names: list[str]) -> FakeRtorrent:
    fake = FakeRtorrent()
    for index, name in enumerate(names):
        values = {"d.custom1": f"label{index}", "d.complete": 1, "d.directory": f"/rt/dl/{name}"}
        fake.add_item(
            f"{index:040X}",
            name,
            values=values,
            custom={"tm_loaded": str(1_700_000_000 + index)},
            trackers=[("http://tracker.example.net/announce", 1)],
        )
    return fake


def context(fake: FakeRtorrent, dry_run: bool = False) -> JobContext:
    return JobContext(
        name="notify",
        client=fake.client(),
        config=Config(config_dir=Path("/nonexistent")),
        dry_run=dry_run,
        log=logging.getLogger(LOGGER),
        clock=as_clock(lambda: 1_800_000_000.0),
    )


def action(fake: FakeRtorrent, *, dry_run: bool = False, **options: Any) -> Action:
    job = Action(context(fake, dry_run), ActionOptions(**{"condition": "is_complete=yes", **options}))
    job.start()
    return job


def h(index: int) -> str:
    return f"{index:040X}"


def test_exec_is_registered() -> None:
    assert VERBS["exec"] is ExecVerb
    assert isinstance(parse_action("exec=/bin/true"), ExecVerb)


def test_each_word_is_rendered_into_one_argument(recorder: tuple[str, Path]) -> None:
    command, out = recorder
    fake = rtorrent([HOSTILE])
    words = "{{name}} --name={{name}} '{{item.hash}} and {{d.label}}' %(hash)s plain\\ word"
    action(fake, action=f"exec={command} {words}").run()
    (seen,) = runs(out)
    assert seen["argv"] == [HOSTILE, f"--name={HOSTILE}", f"{h(0)} and label0", h(0), "plain word"]
    assert not Path("PWNED").exists() and not Path("PWNED2").exists()


def test_the_item_environment(recorder: tuple[str, Path]) -> None:
    command, out = recorder
    fake = rtorrent(["item one"])
    action(fake, action=f"exec={command}").run()
    (seen,) = runs(out)
    env = seen["env"]
    assert env["PYRO_HASH"] == h(0) and env["PYRO_NAME"] == "item one"
    assert env["PYRO_LABEL"] == "label0" and env["PYRO_DIRECTORY"] == "/rt/dl/item one"
    assert env["PYRO_PATH"] == "/rt/dl/item one/item one"  # single file: directory/name
    assert env["PYRO_ALIAS"] == "example.net" and env["PYRO_SIZE"] == "0"
    assert env["PYRO_JOB"] == "notify"


def test_paths_are_this_machines(recorder: tuple[str, Path]) -> None:
    command, out = recorder
    fake = rtorrent(["x"])
    job = action(fake, action=f"exec={command} {{{{path}}}}")
    job.map_paths(lambda path: "/chroot" + path, lambda path: path.removeprefix("/chroot"))
    job.run()
    (seen,) = runs(out)
    assert seen["argv"] == ["/chroot/rt/dl/x/x"]
    assert seen["env"]["PYRO_PATH"] == "/chroot/rt/dl/x/x"
    assert seen["env"]["PYRO_DIRECTORY"] == "/chroot/rt/dl/x"


def test_one_program_per_item_capped_by_max_per_run(recorder: tuple[str, Path]) -> None:
    command, out = recorder
    fake = rtorrent([f"item{index}" for index in range(5)])
    job = action(fake, action=f"exec={command} {{{{name}}}}", max_per_run=3, sort_fields="name")
    job.run()
    assert [seen["argv"] for seen in runs(out)] == [["item0"], ["item1"], ["item2"]]


def test_dry_run_runs_nothing(recorder: tuple[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    command, out = recorder
    fake = rtorrent(["one"])
    with caplog.at_level(logging.INFO, LOGGER):
        action(fake, dry_run=True, action=f"exec={command} {{{{name}}}}").run()
    assert not out.exists()
    assert f"WOULD exec 'one' #{h(0)}" in caplog.text


def test_a_failing_program_is_that_items_answer(
    recorder: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    command, out = recorder
    fake = rtorrent(["bad", "good"])
    # The first item's program fails (a shell as the program, with the item name as $1); the second runs.
    script = 'test "$1" = bad && { echo "no good" >&2; exit 4; }; shift; exec "$@"'
    args = f"/bin/sh -c '{script}' sh {{{{name}}}} {command} {{{{name}}}}"
    with caplog.at_level(logging.DEBUG, LOGGER):
        action(fake, action=f"exec={args}", sort_fields="name").run()
    assert [seen["argv"] for seen in runs(out)] == [["good"]]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == [f"Could not exec 'bad' #{h(0)}: exit status 4; stderr: no good"]


def test_a_missing_program(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, LOGGER):
        action(rtorrent(["one"]), action="exec=/nonexistent/notify {{name}}").run()
    assert f"Could not exec 'one' #{h(0)}: program not found: '/nonexistent/notify'" in caplog.text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("exec=/bin/echo 'unclosed", "no closing quotation"),
        ("exec=''", "exec needs a program"),
        ("exec=/bin/echo {{nosuchfield}}", "exec argument 2"),
        ("exec=/bin/echo {{name", "exec argument 2"),
    ],
)
def test_bad_command_lines_are_config_errors(text: str, problem: str) -> None:
    found = action_problem(text)
    assert found is not None and problem in found
    with pytest.raises((ConfigError, TemplateError)):
        parse_action(text)


def test_a_stopped_verb_runs_nothing_more(recorder: tuple[str, Path]) -> None:
    command, out = recorder
    fake = rtorrent(["one"])
    job = action(fake, action=f"exec={command}")
    job.stop()
    job.run()
    assert not out.exists()


def item_command(**params: str) -> ItemCommand:
    config = JobConfig(
        name="notify",
        handler=Setting("pyrosimple.job.action:ItemCommand", INI, 1),
        schedule=Setting("minute=*", INI, 2),
        params={key: Setting(value, INI, 3) for key, value in params.items()},
    )
    job = build_job(config, context(rtorrent(["one", "two"])))
    assert isinstance(job, ItemCommand)
    return job


@pytest.mark.parametrize("name", ["ItemCommand", "pyrosimple.job.action:ItemCommand"])
def test_item_command_handler_names(name: str) -> None:
    config = JobConfig("n", Setting(name, INI, 1), Setting("minute=*", INI, 2))
    assert import_handler(config) is ItemCommand


def test_item_command_runs_exec_with_its_keys(recorder: tuple[str, Path], tmp_path: Path) -> None:
    command, out = recorder
    job = item_command(
        matcher="name=two",
        args=f"{command} {{{{item.name}}}} {{{{d.hash}}}}",
        timeout="5",
        cwd=str(tmp_path),
        **{"env.EXTRA": "x"},
    )
    assert isinstance(job.verb, ExecVerb)
    assert (job.verb.timeout, job.verb.cwd, job.verb.env) == (5.0, str(tmp_path), {"EXTRA": "x"})
    job.run()
    assert [seen["argv"] for seen in runs(out)] == [["two", h(1)]]


def test_item_command_defaults() -> None:
    job = item_command(matcher="name=one", args="/bin/true")
    assert isinstance(job.verb, ExecVerb) and job.verb.timeout == EXEC_TIMEOUT
    assert job.options.max_per_run == 10


@pytest.mark.parametrize(
    ("params", "key", "message"),
    [
        ({"matcher": "name=x", "args": "/bin/true", "shell": "yes"}, "job.notify.shell", "never goes"),
        ({"matcher": "name=x", "args": "'open"}, "job.notify.args", "no closing quotation"),
        ({"matcher": "name=x"}, "job.notify.args", "needs job.notify.args"),
        ({"args": "/bin/true"}, "job.notify.matcher", "needs job.notify.matcher"),
    ],
)
def test_item_command_config_errors(params: dict[str, str], key: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        item_command(**params)
    assert caught.value.key == key and message in str(caught.value)
