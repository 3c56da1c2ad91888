"""Plain tree watch commands: only ``%(name)s`` is replaced (by an escaped value), ``%%`` becomes ``%``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pyrotorque.errors import TemplateError
from pyrotorque.jobs.treewatch.value_marks import marked

_PERCENT: Final = re.compile(r"%(?:%|\((?P<name>[^)]*)\)(?P<conversion>.?))")


@dataclass(frozen=True)
class PercentCommand:
    """A plain command: ``%(name)s`` is replaced by an escaped value, ``%%`` by ``%``."""

    parts: tuple[str, ...]  # literal text at even indexes, variable names at odd ones

    @classmethod
    def parse(cls, text: str) -> PercentCommand:
        parts: list[str] = []
        literal: list[str] = []
        pos = 0
        for match in _PERCENT.finditer(text):
            lone = text.find("%", pos, match.start())
            if lone >= 0:
                raise _percent_error(text, lone)
            literal.append(text[pos : match.start()])
            pos = match.end()
            if match.group() == "%%":
                literal.append("%")
                continue
            if match.group("conversion") != "s":
                raise TemplateError(
                    f"only '%(name)s' is supported, got {match.group()!r} at position {match.start()}"
                )
            parts.extend(("".join(literal), match.group("name")))
            literal = []
        lone = text.find("%", pos)
        if lone >= 0:
            raise _percent_error(text, lone)
        parts.append("".join(literal) + text[pos:])
        return cls(tuple(parts))

    def substitute(self, namespace: Mapping[str, Any]) -> str:
        out: list[str] = []
        for index, part in enumerate(self.parts):
            if index % 2 == 0:
                out.append(part)
                continue
            if part not in namespace:
                raise TemplateError(f"'%({part})s' names an unknown variable")
            out.append(marked(namespace[part]))
        return "".join(out)


def _percent_error(text: str, position: int) -> TemplateError:
    return TemplateError(
        f"a '%' must start '%(name)s' or be doubled as '%%' (position {position} of {text!r})"
    )
