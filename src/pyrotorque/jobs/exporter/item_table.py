"""The item group's answer as a table, and its metric families, whose samples are built only on demand.

prometheus_client renders a sample in about 6 µs (a Sample tuple, a label dict, sorting, escaping
each label again for every stat), which at 10,000 items is most of a scrape. The item group's
families therefore keep the ``d.multicall2`` rows, and the text exposition (exposition.py) writes
their lines straight from them, escaping each item's labels once for all its stats. Anything else
that reads a family (the OpenMetrics encoder, tests) gets ordinary ``Sample`` objects, built from the
same rows on first access, so both paths show the same series.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.openmetrics.exposition import escape_label_name, escape_metric_name
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from pyrotorque.jobs.exporter.families import MetricKind
from pyrotorque.jobs.exporter.families import number as _number

#: prometheus_client's float formatting (untyped there).
_float_to_go: Callable[[float], str] = floatToGoString

#: Below 2**53 every int is an exact float whose repr is its digits and ".0" (see go_float).
_EXACT_INT_LIMIT = 2**53


def go_float(value: Any) -> str | None:
    """``floatToGoString`` of a numeric answer (None when it is no number), with a shortcut for ints.

    rTorrent answers ints; for ``0 <= n < 2**53`` ``repr(float(n))`` is ``str(n) + ".0"``, which
    floatToGoString keeps up to 6 digits and turns into Go's exponent form (``1.234567e+06``) beyond.
    Everything else goes through floatToGoString itself; a unit test compares both on many values.
    """
    if type(value) is int and 0 <= value < _EXACT_INT_LIMIT:
        digits = str(value)
        if len(digits) <= 6:
            return digits + ".0"
        mantissa = f"{digits[0]}.{digits[1:]}".rstrip("0.")
        return f"{mantissa}e+{len(digits) - 1:02d}"
    number = _number(value)
    return None if number is None else _float_to_go(number)


def _escape_value(text: str) -> str:
    """A label value as the text format writes it: backslash, newline and double quote escaped."""
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


@dataclass
class ItemTable:
    """The rows of one item collection: ``label_names`` columns first, then one column per stat."""

    label_names: Sequence[str]
    rows: list[list[Any]]
    _label_texts: list[str] | None = field(default=None, init=False, repr=False)

    @property
    def width(self) -> int:
        """How many leading columns are labels."""
        return len(self.label_names)

    def labels_of(self, row: Sequence[Any]) -> dict[str, str]:
        """A row's labels as prometheus_client keeps them (a repeated name: the later column wins)."""
        cells = ["" if cell is None else str(cell) for cell in row[: self.width]]
        return dict(zip(self.label_names, cells, strict=True))

    def label_texts(self) -> list[str]:
        """Per row, ``{name="value",...}`` as the text format writes it (sorted by name), or ""."""
        if self._label_texts is None:
            # The column each distinct name takes its value from, in the order the exposition sorts them.
            columns = sorted({name: index for index, name in enumerate(self.label_names)}.items())
            if not columns:
                self._label_texts = [""] * len(self.rows)
            else:
                parts = [(f"{escape_label_name(name)}=", index) for name, index in columns]
                self._label_texts = [
                    "{"
                    + ",".join(
                        f'{prefix}"{"" if row[index] is None else _escape_value(str(row[index]))}"'
                        for prefix, index in parts
                    )
                    + "}"
                    for row in self.rows
                ]
        return self._label_texts


class ItemFamily(Metric):
    """One item stat's family over an :class:`ItemTable`; ``samples`` are built when first read."""

    def __init__(
        self, name: str, documentation: str, kind: MetricKind, table: ItemTable, column: int
    ) -> None:
        self._samples: list[Sample] | None = None
        # As CounterMetricFamily does: a counter's family name has no _total, its samples have.
        super().__init__(name.removesuffix("_total") if kind == "counter" else name, documentation, kind)
        self.sample_name = self.name + "_total" if kind == "counter" else self.name
        self.table = table
        self.column = column

    @property
    def samples(self) -> list[Sample]:
        """The family's samples (built from the table on first access)."""
        if self._samples is None:
            built = []
            for row in self.table.rows:
                value = _number(row[self.column])
                if value is not None:
                    built.append(Sample(self.sample_name, self.table.labels_of(row), value, None, None))
            self._samples = built
        return self._samples

    @samples.setter
    def samples(self, value: list[Sample]) -> None:
        # Metric.__init__ assigns an empty list; until something assigns samples, they come from the table.
        self._samples = value or None

    def text_lines(self) -> list[str]:
        """The family in the text format (0.0.4), as prometheus_client's generate_latest writes it."""
        shown = escape_metric_name(self.sample_name if self.type == "counter" else self.name)
        help_text = self.documentation.replace("\\", r"\\").replace("\n", r"\n")
        lines = [f"# HELP {shown} {help_text}\n# TYPE {shown} {self.type}\n"]
        head = escape_metric_name(self.sample_name)
        column = self.column
        for labels, row in zip(self.table.label_texts(), self.table.rows, strict=True):
            value = go_float(row[column])
            if value is not None:
                lines.append(f"{head}{labels} {value}\n")
        return lines
