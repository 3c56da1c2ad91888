"""Fetched rows and how to read fields from them: ``RowLayout`` (columns and getters) and ``Item``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pyrotorque.conditions.fields import FILES, TRACKERS, FieldContext, FieldDef, lookup_field
from pyrotorque.conditions.nodes import UNKNOWN, Getter
from pyrotorque.errors import ConditionError


class RowLayout:
    """Where each command's result sits in a fetched row, and getters for fields.

    File and tracker lists are not in the row: they are looked up by info hash (column 0) in
    ``files`` (hash -> file entry, whose slot 0 is the list) and ``trackers`` (hash -> list).
    """

    def __init__(
        self,
        commands: Sequence[str],
        context: FieldContext,
        files: Mapping[str, tuple[Any, ...]],
        trackers: Mapping[str, Any],
    ) -> None:
        self.commands = tuple(commands)
        self.index = {command: position for position, command in enumerate(self.commands)}
        self.context = context
        self.files = files
        self.trackers = trackers
        self._getters: dict[str, Getter] = {}

    def getter(self, name: str) -> Getter:
        """A function reading field ``name`` from a row (UNKNOWN while its lists are missing)."""
        cached = self._getters.get(name)
        if cached is None:
            cached = self._getters[name] = self._build(lookup_field(name))
        return cached

    def _build(self, field: FieldDef) -> Getter:
        missing = [c for c in field.commands if c not in self.index and c not in (FILES, TRACKERS)]
        if missing:
            raise KeyError(f"field {field.name!r} was not fetched")
        convert = field.convert
        if field.contextual:
            context = self.context
            base: Callable[..., Any] = lambda *raw: convert(context, *raw)  # noqa: E731
        else:
            base = convert
        if not field.deferred:
            positions = tuple(self.index[command] for command in field.commands)
            if len(positions) == 1:
                (position,) = positions
                return lambda row: base(row[position])
            return lambda row: base(*(row[position] for position in positions))
        files, trackers, index = self.files, self.trackers, self.index
        commands = field.commands

        def deferred(row: Any) -> Any:
            raw: list[Any] = []
            for command in commands:
                if command == FILES:
                    entry = files.get(row[0])
                    if entry is None:
                        return UNKNOWN
                    raw.append(entry[0])
                elif command == TRACKERS:
                    listed = trackers.get(row[0])
                    if listed is None:
                        return UNKNOWN
                    raw.append(listed)
                else:
                    raw.append(row[index[command]])
            return base(*raw)

        return deferred


class Item:
    """One fetched item: ``item.hash``, ``item.name``, ``item.prio``, ``item["kind_25"]`` …"""

    __slots__ = ("_layout", "_row")

    def __init__(self, row: list[Any], layout: RowLayout) -> None:
        self._row = row
        self._layout = layout

    @property
    def hash(self) -> str:
        """The info hash."""
        return str(self._row[0])

    @property
    def name(self) -> str:
        """The item's name."""
        return str(self._row[1])

    def __getitem__(self, name: str) -> Any:
        value = self._layout.getter(name)(self._row)
        if value is UNKNOWN:
            raise KeyError(f"field {name!r} was not fetched")
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except (KeyError, ConditionError) as exc:
            raise AttributeError(f"{name}: {exc}") from None

    def get(self, name: str, default: Any = None) -> Any:
        """A field's value, or ``default`` if it was not fetched."""
        try:
            return self[name]
        except KeyError:
            return default

    def __repr__(self) -> str:
        return f"Item({self.hash}, {self.name!r})"
