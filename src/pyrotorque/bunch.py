"""Bunch: a dict whose keys are also attributes, for pyrocore-style job params and template traits."""

from __future__ import annotations

from typing import Any

__all__ = ["Bunch"]


class Bunch(dict[str, Any]):
    """A dict whose keys can also be read, set and deleted as attributes (``params.job_name``).

    A missing key is an AttributeError naming it, so ``hasattr``, ``getattr(b, name, default)`` and
    the error lines of a template (``AttributeError: show``) work as for any object. Setting an
    attribute sets the key, so what a pyrocore job or a template writes is what it reads back.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None
