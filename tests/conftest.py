"""Shared pytest configuration: which real rTorrent lines to test against, and their fixtures.

Fixtures (see sandbox/rtorrent.py for the sandbox API):

* ``rtorrent`` -- session-scoped, one started ``RtorrentSandbox`` per line in ``--rtorrent-lines``
  (test ids ``[rt0.9.8]``, ``[rt0.16]``); stopped at the end of the session.
* ``rt`` -- the same sandbox with every item erased before the test.
* ``rtorrent_factory`` -- makes fresh private sandboxes of the current line (for tests that stop,
  kill or restart rTorrent, or need their own rc lines); all are stopped at teardown.

* ``rpc_backend`` -- for contract tests: the same test body runs against the fake rTorrent of
  tests/support/fake_rtorrent.py, as each line (ids ``[fake0.9.8]``, ``[fake0.16]``), and against a
  real rTorrent of each selected line (``[rt0.9.8]``, ``[rt0.16]``, with every item erased first).

Only tests that use one of these are parametrized over the lines, and only the real variants get the
``rtorrent`` marker. A missing rTorrent (or sid root) skips them locally and fails them under ``CI=true``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.rtorrent import (
    LINES,
    RtorrentSandbox,
    SandboxFactory,
    remove_stale_sandboxes,
    unavailable_reason,
)

from tests.support.contract import RpcBackend
from tests.support.fake_rtorrent import FakeRtorrent

_LINE_FIXTURE = "rtorrent_line"
_BACKEND_FIXTURE = "rpc_backend"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--rtorrent-lines",
        default="0.9.8",
        help="comma-separated rTorrent lines for integration tests (0.9.8, 0.16)",
    )


def _selected_lines(config: pytest.Config) -> list[str]:
    raw = str(config.getoption("--rtorrent-lines"))
    return [line.strip() for line in raw.split(",") if line.strip()]


def pytest_configure(config: pytest.Config) -> None:
    unknown = [line for line in _selected_lines(config) if line not in LINES]
    if unknown:
        raise pytest.UsageError(
            f"--rtorrent-lines: unknown line(s) {', '.join(unknown)}; known: {', '.join(LINES)}"
        )
    config.addinivalue_line("markers", "rtorrent: needs a real rTorrent (sandbox fixture)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # fixturenames is the closure, so tests using rt/rtorrent/rtorrent_factory all land here.
    if _LINE_FIXTURE in metafunc.fixturenames:
        lines = _selected_lines(metafunc.config)
        metafunc.parametrize(
            _LINE_FIXTURE, lines, ids=[f"rt{line}" for line in lines], indirect=True, scope="session"
        )
    if _BACKEND_FIXTURE in metafunc.fixturenames:
        backends = [("fake", line) for line in LINES] + [
            ("real", line) for line in _selected_lines(metafunc.config)
        ]
        metafunc.parametrize(
            _BACKEND_FIXTURE,
            backends,
            ids=[f"{'fake' if kind == 'fake' else 'rt'}{line}" for kind, line in backends],
            indirect=True,
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _LINE_FIXTURE in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.rtorrent)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get(_BACKEND_FIXTURE, ("fake",))[0] == "real":
            item.add_marker(pytest.mark.rtorrent)


def _under_ci() -> bool:
    return os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def rtorrent_line(request: pytest.FixtureRequest) -> str:
    """The rTorrent line of the current test ("0.9.8" or "0.16"); skips (fails under CI) if missing."""
    line: str = request.param
    _require_line(line)
    return line


def _require_line(line: str) -> None:
    """Skip (locally) or fail (under CI=true) when rTorrent ``line`` is missing."""
    reason = unavailable_reason(line)
    if reason is not None:
        if _under_ci():
            pytest.fail(f"rTorrent {line} is required under CI=true: {reason}", pytrace=False)
        pytest.skip(f"rTorrent {line} not available: {reason}")  # locally only; under CI it failed above


class _SandboxPool:
    """One long-lived sandbox per line, so pytest's parameter reordering never restarts them."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp_path_factory = tmp_path_factory
        self._sandboxes: dict[str, RtorrentSandbox] = {}

    def get(self, line: str) -> RtorrentSandbox:
        sandbox = self._sandboxes.get(line)
        if sandbox is None:
            sandbox = RtorrentSandbox(self._tmp_path_factory.mktemp(f"rt{line}"), line)
            self._sandboxes[line] = sandbox
        if not sandbox.is_running():
            sandbox.start()
        return sandbox

    def close(self) -> None:
        for sandbox in self._sandboxes.values():
            sandbox.close()


@pytest.fixture(scope="session")
def _rtorrent_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_SandboxPool]:
    remove_stale_sandboxes()
    pool = _SandboxPool(tmp_path_factory)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def rtorrent(rtorrent_line: str, _rtorrent_pool: _SandboxPool) -> RtorrentSandbox:
    """A started rTorrent sandbox of the current line, shared by the whole session."""
    return _rtorrent_pool.get(rtorrent_line)


@pytest.fixture
def rt(rtorrent: RtorrentSandbox, _rtorrent_pool: _SandboxPool) -> RtorrentSandbox:
    """The session sandbox with all items erased before the test."""
    sandbox = _rtorrent_pool.get(rtorrent.line)  # restarts it if an earlier test stopped it
    sandbox.erase_all()
    return sandbox


@pytest.fixture
def rtorrent_factory(
    rtorrent_line: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxFactory]:
    """A factory for fresh private sandboxes of the current line, all stopped at teardown."""
    factory = SandboxFactory(rtorrent_line, lambda: tmp_path_factory.mktemp("rtf"))
    yield factory
    factory.close_all()


@pytest.fixture
def rpc_backend(request: pytest.FixtureRequest, tmp_path: Path) -> RpcBackend:
    """The fake or a real rTorrent of one line, for a contract test (see the module docstring)."""
    kind, line = request.param
    if kind == "fake":
        return RpcBackend(line, tmp_path / "metafiles", fake=FakeRtorrent(line))
    _require_line(line)
    pool: _SandboxPool = request.getfixturevalue("_rtorrent_pool")
    sandbox = pool.get(line)
    sandbox.erase_all()
    # 0.16 runs chrooted: its metafiles must live inside the sandbox directory.
    return RpcBackend(line, sandbox.directory / "contract" / tmp_path.name, sandbox=sandbox)
