"""One rTorrent for a contract test: the fake or a real sandbox, used through the same methods.

The ``rpc_backend`` fixture (tests/conftest.py) hands a test an ``RpcBackend`` for each of the fake's
lines and for a real rTorrent of each selected line; the test body never asks which it got, so a
passing run shows the fake answers like the real thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sandbox.metafiles import Metafile
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.rtorrent.client import RtorrentClient
from tests.support.fake_rtorrent import FakeRtorrent
from tests.support.polling import wait_for


class RpcBackend:
    """A fake or real rTorrent of ``line``, with a client and a place for metafiles it can read."""

    def __init__(
        self,
        line: str,
        workdir: Path,
        *,
        fake: FakeRtorrent | None = None,
        sandbox: RtorrentSandbox | None = None,
    ) -> None:
        assert (fake is None) != (sandbox is None)
        self.line = line
        self.fake = fake
        self.sandbox = sandbox
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def kind(self) -> str:
        return "fake" if self.fake is not None else "real"

    def client(self, protocol: str | None = None) -> RtorrentClient:
        """A new client; ``protocol`` forces "xml" or "json"."""
        if self.fake is not None:
            return self.fake.client(protocol=protocol)
        assert self.sandbox is not None
        return RtorrentClient(self.sandbox.url, timeout=30, protocol=protocol)

    def hashes(self, view: str = "main") -> list[str]:
        """The info hashes in ``view``, in the view's order."""
        hashes: list[str] = self.client().call("download_list", "", view)
        return hashes

    def wait_for_items(self, hashes: Sequence[str]) -> None:
        """Wait until rTorrent shows every item (0.9.8 loads in its main loop, after answering)."""
        wait_for(lambda: set(hashes) <= set(self.hashes()), f"{len(hashes)} loaded item(s)")

    def load(
        self, metafiles: Sequence[Metafile], *, start: bool = False, commands: Sequence[str] = ()
    ) -> list[str]:
        """Load ``metafiles`` in one multicall of ``load.raw`` (or ``load.raw_start``) by our client."""
        method = "load.raw_start" if start else "load.raw"
        answers = self.client().multicall([(method, ("", meta.data, *commands)) for meta in metafiles])
        assert answers == [0] * len(metafiles), answers
        hashes = [meta.info_hash for meta in metafiles]
        self.wait_for_items(hashes)
        return hashes

    def write_metafile(self, meta: Metafile, name: str) -> str:
        """Write ``meta`` where rTorrent can read it; returns the path as rTorrent sees it."""
        path = self.workdir / name
        path.write_bytes(meta.data)
        return self.sandbox.rt_path(path) if self.sandbox is not None else str(path)
