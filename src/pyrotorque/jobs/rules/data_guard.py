"""Refusing a data path that is ``/`` or at or above a protected path (pyrotorque.jobs.rules.protected).

Also the path forms the data modules compare: normalized, resolved, an entry with its
directory resolved (the entry itself not followed).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from pyrotorque.errors import DataError


def within(path: str, top: str) -> bool:
    """Is ``path`` equal to ``top`` or below it (both normalized and absolute)?"""
    return path == top or path.startswith(top.rstrip("/") + "/")


def normalize(path: str) -> str:
    # posixpath.normpath keeps a leading '//', which would dodge the comparisons below.
    return "/" + os.path.normpath(path).lstrip("/")


def forms(path: str) -> set[str]:
    """The normalized path and its fully resolved form."""
    norm = normalize(path)
    return {norm, os.path.realpath(norm)}


def entry_ids(path: str) -> set[str]:
    """Names of one directory entry: normalized, and with its directory resolved (not itself)."""
    norm = normalize(path)
    parent, base = os.path.split(norm)
    return {norm, os.path.join(os.path.realpath(parent), base)}


@dataclass(frozen=True)
class Guard:
    """Paths whose removal, or the removal of anything above them, is refused."""

    paths: tuple[tuple[str, frozenset[str]], ...]  # (as given, its forms)

    @classmethod
    def of(cls, paths: Iterable[str]) -> Guard:
        """Guard ``/`` and the given absolute paths (relative ones cannot be compared: dropped)."""
        given = {"/", *(p for p in paths if p.startswith("/"))}
        return cls(tuple((p, frozenset(forms(p))) for p in sorted(given)))

    def check(self, path: str) -> str:
        """The normalized data path, or :class:`DataError` when it must not be removed."""
        if not path:
            raise DataError("refusing to delete: the data path is empty")
        if not path.startswith("/"):
            raise DataError(f"refusing to delete {path!r}: the data path is relative")
        path_forms = forms(path)
        if "/" in path_forms:
            raise DataError(f"refusing to delete {path!r}: it is the root directory")
        for given, guarded in self.paths:
            for form in path_forms:
                hit = next((g for g in guarded if within(g, form)), None)
                if hit is not None:
                    where = "is" if hit == form else "is above"
                    raise DataError(f"refusing to delete {path!r}: it {where} the protected path {given!r}")
        return normalize(path)
