"""``[CONNECTIONS]`` and ``job.NAME.connection``: names, URLs, timeouts, errors, and who wakes whom."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from pyrotorque.cli_parser import build_parser, check_combinations
from pyrotorque.daemon import Settings, build_plan, load_and_connect
from pyrotorque.daemon.plan import Waker
from pyrotorque.daemon.status_board import ConnectionStatus, DaemonStatus, JobStatus
from pyrotorque.daemon.status_view import status_lines
from pyrotorque.errors import ConfigError
from pyrotorque.jobs.runner import TickRunner


def configure(tmp_path: Path, config_ini: str, torque_ini: str = "") -> Settings:
    directory = tmp_path / "cfg"
    directory.mkdir(exist_ok=True)
    (directory / "config.ini").write_text(config_ini)
    (directory / "torque.ini").write_text(torque_ini)
    return Settings(config_dir=directory, environ={})


def test_a_config_without_connections_has_only_the_default_one(tmp_path: Path) -> None:
    settings = configure(tmp_path, "[GLOBAL]\nscgi_url = scgi:///a/rpc.socket\n")
    connection = load_and_connect(settings)
    assert list(connection.instances) == ["default"]
    assert connection.instances["default"].client is connection.client
    assert connection.url == "scgi:///a/rpc.socket"


def test_named_connections_with_their_own_timeouts(tmp_path: Path) -> None:
    settings = configure(
        tmp_path,
        "[GLOBAL]\nscgi_url = scgi:///a/rpc.socket\nrpc_timeout = 4\n"
        "[CONNECTIONS]\ndisk2 = scgi://127.0.0.1:5001\ndisk2.rpc_timeout = 90\nbox-3 = http://127.0.0.1:8080/RPC2\n",
    )
    instances = load_and_connect(settings).instances
    assert list(instances) == ["default", "disk2", "box-3"]
    assert instances["disk2"].url == "scgi://127.0.0.1:5001"
    assert instances["disk2"].client.timeout == 90.0
    assert instances["box-3"].client.timeout == instances["default"].client.timeout == 4.0


def test_default_in_connections_is_the_default_url_and_url_options_still_win(tmp_path: Path) -> None:
    settings = configure(tmp_path, "[CONNECTIONS]\ndefault = scgi:///d/rpc.socket\ndefault.rpc_timeout = 3\n")
    connection = load_and_connect(settings)
    assert (connection.url, connection.client.timeout) == ("scgi:///d/rpc.socket", 3.0)
    by_option = Settings(config_dir=settings.config_dir, url="scgi:///cli/rpc.socket", environ={})
    assert load_and_connect(by_option).url == "scgi:///cli/rpc.socket"


@pytest.mark.parametrize(
    ("text", "key", "line", "reason"),
    [
        ("[CONNECTIONS]\nbad name = scgi:///x\n", "[CONNECTIONS] bad name", 2, "bad connection name"),
        ("[CONNECTIONS]\nb = ftp://x/\n", "[CONNECTIONS] b", 2, "ftp"),
        ("[CONNECTIONS]\nb = scgi:///x\nb.rpc_timeout = soon\n", "[CONNECTIONS] b.rpc_timeout", 3, "soon"),
        ("[CONNECTIONS]\nb = scgi:///x\nb.rpc_timeout = 0\n", "[CONNECTIONS] b.rpc_timeout", 3, "positive"),
        ("[CONNECTIONS]\nc.rpc_timeout = 5\n", "[CONNECTIONS] c.rpc_timeout", 2, "no connection named 'c'"),
        (
            "[GLOBAL]\nscgi_url = scgi:///g\n[CONNECTIONS]\ndefault = scgi:///d\n",
            "[CONNECTIONS] default",
            4,
            "[GLOBAL] scgi_url",
        ),
    ],
)
def test_a_bad_connection_names_key_file_and_line(
    tmp_path: Path, text: str, key: str, line: int, reason: str
) -> None:
    if "scgi_url" not in text:
        text = "[GLOBAL]\nscgi_url = scgi:///a/rpc.socket\n" + text
        line += 2
    with pytest.raises(ConfigError) as caught:
        load_and_connect(configure(tmp_path, text))
    assert caught.value.key == key
    assert caught.value.path is not None and caught.value.path.endswith("config.ini")
    assert caught.value.line == line
    assert reason in str(caught.value)


TORQUE = (
    "[TORQUE]\n"
    "job.q2.handler = QueueManager\njob.q2.schedule = second=*/5\njob.q2.active = yes\n"
    "job.q2.connection = {name}\n"
)


def test_a_job_gets_the_client_of_its_connection(tmp_path: Path) -> None:
    settings = configure(
        tmp_path,
        "[GLOBAL]\nscgi_url = scgi:///a/rpc.socket\n[CONNECTIONS]\nother = scgi:///b/rpc.socket\n",
        TORQUE.format(name="other"),
    )
    plan = build_plan(settings)
    (queue,) = [job for job in plan.jobs if job.name == "q2"]
    (stats,) = [job for job in plan.jobs if job.name == "connstats"]
    assert queue.connection == "other" and stats.connection == "default"
    assert queue.job.context.client is plan.connections["other"].client
    assert stats.job.context.client is plan.client
    assert set(queue.job.context.clients) == {"default", "other"}


def test_run_once_moves_its_job_to_the_connection_option(tmp_path: Path) -> None:
    settings = configure(
        tmp_path,
        "[GLOBAL]\nscgi_url = scgi:///a/rpc.socket\n[CONNECTIONS]\nother = scgi:///b/rpc.socket\n",
        TORQUE.format(name="default"),
    )
    moved = Settings(config_dir=settings.config_dir, environ={}, connection="other")
    (planned,) = build_plan(moved, only_job="q2").jobs
    assert planned.connection == "other"
    with pytest.raises(ConfigError, match=r"unknown connection .nope..*default, other"):
        build_plan(Settings(config_dir=settings.config_dir, environ={}, connection="nope"), only_job="q2")


def test_an_unknown_connection_of_a_job_names_key_file_and_line(tmp_path: Path) -> None:
    settings = configure(tmp_path, "[GLOBAL]\nscgi_url = scgi:///a/rpc.socket\n", TORQUE.format(name="disk9"))
    with pytest.raises(ConfigError) as caught:
        build_plan(settings)
    assert caught.value.key == "job.q2.connection"
    assert caught.value.path is not None and caught.value.path.endswith("torque.ini")
    assert caught.value.line == 5
    assert "unknown connection 'disk9' (connections: default)" in str(caught.value)


class _Scheduler:
    """What ``Waker`` needs of APScheduler: the jobs whose next run moved to now."""

    timezone = None

    def __init__(self) -> None:
        self.moved: list[str] = []

    def modify_job(self, name: str, next_run_time: object) -> None:
        self.moved.append(name)


def test_a_wake_reaches_only_the_queues_of_the_same_connection() -> None:
    waker = Waker()
    scheduler = _Scheduler()
    waker.scheduler = scheduler
    for name, kind, connection in (
        ("queue", "queue", "default"),
        ("queue_b", "queue", "b"),
        ("queue_b2", "queue", "b"),
        ("stats_b", "", "b"),
    ):
        waker.kinds[name], waker.connections[name] = kind, connection
        waker.runners[name] = TickRunner(name, lambda: None, logging.getLogger("t"))
    waker.wake_kind_on("b")("queue")
    assert scheduler.moved == ["queue_b", "queue_b2"]
    waker.wake_kind_on("default")("queue")
    assert scheduler.moved[2:] == ["queue"]


def test_status_shows_each_connection_and_each_jobs_connection() -> None:
    now = time.time()
    status = DaemonStatus(
        pid=1,
        started=now - 60,
        url="scgi:///a",
        version="1",
        jobs=[JobStatus("queue", "Q", "second=*"), JobStatus("queue_b", "Q", "second=*", connection="b")],
        connections=[
            ConnectionStatus("default", "scgi:///a", True, now - 30),
            ConnectionStatus("b", "scgi:///b", False, now - 5),
        ],
    )
    lines = status_lines(status, now)
    assert lines[1].startswith("rTorrent 'default' at scgi:///a: reachable for 30")
    assert lines[2].startswith("rTorrent 'b' at scgi:///b: NOT reachable for 5")
    header, *rows = lines[3:6]
    assert header.split()[-1] == "connection"
    assert rows[0].split()[-1] == "default" and rows[1].split()[-1] == "b"
    single = DaemonStatus(
        pid=1, started=now, url="scgi:///a", version="1", connections=status.connections[:1]
    )
    assert status_lines(single, now)[1] == "rTorrent at scgi:///a: not asked yet"


@pytest.mark.parametrize(
    "tool", [["--check"], ["--match", "*"], ["--run-once", "q"], ["--load-pending", "w"]]
)
def test_connection_option_goes_with_the_tools(tool: list[str]) -> None:
    parser = build_parser()
    args = parser.parse_args([*tool, "--connection", "b"])
    check_combinations(parser, args)
    assert args.connection == "b"


@pytest.mark.parametrize("other", [[], ["--status"], ["--stop"], ["--fg"]])
def test_connection_option_is_refused_elsewhere(other: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit) as caught:
        check_combinations(parser, parser.parse_args([*other, "--connection", "b"]))
    assert caught.value.code == 2
    assert "--connection goes with" in capsys.readouterr().err
