"""Files ready together go to rTorrent together (``treewatch.batch``): the requests a batch makes, and
each file's own outcome (a corrupt file or one faulting entry does not fail the others)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sandbox.metafiles import make_metafile

from pyrotorque.jobs.treewatch.batch import LoadBatch
from pyrotorque.jobs.treewatch.scanner import Outcome
from pyrotorque.metafile import Metafile, read_metafile
from tests.support.fake_rtorrent import FakeRtorrent, _Fault
from tests.unit.test_treewatch import LOGGER
from tests.unit.test_treewatch_loader import Setup


def _shapes(fake: FakeRtorrent) -> list[tuple[str, list[str], int]]:
    """Each request past detection: its method, the distinct methods inside, and how many calls."""
    return [
        (r.method, sorted({name for name, _ in r.calls}), len(r.calls))
        for r in fake.sent()
        if not r.is_detection
    ]


def test_a_lone_file_asks_and_loads_in_one_request_then_one_probe(tmp_path: Path) -> None:
    fake = FakeRtorrent()
    setup = Setup(tmp_path, fake)
    meta = make_metafile("lone")
    result = setup.load(setup.candidate("a.torrent", meta.data))
    assert result.outcome is Outcome.LOADED
    # "Loaded already?" and the load in one request (the question first), then its check.
    assert _shapes(fake) == [
        ("system.multicall", ["d.hash", "load.raw_verbose"], 2),
        ("d.hash", ["d.hash"], 1),
    ]
    assert [method for method, _ in fake.calls()[:2]] == ["d.hash", "load.raw_verbose"]
    assert setup.clock.sleeps == []


def test_a_burst_is_three_requests_and_a_corrupt_file_is_its_own_outcome(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeRtorrent()
    setup = Setup(tmp_path, fake)
    metas = [make_metafile(f"burst-{n}", seed=n) for n in range(6)]
    candidates = [setup.candidate(f"{n}.torrent", meta.data) for n, meta in enumerate(metas)]
    candidates.insert(3, setup.candidate("corrupt.torrent", metas[0].data[:40]))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        results = LoadBatch(setup.loader, candidates).results()
    outcomes = [result.outcome for result in results]
    assert outcomes == [Outcome.LOADED] * 3 + [Outcome.INVALID] + [Outcome.LOADED] * 3
    assert set(fake.items) == {meta.info_hash for meta in metas}
    assert _shapes(fake) == [
        ("system.multicall", ["d.hash"], 6),
        ("system.multicall", ["load.raw_verbose"], 6),
        ("system.multicall", ["d.hash"], 6),
    ]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "corrupt.torrent" in errors[0], errors


def test_a_batch_reads_each_metafile_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRtorrent()
    setup = Setup(tmp_path, fake)
    metas = [make_metafile(f"once-{n}", seed=n) for n in range(4)]
    candidates = [setup.candidate(f"{n}.torrent", meta.data) for n, meta in enumerate(metas)]
    fake.add_metafile(metas[0].data)
    reads: list[Path] = []

    def counted_read(path: Path) -> Metafile:
        reads.append(path)
        return read_metafile(path)

    monkeypatch.setattr("pyrotorque.jobs.treewatch.loader.read_metafile", counted_read)
    outcomes = [result.outcome for result in LoadBatch(setup.loader, candidates).results()]
    assert outcomes == [Outcome.ALREADY_LOADED] + [Outcome.LOADED] * 3
    assert sorted(reads) == sorted(candidate.path for candidate in candidates)


def test_a_question_and_a_probe_of_many_items_fetch_the_hash_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeRtorrent()
    setup = Setup(tmp_path, fake)
    monkeypatch.setattr("pyrotorque.jobs.treewatch.loader.ASK_EACH_MAX", 2)
    metas = [make_metafile(f"many-{n}", seed=n) for n in range(3)]
    candidates = [setup.candidate(f"{n}.torrent", meta.data) for n, meta in enumerate(metas)]
    outcomes = [result.outcome for result in LoadBatch(setup.loader, candidates).results()]
    assert outcomes == [Outcome.LOADED] * 3
    # Above ASK_EACH_MAX items the question and the probe are both the whole hash list.
    assert _shapes(fake) == [
        ("d.multicall2", ["d.multicall2"], 1),
        ("system.multicall", ["load.raw_verbose"], 3),
        ("d.multicall2", ["d.multicall2"], 1),
    ]


def test_loads_go_out_in_chunks_as_they_are_prepared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeRtorrent()
    setup = Setup(tmp_path, fake)
    monkeypatch.setattr("pyrotorque.jobs.treewatch.batch.SEND_CHUNK", 2)
    metas = [make_metafile(f"chunk-{n}", seed=n) for n in range(5)]
    candidates = [setup.candidate(f"{n}.torrent", meta.data) for n, meta in enumerate(metas)]
    loads_sent_at_prepare: list[int] = []
    real_prepare = setup.loader.prepare

    def counted_prepare(*args: Any) -> Any:
        loads_sent_at_prepare.append(len(fake.calls("load.")))
        return real_prepare(*args)

    monkeypatch.setattr(setup.loader, "prepare", counted_prepare)
    outcomes = [result.outcome for result in LoadBatch(setup.loader, candidates).results()]
    assert outcomes == [Outcome.LOADED] * 5
    # Two loads were out before the third file was prepared, four before the fifth.
    assert loads_sent_at_prepare == [0, 0, 2, 2, 4]
    assert _shapes(fake) == [
        ("system.multicall", ["d.hash"], 5),
        ("system.multicall", ["load.raw_verbose"], 2),
        ("system.multicall", ["load.raw_verbose"], 2),
        ("load.raw_verbose", ["load.raw_verbose"], 1),
        ("system.multicall", ["d.hash"], 5),
    ]


def test_a_faulting_entry_is_that_files_result_only(tmp_path: Path) -> None:
    fake = FakeRtorrent()
    setup = Setup(tmp_path, fake)
    good, refused = make_metafile("good", seed=1), make_metafile("refused", seed=2)
    original = fake.commands["load.raw_verbose"]

    def load(target: Any = "", data: Any = b"", *commands: Any) -> Any:
        if data == refused.data:
            raise _Fault(-503, -32602, "refused")
        return original(target, data, *commands)

    fake.commands["load.raw_verbose"] = load
    candidates = [
        setup.candidate("good.torrent", good.data),
        setup.candidate("refused.torrent", refused.data),
    ]
    first, second = LoadBatch(setup.loader, candidates).results()
    assert first.outcome is Outcome.LOADED and first.away is None
    assert second.outcome is None and second.away is not None  # stays pending, tried again later
    assert set(fake.items) == {good.info_hash}


def test_two_files_of_one_item_load_it_once(tmp_path: Path) -> None:
    fake = FakeRtorrent()
    setup = Setup(tmp_path, fake)
    meta, other = make_metafile("twin", seed=3), make_metafile("other", seed=4)
    candidates = [
        setup.candidate("twin.torrent", meta.data),
        setup.candidate("other.torrent", other.data),
        setup.candidate("twin-copy.torrent", meta.data),
    ]
    outcomes = [result.outcome for result in LoadBatch(setup.loader, candidates).results()]
    assert outcomes == [Outcome.LOADED, Outcome.LOADED, Outcome.ALREADY_LOADED]
    assert len(fake.calls("load.")) == 2


def test_a_burst_above_the_request_cap_is_split_and_all_load(tmp_path: Path) -> None:
    fake = FakeRtorrent()
    setup = Setup(tmp_path, fake)
    metas = [make_metafile(f"big-{n}", seed=n, comment="x" * 300_000) for n in range(8)]
    candidates = [setup.candidate(f"{n}.torrent", meta.data) for n, meta in enumerate(metas)]
    results = LoadBatch(setup.loader, candidates).results()
    assert [result.outcome for result in results] == [Outcome.LOADED] * len(metas)
    loads = [r for r in fake.sent() if any(name.startswith("load.") for name, _ in r.calls)]
    assert len(loads) > 1  # split to stay below the cap, each file loaded exactly once
    assert sum(len(r.calls) for r in loads) == len(metas)


def test_dry_run_sends_no_load(tmp_path: Path) -> None:
    fake = FakeRtorrent()
    setup = Setup(tmp_path, fake, dry_run=True)
    candidates = [setup.candidate(f"{n}.torrent", make_metafile(f"dry-{n}", seed=n).data) for n in range(3)]
    outcomes = [result.outcome for result in LoadBatch(setup.loader, candidates).results()]
    assert outcomes == [Outcome.DRY_RUN] * 3
    assert fake.calls("load.") == [] and fake.items == {}


def test_a_too_big_file_in_a_burst_goes_by_path_and_the_others_load_once(tmp_path: Path) -> None:
    fake = FakeRtorrent()
    fake.paths_visible = True
    setup = Setup(tmp_path, fake)
    small = [make_metafile(f"small-{n}", seed=n) for n in range(3)]
    big = make_metafile("big", size=1 << 40, piece_length=1 << 23)
    candidates = [setup.candidate(f"{n}.torrent", meta.data) for n, meta in enumerate(small)]
    candidates.append(setup.candidate("big.torrent", big.data))
    results = LoadBatch(setup.loader, candidates).results()
    assert [result.outcome for result in results] == [Outcome.LOADED] * 4
    assert "raw" not in fake.items[big.info_hash].loaded_by  # by path
    # Each small one once, though the multicall with the big one was refused.
    assert len(fake.calls("load.raw")) == len(small)
