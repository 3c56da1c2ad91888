"""data_delete on real files: only the item's own entries go, nothing through links, nothing shared."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyrotorque.errors import DataError
from pyrotorque.jobs.rules.data_delete import (
    DeleteResult,
    ItemData,
    delete_data,
    plan_delete,
    remove_planned,
)
from pyrotorque.jobs.rules.data_guard import Guard
from pyrotorque.jobs.rules.protected import home_directories

NO_GUARD = Guard.of([])
FILES = ("a.bin", "sub/b.bin", "sub/deep/c.bin")


def _write(path: Path, text: str = "data") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _multi(tmp_path: Path, files: tuple[str, ...] = FILES) -> tuple[Path, ItemData]:
    data = tmp_path / "dl" / "Item"
    for rel in files:
        _write(data / rel, rel)
    return data, ItemData(str(data), True, files)


def _kept(result: DeleteResult) -> dict[str, str]:
    return {k.path: k.reason for k in result.kept}


def test_multi_file_item_goes_entirely_with_its_directories(tmp_path: Path) -> None:
    data, item = _multi(tmp_path)
    result = delete_data(item, [], NO_GUARD)
    assert result.ok and not result.kept and not result.missing
    assert not data.exists()
    assert (tmp_path / "dl").is_dir()  # the parent (d.directory) is not the item's
    assert set(result.removed) == {str(data / f) for f in FILES} | {
        str(data / "sub/deep"),
        str(data / "sub"),
        str(data),
    }
    # files first, then directories deepest first
    assert result.removed[-3:] == [str(data / "sub/deep"), str(data / "sub"), str(data)]


def test_foreign_file_and_directory_stay(tmp_path: Path) -> None:
    data, item = _multi(tmp_path)
    foreign = _write(data / "sub" / "foreign.nfo", "mine")
    stray_dir = data / "empty-foreign"
    stray_dir.mkdir()
    result = delete_data(item, [], NO_GUARD)
    assert result.ok
    assert foreign.read_text() == "mine" and stray_dir.is_dir()
    assert not (data / "a.bin").exists() and not (data / "sub/deep").exists()
    kept = _kept(result)
    assert kept[str(data / "sub")] == "not empty" and kept[str(data)] == "not empty"


def test_a_symlinked_file_is_unlinked_never_followed(tmp_path: Path) -> None:
    outside = _write(tmp_path / "elsewhere" / "target.bin", "precious")
    data, item = _multi(tmp_path, ("a.bin",))
    (data / "link.bin").symlink_to(outside)
    item = ItemData(str(data), True, ("a.bin", "link.bin"))
    result = delete_data(item, [], NO_GUARD)
    assert result.ok and not data.exists()
    assert outside.read_text() == "precious"
    assert str(data / "link.bin") in result.removed


def test_nothing_is_removed_through_a_symlinked_directory(tmp_path: Path) -> None:
    outside = _write(tmp_path / "elsewhere" / "deep" / "c.bin", "precious")
    data, item = _multi(tmp_path, ("a.bin",))
    (data / "sub").symlink_to(tmp_path / "elsewhere")
    item = ItemData(str(data), True, ("a.bin", "sub/deep/c.bin"))
    result = delete_data(item, [], NO_GUARD)
    assert result.ok
    assert outside.read_text() == "precious" and (data / "sub").is_symlink()
    assert (
        _kept(result)[str(data / "sub/deep/c.bin")]
        == f"reached through the symlinked directory {data / 'sub'}"
    )
    assert _kept(result)[str(data)] == "not empty"


def test_a_file_another_item_uses_stays(tmp_path: Path) -> None:
    data, item = _multi(tmp_path)
    # a single-file item whose data path is one of ours (same directory, as rTorrent allows)
    other = ItemData(str(data / "sub" / "b.bin"), False, ("b.bin",))
    result = delete_data(item, [other], NO_GUARD)
    assert result.ok
    assert (data / "sub/b.bin").read_text() == "sub/b.bin"
    assert not (data / "a.bin").exists() and not (data / "sub/deep").exists()
    assert _kept(result)[str(data / "sub/b.bin")] == "also used by another item"


def test_sharing_is_found_through_resolved_paths(tmp_path: Path) -> None:
    data, item = _multi(tmp_path)
    alias = tmp_path / "alias"
    alias.symlink_to(tmp_path / "dl")  # the other item sees our folder through a symlinked directory
    via_alias = ItemData(str(alias / "Item" / "a.bin"), False)
    cross_seed = tmp_path / "xseed"
    cross_seed.mkdir()
    (cross_seed / "c.bin").symlink_to(data / "sub/deep/c.bin")  # another item's file links to ours
    linked = ItemData(str(cross_seed), True, ("c.bin",))
    result = delete_data(item, [via_alias, linked], NO_GUARD)
    assert result.ok
    assert (data / "a.bin").exists() and (data / "sub/deep/c.bin").exists()
    assert not (data / "sub/b.bin").exists()
    assert (cross_seed / "c.bin").read_text() == "sub/deep/c.bin"


def test_another_items_file_list_unknown_keeps_its_whole_tree(tmp_path: Path) -> None:
    data, item = _multi(tmp_path)
    other = ItemData(str(data / "sub"), True, ())
    result = delete_data(item, [other], NO_GUARD)
    assert not (data / "a.bin").exists()
    assert (data / "sub/b.bin").exists() and (data / "sub/deep/c.bin").exists()
    assert _kept(result)[str(data / "sub")] == "another item's data lies below it"


def test_a_hard_link_elsewhere_keeps_the_data(tmp_path: Path) -> None:
    data, item = _multi(tmp_path)
    other_copy = tmp_path / "seed" / "a.bin"
    other_copy.parent.mkdir()
    os.link(data / "a.bin", other_copy)
    result = delete_data(item, [ItemData(str(other_copy.parent), True, ("a.bin",))], NO_GUARD)
    assert result.ok and not data.exists()
    assert other_copy.read_text() == "a.bin" and os.stat(other_copy).st_nlink == 1


def test_listed_paths_that_leave_the_data_path_are_kept(tmp_path: Path) -> None:
    victim = _write(tmp_path / "dl" / "victim.bin", "precious")
    data, _ = _multi(tmp_path, ("a.bin",))
    item = ItemData(str(data), True, ("a.bin", "../victim.bin", "/etc/passwd", "sub//x", "./a.bin"))
    result = delete_data(item, [], NO_GUARD)
    assert victim.read_text() == "precious"
    assert set(_kept(result).values()) == {"not below the data path"}
    assert not data.exists()


def test_a_directory_where_a_file_is_listed_stays(tmp_path: Path) -> None:
    data, _ = _multi(tmp_path, ("a.bin",))
    _write(data / "b.bin" / "inner.txt")
    result = delete_data(ItemData(str(data), True, ("a.bin", "b.bin")), [], NO_GUARD)
    assert result.ok and (data / "b.bin" / "inner.txt").exists()
    assert _kept(result)[str(data / "b.bin")] == "a directory where the file list has a file"


def test_missing_files_are_fine_and_a_rerun_finishes(tmp_path: Path) -> None:
    data, item = _multi(tmp_path)
    (data / "a.bin").unlink()  # a crash halfway removed this one already
    shutil.rmtree(data / "sub" / "deep")
    result = delete_data(item, [], NO_GUARD)
    assert result.ok and not data.exists()
    assert set(result.missing) == {str(data / "a.bin"), str(data / "sub/deep/c.bin")}
    again = delete_data(item, [], NO_GUARD)
    assert again.ok and again.removed == [] and again.missing == []


def test_single_file_item(tmp_path: Path) -> None:
    path = _write(tmp_path / "dl" / "one.iso")
    neighbour = _write(tmp_path / "dl" / "two.iso")
    result = delete_data(ItemData(str(path), False, ("one.iso",)), [], NO_GUARD)
    assert result.ok and result.removed == [str(path)]
    assert neighbour.exists() and (tmp_path / "dl").is_dir()


def test_single_file_item_shared_with_another_stays(tmp_path: Path) -> None:
    path = _write(tmp_path / "dl" / "one.iso")
    other = ItemData(str(tmp_path / "dl"), True, ("one.iso",))
    result = delete_data(ItemData(str(path), False), [other], NO_GUARD)
    assert result.ok and path.exists()


def test_symlinked_data_paths_lose_only_the_link(tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    _write(real_dir / "a.bin", "precious")
    real_file = _write(tmp_path / "real.iso", "precious")
    (tmp_path / "Item").symlink_to(real_dir)
    (tmp_path / "one.iso").symlink_to(real_file)
    multi = delete_data(ItemData(str(tmp_path / "Item"), True, ("a.bin",)), [], NO_GUARD)
    single = delete_data(ItemData(str(tmp_path / "one.iso"), False), [], NO_GUARD)
    assert multi.ok and single.ok
    assert not os.path.lexists(tmp_path / "Item") and not os.path.lexists(tmp_path / "one.iso")
    assert (real_dir / "a.bin").read_text() == "precious" and real_file.read_text() == "precious"
    assert _kept(multi)[str(real_dir)] == "the data path's symlink target: only the link goes"


def test_a_directory_swapped_for_a_symlink_after_planning_is_not_followed(tmp_path: Path) -> None:
    data, item = _multi(tmp_path)
    plan = plan_delete(item, [], NO_GUARD)
    outside = _write(tmp_path / "elsewhere" / "b.bin", "precious")
    _write(outside.parent / "deep" / "c.bin", "precious")
    shutil.rmtree(data / "sub")
    (data / "sub").symlink_to(outside.parent)
    result = remove_planned(plan)
    assert outside.read_text() == "precious" and (outside.parent / "deep" / "c.bin").exists()
    assert _kept(result)[str(data / "sub/b.bin")] == "a directory on the way is no longer a plain directory"


def test_a_failed_removal_is_reported_with_its_path(tmp_path: Path) -> None:
    data, item = _multi(tmp_path)
    plan = plan_delete(item, [], NO_GUARD)
    (data / "a.bin").unlink()
    _write(data / "a.bin" / "inside")  # now a directory with content: unlink fails
    result = remove_planned(plan)
    assert not result.ok
    assert [f.path for f in result.failed] == [str(data / "a.bin")]
    assert not (data / "sub").exists()  # the others still went


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[list[Path]]:
    """Paths made immutable with chattr +i (root cannot unlink in them); cleared afterwards."""
    if shutil.which("chattr") is None:
        pytest.fail("chattr is needed to make a directory that root cannot change")
    paths: list[Path] = []
    yield paths
    for path in paths:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_an_immutable_directory_fails_the_removal(tmp_path: Path, immutable: list[Path]) -> None:
    data, item = _multi(tmp_path)
    subprocess.run(["chattr", "+i", str(data / "sub")], check=True)
    immutable.append(data / "sub")
    result = delete_data(item, [], NO_GUARD)
    assert not result.ok
    # the file in it, then the directories that cannot change (the immutable one and its child)
    assert [f.path for f in result.failed] == [
        str(data / "sub/b.bin"),
        str(data / "sub/deep"),
        str(data / "sub"),
    ]
    assert {f.error for f in result.failed} == {"Operation not permitted"}
    assert (data / "sub/b.bin").exists() and not (data / "a.bin").exists()


def test_a_mount_point_below_the_data_path_stays(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("mounting a tmpfs needs root")
    data, item = _multi(tmp_path)
    mounted = data / "sub" / "deep"
    (mounted / "c.bin").unlink()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mounted)], check=True)
    try:
        _write(mounted / "c.bin")
        result = delete_data(item, [], NO_GUARD)
        assert result.ok and not (mounted / "c.bin").exists()
        assert _kept(result)[str(mounted)] == "a mount point"
        assert os.path.ismount(mounted)
    finally:
        subprocess.run(["umount", str(mounted)], check=True)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "the data path is empty"),
        ("dl/Item", "the data path is relative"),
        ("/", "it is the root directory"),
        ("//", "it is the root directory"),
        ("/srv/../", "it is the root directory"),
    ],
)
def test_refused_data_paths(path: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        plan_delete(ItemData(path, True, ("a",)), [], NO_GUARD)


def test_protected_paths_and_what_is_above_or_resolves_to_them_are_refused(tmp_path: Path) -> None:
    watch = tmp_path / "dl" / "watch"
    _write(watch / "x.torrent")
    guard = Guard.of([str(watch)])
    (tmp_path / "dl" / "Item").symlink_to(watch)
    for path, why in [
        (watch, "is the protected path"),
        (tmp_path / "dl", "is above the protected path"),
        (tmp_path / "dl" / "Item", "is the protected path"),
        (str(watch) + "/", "is the protected path"),
    ]:
        with pytest.raises(DataError, match=why):
            plan_delete(ItemData(str(path), True, ("x.torrent",)), [], guard)
    assert (watch / "x.torrent").exists()
    (watch / "sub").mkdir()  # below a protected path is where data lives: allowed
    assert plan_delete(ItemData(str(watch / "sub"), True, ()), [], guard).steps[-1].is_dir


def test_home_directories_are_guarded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home" / "someone"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    homes = home_directories()
    assert str(home) in homes and "/root" in homes
    guard = Guard.of(homes)
    for path in (home, tmp_path / "home", Path("/root")):
        with pytest.raises(DataError, match="protected path"):
            plan_delete(ItemData(str(path), True, ()), [], guard)
    assert plan_delete(ItemData(str(home / "dl" / "Item"), True, ()), [], guard).data_path == str(
        home / "dl/Item"
    )
