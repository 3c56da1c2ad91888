"""``transfer=NAME`` between two real rTorrents of the same line (0.9.8 and 0.16) that share a download
folder: complete items end up on the target, checked there, and gone from the source; when the target
cannot read the data, the items stay on the source as they were.

For 0.16 both run in the same sid root, so a path means the same file to both (what ``transfer``
needs: one machine, one view of the data).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from pyrotorque.clock import as_clock
from pyrotorque.config import Config
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.rules import Action, ActionOptions
from pyrotorque.jobs.rules.verb_transfer import MARK_KEY
from pyrotorque.rtorrent.client import RtorrentClient
from tests.support.complete_items import load_complete
from tests.support.data_trees import digest
from tests.support.foreground import write_config
from tests.support.polling import wait_for

LOGGER = "pyrotorque.job.spread"
KIB = 1 << 10


def spreader(
    source: RtorrentSandbox, clients: Mapping[str, RtorrentSandbox], *, dry_run: bool = False
) -> Action:
    """An Action on the source (named ``default``) that transfers ``label=go`` items to ``target``."""
    context = JobContext(
        name="spread",
        client=RtorrentClient(source.url),
        config=Config(config_dir=Path("/nonexistent")),
        dry_run=dry_run,
        log=logging.getLogger(LOGGER),
        clock=as_clock(time.time),
        connection="default",
        clients={name: RtorrentClient(sandbox.url) for name, sandbox in clients.items()},
    )
    job = Action(context, ActionOptions(condition="label=go", action="transfer=target"))
    job.map_paths(lambda path: str(source.host_path(path)), source.rt_path)  # the source's session
    job.start()
    return job


def shared_folder(rt: RtorrentSandbox, name: str) -> Path:
    """A folder both instances see at the same path (in the source's sandbox directory)."""
    folder = rt.directory / name
    folder.mkdir(exist_ok=True)
    return folder


def facts(rt: RtorrentSandbox, info_hash: str) -> dict[str, Any]:
    keys = ("d.directory", "d.complete", "d.state", "d.custom1", "d.priority", "d.hashing")
    return {key: rt.rpc(key, info_hash) for key in keys}


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno == level]


def items_with_payload(shared: Path) -> tuple[Any, Any]:
    multi = make_metafile(
        "Shared.Item",
        [("disc/a.bin", 200 * KIB), ("b.bin", 70 * KIB + 5)],
        piece_length=16 * KIB,
        payload_dir=shared,
        seed=1,
    )
    single = make_metafile("shared.iso", size=150 * KIB, piece_length=16 * KIB, payload_dir=shared, seed=2)
    return multi, single


def test_transfer_moves_checked_items_to_the_target_and_erases_them_on_the_source(
    rt: RtorrentSandbox, rtorrent_factory: SandboxFactory, caplog: pytest.LogCaptureFixture
) -> None:
    target = rtorrent_factory()
    shared = shared_folder(rt, "shared-transfer")
    multi, single = items_with_payload(shared)
    multi_hash, single_hash = load_complete(rt, shared, [multi, single], label="go")
    (stay_hash,) = load_complete(
        rt, shared, [make_metafile("stay.bin", size=20 * KIB, payload_dir=shared, seed=3)], label="stay"
    )
    rt.rpc("d.start", multi_hash)  # one started, one stopped: each arrives as it was
    rt.rpc("d.priority.set", single_hash, 3)
    before = {h: facts(rt, h) for h in (multi_hash, single_hash)}
    data = {name: digest(shared / name) for name in ("Shared.Item", "shared.iso")}
    sandboxes = {"default": rt, "target": target}

    with caplog.at_level(logging.INFO, logger=LOGGER):
        spreader(rt, sandboxes, dry_run=True).run()
    would = sorted(m for m in messages(caplog, logging.INFO) if m.startswith("WOULD transfer"))
    assert would == sorted(
        [
            f"WOULD transfer 'Shared.Item' #{multi_hash} (target)",
            f"WOULD transfer 'shared.iso' #{single_hash} (target)",
        ]
    )
    assert target.item_hashes() == [] and {multi_hash, single_hash} <= set(rt.item_hashes())

    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        spreader(rt, sandboxes).run()
    assert messages(caplog, logging.ERROR) == []
    assert sorted(target.item_hashes()) == sorted([multi_hash, single_hash])
    assert set(rt.item_hashes()) == {stay_hash}
    for info_hash in (multi_hash, single_hash):
        after = facts(target, info_hash)
        assert after == before[info_hash], info_hash  # same path, complete, label, priority, state
        assert target.rpc("d.custom", info_hash, MARK_KEY) == ""  # the transfer is finished
    assert target.rpc("d.base_path", multi_hash) == rt.rt_path(shared / "Shared.Item")  # opened there
    assert {name: digest(shared / name) for name in data} == data

    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        spreader(rt, sandboxes).run()  # nothing left to do: nothing matches on the source any more
    assert messages(caplog, logging.ERROR) == [] and not messages(caplog, logging.INFO)[1:]


