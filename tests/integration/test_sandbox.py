"""The real-rTorrent sandbox itself, on every selected line."""

from __future__ import annotations

import time
import xmlrpc.client
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import BATCH_ITEMS, RtorrentSandbox, SandboxFactory, process_state


def test_answers_with_its_line_version(rtorrent: RtorrentSandbox) -> None:
    version = rtorrent.rpc("system.client_version")
    assert version == rtorrent.version
    if rtorrent.line == "0.9.8":
        assert version == "0.9.8"
    else:
        assert version.startswith("0.16.")


def test_socket_belongs_to_the_started_process(rtorrent: RtorrentSandbox) -> None:
    assert rtorrent.is_running()
    assert rtorrent.rpc("system.pid") == rtorrent.pid
    assert rtorrent.url == f"scgi://{rtorrent.socket_path}"
    assert rtorrent.socket_path.is_socket()


def test_listens_on_loopback_only_without_dht(rtorrent: RtorrentSandbox) -> None:
    assert rtorrent.rpc("network.bind_address") == "127.0.0.1"
    assert rtorrent.rpc("network.port_range") == f"{rtorrent.port}-{rtorrent.port}"
    assert rtorrent.rpc("protocol.pex") == 0
    if rtorrent.line == "0.9.8":
        # 0.16 accepts trackers.use_udp.set but its getter keeps answering 1 (docs/compatibility.md).
        assert rtorrent.rpc("trackers.use_udp") == 0
    assert "trackers.use_udp.set = no" in rtorrent.rc_path.read_text()


def test_load_and_erase_items(rt: RtorrentSandbox) -> None:
    # More than one batch, so the batching path is exercised.
    hashes = rt.load_items(BATCH_ITEMS + 5, prefix="load", seed=11)
    assert len(set(hashes)) == BATCH_ITEMS + 5
    assert sorted(rt.item_hashes()) == sorted(hashes)
    assert rt.rpc("d.name", hashes[3]) == "load00003"
    assert rt.rpc("d.state", hashes[3]) == 0  # loaded stopped

    assert rt.erase_all() == BATCH_ITEMS + 5
    assert rt.item_hashes() == []


def test_rt_starts_each_test_empty(rt: RtorrentSandbox) -> None:
    assert rt.item_hashes() == []
    rt.load_items(2, prefix="leftover")  # the next test using rt must not see these


def test_rt_erased_the_previous_tests_items(rt: RtorrentSandbox) -> None:
    assert rt.item_hashes() == []


def test_load_started_with_commands(rt: RtorrentSandbox) -> None:
    (item,) = rt.load_items(1, prefix="started", start=True, commands=["d.custom1.set=tagged"])
    assert rt.rpc("d.custom1", item) == "tagged"
    assert rt.rpc("d.state", item) == 1


def test_payload_hash_checks_complete(rt: RtorrentSandbox) -> None:
    meta = make_metafile(
        "payload-item", [("a.bin", 40_000), ("dir/b.bin", 90_000)], payload_dir=rt.download_dir
    )
    (item,) = rt.load_metafiles([meta], start=True)
    deadline = time.monotonic() + 20
    while rt.rpc("d.complete", item) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rt.rpc("d.complete", item) == 1
    assert rt.host_path(rt.rpc("d.base_path", item)) == rt.download_dir / "payload-item"


def test_unknown_hash_is_a_fault(rtorrent: RtorrentSandbox) -> None:
    with pytest.raises(xmlrpc.client.Fault) as caught:
        rtorrent.rpc("d.name", "0" * 40)
    assert caught.value.faultCode in (-501, -503)
    assert "info-hash" in caught.value.faultString


def test_path_mapping(rtorrent: RtorrentSandbox) -> None:
    reported = rtorrent.rpc("directory.default").rstrip("/")
    assert rtorrent.host_path(reported) == rtorrent.download_dir
    assert rtorrent.rt_path(rtorrent.download_dir) == reported
    assert rtorrent.rpc("session.path").rstrip("/") == rtorrent.rt_path(rtorrent.session_dir)
    if rtorrent.line == "0.16":
        # rTorrent sees the sandbox relative to the sid root, so the two views differ.
        assert reported != str(rtorrent.download_dir)
        assert rtorrent.download_dir.is_relative_to(rtorrent.sid_root)
        with pytest.raises(ValueError):
            rtorrent.rt_path(Path("/definitely/not/in/the/root"))
    else:
        assert reported == str(rtorrent.download_dir)


def test_project_rc_includes_are_imported(rtorrent: RtorrentSandbox) -> None:
    rc_text = rtorrent.rc_path.read_text()
    includes = sorted(p.name for p in rtorrent.include_dir.glob("*.rc")) if rtorrent.include_dir else []
    for name in includes:
        imported = [
            line for line in rc_text.splitlines() if line.startswith("import = ") and line.endswith(name)
        ]
        assert len(imported) == 1, name
        assert rtorrent.host_path(imported[0].removeprefix("import = ")).is_file()


def test_restart_keeps_the_session(rtorrent_factory: SandboxFactory) -> None:
    sandbox = rtorrent_factory()
    hashes = sandbox.load_items(3, prefix="persist", seed=5)
    first_pid = sandbox.pid

    sandbox.restart()

    assert sandbox.pid != first_pid
    assert sorted(sandbox.item_hashes()) == sorted(hashes)
    assert sandbox.rpc("d.name", hashes[0]) == "persist00000"


def test_stop_ends_exactly_its_process(rtorrent_factory: SandboxFactory, rtorrent: RtorrentSandbox) -> None:
    sandbox = rtorrent_factory()
    pid = sandbox.pid
    assert pid is not None

    sandbox.stop()

    assert not sandbox.is_running()
    assert not Path(f"/proc/{pid}").exists()
    assert not sandbox.socket_path.exists()
    assert rtorrent.is_running()  # the shared daemon is untouched
    sandbox.stop()  # idempotent


def test_stop_handles_a_stopped_process(rtorrent_factory: SandboxFactory) -> None:
    sandbox = rtorrent_factory()
    pid = sandbox.pid
    assert pid is not None
    sandbox.freeze()  # a hung daemon
    assert process_state(pid) == "T"
    sandbox.stop(timeout=5)
    assert not sandbox.is_running()


def test_extra_rc_lines_apply(rtorrent_factory: SandboxFactory) -> None:
    sandbox = rtorrent_factory(['method.insert = sandbox.probe, string|const, "extra-line"'])
    assert sandbox.rpc("sandbox.probe") == "extra-line"


def test_context_manager_cleans_up(rtorrent_line: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    with RtorrentSandbox(tmp_path_factory.mktemp("ctx"), rtorrent_line) as sandbox:
        directory = sandbox.directory
        assert sandbox.rpc("system.client_version") == sandbox.version
    assert not sandbox.is_running()
    # The 0.16 sandbox dir lives inside the shared sid root and is removed; 0.9.8's is the caller's.
    assert directory.exists() == (rtorrent_line == "0.9.8")


def test_prepare_gives_rtorrent_paths_before_start(rtorrent_factory: SandboxFactory) -> None:
    sandbox = rtorrent_factory(start=False)
    watch = sandbox.prepare() / "watch"
    watch.mkdir()
    sandbox.extra_rc = (f'method.insert = sandbox.watch_dir, string|const, "{sandbox.rt_path(watch)}"',)
    sandbox.start()
    assert sandbox.host_path(sandbox.rpc("sandbox.watch_dir")) == watch
