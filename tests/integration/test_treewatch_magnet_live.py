"""TreeWatch and magnet links against a real rTorrent (DHT off): stand-ins, bare .magnet files, no tracker."""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.jobs.treewatch.timing import TreeWatchTiming
from pyrotorque.magnet import standin_bytes
from tests.integration.test_treewatch_live import LOGGER, Watch
from tests.support.polling import wait_for

TRACKER = "http%3A%2F%2F127.0.0.1%3A9%2Fannounce"


@pytest.fixture
def watch(rt: RtorrentSandbox, tmp_path: Path) -> Iterator[Watch]:
    made = Watch(rt, tmp_path)
    yield made
    made.close()


def new_hash() -> str:
    return uuid.uuid4().hex.upper() + "0A1B2C3D"


def tied(sandbox: RtorrentSandbox, info_hash: str) -> tuple[str, str]:
    name, tied_to = sandbox.multicall([("d.name", [info_hash]), ("d.tied_to_file", [info_hash])])
    return str(name[0]), str(tied_to[0])


def test_standin_with_a_tracker_loads_tied_to_its_file(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    watch.start()
    info_hash = new_hash()
    base32 = base64.b32encode(bytes.fromhex(info_hash)).decode()
    link = f"magnet:?xt=urn:btih:{base32}&dn=Some+Show&tr={TRACKER}"
    with caplog.at_level(logging.INFO, logger=LOGGER):
        path = watch.write("tv/meta-x.torrent", standin_bytes(link))
        wait_for(lambda: info_hash in watch.sandbox.item_hashes())
        wait_for(lambda: "Loaded 'Some Show'" in caplog.text)
    assert tied(watch.sandbox, info_hash) == (f"{info_hash}.meta", str(path))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert path.read_bytes() == standin_bytes(link)


def test_bare_link_in_a_magnet_file_loads(watch: Watch) -> None:
    watch.start()
    info_hash = new_hash()
    path = watch.write("x/a.start.magnet", f"magnet:?xt=urn:btih:{info_hash.lower()}&tr={TRACKER}\n".encode())
    wait_for(lambda: info_hash in watch.sandbox.item_hashes())
    assert tied(watch.sandbox, info_hash)[1] == str(path)
    # The start flag of its name applies (the magnet item waits for its metadata, started).
    assert watch.sandbox.rpc("d.state", info_hash) == 1


def test_standin_without_a_tracker(watch: Watch, caplog: pytest.LogCaptureFixture) -> None:
    """0.9.8 with DHT off creates no item (measured); 0.16 does. Either way nothing is lost or silent."""
    job = watch.start(timing=TreeWatchTiming(verify_timeout=1.0))
    info_hash = new_hash()
    data = standin_bytes(f"magnet:?xt=urn:btih:{info_hash}&dn=Lonely")
    with caplog.at_level(logging.INFO, logger=LOGGER):
        path = watch.write("lonely.torrent", data)
        if watch.sandbox.line == "0.9.8":
            wait_for(lambda: "no tracker" in caplog.text)
            (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
            assert warning.levelno == logging.WARNING
            assert str(path) in warning.getMessage() and info_hash in warning.getMessage()
            assert info_hash not in watch.sandbox.item_hashes()
            outcome = "not loaded by rTorrent"
        else:
            wait_for(lambda: info_hash in watch.sandbox.item_hashes())
            wait_for(lambda: "Loaded 'Lonely'" in caplog.text)
            outcome = "loaded"
    assert path.read_bytes() == data
    with job._lock:
        seen = job.state.seen.snapshot()[path]
    assert (seen.outcome.value, seen.info_hash) == (outcome, info_hash)


def test_bad_standin_is_an_error_and_left_in_place(watch: Watch, caplog: pytest.LogCaptureFixture) -> None:
    watch.start()
    data = standin_bytes("magnet:?xt=urn:btih:" + "Z" * 40 + f"&tr={TRACKER}")  # 0.9.8 would make up a hash
    with caplog.at_level(logging.INFO, logger=LOGGER):
        path = watch.write("bad.torrent", data)
        wait_for(lambda: "invalid magnet stand-in" in caplog.text)
    (error,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert error.levelno == logging.ERROR and str(path) in error.getMessage()
    assert watch.sandbox.item_hashes() == []
    assert path.read_bytes() == data
