"""Handler names to job objects: the built-in table, user classes, pyrocore-style classes, errors."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from pyrotorque.config import Config, JobConfig, Setting
from pyrotorque.errors import ConditionError, ConfigError, JobLoadError
from pyrotorque.jobs.base import Job, JobContext
from pyrotorque.jobs.engine_stats import EngineStats
from pyrotorque.jobs.loader import (
    BUILTIN_HANDLERS,
    LegacyJob,
    build_job,
    import_handler,
)

HERE = __name__


@dataclass(frozen=True)
class CounterOptions:
    step: int = 1


class Counter(Job):
    """A typed job."""

    Options = CounterOptions

    def run(self) -> None:
        pass


class BadCondition(Job):
    def __init__(self, context: JobContext, options: Any) -> None:
        raise ConditionError("unexpected token", "prio>>1", 5)

    def run(self) -> None:
        pass


class LegacyCounter:
    """A job written for pyrocore: one Bunch argument, a run() method."""

    built_with: Any = None
    handler_during_init: Any = None
    runs = 0

    def __init__(self, config: Any) -> None:
        LegacyCounter.built_with = config
        LegacyCounter.handler_during_init = config.handler

    def run(self) -> None:
        LegacyCounter.runs += 1


class NotAJob:
    pass


def job_config(handler: str, **params: str) -> JobConfig:
    return JobConfig(
        name="test",
        handler=Setting(handler, "/cfg/torque.ini", 7),
        schedule=Setting("second=*/5", "/cfg/torque.ini", 8),
        params={key: Setting(value, "/cfg/torque.ini", 9) for key, value in params.items()},
    )


def context() -> JobContext:
    return JobContext(
        name="test",
        client=cast(Any, object()),
        config=Config(config_dir=Path("/cfg")),
        log=logging.getLogger("pyrotorque.job.test"),
    )


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("pyrocore.torrent.jobs:EngineStats", "pyrotorque.jobs.engine_stats:EngineStats"),
        ("pyrocore.torrent.queue:QueueManager", "pyrotorque.jobs.queue:QueueManager"),
        ("pyrocore.torrent.watch:TreeWatch", "pyrotorque.jobs.treewatch:TreeWatch"),
        ("pyrocore.daemon.exporter:RtorrentExporter", "pyrotorque.jobs.exporter:RtorrentExporter"),
        ("EngineStats", "pyrotorque.jobs.engine_stats:EngineStats"),
    ],
)
def test_builtin_table_maps_pyrocore_names_to_ours(name: str, target: str) -> None:
    assert BUILTIN_HANDLERS[name] == target


def test_pyrocore_stats_name_loads_our_engine_stats() -> None:
    assert import_handler(job_config("pyrocore.torrent.jobs:EngineStats")) is EngineStats
    assert import_handler(job_config(" pyrotorque.jobs.engine_stats:EngineStats ")) is EngineStats


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        ("no_such_package.module:Job", "cannot import no_such_package.module"),
        ("justaname", "expected 'package.module:ClassName'"),
        ("pyrotorque.jobs.base:", "expected 'package.module:ClassName'"),
        (f"{HERE}:Missing", "has no attribute 'Missing'"),
        ("os:getcwd", "is not a class"),
        (f"{HERE}:NotAJob", "neither a pyrotorque Job nor has a run() method"),
    ],
)
def test_bad_handlers_name_the_job_the_handler_and_where(handler: str, message: str) -> None:
    with pytest.raises(JobLoadError) as caught:
        import_handler(job_config(handler))
    error = caught.value
    assert message in str(error)
    assert "job 'test'" in str(error) and repr(handler) in str(error)
    assert (error.key, error.path, error.line) == ("job.test.handler", "/cfg/torque.ini", 7)


def test_typed_job_gets_built_options() -> None:
    job = build_job(job_config(f"{HERE}:Counter", step="3"), context())
    assert isinstance(job, Counter)
    assert job.options == CounterOptions(step=3)


def test_unknown_option_key_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        build_job(job_config(f"{HERE}:Counter", stepp="3"), context())
    assert caught.value.key == "job.test.stepp"


def test_condition_error_in_constructor_becomes_a_load_error_naming_the_job() -> None:
    with pytest.raises(JobLoadError, match=r"job 'test'.*unexpected token"):
        build_job(job_config(f"{HERE}:BadCondition"), context())


def test_pyrocore_style_class_is_wrapped_and_built_only_on_start() -> None:
    LegacyCounter.built_with = None
    LegacyCounter.runs = 0
    job = build_job(job_config(f"{HERE}:LegacyCounter", limit="12", flag="yes"), context())
    assert isinstance(job, LegacyJob)
    assert LegacyCounter.built_with is None  # no foreign constructor before the daemon detached
    job.start()
    params = LegacyCounter.built_with
    assert params is not None
    assert params.job_name == "test"
    assert params.limit == 12 and params.flag is True
    assert params.schedule == {"second": "*/5"}
    # As in the original: the class while it is being built, the instance afterwards.
    assert LegacyCounter.handler_during_init is LegacyCounter
    assert isinstance(params.handler, LegacyCounter)
    job.run()
    job.run()
    assert LegacyCounter.runs == 2


def test_builtin_job_of_a_later_release_says_it_is_not_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    from pyrotorque.jobs import loader

    monkeypatch.setitem(
        cast(dict[str, str], loader.BUILTIN_HANDLERS), "Future", "pyrotorque.jobs.future:Future"
    )
    with pytest.raises(JobLoadError) as caught:
        import_handler(job_config("Future"))
    assert "not implemented yet" in str(caught.value)
    assert "job.test.active = no" in str(caught.value)
