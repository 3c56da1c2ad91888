"""rTorrent as most rtorrent.rc files leave it: no network.xmlrpc.size_limit line, so XML-RPC requests
above 512 KiB get a fault. Multicalls, metafile loads and a limit lowered at run time must still work."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox, SandboxFactory

from pyrotorque.errors import RequestTooLarge
from pyrotorque.rtorrent.client import RtorrentClient
from pyrotorque.rtorrent.limits import DEFAULT_XMLRPC_SIZE_LIMIT
from tests.integration.test_treewatch_live import LOGGER, Watch
from tests.support.polling import wait_for


@pytest.fixture
def default_rt(rtorrent_factory: SandboxFactory) -> RtorrentSandbox:
    sandbox = rtorrent_factory(xmlrpc_size_limit=None)
    assert sandbox.rpc("network.xmlrpc.size_limit") == DEFAULT_XMLRPC_SIZE_LIMIT
    return sandbox


def test_the_client_reads_the_servers_limit(default_rt: RtorrentSandbox) -> None:
    info = RtorrentClient(default_rt.url, protocol="xml").server_info()
    assert info.xmlrpc_size_limit == DEFAULT_XMLRPC_SIZE_LIMIT
    assert info.request_cap < DEFAULT_XMLRPC_SIZE_LIMIT


@pytest.mark.parametrize("protocol", ["xml", "auto"])
def test_a_multicall_of_about_a_megabyte_is_split_below_the_default_limit(
    default_rt: RtorrentSandbox, protocol: str
) -> None:
    (info_hash,) = default_rt.load_items(1, prefix="limit", seed=4)
    client = RtorrentClient(default_rt.url, protocol=protocol)
    calls = [("d.custom.set", (info_hash, f"k{index % 5}", f"value {index:06d}")) for index in range(8000)]

    results = client.multicall(calls)

    assert results == [0] * 8000
    if client.server_info().protocol == "xml":  # JSON-RPC (0.16's choice) ignores the limit
        assert client.stats.largest_request < DEFAULT_XMLRPC_SIZE_LIMIT
    assert default_rt.rpc("d.custom", info_hash, "k4") == "value 007999"


def test_a_metafile_too_big_for_the_limit_is_loaded_by_path(
    default_rt: RtorrentSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Many files make a big info dict: about 700 kB, above 512 KiB, far below the 2 MiB SCGI cap.
    files = [
        (f"dir{index // 100:03d}/a-long-file-name-to-grow-the-info-dict-{index:05d}.bin", 1)
        for index in range(9000)
    ]
    meta = make_metafile("limit-big-info", files=files, seed=5)
    assert DEFAULT_XMLRPC_SIZE_LIMIT < len(meta.data) < 1 << 20
    watch = Watch(default_rt, tmp_path)
    try:
        job = watch.start()
        job.rescan()
        with caplog.at_level(logging.INFO, logger=LOGGER):
            watch.write("big.torrent", meta.data)
            # The job logs its load line after rTorrent shows the item: wait for the line itself.
            wait_for(lambda: "Loaded 'limit-big-info'" in caplog.text, "the big metafile's load line")
    finally:
        watch.close()
    assert watch.loaded(meta)
    loaded = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Loaded")]
    assert len(loaded) == 1, loaded
    # Over XML-RPC the bytes do not fit and go by path; JSON-RPC (0.16) sends them as they are.
    xml = RtorrentClient(default_rt.url).server_info().protocol == "xml"
    assert ("by path" in loaded[0]) == xml, loaded


def test_a_limit_lowered_at_run_time_is_a_clear_error_then_learnt(default_rt: RtorrentSandbox) -> None:
    client = RtorrentClient(default_rt.url, protocol="xml")
    client.server_info()  # detected at 512 KiB
    assert default_rt.rpc("network.xmlrpc.size_limit.set", "", 65536) == 0
    big = "x" * 200_000

    with pytest.raises(RequestTooLarge) as caught:
        client.call("d.name", big)
    assert caught.value.limit == 65536

    assert client.server_info().xmlrpc_size_limit == 65536  # detected again
    requests = client.stats.requests
    with pytest.raises(RequestTooLarge):
        client.call("d.name", big)
    assert client.stats.requests == requests  # now refused unsent
    fresh = RtorrentClient(default_rt.url, protocol="xml")
    assert fresh.multicall([("system.pid", ())] * 3000) == [default_rt.pid] * 3000  # split to fit
    assert fresh.stats.largest_request < 65536


def test_a_multicall_meeting_a_lowered_limit_is_split_and_sent_again(default_rt: RtorrentSandbox) -> None:
    client = RtorrentClient(default_rt.url, protocol="xml")
    client.server_info()
    assert default_rt.rpc("network.xmlrpc.size_limit.set", "", 65536) == 0

    assert client.multicall([("system.pid", ())] * 3000) == [default_rt.pid] * 3000
