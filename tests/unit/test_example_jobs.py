"""The example job of docs/custom-jobs.md against the shared fake rTorrent."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrotorque.config import job_configs, load_config
from pyrotorque.errors import ConfigError
from pyrotorque.examples.tracker_messages import TrackerMessages
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.loader import build_job
from tests.support.fake_rtorrent import FakeRtorrent

HANDLER = "pyrotorque.examples.tracker_messages:TrackerMessages"


def build(tmp_path: Path, fake: FakeRtorrent, *, dry_run: bool = False, **keys: str) -> TrackerMessages:
    lines = [f"job.m.handler = {HANDLER}", "job.m.schedule = minute=*"]
    lines += [f"job.m.{key} = {value}" for key, value in keys.items()]
    (tmp_path / "torque.ini").write_text("[TORQUE]\n" + "\n".join(lines) + "\n")
    config = load_config(tmp_path, environ={})
    (job,) = [job for job in job_configs(config) if job.name == "m"]
    context = JobContext(name="m", client=fake.client(), config=config, dry_run=dry_run)
    built = build_job(job, context)
    assert isinstance(built, TrackerMessages)
    return built


def fake_with_messages() -> FakeRtorrent:
    fake = FakeRtorrent()
    fake.add_item("A" * 40, "gone", values={"d.message": "Unregistered torrent"})
    fake.add_item("B" * 40, "fine", values={"d.message": ""})
    return fake


def test_a_dry_run_logs_but_writes_no_summary(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    job = build(tmp_path, fake_with_messages(), dry_run=True, summary=str(tmp_path / "s.txt"))
    job.run()
    assert "Tracker message of 'gone'" in caplog.text and "WOULD write 2 line(s)" in caplog.text
    assert not (tmp_path / "s.txt").exists()


def test_a_bad_pattern_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        build(tmp_path, FakeRtorrent(), pattern="([")
    assert caught.value.key == "job.m.pattern"
