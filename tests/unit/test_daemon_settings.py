"""What the daemon derives from the configuration before any job runs: the client and its timeout."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyrotorque.daemon import DEFAULT_RPC_TIMEOUT, Settings, load_and_connect
from pyrotorque.errors import ConfigError

PYROTORQUE = [sys.executable, "-m", "pyrotorque"]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "cfg"
    directory.mkdir()
    (directory / "config.ini").write_text("[GLOBAL]\nscgi_url = scgi:///nowhere/rpc.socket\n")
    return directory


def test_rpc_timeout_defaults_to_the_package_value(config_dir: Path) -> None:
    connection = load_and_connect(Settings(config_dir=config_dir, environ={}))
    url, client = connection.url, connection.client
    assert url == "scgi:///nowhere/rpc.socket"
    assert client.timeout == DEFAULT_RPC_TIMEOUT == 30.0


def test_rpc_timeout_from_config_ini_or_define(config_dir: Path) -> None:
    (config_dir / "config.ini").write_text(
        "[GLOBAL]\nscgi_url = scgi:///nowhere/rpc.socket\nrpc_timeout = 2.5\n"
    )
    assert load_and_connect(Settings(config_dir=config_dir, environ={})).client.timeout == 2.5
    defined = Settings(config_dir=config_dir, defines=("rpc_timeout=7",), environ={})
    assert load_and_connect(defined).client.timeout == 7.0


@pytest.mark.parametrize("value", ["soon", "0", "-3"])
def test_bad_rpc_timeout_names_key_file_and_line(config_dir: Path, value: str) -> None:
    (config_dir / "config.ini").write_text(
        f"[GLOBAL]\nscgi_url = scgi:///x/rpc.socket\nrpc_timeout = {value}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_and_connect(Settings(config_dir=config_dir, environ={}))
    error = caught.value
    assert (error.key, error.path, error.line) == ("rpc_timeout", str(config_dir / "config.ini"), 3)


@pytest.fixture
def silent_server(tmp_path: Path) -> Iterator[Path]:
    """A unix socket that accepts connections and never answers (a frozen rTorrent)."""
    path = tmp_path / "frozen.socket"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield path
    stop.set()
    thread.join(5)
    for connection in accepted:
        connection.close()
    server.close()


def test_a_frozen_rtorrent_fails_after_the_configured_timeout(config_dir: Path, silent_server: Path) -> None:
    url = f"scgi://{silent_server}"
    done = subprocess.run(
        [*PYROTORQUE, "--check", "--config-dir", str(config_dir), "--url", url, "-D", "rpc_timeout=1"],
        capture_output=True,
        text=True,
        timeout=20,  # the default of 30 s would not fit
        check=False,
    )
    assert done.returncode == 69
    assert "no complete answer from rTorrent within 1s" in done.stderr
