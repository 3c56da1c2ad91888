"""pyrosimple's handler names load our jobs, and its queue and tree watch key names are aliases of ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrotorque.config import job_configs, load_config
from pyrotorque.errors import ConfigError
from pyrotorque.jobs.base import Job, JobContext
from pyrotorque.jobs.engine_stats import EngineStats
from pyrotorque.jobs.exporter import RtorrentExporter
from pyrotorque.jobs.loader import build_job
from pyrotorque.jobs.pyrosimple_queue import PyrosimpleQueueManager
from pyrotorque.jobs.queue import QueueManager
from pyrotorque.jobs.treewatch import TreeWatch
from pyrotorque.jobs.treewatch.pyrosimple_watch import PyrosimpleTreeWatch
from tests.support.fake_rtorrent import FakeRtorrent


def build(tmp_path: Path, name: str, handler: str, **keys: str) -> Job:
    lines = [f"job.{name}.handler = {handler}", f"job.{name}.schedule = minute=*"]
    lines += [f"job.{name}.{key} = {value}" for key, value in keys.items()]
    (tmp_path / "torque.ini").write_text("[TORQUE]\n" + "\n".join(lines) + "\n")
    config = load_config(tmp_path, environ={})
    (job,) = [job for job in job_configs(config) if job.name == name]
    return build_job(job, JobContext(name=name, client=FakeRtorrent().client(), config=config))


@pytest.mark.parametrize(
    ("handler", "cls"),
    [
        ("pyrosimple.job.metrics:EngineStats", EngineStats),
        ("pyrosimple.job.metrics:RtorrentExporter", RtorrentExporter),
        ("pyrosimple.job.queue:QueueManager", PyrosimpleQueueManager),
    ],
)
def test_pyrosimple_names_load_our_jobs(tmp_path: Path, handler: str, cls: type[Job]) -> None:
    assert type(build(tmp_path, "mine", handler)) is cls


def test_the_queue_takes_pyrosimple_key_names(tmp_path: Path) -> None:
    job = build(
        tmp_path,
        "start",
        "pyrosimple.job.queue:QueueManager",
        matcher="custom_loaded_by=pyrotorque prio>0",
        sort="name,hash",
        downloading_traffic_max="20M",
        log_to_client="false",
        downloading_max="20",
        intermission="120",
    )
    assert isinstance(job, QueueManager)
    options = job.options
    assert options.startable == "custom_loaded_by=pyrotorque prio>0"
    assert (options.sort_fields, options.max_downloading_traffic) == ("name,hash", "20M")
    assert options.quiet is True and (options.downloading_max, options.intermission) == (20, 120.0)
    # The safety filter of pyrocore stays in front of pyrosimple's matcher.
    assert "is_complete=no" in str(job.startable_query.condition)


def test_a_pyrosimple_key_beats_ours_in_a_job_named_like_the_package_queue(tmp_path: Path) -> None:
    # job.queue inherits the package's job.queue.sort_fields and startable; the aliases win.
    job = build(tmp_path, "queue", "pyrosimple.job.queue:QueueManager", sort="name", matcher="prio>1")
    assert (job.options.sort_fields, job.options.startable) == ("name", "prio>1")


def test_the_queue_view_becomes_a_condition(tmp_path: Path) -> None:
    job = build(tmp_path, "q", "pyrosimple.job.queue:QueueManager", view="tv", matcher="prio>0")
    assert job.options.startable == "[ prio>0 ] views=tv"
    assert build(tmp_path, "q", "pyrosimple.job.queue:QueueManager", view="main").options.startable == (
        "is_ignored=no done=0 message=/^$|ghost/ prio>0"
    )


def test_a_bad_pyrosimple_matcher_names_its_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        build(tmp_path, "q", "pyrosimple.job.queue:QueueManager", matcher="prio>>1")
    assert caught.value.key == "job.q.matcher" and caught.value.line == 4


def test_the_tree_watch_takes_pyrosimple_key_names(tmp_path: Path) -> None:
    root = tmp_path / "watch"
    root.mkdir()
    job = build(
        tmp_path,
        "load",
        "pyrosimple.job.watch:TreeWatch",
        path=str(root),
        started="true",
        print_to_client="false",
        check_unhandled="true",
        remove_already_added="false",
        preload_fields="name",
    )
    assert isinstance(job, PyrosimpleTreeWatch) and isinstance(job, TreeWatch)
    assert (job.options.load_mode, job.options.quiet) == ("start", True)


def test_the_tree_watch_refuses_to_promise_deleting_metafiles(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    with pytest.raises(ConfigError, match="never deletes a metafile") as caught:
        build(
            tmp_path,
            "load",
            "pyrosimple.job.watch:TreeWatch",
            path=str(tmp_path / "w"),
            remove_unhandled="yes",
        )
    assert caught.value.key == "job.load.remove_unhandled"
