"""One daemon serving two real rTorrents at once, 0.9.8 (the default connection) beside 0.16.

Each instance has its own queue and tree watch: items land and start on their own instance only; a
frozen instance holds only its own jobs; a killed one is reported for its jobs only, and nothing is lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory, free_port, unavailable_reason

from tests.support.foreground import output_so_far, start_foreground, stop_foreground, write_config
from tests.support.polling import wait_for

pytestmark = pytest.mark.rtorrent

LINES = ("0.9.8", "0.16")


@dataclass
class Pair:
    """The default instance (0.9.8), the other one (0.16, connection ``sid``), their watch folders."""

    default: RtorrentSandbox
    sid: RtorrentSandbox
    default_watch: Path
    sid_watch: Path
    config_dir: Path
    #: The exporter of each instance: the default's, then sid's.
    ports: tuple[int, int]


def _require_both() -> None:
    for line in LINES:
        reason = unavailable_reason(line)
        if reason is not None:
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(f"rTorrent {line} is required under CI=true: {reason}", pytrace=False)
            pytest.skip(f"rTorrent {line} not available: {reason}")  # locally only


@pytest.fixture
def pair(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    _require_both()
    factories = [SandboxFactory(line, lambda: tmp_path_factory.mktemp("rtc")) for line in LINES]
    try:
        default, sid = (factory() for factory in factories)
        watches = [tmp_path / "watch-default", tmp_path / "watch-sid"]
        for watch in watches:
            watch.mkdir()
        ports = (free_port(), free_port())
        config_dir = write_config(
            tmp_path / "cfg",
            default.url,
            _torque(watches[0], watches[1], ports),
            global_extra=f"rpc_timeout = 60\n\n[CONNECTIONS]\nsid = {sid.url}\n",
        )
        yield Pair(default, sid, watches[0], watches[1], config_dir, ports)
    finally:
        for factory in factories:
            factory.close_all()


def _torque(default_watch: Path, sid_watch: Path, ports: tuple[int, int]) -> str:
    """A queue and a tree watch per instance; the tree watches load items their queue starts."""
    jobs = ["[TORQUE]", "job.connstats.schedule = second=*/2"]
    for name, watch, connection in (("", default_watch, None), ("_sid", sid_watch, "sid")):
        jobs += [
            f"job.queue{name}.handler = QueueManager",
            f"job.queue{name}.active = yes",
            # Ticks far apart: a start within the test's wait proves the tree watch woke its own queue.
            f"job.queue{name}.schedule = minute=*/30",
            f"job.watch{name}.handler = TreeWatch",
            f"job.watch{name}.active = yes",
            f"job.watch{name}.schedule = minute=*/30",
            f"job.watch{name}.path = {watch}",
            f"job.watch{name}.load_mode = start",
            f"job.watch{name}.queued = yes",
        ]
        if connection:
            jobs += [
                f"job.queue{name}.connection = {connection}",
                f"job.watch{name}.connection = {connection}",
            ]
    # One exporter per instance, each on its own port; the pyrotorque_* figures only on the first.
    for name, port, connection in (("", ports[0], None), ("_sid", ports[1], "sid")):
        jobs += [
            f"job.exporter{name}.handler = RtorrentExporter",
            f"job.exporter{name}.active = yes",
            f"job.exporter{name}.schedule = hour=*",
            f"job.exporter{name}.port = {port}",
            f"job.exporter{name}.scrape_timeout = 2",
        ]
        if connection:
            jobs += [
                f"job.exporter{name}.connection = {connection}",
                f"job.exporter{name}.daemon_metrics = no",
            ]
    jobs.append("job.stats_sid.handler = EngineStats")
    jobs.append("job.stats_sid.schedule = second=*/2")
    jobs.append("job.stats_sid.connection = sid")
    return "\n".join(jobs) + "\n"


def drop(watch: Path, name: str) -> str:
    """Write a metafile the way a client saves one (a hidden name, then a rename); its info hash."""
    meta = make_metafile(name, size=64 << 10, seed=len(name))
    partial = watch / f".{name}.part"
    partial.write_bytes(meta.data)
    partial.rename(watch / f"{name}.torrent")
    return meta.info_hash


def started_on(sandbox: RtorrentSandbox, info_hash: str) -> bool:
    return info_hash in sandbox.item_hashes() and sandbox.rpc("d.state", info_hash) == 1


def scrape(port: int) -> dict[str, str]:
    """The exporter's page as ``series -> value`` (empty when it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    except OSError:
        return {}
    pairs = (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {series: value for series, value in pairs}


def start_daemon(pair: Pair) -> subprocess.Popen[str]:
    """The daemon, once its jobs run (a file dropped earlier is recorded by the first start, not loaded)."""
    daemon = start_foreground(pair.config_dir)
    wait_for(lambda: "pyrotorque started as process" in output_so_far(daemon) or daemon.poll() is not None)
    assert daemon.poll() is None, stop_foreground(daemon)
    return daemon


def await_(daemon: subprocess.Popen[str], condition: Callable[[], object], what: str) -> None:
    """``wait_for``, with the daemon's output in the failure (what it did is the first thing to know)."""
    try:
        wait_for(condition, what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the daemon said:\n{output_so_far(daemon)[-6000:]}") from None


def status_file(pair: Pair) -> dict[str, object]:
    return dict(json.loads((pair.config_dir / "run" / "pyrotorque.status.json").read_text()))


def connection_reachable(pair: Pair, name: str) -> bool | None:
    for one in status_file(pair)["connections"]:  # type: ignore[attr-defined]
        if one["name"] == name:
            return bool(one["reachable"]) if one["reachable"] is not None else None
    raise AssertionError(f"no connection {name!r} in the status file")


def test_items_land_and_start_on_their_own_instance_only(pair: Pair) -> None:
    daemon = start_daemon(pair)
    try:
        on_default = drop(pair.default_watch, "for-default")
        on_sid = drop(pair.sid_watch, "for-sid")
        await_(
            daemon,
            lambda: started_on(pair.default, on_default),
            "the default instance to load and start its item",
        )
        await_(daemon, lambda: started_on(pair.sid, on_sid), "the sid instance to load and start its item")
        assert pair.default.item_hashes() == [on_default]
        assert pair.sid.item_hashes() == [on_sid]
        await_(daemon, lambda: "(connection sid)" in output_so_far(daemon), "the sid stats line")
        await_(
            daemon,
            lambda: connection_reachable(pair, "sid") and connection_reachable(pair, "default"),
            "status",
        )
        jobs = {job["name"]: job["connection"] for job in status_file(pair)["jobs"]}  # type: ignore[attr-defined]
        assert jobs["watch_sid"] == jobs["queue_sid"] == "sid"
        assert jobs["watch"] == jobs["queue"] == "default"
        default_page, sid_page = scrape(pair.ports[0]), scrape(pair.ports[1])
        assert default_page["rtorrent_up"] == sid_page["rtorrent_up"] == "1.0"
        assert any(series.startswith('rtorrent_info{client_version="0.9.8"') for series in default_page)
        assert any(series.startswith('rtorrent_info{client_version="0.16') for series in sid_page)
        assert any(series.startswith("pyrotorque_job_runs_total") for series in default_page)
        assert not any(series.startswith("pyrotorque_") for series in sid_page)
        checked = _cli(pair, "--check")
        assert "connection default: rTorrent 0.9.8" in checked.stdout, checked.stdout
        assert "connection sid: rTorrent 0.16" in checked.stdout, checked.stdout
        matched = _cli(pair, "--match", "*", "--connection", "sid")
        assert matched.stdout.split()[0] == on_sid, matched.stdout
        shown = _cli(pair, "--status")
        assert "rTorrent 'sid' at" in shown.stdout and "connection" in shown.stdout, shown.stdout
    finally:
        output = stop_foreground(daemon)
    assert daemon.returncode == 0, output
    assert "Traceback" not in output, output


def test_a_frozen_instance_holds_only_its_own_jobs(pair: Pair) -> None:
    daemon = start_daemon(pair)
    try:
        await_(daemon, lambda: "(connection sid)" in output_so_far(daemon), "the sid stats job to run")
        pair.sid.freeze()
        try:
            # The stats job's next tick waits on the frozen instance (rpc_timeout 60 s) from now on.
            await_(
                daemon,
                lambda: status_file(pair) and _running("stats_sid", pair),
                "a tick stuck on the frozen sid",
            )
            await_(daemon, lambda: scrape(pair.ports[1]).get("rtorrent_up") == "0.0", "sid's exporter: up 0")
            assert scrape(pair.ports[0]).get("rtorrent_up") == "1.0"
            while_frozen = drop(pair.default_watch, "while-sid-frozen")
            # Within the usual wait: a default job held behind the frozen instance would need 60 s.
            await_(
                daemon,
                lambda: started_on(pair.default, while_frozen),
                "the default instance's load and start",
            )
            waiting = drop(pair.sid_watch, "for-frozen-sid")
        finally:
            pair.sid.thaw()
        await_(
            daemon,
            lambda: started_on(pair.sid, waiting),
            "the thawed instance to get the file dropped meanwhile",
        )
        assert waiting not in pair.default.item_hashes()
    finally:
        output = stop_foreground(daemon)
    assert daemon.returncode == 0, output
    assert "Traceback" not in output, output


def test_a_killed_instance_is_reported_for_its_own_jobs_and_nothing_is_lost(pair: Pair) -> None:
    daemon = start_daemon(pair)
    try:
        before = drop(pair.sid_watch, "before-kill")
        await_(daemon, lambda: started_on(pair.sid, before), "the first sid item")
        pair.sid.wait_saved()
        pair.sid.kill()
        await_(daemon, lambda: "rTorrent 'sid' connection lost" in output_so_far(daemon), "the outage line")
        during = drop(pair.sid_watch, "during-kill")
        on_default = drop(pair.default_watch, "default-during-kill")
        await_(daemon, lambda: started_on(pair.default, on_default), "the default instance to go on")
        pair.sid.start()
        # Loaded is enough: the queue starts one item per tick, and before-kill may come back stopped.
        await_(daemon, lambda: during in pair.sid.item_hashes(), "the file dropped during the outage")
        await_(daemon, lambda: "rTorrent 'sid' connection is back" in output_so_far(daemon), "the back line")
        assert set(pair.sid.item_hashes()) == {before, during}
        assert pair.default.item_hashes() == [on_default]
    finally:
        output = stop_foreground(daemon)
    assert daemon.returncode == 0, output
    lost = [line for line in output.splitlines() if "connection lost" in line]
    assert lost and all("rTorrent 'sid'" in line for line in lost), lost
    assert all(("Job watch_sid" in line or "_sid" in line) for line in lost), lost


def _running(job: str, pair: Pair) -> bool:
    for one in status_file(pair)["jobs"]:  # type: ignore[attr-defined]
        if one["name"] == job:
            return one["running_since"] is not None
    return False


def _cli(pair: Pair, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYRO_CONFIG_DIR": str(pair.config_dir)}
    env.pop("PYRO_SCGI_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "pyrotorque", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
