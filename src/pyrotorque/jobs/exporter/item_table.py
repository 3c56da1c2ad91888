"""The item group's answer as a table, and its metric families, whose samples are built only on demand.

prometheus_client renders a sample in about 6 µs (a Sample tuple, a label dict, sorting, escaping
each label again for every stat), which at 10,000 items is most of a scrape. The item group's
families therefore keep the ``d.multicall2`` rows, and exposition.py writes their lines (text format
and OpenMetrics) straight from them, escaping each item's labels once for all its stats. Anything
else that reads a family (another format, names that need escaping, tests) gets ordinary ``Sample``
objects, built from the same rows on first access, so both paths show the same series. A cached
collection may be rendered by several scrapes at once: the caches here are only ever filled whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from pyrotorque.jobs.exporter.families import MetricKind
from pyrotorque.jobs.exporter.families import number as _number

#: A metric or label name every exposition format and name escaping writes as it is.
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

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
        """Per row, ``{name="value",...}`` as both formats write it (sorted by name; plain names), or ""."""
        if self._label_texts is None:
            # The column each distinct name takes its value from, in the order the exposition sorts them.
            columns = sorted({name: index for index, name in enumerate(self.label_names)}.items())
            if not columns:
                self._label_texts = [""] * len(self.rows)
            else:
                template = "{{" + ",".join(f'{name}="{{}}"' for name, _ in columns) + "}}"
                escaped = [_label_column(self.rows, index) for _, index in columns]
                self._label_texts = list(map(template.format, *escaped))
        return self._label_texts

    def value_texts(self, column: int) -> list[str | None]:
        """Per row, the column's value as :func:`go_float` writes it (None: no number)."""
        # go_float's shortcut inline: most values are small ints, and a call per value is the cost here.
        return [
            f"{value}.0" if type(value) is int and 0 <= value < 1_000_000 else go_float(value)
            for value in map(itemgetter(column), self.rows)
        ]


def _label_column(rows: list[list[Any]], index: int) -> list[str]:
    """A label column's values, escaped; a column without anything to escape (the usual) is one scan."""
    cells = [
        cell if type(cell) is str else ("" if cell is None else str(cell))
        for cell in map(itemgetter(index), rows)
    ]
    joined = "".join(cells)
    if "\\" in joined or "\n" in joined or '"' in joined:
        return list(map(_escape_value, cells))
    return cells


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

    def plain_names(self) -> bool:
        """Whether every name is ``[A-Za-z_][A-Za-z0-9_]*``, which the exposition escapings leave as it is."""
        names = (self.name, self.sample_name, *self.table.label_names)
        return all(_PLAIN_NAME.match(name) for name in names)

    def exposition_lines(self, openmetrics: bool) -> list[str]:
        """The family as prometheus_client writes it in the text format 0.0.4, or in OpenMetrics 1.0.0
        (without the final ``# EOF``); only for :meth:`plain_names`, whose names need no escaping."""
        if openmetrics:
            shown, help_text = self.name, _escape_value(self.documentation)
        else:
            shown = self.sample_name if self.type == "counter" else self.name
            help_text = self.documentation.replace("\\", r"\\").replace("\n", r"\n")
        lines = [f"# HELP {shown} {help_text}\n# TYPE {shown} {self.type}\n"]
        line = f"{self.sample_name}{{}} {{}}\n".format
        labels, values = self.table.label_texts(), self.table.value_texts(self.column)
        if None in values:
            lines.extend(
                line(label, value) for label, value in zip(labels, values, strict=True) if value is not None
            )
        else:
            lines.extend(map(line, labels, values))
        return lines
