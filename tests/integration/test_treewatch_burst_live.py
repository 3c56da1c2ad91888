"""A burst of metafiles ready at the same moment, one of them corrupt, beside a real rTorrent: the
batch loads every good one (tied to its file), and the corrupt one is reported once and left as it is."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

from tests.integration.test_treewatch_live import LOGGER, Watch

BURST = 200


@pytest.fixture
def watch(rt: RtorrentSandbox, tmp_path: Path) -> Iterator[Watch]:
    made = Watch(rt, tmp_path)
    yield made
    made.close()


def test_a_burst_with_one_corrupt_file_loads_every_good_one(
    watch: Watch, caplog: pytest.LogCaptureFixture
) -> None:
    watch.run_once()  # the job ran before: what is there now arrived while it was down
    metas = [make_metafile(f"burst-{index}", seed=1000 + index) for index in range(BURST)]
    paths = [
        watch.write(f"burst/{index:03d}.torrent", meta.data, old=True) for index, meta in enumerate(metas)
    ]
    corrupt = metas[0].data[:-40]
    bad = watch.write("burst/100-corrupt.torrent", corrupt, old=True)
    job = watch.start_stopped()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        job.rescan()  # one scan finds all of them at once: one batch
        job.rescan()  # a later scan stays quiet about the corrupt file
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and repr(str(bad)) in errors[0], errors
    assert bad.read_bytes() == corrupt
    assert sorted(watch.sandbox.item_hashes()) == sorted(meta.info_hash for meta in metas)
    tied = {meta.info_hash: watch.sandbox.rpc("d.tied_to_file", meta.info_hash) for meta in metas}
    assert tied == {meta.info_hash: str(path) for meta, path in zip(metas, paths, strict=True)}
