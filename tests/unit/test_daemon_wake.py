"""Waking other jobs: by name, and by kind (a tree watch wakes every running queue after a queued load)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyrotorque.daemon import Settings, build_plan
from pyrotorque.jobs.base import KIND_QUEUE


class RecordingScheduler:
    """Stands in for APScheduler: records which job's next run was moved to now."""

    timezone = None

    def __init__(self) -> None:
        self.moved: list[str] = []

    def modify_job(self, job_id: str, **changes: Any) -> None:
        self.moved.append(job_id)


def test_every_spelling_of_the_queue_handler_is_woken_by_kind_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "torque.ini").write_text(
        "[TORQUE]\n"
        "job.queue.active = yes\n"
        "job.old.handler = pyrocore.torrent.queue:QueueManager\n"
        "job.old.schedule = minute=*\n"
        "job.short.handler = QueueManager\n"
        "job.short.schedule = minute=*\n"
        "job.off.handler = pyrotorque.jobs.queue:QueueManager\n"
        "job.off.schedule = minute=*\n"
        "job.off.active = no\n",
        encoding="utf-8",
    )
    plan = build_plan(Settings(config_dir=tmp_path, url="scgi:///nowhere/rpc.socket", environ={}))
    queues = {name for name, kind in plan.waker.kinds.items() if kind == KIND_QUEUE}
    assert queues == {"queue", "old", "short"}
    assert plan.waker.kinds["connstats"] == ""

    scheduler = RecordingScheduler()
    plan.waker.wake_kind(KIND_QUEUE)  # no scheduler yet (--check, --run-once): nothing to wake
    plan.waker.scheduler = scheduler
    plan.waker.wake_kind(KIND_QUEUE)
    assert scheduler.moved == []  # planned, but not running: no runner registered
    for name in plan.waker.kinds:
        plan.waker.runners[name] = _IdleRunner()  # type: ignore[assignment]
    plan.waker.wake_kind(KIND_QUEUE)
    assert sorted(scheduler.moved) == ["old", "queue", "short"]


class _IdleRunner:
    def defer_wake(self) -> bool:
        return False
