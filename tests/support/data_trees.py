"""Real data trees for the move tests: small tmpfs mounts, payload with known bytes, tree digests."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

#: An mtime in the past, so a copy that does not keep it shows.
OLD_MTIME_NS = 1_600_000_000_123_456_789


@contextmanager
def tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``mount_point`` (created), unmounted and removed afterwards."""
    if os.geteuid() != 0:
        pytest.fail("mounting a tmpfs needs root (as make test has on the machines it runs on)")
    mount_point.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], check=False, capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(mount_point)], check=True)
        mount_point.rmdir()


def write_file(path: Path, size: int, seed: int = 0) -> None:
    """A file of ``size`` real (not sparse) bytes that depend on ``seed``, with an old mtime."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = hashlib.sha256(f"{seed}".encode()).digest() * 2048  # 64 KiB
    with open(path, "wb") as out:
        for offset in range(0, size, len(block)):
            out.write(block[: size - offset])
    os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS + seed))


def make_tree(root: Path, sizes: dict[str, int], links: dict[str, str] | None = None) -> Path:
    """A directory of files (relative path -> size) and symlinks (relative path -> target text)."""
    root.mkdir(parents=True)
    for seed, (name, size) in enumerate(sorted(sizes.items())):
        write_file(root / name, size, seed)
    for name, target in (links or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / name)
    return root


def digest(path: Path) -> dict[str, tuple[str, str, int]]:
    """Every path under ``path`` ("" itself): (kind, sha256 or link target, mtime ns); links not followed."""
    result: dict[str, tuple[str, str, int]] = {}
    for relative, current in _walk(path):
        info = os.lstat(current)
        if os.path.islink(current):
            result[relative] = ("link", os.readlink(current), 0)
        elif current.is_dir():
            result[relative] = ("dir", "", 0)
        else:
            result[relative] = ("file", hashlib.sha256(current.read_bytes()).hexdigest(), info.st_mtime_ns)
    return result


def _walk(path: Path) -> Iterator[tuple[str, Path]]:
    yield "", path
    if path.is_dir() and not path.is_symlink():
        for child in sorted(path.iterdir()):
            for relative, current in _walk(child):
                yield os.path.join(child.name, relative) if relative else child.name, current