def test_an_item_the_target_holds_complete_already_is_only_erased_on_the_source(
    rt: RtorrentSandbox, rtorrent_factory: SandboxFactory, caplog: pytest.LogCaptureFixture
) -> None:
    target = rtorrent_factory()
    shared = shared_folder(rt, "shared-twice")
    item = make_metafile("twice.bin", size=64 * KIB, piece_length=16 * KIB, payload_dir=shared, seed=4)
    (info_hash,) = load_complete(rt, shared, [item], label="go")
    load_complete(target, shared, [item], label="theirs")

    with caplog.at_level(logging.INFO, logger=LOGGER):
        spreader(rt, {"default": rt, "target": target}).run()
    assert messages(caplog, logging.ERROR) == []
    assert rt.item_hashes() == [] and target.item_hashes() == [info_hash]
    assert target.rpc("d.custom1", info_hash) == "theirs"  # their copy is not touched
    assert any("on 'target' already, complete" in m for m in messages(caplog, logging.INFO))


def test_a_half_done_transfer_is_redone_and_a_foreign_incomplete_copy_is_left_alone(
    rt: RtorrentSandbox, rtorrent_factory: SandboxFactory, caplog: pytest.LogCaptureFixture
) -> None:
    target = rtorrent_factory()
    shared = shared_folder(rt, "shared-again")
    ours = make_metafile("ours.bin", size=64 * KIB, piece_length=16 * KIB, payload_dir=shared, seed=6)
    theirs = make_metafile("theirs.bin", size=64 * KIB, piece_length=16 * KIB, payload_dir=shared, seed=7)
    ours_hash, theirs_hash = load_complete(rt, shared, [ours, theirs], label="go")
    # On the target, not checked (so not complete): one with our mark, as a transfer killed during its
    # hash check leaves it, and one loaded by someone else.
    target.load_metafiles([ours], commands=[f"d.custom.set={MARK_KEY},default", "d.custom1.set=half"])
    target.load_metafiles([theirs], commands=["d.custom1.set=theirs"])

    with caplog.at_level(logging.INFO, logger=LOGGER):
        spreader(rt, {"default": rt, "target": target}).run()
    (error,) = messages(caplog, logging.ERROR)
    assert theirs_hash in error and "not complete and not loaded by a transfer: leaving both" in error
    assert rt.item_hashes() == [theirs_hash]  # ours moved, theirs stays on the source
    assert sorted(target.item_hashes()) == sorted([ours_hash, theirs_hash])
    assert facts(target, ours_hash)["d.complete"] == 1 and target.rpc("d.custom", ours_hash, MARK_KEY) == ""
    assert target.rpc("d.custom1", ours_hash) == "go"  # loaded again, with the source's label
    assert (target.rpc("d.complete", theirs_hash), target.rpc("d.custom1", theirs_hash)) == (0, "theirs")


def test_a_target_that_cannot_read_the_data_leaves_the_items_on_the_source(
    rt: RtorrentSandbox, rtorrent_factory: SandboxFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # rTorrent as ``nobody`` cannot enter the source's sandbox directory (root's, mode 0700).
    target = rtorrent_factory(run_as="nobody")
    shared = shared_folder(rt, "shared-private")
    multi, single = items_with_payload(shared)
    hashes = load_complete(rt, shared, [multi, single], label="go")
    rt.rpc("d.start", hashes[0])
    before = {h: facts(rt, h) for h in hashes}
    data = {name: digest(shared / name) for name in ("Shared.Item", "shared.iso")}

    with caplog.at_level(logging.INFO, logger=LOGGER):
        spreader(rt, {"default": rt, "target": target}).run()
    errors = messages(caplog, logging.ERROR)
    assert len(errors) == 2, errors
    for error in errors:
        assert error.startswith("Could not transfer") and "'target' cannot read the data at" in error, error
    assert all(any(info_hash in error for error in errors) for info_hash in hashes)
    assert {h: facts(rt, h) for h in hashes} == before  # untouched, still started / stopped
    wait_for(lambda: target.item_hashes() == [], "the target's copies to be erased")
    assert {name: digest(shared / name) for name in data} == data


def test_a_configured_rule_transfers_through_the_command_line(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``[CONNECTIONS]`` + ``transfer=`` as a user writes them, run by ``pyrotorque --run-once``.

    Two 0.9.8 instances: the daemon maps no chroot paths, so the source's session path must be this
    machine's (0.16 runs chrooted here; the tests above cover it through the job)."""
    factory = SandboxFactory("0.9.8", lambda: tmp_path_factory.mktemp("rtx"))
    try:
        source, target = factory(), factory()
        shared = source.directory / "shared-cli"
        shared.mkdir()
        item = make_metafile("cli.bin", size=48 * KIB, piece_length=16 * KIB, payload_dir=shared, seed=5)
        (info_hash,) = load_complete(source, shared, [item], label="go")
        torque = (
            "[TORQUE]\njob.spread.handler = Action\njob.spread.schedule = hour=*\n"
            "job.spread.condition = label=go\njob.spread.action = transfer=archive\n"
        )
        config_dir = write_config(
            tmp_path / "cfg", source.url, torque, global_extra=f"\n[CONNECTIONS]\narchive = {target.url}\n"
        )
        env = {**os.environ, "PYRO_CONFIG_DIR": str(config_dir)}
        env.pop("PYRO_SCGI_URL", None)
        done = subprocess.run(
            [sys.executable, "-m", "pyrotorque", "--run-once", "spread"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"Transferring 'cli.bin' #{info_hash} (archive)" in done.stdout + done.stderr
        assert source.item_hashes() == [] and target.item_hashes() == [info_hash]
        assert target.rpc("d.complete", info_hash) == 1
    finally:
        factory.close_all()
