"""The Action job's ``delete`` against a real rTorrent (0.9.8 and 0.16) with real payload data."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.clock import as_clock
from pyrotorque.config import Config
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.rules import Action, ActionOptions
from pyrotorque.rtorrent.client import RtorrentClient

pytestmark = pytest.mark.rtorrent

LOGGER = "pyrotorque.job.delete"
KIB = 1 << 10
FILES = [("a.bin", 32 * KIB), ("sub/b.bin", 16 * KIB), ("sub/shared.bin", 16 * KIB), ("c.bin", 8 * KIB)]


@dataclass
class Scene:
    """A multi-file item 'Multi' with foreign neighbours, an item sharing one of its files, a bystander."""

    payload: Path  # host path of the folder that holds Multi/
    outside: Path  # a file outside Multi/ that symlinks in Multi/ point to
    multi: str
    shared: str
    bystander: str

    @property
    def data(self) -> Path:
        return self.payload / "Multi"


@pytest.fixture
def payload(rt: RtorrentSandbox) -> Iterator[Path]:
    """A fresh folder below rTorrent's default directory (inside the sid root, so 0.16 sees it)."""
    rt.download_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="delete-", dir=rt.download_dir))
    yield folder
    rt.erase_all()
    subprocess.run(["chattr", "-R", "-i", str(folder)], check=False, capture_output=True)
    shutil.rmtree(folder)


@pytest.fixture
def scene(rt: RtorrentSandbox, payload: Path) -> Scene:
    multi = make_metafile("Multi", files=FILES, payload_dir=payload, seed=1)
    data = payload / "Multi"
    outside = payload / "elsewhere" / "precious.bin"
    outside.parent.mkdir()
    outside.write_bytes(b"not the item's")
    (data / "c.bin").unlink()
    (data / "c.bin").symlink_to(outside)  # a listed file that is a link (cross-seed style)
    (data / "link-out").symlink_to(outside.parent)  # a foreign link to a folder outside
    (data / "sub" / "foreign.nfo").write_text("someone else's")
    shared = make_metafile("shared.bin", size=16 * KIB, seed=2)  # data path: Multi/sub/shared.bin
    bystander = make_metafile("Bystander", files=[("x.bin", 8 * KIB)], payload_dir=payload, seed=3)
    hashes = [
        *rt.load_metafiles([multi, bystander], commands=[f"d.directory.set={rt.rt_path(payload)}"]),
        *rt.load_metafiles([shared], commands=[f"d.directory.set={rt.rt_path(data / 'sub')}"]),
    ]
    assert rt.rpc("d.directory", hashes[0]) == rt.rt_path(data)
    return Scene(payload, outside, hashes[0], hashes[2], hashes[1])


def delete_job(rt: RtorrentSandbox, condition: str) -> Action:
    context = JobContext(
        name="delete",
        client=RtorrentClient(rt.url),
        config=Config(config_dir=Path("/nonexistent")),
        dry_run=False,
        log=logging.getLogger(LOGGER),
        clock=as_clock(lambda: 1_800_000_000.0),
    )
    job = Action(context, ActionOptions(condition=condition, action="delete"))
    job.map_paths(lambda path: str(rt.host_path(path)), rt.rt_path)
    job.start()
    return job


def listing(folder: Path) -> set[str]:
    """Every entry below ``folder`` (links not followed), relative."""
    found: set[str] = set()
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(root, name), folder))
    return found


def test_delete_removes_only_the_items_own_files(
    rt: RtorrentSandbox, scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    before = listing(scene.payload)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        delete_job(rt, "name=Multi").run()

    assert scene.multi not in rt.item_hashes()
    assert {scene.shared, scene.bystander} <= set(rt.item_hashes())
    gone = {"Multi/a.bin", "Multi/sub/b.bin", "Multi/c.bin"}
    assert before - listing(scene.payload) == gone
    assert scene.outside.read_bytes() == b"not the item's"
    assert (scene.data / "link-out").is_symlink() and (scene.data / "sub" / "foreign.nfo").exists()
    assert (scene.data / "sub" / "shared.bin").stat().st_size == 16 * KIB
    assert rt.rpc("d.directory", scene.shared) == rt.rt_path(scene.data / "sub")
    assert (scene.payload / "Bystander" / "x.bin").stat().st_size == 8 * KIB
    messages = [record.getMessage() for record in caplog.records]
    assert f"Kept {scene.data / 'sub' / 'shared.bin'}: also used by another item" in messages
    assert f"Deleting 'Multi' #{scene.multi}" in messages


def test_a_failed_removal_keeps_the_item_and_the_next_run_finishes(
    rt: RtorrentSandbox, scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    locked = scene.data / "sub"
    subprocess.run(["chattr", "+i", str(locked)], check=True)  # root cannot unlink in it either
    job = delete_job(rt, "name=Multi")
    try:
        with caplog.at_level(logging.INFO, logger=LOGGER):
            job.run()
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=True)

    assert scene.multi in rt.item_hashes()  # not erased: its data is not all gone
    assert rt.rpc("d.state", scene.multi) == 0 and rt.rpc("d.is_open", scene.multi) == 0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert f"Could not remove {locked / 'b.bin'}: Operation not permitted" in errors
    assert any(m.startswith("Could not delete 'Multi'") and str(locked / "b.bin") in m for m in errors)
    assert not (scene.data / "a.bin").exists() and (locked / "b.bin").exists()

    job.run()  # as after a crash halfway: the item is found again, what is gone already is fine
    assert scene.multi not in rt.item_hashes()
    assert not (locked / "b.bin").exists() and (locked / "shared.bin").exists()
    assert scene.outside.exists() and (locked / "foreign.nfo").exists()


def test_a_data_path_that_is_protected_is_refused(
    rt: RtorrentSandbox, scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    rt.rpc("d.open", scene.multi)
    default = rt.rpc("directory.default")
    rt.rpc("directory.default.set", "", rt.rt_path(scene.data))
    try:
        with caplog.at_level(logging.INFO, logger=LOGGER):
            delete_job(rt, "name=Multi").run()
    finally:
        rt.rpc("directory.default.set", "", default)

    assert scene.multi in rt.item_hashes()
    assert (scene.data / "a.bin").exists() and (scene.data / "sub" / "b.bin").exists()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "it is the protected path" in errors[0], errors
    assert rt.rpc("d.is_open", scene.multi) == 1  # refused before anything changed: not closed
