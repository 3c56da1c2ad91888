"""The Action job against a real rTorrent (0.9.8 and 0.16), on items with real payload data.

``action_job`` and ``complete_items`` are shared with the delete, move and exec tests.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.clock import as_clock
from pyrotorque.config import Config, load_config
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.rules import Action, ActionOptions
from pyrotorque.rtorrent.client import RtorrentClient
from tests.support.polling import wait_for

pytestmark = pytest.mark.rtorrent

LOGGER = "pyrotorque.job.rules"


def action_job(
    rt: RtorrentSandbox, *, dry_run: bool = False, config: Config | None = None, **options: Any
) -> Action:
    """A started Action job on ``rt``, reading rTorrent's paths through the sandbox's chroot mapping."""
    context = JobContext(
        name="rule",
        client=RtorrentClient(rt.url),
        config=config or Config(config_dir=Path("/nonexistent")),
        dry_run=dry_run,
        log=logging.getLogger(LOGGER),
        clock=as_clock(lambda: 1_800_000_000.0),
    )
    job = Action(context, ActionOptions(**options))
    job.map_paths(lambda path: str(rt.host_path(path)), rt.rt_path)
    job.start()
    return job


def complete_items(
    rt: RtorrentSandbox,
    names: Sequence[str],
    *,
    files: Sequence[tuple[str, int]] | None = None,
    directory: Path | None = None,
    start: bool = False,
) -> list[str]:
    """Items whose real payload is on disk (in ``directory``, default the download dir), hash-checked
    complete, loaded oldest first; returns their hashes in ``names`` order."""
    where = directory or rt.download_dir
    metafiles = [
        make_metafile(name, files=files, size=96 << 10, seed=index, payload_dir=where)
        for index, name in enumerate(names)
    ]
    commands = [f"d.directory.set={rt.rt_path(where)}"] if directory else []
    hashes = rt.load_metafiles(metafiles, commands=commands)
    for offset, info_hash in enumerate(hashes):
        rt.rpc("d.custom.set", info_hash, "tm_loaded", str(1_700_000_000 + offset))
        rt.rpc("d.check_hash", info_hash)
    wait_for(lambda: all(rt.rpc("d.complete", item) == 1 for item in hashes), "the hash checks")
    for info_hash in hashes if start else ():
        rt.rpc("d.start", info_hash)
    return hashes


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_stop_acts_only_on_matching_items_and_keeps_their_data(rt: RtorrentSandbox) -> None:
    seeding = complete_items(rt, ["seed-a", "seed-b", "keep-c"], start=True)
    before = {name: digest(rt.download_dir / name) for name in ("seed-a", "seed-b", "keep-c")}
    action_job(rt, condition="name=seed-* is_started=yes", action="stop").run()
    assert [rt.rpc("d.state", item) for item in seeding] == [0, 0, 1]
    assert {name: digest(rt.download_dir / name) for name in before} == before
    assert all(rt.rpc("d.complete", item) == 1 for item in seeding)


def test_start_and_erase_keep_the_data(rt: RtorrentSandbox) -> None:
    first, second = complete_items(rt, ["start-me", "erase-me"])
    action_job(rt, condition="name=start-me", action="start").run()
    wait_for(lambda: rt.rpc("d.is_active", first) == 1, "the start")
    action_job(rt, condition="name=erase-me", action="erase").run()
    wait_for(lambda: second not in rt.item_hashes(), "the erase")
    assert first in rt.item_hashes()
    assert (rt.download_dir / "erase-me").stat().st_size == 96 << 10  # the data stays


def test_label_by_tracker_alias_and_a_hostile_value_that_stays_data(
    rt: RtorrentSandbox, tmp_path: Path
) -> None:
    (tmp_path / "config.ini").write_text("[ANNOUNCE]\nLocalTracker = http://127.0.0.1:6969/announce\n")
    config = load_config(tmp_path, environ={})
    hostile = "x\"; d.erase= $d.stop= {{name}} \\ ' ü"
    plain, odd = complete_items(rt, ["labelled", hostile])
    labels = "label=done {{name}} by {{tracker_alias}}"
    action_job(rt, config=config, condition="is_complete=yes", action=labels).run()
    assert rt.rpc("d.custom1", plain) == "done labelled by LocalTracker"
    assert rt.rpc("d.custom1", odd) == f"done {hostile} by LocalTracker"
    assert odd in rt.item_hashes() and rt.rpc("d.state", odd) == 0
    action_job(rt, condition="label=*by*", action="priority=0", max_per_run=1).run()
    assert [rt.rpc("d.priority", item) for item in (plain, odd)] == [0, 2]  # oldest first, one per run


def test_max_per_run_and_dry_run(rt: RtorrentSandbox, caplog: pytest.LogCaptureFixture) -> None:
    hashes = complete_items(rt, [f"many-{index}" for index in range(5)], start=True)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        action_job(rt, dry_run=True, condition="name=many-*", action="stop").run()
    assert [rt.rpc("d.state", item) for item in hashes] == [1] * 5
    assert len([r for r in caplog.records if r.getMessage().startswith("WOULD stop ")]) == 5
    job = action_job(rt, condition="name=many-* is_started=yes", action="stop", max_per_run=2)
    job.run()
    assert [rt.rpc("d.state", item) for item in hashes] == [0, 0, 1, 1, 1]
    job.run()
    job.run()
    assert [rt.rpc("d.state", item) for item in hashes] == [0] * 5


def test_once_marks_the_item_in_rtorrent_and_skips_it_after(rt: RtorrentSandbox) -> None:
    (item,) = complete_items(rt, ["notify-me"])
    job = action_job(rt, condition="is_complete=yes", action="priority=1", once=True)
    job.run()
    assert rt.rpc("d.custom", item, "rule_rule") == "1800000000"
    rt.rpc("d.priority.set", item, 3)  # changed by hand afterwards: the rule does not act again
    job.run()
    assert rt.rpc("d.priority", item) == 3
