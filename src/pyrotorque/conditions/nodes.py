"""The parsed condition tree, its canonical text, and three-valued evaluation.

Evaluation is bound once per run to a way of reading fields from a "row" (a fetched item):
``node.bind(resolver, now)`` gives a function ``row -> True | False | None``. ``None`` means
"unknown": a field whose data was not fetched yet (file or tracker lists). AND and OR follow
Kleene's logic, so an item that is already ``False`` never needs the expensive data.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from pyrotorque.conditions.values import ValueKind, ValueTest

__all__ = ["UNKNOWN", "And", "Evaluator", "Getter", "Node", "Not", "Or", "Resolver", "Term"]


class _Unknown:
    """The marker for field data that has not been fetched (yet)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()

Getter = Callable[[Any], Any]
Evaluator = Callable[[Any], bool | None]
# Given a field name: how to read it from a row, and whether it may read as UNKNOWN.
Resolver = Callable[[str], tuple[Getter, bool]]


class Node(ABC):
    """A node of the condition tree."""

    @abstractmethod
    def canonical(self) -> str:
        """The canonical text (spec §6.4), also used in log lines."""

    @abstractmethod
    def field_names(self) -> Iterator[str]:
        """The names of all fields this node reads."""

    @abstractmethod
    def bind(self, resolver: Resolver, now: float) -> tuple[Evaluator, bool]:
        """A three-valued evaluator, and whether it can ever answer ``None``."""

    def __str__(self) -> str:
        return self.canonical()


@dataclass(frozen=True, slots=True)
class FieldValue:
    """One value of a term: the test, and whether a leading ``!`` negates it."""

    test: ValueTest
    negated: bool

    def canonical(self) -> str:
        """``!value`` or ``value``."""
        return ("!" if self.negated else "") + self.test.canonical


class Term(Node):
    """``field=v1,v2,…``: true if any value matches."""

    def __init__(self, field: str, kind: ValueKind, values: list[FieldValue], exact: bool = False) -> None:
        self.field = field
        self.kind = kind
        self.values = values
        self.exact = exact

    def canonical(self) -> str:
        """``field=v1,v2`` (or ``field==v`` for an exact tag match)."""
        operator = "==" if self.exact else "="
        return f"{self.field}{operator}{','.join(value.canonical() for value in self.values)}"

    def field_names(self) -> Iterator[str]:
        """Just this term's field."""
        yield self.field

    def bind(self, resolver: Resolver, now: float) -> tuple[Evaluator, bool]:
        """Bind the predicates of all values to the field's getter."""
        getter, deferred = resolver(self.field)
        tests: list[Callable[[Any], bool]] = []
        for value in self.values:
            positive = value.test.predicate(now)
            if value.negated:
                tests.append(_negate(positive))
            else:
                tests.append(positive)
        if len(tests) == 1:
            test = tests[0]
        else:
            alternatives = tuple(tests)

            def test(field_value: Any) -> bool:
                return any(alternative(field_value) for alternative in alternatives)

        if not deferred:
            return lambda row: test(getter(row)), False

        def evaluate(row: Any) -> bool | None:
            field_value = getter(row)
            if field_value is UNKNOWN:
                return None
            return test(field_value)

        return evaluate, True


def _negate(positive: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda field_value: not positive(field_value)


class _Junction(Node):
    """AND or OR over children, in Kleene's logic; subclasses say which child result decides."""

    #: The child result that decides the whole at once: False for AND, True for OR.
    _decisive: ClassVar[bool]

    def __init__(self, children: list[Node]) -> None:
        self.children = children

    def field_names(self) -> Iterator[str]:
        """Fields of all children."""
        for child in self.children:
            yield from child.field_names()

    def bind(self, resolver: Resolver, now: float) -> tuple[Evaluator, bool]:
        """Kleene AND / OR; children that may be unknown are tried last (terms have no side effects)."""
        bound = [child.bind(resolver, now) for child in self.children]
        bound.sort(key=lambda pair: pair[1])
        evaluators = tuple(evaluator for evaluator, _ in bound)
        deferred = any(flag for _, flag in bound)
        decisive = self._decisive
        if not deferred:
            combine = any if decisive else all
            return lambda row: combine(evaluator(row) for evaluator in evaluators), False

        def evaluate(row: Any) -> bool | None:
            unknown = False
            for evaluator in evaluators:
                result = evaluator(row)
                if result is decisive:
                    return decisive
                if result is None:
                    unknown = True
            return None if unknown else not decisive

        return evaluate, True


class And(_Junction):
    """All children must match (juxtaposition)."""

    _decisive = False

    def canonical(self) -> str:
        """Children separated by spaces; nested ANDs are flattened, so no brackets."""
        return " ".join(child.canonical() for child in self.children)


class Or(_Junction):
    """Any child must match."""

    _decisive = True

    def canonical(self) -> str:
        """``[ a OR b ]``."""
        return "[ " + " OR ".join(child.canonical() for child in self.children) + " ]"


class Not(Node):
    """The negation of its child."""

    def __init__(self, child: Node) -> None:
        self.child = child

    def canonical(self) -> str:
        """``[ NOT [ child ] ]``."""
        return f"[ NOT [ {self.child.canonical()} ] ]"

    def field_names(self) -> Iterator[str]:
        """The child's fields."""
        return self.child.field_names()

    def bind(self, resolver: Resolver, now: float) -> tuple[Evaluator, bool]:
        """Negation; unknown stays unknown."""
        inner, deferred = self.child.bind(resolver, now)
        if not deferred:
            return lambda row: not inner(row), False

        def evaluate(row: Any) -> bool | None:
            result = inner(row)
            return None if result is None else not result

        return evaluate, True
