"""Our rTorrent includes in a plain rTorrent: only the lines ``--create-config`` prints, nothing else.

The sandbox's rc holds rTorrent's own basics (session, socket, ports) and no include of ours; the
test imports the ``*.rc.default`` copies ``--create-config`` wrote, with the very lines it printed,
into a configuration directory whose path has a blank (so the quoting is tested as well).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from tests.support.polling import wait_for

PYROTORQUE = [sys.executable, "-m", "pyrotorque"]
ANNOUNCED = "Add these lines to your rtorrent.rc, then restart rTorrent:\n\n"


def printed_rc_lines(config_dir: Path) -> list[str]:
    done = subprocess.run(
        [*PYROTORQUE, "--create-config", "--config-dir", str(config_dir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.split(ANNOUNCED, 1)[1].split("\n\n", 1)[0].splitlines()


def plain_rtorrent(rtorrent_factory: SandboxFactory) -> tuple[RtorrentSandbox, Path]:
    """A started rTorrent whose rc imports only what ``--create-config`` printed; its config dir."""
    sandbox = rtorrent_factory(start=False, include_dir=None)
    config_dir = sandbox.prepare() / "pyro config"  # inside the sandbox: visible in 0.16's chroot
    lines = printed_rc_lines(config_dir)
    # rTorrent 0.16 runs chrooted: the same files under the path it sees (a no-op for 0.9.8).
    inside = sandbox.rt_path(config_dir)
    sandbox.extra_rc = tuple(line.replace(str(config_dir), inside) for line in lines)
    assert sum(line.startswith("import = ") for line in sandbox.extra_rc) == 2
    return sandbox.start(), config_dir


def stamp(rt: RtorrentSandbox, info_hash: str, key: str) -> int | None:
    value = str(rt.rpc("d.custom", info_hash, key))
    return int(value) if value else None


def in_view(rt: RtorrentSandbox, info_hash: str) -> bool:
    return info_hash in rt.rpc("download_list", "", "pyrotorque")


def test_the_includes_work_in_a_plain_rtorrent(rtorrent_factory: SandboxFactory, tmp_path: Path) -> None:
    rt, config_dir = plain_rtorrent(rtorrent_factory)
    assert "pyrotorque" in rt.rpc("view.list", "")
    assert rt.rpc("pyrotorque.config_dir", "") == rt.rt_path(config_dir)
    assert rt.rpc("pyrotorque.command", "") != "pyrotorque"  # set to this installation's script

    # The payload is written elsewhere, so the item starts incomplete and is completed below.
    meta = make_metafile("plain-include-item", size=192 << 10, payload_dir=tmp_path)
    before = int(time.time())
    (info_hash,) = rt.load_metafiles([meta])
    wait_for(lambda: stamp(rt, info_hash, "tm_loaded") is not None, "tm_loaded")
    loaded = stamp(rt, info_hash, "tm_loaded")
    assert loaded is not None and before <= loaded <= time.time()
    assert stamp(rt, info_hash, "tm_started") is None
    assert in_view(rt, info_hash)  # incomplete

    rt.rpc("d.start", info_hash)
    wait_for(lambda: stamp(rt, info_hash, "tm_started") is not None, "tm_started")
    wait_for(lambda: rt.rpc("d.hashing", info_hash) == 0, "the first hash check")
    assert rt.rpc("d.complete", info_hash) == 0
    assert stamp(rt, info_hash, "tm_completed") is None
    assert in_view(rt, info_hash)  # started, still incomplete
    started = stamp(rt, info_hash, "tm_started")
    assert started is not None and loaded <= started <= time.time()

    # Complete it: the real payload in place, then a hash check finds every piece.
    rt.rpc("d.stop", info_hash)
    rt.rpc("d.close", info_hash)
    target = rt.host_path(str(rt.rpc("d.base_path", info_hash)))
    shutil.copyfile(tmp_path / meta.name, target)
    rt.rpc("d.check_hash", info_hash)
    wait_for(lambda: rt.rpc("d.complete", info_hash) == 1, "the item complete after the hash check")
    wait_for(lambda: stamp(rt, info_hash, "tm_completed") is not None, "tm_completed")
    completed = stamp(rt, info_hash, "tm_completed")
    assert completed is not None and started <= completed <= time.time()
    assert not in_view(rt, info_hash)  # complete, stopped, no peers: nothing going on
    # The schedule filters it again every 15 s; set here to now, it shows it is there and does that.
    assert rt.rpc("view.size", "", "pyrotorque") == 0
    assert stamp(rt, info_hash, "tm_started") == started  # stamped once, at the first start
