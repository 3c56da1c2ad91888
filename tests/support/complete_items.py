"""Items with real payload, loaded into a real rTorrent and hash-checked until they are complete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.rtorrent import RtorrentSandbox

from tests.support.polling import wait_for


def load_complete(rt: RtorrentSandbox, directory: Path, metafiles: list[Any], label: str) -> list[str]:
    """Load items whose payload is in ``directory``, labelled, and wait until each is complete and
    saved in the session (the saved metafile is what ``transfer=`` sends); returns their hashes."""
    commands = [f"d.directory.set={rt.rt_path(directory)}", f"d.custom1.set={label}"]
    hashes = rt.load_metafiles(metafiles, commands=commands)
    for info_hash in hashes:
        rt.rpc("d.check_hash", info_hash)

    def all_complete() -> bool:
        return all(rt.rpc("d.complete", h) == 1 and rt.rpc("d.hashing", h) == 0 for h in hashes)

    wait_for(all_complete, "the hash checks")
    rt.wait_saved()
    return hashes
