"""DeleteVerb with the shared fake rTorrent and real files: the order, the batching, one item's faults."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pyrotorque.conditions import ItemQuery
from pyrotorque.jobs.rules.actions import VERBS, parse_action
from pyrotorque.jobs.rules.verb_delete import DeleteVerb
from pyrotorque.jobs.rules.verbs import Target, VerbRun
from tests.support.fake_rtorrent import FakeRtorrent

LOG = logging.getLogger("pyrotorque.job.test-delete")
FILES = [("a.bin", 4), ("sub/b.bin", 4)]


def h(index: int) -> str:
    return f"{index:040X}"


class Scene:
    """Two multi-file items A and B with real files, and C: a single file inside A (shared)."""

    def __init__(self, tmp_path: Path) -> None:
        self.fake = FakeRtorrent()
        self.root = tmp_path
        self.closed_with_files: dict[str, bool] = {}
        for index, name in enumerate(("A", "B")):
            for rel, _ in FILES:
                path = tmp_path / name / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(rel)
            self.fake.add_item(h(index), name, FILES, values={"d.directory": str(tmp_path / name)})
        self.fake.add_item(h(2), "b.bin", values={"d.directory": str(tmp_path / "A" / "sub")})
        self.fake.commands["d.close"] = self._close

    def _close(self, target: Any) -> int:
        item = self.fake.item(target)
        # files must all be there when rTorrent closes the item: removal comes after
        self.closed_with_files[item.hash] = (self.root / item.name / "a.bin").exists()
        item.values["d.is_open"] = 0
        return 0

    def targets(self, *indexes: int) -> list[Target]:
        """The items as the Action job's fetch gives them."""
        by_hash = {item.hash: item for item in ItemQuery().fetch(self.fake.client())}
        return [Target(by_hash[h(i)], "", {}) for i in indexes]

    def apply(
        self, *indexes: int, protected: frozenset[str] = frozenset(), targets: list[Target] | None = None
    ) -> list[str | None]:
        run = VerbRun(self.fake.client(), LOG, protected=protected)
        return DeleteVerb().apply(self.targets(*indexes) if targets is None else targets, run)


def test_registered_as_delete() -> None:
    assert VERBS["delete"] is DeleteVerb and isinstance(parse_action("delete"), DeleteVerb)
    assert DeleteVerb.touches_data and not DeleteVerb.takes_value


def test_one_round_trip_per_step_and_only_own_files(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    targets = scene.targets(0, 1)
    scene.fake.clear()
    assert scene.apply(targets=targets) == [None, None]
    assert scene.fake.methods() == ["d.multicall2", *["system.multicall"] * 3]
    assert [name for name, _ in scene.fake.calls("f.")] == ["f.multicall"] * 2  # A and B, not C
    assert [name for name, _ in scene.fake.calls("d.")][1:] == [
        *["d.stop", "d.close"] * 2,
        "d.erase",
        "d.erase",
    ]
    assert scene.closed_with_files == {h(0): True, h(1): True}
    assert sorted(scene.fake.items) == [h(2)]
    assert not (tmp_path / "B").exists()
    assert (tmp_path / "A" / "sub" / "b.bin").read_text() == "sub/b.bin"  # C's file
    assert not (tmp_path / "A" / "a.bin").exists()


def test_a_fault_on_one_item_keeps_its_data_and_the_others_go_on(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    scene.fake.fail("d.close", -501, "Could not close", target=h(0))
    reasons = scene.apply(0, 1)
    assert reasons[0] is not None and "could not stop and close it, its data stays" in reasons[0]
    assert reasons[1] is None
    assert (tmp_path / "A" / "a.bin").exists() and h(0) in scene.fake.items
    assert not (tmp_path / "B").exists() and h(1) not in scene.fake.items


def test_an_erase_fault_is_that_items_reason(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    scene.fake.fail("d.erase", -501, "nope", target=h(1))
    reasons = scene.apply(0, 1)
    assert reasons[0] is None and reasons[1] is not None
    assert reasons[1].startswith("its data is removed, but erasing failed")


def test_a_refused_item_is_not_even_stopped(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    targets = scene.targets(0, 1)
    scene.fake.clear()
    reasons = scene.apply(protected=frozenset({str(tmp_path / "A" / "sub")}), targets=targets)
    assert reasons[0] is not None and "is above the protected path" in reasons[0]
    assert reasons[1] is None
    assert [params for name, params in scene.fake.calls("d.stop")] == [(h(1),)]
    assert (tmp_path / "A" / "a.bin").exists()


def test_an_item_gone_meanwhile(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    targets = scene.targets(0)
    del scene.fake.items[h(0)]  # erased between the job's fetch and the verb
    assert scene.apply(targets=targets) == ["no longer loaded in rTorrent"]
    assert (tmp_path / "A" / "a.bin").exists()
