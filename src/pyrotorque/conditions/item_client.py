"""What fetching items needs of a client: ``d.multicall2`` and ``system.multicall``, and for
filtering in rTorrent also ``call`` and the server's method list (``RtorrentClient`` has all)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable


class ItemClient(Protocol):
    """The part of :class:`pyrotorque.rtorrent.client.RtorrentClient` that fetching uses."""

    def d_multicall(self, view: str, commands: Sequence[str]) -> list[list[Any]]:
        """One ``d.multicall2`` over ``view``."""

    def multicall(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """One ``system.multicall``; failed entries come back as ``FaultError`` instances."""


class ServerMethods(Protocol):
    """What the client knows about the server: which methods it lists."""

    def has(self, method: str) -> bool:
        """Whether rTorrent lists ``method``."""


@runtime_checkable
class FilteringItemClient(ItemClient, Protocol):
    """A client that can also send ``d.multicall.filtered`` (``RtorrentClient`` is one).

    Clients with only the :class:`ItemClient` methods are served with ``d.multicall2``.
    """

    def call(self, method: str, *params: Any) -> Any:
        """Call one command with exactly ``params``."""

    def server_info(self) -> ServerMethods:
        """The connected server's method list (detected once per connection)."""
