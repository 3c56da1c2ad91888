"""Fetching a view's rows for a query: with ``d.multicall.filtered`` where rTorrent can apply the
query's pushed-down filter and that drops enough rows to pay, else with ``d.multicall2``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pyrotorque.conditions.item_client import FilteringItemClient, ItemClient
from pyrotorque.conditions.items import RowLayout
from pyrotorque.conditions.pushdown import PushedFilter
from pyrotorque.errors import ProtocolError

# The fetch's logger: one name for everything a fetch logs.
LOG = logging.getLogger("pyrotorque.conditions.fetch")

#: Filter in rTorrent only while the filter is expected to drop at least this share of the view's rows:
#: each filter term costs rTorrent about 0.5-2 us per item, which a filter dropping little never repays
#: (measured: 20-35% slower than d.multicall2 when nothing is dropped).
PUSHDOWN_MIN_DROP = 0.25
#: From this many rows on, matching runs with the garbage collector paused (see pyrotorque.gcpause).
PAUSE_COLLECTOR_ROWS = 2000
#: How many rows of an unfiltered fetch are used to estimate what the filter would drop.
PUSHDOWN_SAMPLE = 512


class FilteredRows:
    """One query's row fetching, and per view whether the next fetch should let rTorrent filter."""

    def __init__(self, commands: Sequence[str], pushed: PushedFilter | None) -> None:
        self._commands = tuple(commands)
        self.pushed = pushed  # what rTorrent may filter on by itself (None: nothing, or pushdown off)
        self._pushed_commands = pushed.commands() if pushed is not None else frozenset()
        # Per view: how many rows the last unfiltered fetch saw, and whether to filter next time.
        # The first fetch filters; a filtered fetch whose size cannot be judged is followed by an
        # unfiltered one that measures the view and estimates what the filter drops.
        self._view_rows: dict[str, int] = {}
        self._filter_next: dict[str, bool] = {}
        self._fields = tuple(command if "=" in command else f"{command}=" for command in self._commands)

    def rows(self, client: ItemClient, view: str) -> tuple[list[list[Any]], bool]:
        """The view's rows, filtered by rTorrent where that pays (one call either way); and if filtered."""
        pushed = self.pushed
        if pushed is None or not self._filter_next.get(view, True) or not self._can_filter(client):
            return client.d_multicall(view, list(self._commands)), False
        assert isinstance(client, FilteringItemClient)
        LOG.debug(
            "d.multicall.filtered on view %r, filter %s (pushed: %s)",
            view,
            pushed.expression,
            " ".join(pushed.terms),
        )
        rows = client.call("d.multicall.filtered", "", view, pushed.expression, *self._fields)
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ProtocolError(f"d.multicall.filtered on view {view!r} did not answer a list of rows")
        return rows, True

    def plan_next_fetch(
        self, view: str, rows: list[list[Any]], filtered: bool, layout: RowLayout, now: float
    ) -> None:
        """Decide from this fetch whether the next one of ``view`` should let rTorrent filter."""
        pushed = self.pushed
        if pushed is None:
            return
        if filtered:
            total = self._view_rows.get(view)
            # Keep filtering while it still drops enough of the last measured view; else measure again.
            self._filter_next[view] = total is not None and len(rows) <= (1 - PUSHDOWN_MIN_DROP) * total
            return
        self._view_rows[view] = len(rows)
        dropped = _estimated_drop(pushed, rows, layout, now)
        self._filter_next[view] = dropped >= PUSHDOWN_MIN_DROP
        LOG.debug("Filter %s would drop about %.0f%% of view %r", pushed.expression, 100 * dropped, view)

    def _can_filter(self, client: ItemClient) -> bool:
        """Whether the server lists d.multicall.filtered and every command the filter calls.

        rTorrent treats an unknown command in a filter as false (no fault: every row would be
        dropped silently), so the method list is checked first.
        """
        if not isinstance(client, FilteringItemClient):
            return False
        info = client.server_info()
        return info.has("d.multicall.filtered") and all(info.has(name) for name in self._pushed_commands)


def _estimated_drop(pushed: PushedFilter, rows: list[list[Any]], layout: RowLayout, now: float) -> float:
    """The share of ``rows`` the pushed terms reject, from an evenly spread sample of them."""
    if not rows:
        return 0.0
    step = max(1, len(rows) // PUSHDOWN_SAMPLE)
    sample = rows[::step]
    evaluators = [node.bind(lambda name: (layout.getter(name), False), now)[0] for node in pushed.nodes]
    rejected = sum(1 for row in sample if not all(evaluate(row) for evaluate in evaluators))
    return rejected / len(sample)
