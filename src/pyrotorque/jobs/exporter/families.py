"""What the exporter's metric groups share: the item view, answers as numbers, metric families."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

#: The view every per-item group reads.
ITEM_VIEW = "main"

MetricKind = Literal["gauge", "counter"]


class GroupLog(Protocol):
    """The logging calls the groups use (a ``logging.Logger`` fits)."""

    def warning(self, msg: str, *args: Any) -> None:
        """Log a warning."""


def number(value: Any) -> float | None:
    """A numeric answer as a float; None for anything else (rTorrent answers ints, customs answer text)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def family(kind: MetricKind, name: str, help: str, labels: Sequence[str] = ()) -> GaugeMetricFamily | Any:
    if kind == "counter":
        return CounterMetricFamily(name, help, labels=labels)
    return GaugeMetricFamily(name, help, labels=labels)
