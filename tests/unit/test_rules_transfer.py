"""``transfer=``'s pure parts: which connection an item picks, the value, the load-time check of the
names, which items it leaves alone, and the metafile it sends (the real transfer between two real
rTorrents is in tests/integration/test_rules_transfer_live.py)."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pyrotorque.config import job_configs, load_config
from pyrotorque.errors import ConfigError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.loader import build_job
from pyrotorque.jobs.rules.verb_transfer import TransferVerb, pick_connection, transfer_names
from pyrotorque.jobs.rules.verbs import Target, VerbRun
from pyrotorque.metafile import parse_metafile, without_keys
from tests.support.fake_rtorrent import FakeRtorrent

HASHES = [hashlib.sha1(str(n).encode()).hexdigest().upper() for n in range(2000)]


def test_the_same_item_always_picks_the_same_connection_whatever_the_order_of_the_names() -> None:
    for info_hash in HASHES[:50]:
        picked = pick_connection(info_hash, ["a", "b", "c"])
        assert pick_connection(info_hash, ["c", "a", "b"]) == picked
        assert pick_connection(info_hash.lower(), ["b", "c", "a"]) == picked


def test_items_spread_over_the_names_and_a_new_name_takes_items_only_for_itself() -> None:
    three = {info_hash: pick_connection(info_hash, ["a", "b", "c"]) for info_hash in HASHES}
    counts = Counter(three.values())
    assert set(counts) == {"a", "b", "c"} and min(counts.values()) > len(HASHES) / 3 * 0.8
    four = {info_hash: pick_connection(info_hash, ["a", "b", "c", "d"]) for info_hash in HASHES}
    moved = [info_hash for info_hash in HASHES if four[info_hash] != three[info_hash]]
    assert moved and all(four[info_hash] == "d" for info_hash in moved)  # no item moves between a, b, c


@pytest.mark.parametrize(
    ("text", "names"), [("archive", ("archive",)), ("a, b,c", ("a", "b", "c")), ("disk-2", ("disk-2",))]
)
def test_names(text: str, names: tuple[str, ...]) -> None:
    assert transfer_names(text) == names


@pytest.mark.parametrize(
    ("text", "reason"),
    [("a,,b", "separated by ','"), ("a b", "separated by ','"), ("a,a", "twice"), ("{{x}}", "separated")],
)
def test_bad_names(text: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        TransferVerb(text)


class _Item:
    def __init__(self, info_hash: str, complete: bool) -> None:
        self.hash, self.name, self._complete = info_hash, "seeding.bin", complete

    def get(self, name: str, default: Any = None) -> Any:
        return self._complete if name == "is_complete" else default


def test_it_leaves_alone_what_is_where_it_belongs_and_what_is_not_complete() -> None:
    verb = TransferVerb("default, archive")
    staying = next(h for h in HASHES if pick_connection(h, ["default", "archive"]) == "default")
    going = next(h for h in HASHES if pick_connection(h, ["default", "archive"]) == "archive")
    assert verb.leaves_alone(_Item(staying, True), "default")  # type: ignore[arg-type]
    assert not verb.leaves_alone(_Item(going, True), "default")  # type: ignore[arg-type]
    assert verb.leaves_alone(_Item(going, False), "default")  # type: ignore[arg-type]
    assert verb.leaves_alone(_Item(going, True), "archive")  # type: ignore[arg-type]  # run there
    assert verb.render({"hash": going}) == "archive"


def _torque(tmp_path: Path, connections: str, action: str) -> Any:
    (tmp_path / "config.ini").write_text(f"[CONNECTIONS]\n{connections}")
    (tmp_path / "torque.ini").write_text(
        "[TORQUE]\njob.spread.handler = Action\njob.spread.schedule = minute=*\n"
        f"job.spread.condition = is_complete=yes\njob.spread.action = {action}\n"
    )
    config = load_config(tmp_path, environ={})
    (job,) = [job for job in job_configs(config) if job.name == "spread"]
    clients = {"default": FakeRtorrent().client(), "archive": FakeRtorrent().client()}
    context = JobContext(
        name="spread", client=clients["default"], config=config, clients=clients, log=logging.getLogger("t")
    )
    return build_job(job, context)


def test_an_unknown_connection_names_key_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _torque(tmp_path, "archive = scgi:///srv/a.socket\n", "transfer=archive,attic")
    message = str(caught.value)
    assert message.startswith("job.spread.action: transfer names unknown connection(s) attic")
    assert "torque.ini line 5" in message and "connections: archive, default" in message
    job = _torque(tmp_path, "archive = scgi:///srv/a.socket\n", "transfer=archive")
    assert isinstance(job.verb, TransferVerb) and job.verb.names == ("archive",)


def test_the_sent_metafile_drops_the_session_keys_and_keeps_the_info_bytes_as_they_were() -> None:
    # An info dictionary with its keys out of order: re-encoding it would change the info hash.
    info = b"d6:lengthi5e4:name3:abc12:piece lengthi16384e6:pieces20:" + b"x" * 20 + b"e"
    unsorted_info = b"d4:name3:abc6:lengthi5e12:piece lengthi16384e6:pieces20:" + b"x" * 20 + b"e"
    for raw_info in (info, unsorted_info):
        session = (
            b"d8:announce12:http://t/ann4:info"
            + raw_info
            + b"17:libtorrent_resumed5:fileslee"
            + b"8:rtorrentd5:statei1ee"
            + b"e"
        )
        sent = without_keys(session, {b"rtorrent", b"libtorrent_resume"})
        assert sent == b"d8:announce12:http://t/ann4:info" + raw_info + b"e"
        assert parse_metafile(sent, "x").info_hash == hashlib.sha1(raw_info).hexdigest().upper()


def test_a_failure_after_the_source_erased_the_item_says_where_the_item_is_now() -> None:
    # The target holds the item complete already, so no metafile is read; d.start fails there.
    source, target = FakeRtorrent(), FakeRtorrent()
    info_hash = HASHES[0]
    source.add_item(info_hash, "seeding.bin", values={"d.complete": 1, "d.state": 1, "d.directory": "/srv"})
    target.add_item(info_hash, "seeding.bin", values={"d.complete": 1, "d.state": 0})
    target.fail("d.start", -501, "cannot start")
    clients = {"default": source.client(), "disk2": target.client()}
    run = VerbRun(clients["default"], logging.getLogger("t"), connection="default", clients=clients)
    item = _Item(info_hash, True)
    (answer,) = TransferVerb("disk2").apply([Target(item, "disk2", {})], run)  # type: ignore[arg-type]
    assert answer is not None
    assert answer.startswith("it is on 'disk2' now and erased on the source, but starting it there failed")
    assert info_hash not in source.items and info_hash in target.items
