"""GlobalSettings: [GLOBAL], [ANNOUNCE] and the daemon-wide [TORQUE] keys, read once, typed and frozen."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from pyrotorque.config import Config, GlobalSettings, SchedulerSettings, load_config
from pyrotorque.config.settings import STARTABLE_BASE
from pyrotorque.daemon import Settings, build_plan
from pyrotorque.errors import ConfigError
from pyrotorque.jobs.base import JobContext


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "cfg"
    directory.mkdir()
    (directory / "config.ini").write_text(
        "[GLOBAL]\nscgi_url = scgi:///nowhere/rpc.socket\nrpc_timeout = 4.5\n"
        "[ANNOUNCE]\nExample = http://tracker.example.org/announce\n    udp://tracker.example.org:6969\n"
    )
    return directory


def write_torque(config_dir: Path, text: str) -> None:
    (config_dir / "torque.ini").write_text("[TORQUE]\n" + text)


def test_the_package_defaults(config_dir: Path) -> None:
    (config_dir / "config.ini").write_text("[GLOBAL]\n")
    settings = GlobalSettings.from_config(load_config(config_dir, environ={}))
    assert settings.scgi_url == ""
    assert settings.rtorrent_rc == str(Path("~/.rtorrent.rc").expanduser())
    assert settings.rpc_timeout == 30.0
    assert settings.scheduler == SchedulerSettings()
    assert settings.queue_startable_base.value == STARTABLE_BASE
    assert settings.queue_startable_base.path.endswith("pyrotorque/data/torque.ini")
    assert settings.announce_aliases["Debian"] == ("http://bttracker.debian.org:6969/announce",)


def test_user_values_with_their_origin(config_dir: Path) -> None:
    write_torque(config_dir, "queue_startable_base = is_open=no\napscheduler.threadpool.max_threads = 3\n")
    settings = GlobalSettings.from_config(load_config(config_dir, environ={}))
    assert (settings.scgi_url, settings.rpc_timeout) == ("scgi:///nowhere/rpc.socket", 4.5)
    assert settings.scheduler.max_threads == 3
    base = settings.queue_startable_base
    assert (base.value, base.path, base.line) == ("is_open=no", str(config_dir / "torque.ini"), 2)
    assert settings.announce_aliases["Example"] == (
        "http://tracker.example.org/announce",
        "udp://tracker.example.org:6969",
    )


def test_an_empty_startable_base_means_the_built_in_one(config_dir: Path) -> None:
    write_torque(config_dir, 'queue_startable_base = ""\n')
    settings = GlobalSettings.from_config(load_config(config_dir, environ={}))
    assert settings.queue_startable_base.value == STARTABLE_BASE


def test_frozen_and_read_only(config_dir: Path) -> None:
    settings = GlobalSettings.from_config(load_config(config_dir, environ={}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.rpc_timeout = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.announce_aliases["Mine"] = ("http://x/announce",)  # type: ignore[index]


@pytest.mark.parametrize(
    ("section", "text", "key"),
    [
        ("GLOBAL", "rpc_timeout = soon", "rpc_timeout"),
        ("TORQUE", "apscheduler.max_instances = 0", "apscheduler.max_instances"),
        ("TORQUE", "apscheduler.timezone = Mars/Olympus", "apscheduler.timezone"),
    ],
)
def test_a_bad_value_names_key_file_and_line(config_dir: Path, section: str, text: str, key: str) -> None:
    (config_dir / "extra.ini").write_text(f"[{section}]\n\n{text}\n")
    config = load_config(config_dir, extra_files=["extra.ini"], environ={})
    with pytest.raises(ConfigError) as info:
        GlobalSettings.from_config(config)
    assert (info.value.key, info.value.path, info.value.line) == (key, str(config_dir / "extra.ini"), 3)


def test_the_daemon_reads_them_once_and_every_job_shares_them(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_torque(
        config_dir,
        "job.queue.active = yes\njob.exporter.active = yes\njob.exporter.port = 0\n"
        "job.queue2.handler = QueueManager\njob.queue2.schedule = minute=*\n",
    )
    calls: list[str] = []
    original = Config.announce_aliases

    def counted(self: Config) -> dict[str, list[str]]:
        calls.append("aliases")
        return original(self)

    monkeypatch.setattr(Config, "announce_aliases", counted)
    plan = build_plan(Settings(config_dir=config_dir, environ={}))
    assert calls == ["aliases"]
    assert [planned.name for planned in plan.jobs] == ["connstats", "queue", "exporter", "queue2"]
    contexts: list[Any] = [planned.job.context for planned in plan.jobs]
    assert all(context.settings is plan.settings for context in contexts)
    assert plan.client.timeout == plan.settings.rpc_timeout == 4.5
    queue = plan.jobs[1].job
    assert queue.aliases is plan.settings.announce_aliases  # type: ignore[attr-defined]


def test_a_context_made_without_settings_reads_them_from_its_config(config_dir: Path) -> None:
    config = load_config(config_dir, environ={})
    context = JobContext(name="mine", client=None, config=config)  # type: ignore[arg-type]
    assert context.settings.rpc_timeout == 4.5
    given = GlobalSettings(rpc_timeout=9.0)
    assert JobContext(name="mine", client=None, config=config, settings=given).settings is given  # type: ignore[arg-type]
