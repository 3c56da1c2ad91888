"""The tree watch's loader: one candidate to one outcome, with the shared fake rTorrent and a fake clock.

Also the load mode table and the limits the loader relies on (``plan``, ``rtorrent.commands``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from sandbox.metafiles import make_metafile

from pyrotorque.errors import TransportError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.treewatch.batch import LoadBatch
from pyrotorque.jobs.treewatch.disposal import loaded_problem, parse_loaded
from pyrotorque.jobs.treewatch.loader import LoadResult, MetafileLoader
from pyrotorque.jobs.treewatch.plan import is_metafile_name, plan_load
from pyrotorque.jobs.treewatch.scanner import Candidate, FileStamp, Outcome
from pyrotorque.jobs.treewatch.templates import LoadCommand
from pyrotorque.jobs.treewatch.timing import TreeWatchTiming
from pyrotorque.magnet import standin_bytes
from pyrotorque.rtorrent.commands import path_is_loadable
from pyrotorque.rtorrent.limits import LARGE_REQUEST_CAP, SMALL_REQUEST_CAP, request_cap
from tests.support.clock import FakeClock
from tests.support.fake_rtorrent import FakeRtorrent
from tests.unit.test_treewatch import LOGGER, make_config


class Setup:
    """A loader for ``tmp_path/watch`` on a FakeClock; ``candidate()`` writes a metafile into the tree."""

    def __init__(
        self,
        tmp_path: Path,
        client: FakeRtorrent,
        *,
        dry_run: bool = False,
        load_mode: str = "normal",
        queued: bool = False,
        cmd: dict[str, str] | None = None,
    ) -> None:
        self.root = tmp_path / "watch"
        self.root.mkdir(exist_ok=True)
        self.client = client
        self.clock = FakeClock()
        context = JobContext(
            name="treewatch",
            client=client.client(),
            config=make_config(tmp_path),
            dry_run=dry_run,
            log=logging.getLogger(LOGGER),
            clock=self.clock,
        )
        commands = {
            name: LoadCommand.parse(f"job.treewatch.cmd.{name}", text, config_dir=tmp_path)
            for name, text in sorted((cmd or {}).items())
        }
        self.loader = MetafileLoader(
            context,
            roots=(self.root,),
            commands=commands,
            load_mode=load_mode,
            queued=queued,
            timing=TreeWatchTiming(),
        )

    def candidate(self, relative: str, data: bytes) -> Candidate:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return Candidate(path, self.root, FileStamp.of(os.stat(path)))

    def load(self, candidate: Candidate) -> LoadResult:
        (result,) = LoadBatch(self.loader, [candidate]).results()
        return result


@pytest.fixture
def fake() -> FakeRtorrent:
    return FakeRtorrent()


def test_loaded_carries_hash_name_and_plan(tmp_path: Path, fake: FakeRtorrent) -> None:
    setup = Setup(tmp_path, fake, queued=True)
    meta = make_metafile("loaded")
    result = setup.load(setup.candidate("start/a.torrent", meta.data))
    assert (result.outcome, result.info_hash, result.name, result.away) == (
        Outcome.LOADED,
        meta.info_hash,
        "loaded",
        None,
    )
    assert result.plan is not None and result.plan.state == "[queued] [startable]"
    assert fake.items[meta.info_hash].loaded_by == "load.raw_verbose"
    assert setup.clock.sleeps == []  # the fake shows the item at once: no polling


def test_already_loaded_lone_file_is_told_by_the_question_in_its_load_request(
    tmp_path: Path, fake: FakeRtorrent
) -> None:
    setup = Setup(tmp_path, fake)
    meta = make_metafile("present")
    fake.add_metafile(meta.data)
    result = setup.load(setup.candidate("a.torrent", meta.data))
    assert (result.outcome, result.info_hash, result.plan) == (Outcome.ALREADY_LOADED, meta.info_hash, None)
    # One request: d.hash, then the load rTorrent ignores; no probe follows.
    assert [method for method, _ in fake.calls()] == ["d.hash", "load.raw_verbose"]
    assert fake.methods() == ["system.multicall"]
    assert fake.items[meta.info_hash].loaded_by == "load.raw"  # as the test added it


def test_a_dry_run_asks_before_and_sends_no_load(tmp_path: Path, fake: FakeRtorrent) -> None:
    setup = Setup(tmp_path, fake, dry_run=True)
    present, fresh = make_metafile("present"), make_metafile("fresh")
    fake.add_metafile(present.data)
    assert setup.load(setup.candidate("a.torrent", present.data)).outcome is Outcome.ALREADY_LOADED
    assert setup.load(setup.candidate("b.torrent", fresh.data)).outcome is Outcome.DRY_RUN
    assert fake.calls() == [("d.hash", (present.info_hash,)), ("d.hash", (fresh.info_hash,))]


@pytest.mark.parametrize("many", [False, True])
def test_a_batch_asks_once_which_are_loaded_and_adds_to_it(
    tmp_path: Path, fake: FakeRtorrent, monkeypatch: pytest.MonkeyPatch, many: bool
) -> None:
    setup = Setup(tmp_path, fake)
    present, new = make_metafile("present"), make_metafile("new")
    fake.add_metafile(present.data)
    files = (("a.torrent", present), ("b.torrent", new), ("b-copy.torrent", new))
    candidates = [setup.candidate(name, meta.data) for name, meta in files]
    if many:  # above ASK_EACH_MAX: one d.multicall2 of every item's hash instead of one d.hash per file
        monkeypatch.setattr("pyrotorque.jobs.treewatch.batch.ASK_EACH_MAX", 2)
    batch = LoadBatch(setup.loader, candidates)
    outcomes = [result.outcome for result in batch.results()]
    assert outcomes == [Outcome.ALREADY_LOADED, Outcome.LOADED, Outcome.ALREADY_LOADED]
    asked = [method for method, _ in fake.calls()]
    assert asked.count("d.multicall2") == (1 if many else 0)
    # Without many: the three files' d.hash in one multicall, then the load with its own probe.
    assert asked.count("d.hash") == (1 if many else 4)
    assert len(fake.calls("load.")) == 1


def test_invalid_file_is_an_outcome_without_any_request(tmp_path: Path, fake: FakeRtorrent) -> None:
    setup = Setup(tmp_path, fake)
    result = setup.load(setup.candidate("bad.torrent", b"d4:infoi1ee"))
    assert (result.outcome, result.info_hash) == (Outcome.INVALID, "")
    assert fake.calls() == []


def test_rtorrent_away_is_a_result_not_an_exception(tmp_path: Path, fake: FakeRtorrent) -> None:
    setup = Setup(tmp_path, fake)
    candidate = setup.candidate("a.torrent", make_metafile("away").data)
    fake.down = True
    for batch in (LoadBatch(setup.loader, [candidate]), LoadBatch(setup.loader, [candidate, candidate])):
        for result in batch.results():
            assert result.outcome is None and isinstance(result.away, TransportError)


def test_dry_run_decides_the_plan_and_sends_nothing(tmp_path: Path, fake: FakeRtorrent) -> None:
    setup = Setup(tmp_path, fake, dry_run=True)
    meta = make_metafile("dry")
    result = setup.load(setup.candidate("a.start", meta.data))
    assert (result.outcome, result.info_hash) == (Outcome.DRY_RUN, meta.info_hash)
    assert result.plan is not None and result.plan.state == "[started]"
    assert fake.calls("load.") == []


def test_rendered_commands_follow_the_tie_in_name_order(tmp_path: Path, fake: FakeRtorrent) -> None:
    setup = Setup(tmp_path, fake, cmd={"b": "d.custom2.set=%(info_name)s", "a": "d.custom1.set=one"})
    meta = make_metafile("cmds")
    candidate = setup.candidate("a.torrent", meta.data)
    setup.load(candidate)
    assert fake.items[meta.info_hash].commands == [
        f"d.tied_to_file.set={candidate.path}",
        "d.custom1.set=one",
        "d.custom2.set=cmds",
    ]


def test_not_shown_within_the_verify_timeout_is_not_loaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeRtorrent()
    fake.refuse_loads = True  # answers every load and never shows the item (rejected in its own log)
    setup = Setup(tmp_path, fake)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        result = setup.load(setup.candidate("a.torrent", make_metafile("lost").data))
    assert result.outcome is Outcome.NOT_LOADED
    assert "within 5 s" in caplog.text
    # Polled on the job's clock: 1 ms, doubling up to 250 ms, until 5 s have passed.
    sleeps = setup.clock.sleeps
    assert sleeps[:3] == [0.001, 0.002, 0.004] and max(sleeps) == 0.25
    assert 5.0 <= sum(sleeps) < 5.0 + 0.25 + 1e-9


def test_too_big_is_loaded_by_path(
    tmp_path: Path, fake: FakeRtorrent, caplog: pytest.LogCaptureFixture
) -> None:
    setup = Setup(tmp_path, fake)
    big = make_metafile("big", size=1 << 40, piece_length=1 << 23)
    candidate = setup.candidate("big.torrent", big.data)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        result = setup.load(candidate)
    assert result.outcome is Outcome.LOADED
    ((method, params),) = fake.calls("load.")
    assert (method, params[1]) == ("load.verbose", str(candidate.path))
    assert "by path (too big to send)" in caplog.text


def test_too_big_lone_file_of_a_loaded_item_is_already_loaded_and_not_sent(
    tmp_path: Path, fake: FakeRtorrent
) -> None:
    setup = Setup(tmp_path, fake)
    big = make_metafile("big", size=1 << 40, piece_length=1 << 23)
    fake.add_metafile(big.data)
    result = setup.load(setup.candidate("big.torrent", big.data))
    # The refused request's question got lost with it: asked again on its own, before any load by path.
    assert (result.outcome, result.info_hash) == (Outcome.ALREADY_LOADED, big.info_hash)
    assert fake.calls("load.") == []


@pytest.mark.parametrize(
    ("name", "visible"),
    [
        ("big*.torrent", True),  # cannot be loaded by name: nothing is sent
        ("big.torrent", False),  # loaded by path, but rTorrent cannot read it there
    ],
)
def test_too_big_and_not_loadable_by_path_is_too_big(
    tmp_path: Path, fake: FakeRtorrent, name: str, visible: bool
) -> None:
    fake.paths_visible = visible
    setup = Setup(tmp_path, fake)
    big = make_metafile("big", size=1 << 40, piece_length=1 << 23)
    result = setup.load(setup.candidate(name, big.data))
    assert (result.outcome, result.info_hash) == (Outcome.TOO_BIG, big.info_hash)


@pytest.mark.parametrize(
    ("load_mode", "queued", "flags", "start", "queue", "prio_off", "state"),
    [
        ("normal", False, set(), False, False, False, "[normal]"),
        ("normal", True, set(), False, True, True, "[queued] [normal]"),
        ("start", False, set(), True, False, False, "[started]"),
        ("Started", False, set(), True, False, False, "[started]"),
        ("start", True, set(), True, True, False, "[queued] [startable]"),
        ("anything", False, set(), False, False, False, "[normal]"),
        ("normal", False, {"start"}, True, False, False, "[started]"),
        ("start", False, {"load"}, False, False, False, "[normal]"),
        ("normal", False, {"start", "load"}, True, False, False, "[started]"),
        ("normal", False, {"queue"}, False, True, True, "[queued] [normal]"),
        ("start", False, {"queue"}, True, True, False, "[queued] [startable]"),
        ("normal", False, {"queue", "start"}, True, True, False, "[queued] [startable]"),
        ("normal", False, {"queued"}, False, False, False, "[normal]"),
    ],
)
def test_mode_table(
    load_mode: str, queued: bool, flags: set[str], start: bool, queue: bool, prio_off: bool, state: str
) -> None:
    plan = plan_load(load_mode, queued, flags)
    assert (plan.start, plan.queued, plan.priority_off, plan.state) == (start, queue, prio_off, state)
    assert plan.starts_now == (start and not queue)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.torrent", True),
        ("a.load", True),
        ("a.start", True),
        ("a.queue", True),
        ("a.magnet", True),
        ("a.TORRENT", False),
        (".magnet", False),
        ("a.torrent.part", False),
        (".torrent", False),
        ("notes.txt", False),
    ],
)
def test_metafile_names(name: str, expected: bool) -> None:
    assert is_metafile_name(name) is expected


def test_request_caps() -> None:
    assert request_cap((0, 9, 8)) < SMALL_REQUEST_CAP
    assert 7 * SMALL_REQUEST_CAP < request_cap((0, 16, 17)) < LARGE_REQUEST_CAP
    assert request_cap((0, 9, 8)) > 1900 << 10


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("/w/a,b'c.torrent", False),
        ("/w/a*b.torrent", False),
        ("/w/[x].torrent", False),
        ("~/w/a.torrent", False),
        ("relative/a.torrent", False),
        ("/w/a b,c;$(x).torrent", True),
    ],
)
def test_path_is_loadable(path: str, ok: bool) -> None:
    assert path_is_loadable(path) is ok


def test_trackerless_magnet_not_shown_is_a_warning_naming_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeRtorrent()
    fake.refuse_loads = True  # as rTorrent 0.9.8 with DHT off: answers 0, creates no item
    setup = Setup(tmp_path, fake)
    link = "magnet:?xt=urn:btih:" + "AB" * 20 + "&dn=No+Tracker"
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        candidate = setup.candidate("m.magnet", standin_bytes(link))
        result = setup.load(candidate)
    assert result.outcome is Outcome.NOT_LOADED
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert str(candidate.path) in record.getMessage()
    assert "no tracker" in record.getMessage() and "AB" * 20 in record.getMessage()


@pytest.mark.parametrize(
    ("text", "delete", "target"),
    [
        ("keep", False, None),
        ("", False, None),
        ("DELETE", True, None),
        ("move:/srv/done/", False, "/srv/done"),
        ("move: ~/done", False, os.path.expanduser("~/done")),
    ],
)
def test_loaded_setting(text: str, delete: bool, target: str | None) -> None:
    policy = parse_loaded(text)
    assert (policy.delete, None if policy.target is None else str(policy.target)) == (delete, target)
    assert loaded_problem(text) is None


@pytest.mark.parametrize("text", ["move:", "move:done", "remove", "move"])
def test_bad_loaded_settings(text: str) -> None:
    problem = loaded_problem(text)
    assert problem is not None and ("absolute" in problem or "keep, delete or move:DIR" in problem)
