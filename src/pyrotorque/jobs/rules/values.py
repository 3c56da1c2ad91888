"""The values of rule actions (``label={{tracker_alias}}``, ``move=/mnt/{{label}}``): templates over
one item's fields.

A value containing ``{{`` is a Tempita template; one containing ``%(`` is filled in by name
(``%(name)s``; ``%%`` is a ``%``); any other value is literal, ``%`` included. Rendered values travel
to rTorrent as parameters of setters (``d.custom1.set``, ``d.directory.set``), which rTorrent stores as
given and never parses as commands, so they are not escaped: escaping would put backslashes into
labels. A rendered value is used as it is, never rendered again, so an item named ``{{hash}}`` is
labelled ``{{hash}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import tempita

from pyrotorque.bunch import Bunch
from pyrotorque.errors import TemplateError
from pyrotorque.jobs.treewatch.percent_command import PercentCommand

#: The item fields every template sees, with a sample of each kind (used to check templates at load).
TEMPLATE_FIELDS: Mapping[str, Any] = {
    "hash": "0" * 40,
    "name": "name",
    "label": "",
    "directory": "/",
    "path": "/name",
    "size": 0,
    "is_multi_file": False,
    "tracker_alias": "",
}


def template_namespace(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The names a value template sees: each field by itself, and as ``item.FIELD`` / ``d.FIELD``
    (the item as pyrosimple's templates call it)."""
    item = Bunch(fields)
    return {**fields, "item": item, "d": item}


class _Template(tempita.Template):  # type: ignore[misc]  # tempita has no type hints
    """Tempita with values as plain text (None as ""), never HTML-escaped."""

    def _repr(self, value: Any, pos: tuple[int, int]) -> str:
        if value is None:
            return ""
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value)


@dataclass(frozen=True)
class ValueTemplate:
    """One action value, parsed once (``key`` names the setting in errors); ``render`` per item."""

    key: str
    text: str
    _tempita: _Template | None = field(default=None, repr=False, compare=False)
    _percent: PercentCommand | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, key: str, text: str) -> ValueTemplate:
        """Parse ``text``; TemplateError names ``key`` for bad syntax or a name no item has."""
        try:
            if "{{" in text:
                parsed = cls(key, text, _tempita=_Template(text))
            elif "%(" in text:
                parsed = cls(key, text, _percent=PercentCommand.parse(text))
            else:
                return cls(key, text)
        except (tempita.TemplateError, SyntaxError, TemplateError) as exc:
            raise TemplateError(f"{key}: {exc}") from None
        parsed.render(TEMPLATE_FIELDS)  # an unknown name or a failing expression fails now, not per item
        return parsed

    @property
    def is_literal(self) -> bool:
        """True for a value without any template syntax."""
        return self._tempita is None and self._percent is None

    def render(self, fields: Mapping[str, Any]) -> str:
        """The value for one item; TemplateError names the key when an expression fails."""
        try:
            if self._tempita is not None:
                return str(self._tempita.substitute(template_namespace(fields)))
            if self._percent is not None:
                return "".join(
                    part if index % 2 == 0 else _text(fields, part)
                    for index, part in enumerate(self._percent.parts)
                )
        except TemplateError as exc:
            raise TemplateError(f"{self.key}: {exc}") from None
        except Exception as exc:  # the user's expression failed, whatever the type
            raise TemplateError(f"{self.key}: {type(exc).__name__}: {exc}") from None
        return self.text


def _text(fields: Mapping[str, Any], name: str) -> str:
    if name not in fields:
        raise TemplateError(f"'%({name})s' names an unknown field")
    value = fields[name]
    return "" if value is None else str(value)
