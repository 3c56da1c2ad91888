"""Random torque.ini and config.ini files through the whole validation (the INI reader, the job
options, the schedules, the conditions, the job constructors): whatever the text, the result is a
plan or one of our errors, never a stray exception (which would be a traceback and exit 70)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyrotorque.daemon.plan import Settings, build_plan
from pyrotorque.errors import PyrotorqueError

JOBS = ["queue", "treewatch", "exporter", "connstats", "mine"]
KEYS = [
    "handler", "schedule", "active", "dry_run", "quiet", "log_level", "path", "load_mode", "queued",
    "downloading_min", "downloading_max", "start_at_once", "intermission", "startable", "sort_fields",
    "port", "addr", "jobs", "prefix", "item_stats", "item_labels", "cmd.label", "trace_inotify", "nosuch",
]  # fmt: skip
VALUES = [
    "", "yes", "no", "on", "maybe", "0", "-1", "1" * 5000, "1e999", "nan", "9" * 30, "second=*/5",
    "hour=12 \"day=3rd sun\"", "minute=61", "* * *", "name=*x* prio>0", "prio>>", "[", "-prio,name",
    "/tmp", "/" + "x" * 300, "/nonexistent/" + "y/" * 3000, "start", "queued", "bogus",
    "pyrotorque.jobs.queue:QueueManager", "pyrocore.torrent.queue:QueueManager", "no.such:Job", "os:system",
    "system, tracker", "item", "down.total,up.total", "{{# x }}d.custom1.set={{relpath}}", "{{", "%(x)s",
    "\u00e9\u00e8", "\x00", "127.0.0.1", "::1", "999999",
]  # fmt: skip
GLOBAL_KEYS = ["rpc_timeout", "scgi_url", "rtorrent_rc", "apscheduler.timezone", "queue_startable_base"]

lines = st.one_of(
    st.tuples(st.sampled_from(JOBS), st.sampled_from(KEYS), st.sampled_from(VALUES)).map(
        lambda t: f"job.{t[0]}.{t[1]} = {t[2]}"
    ),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
)
global_lines = st.tuples(st.sampled_from(GLOBAL_KEYS), st.sampled_from(VALUES)).map(
    lambda t: f"{t[0]} = {t[1]}"
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(torque=st.lists(lines, max_size=12), global_=st.lists(global_lines, max_size=3))
def test_any_configuration_gives_a_plan_or_our_error(torque: list[str], global_: list[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        config_dir = Path(scratch)
        (config_dir / "torque.ini").write_text("[TORQUE]\n" + "\n".join(torque) + "\n", encoding="utf-8")
        (config_dir / "config.ini").write_text("[GLOBAL]\n" + "\n".join(global_) + "\n", encoding="utf-8")
        try:
            build_plan(Settings(config_dir=config_dir, url="scgi:///nonexistent/rpc.socket", environ={}))
        except PyrotorqueError as exc:
            assert str(exc).strip(), "an error the user sees must say something"
