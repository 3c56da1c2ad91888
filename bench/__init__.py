"""pyrotorque benchmarks against real sandboxed rTorrent daemons (``make bench``).

A benchmark is a function taking a ``bench.common.BenchContext`` (one running sandbox holding the
loaded items) and printing its own table. Add one by dropping a module into this package that
registers it::

    from bench import register
    from bench.common import BenchContext

    @register("my-bench", "what it measures")
    def my_bench(context: BenchContext) -> None:
        ...

Every module of the package is imported by ``python -m bench``; benchmarks run in the order their
modules are imported (alphabetical), each once per rTorrent line.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.common import BenchContext

BenchFunction = Callable[["BenchContext"], None]

# Modules of this package that hold plumbing, not benchmarks.
_NOT_BENCHMARKS = frozenset({"common", "__main__"})


@dataclass(frozen=True)
class Benchmark:
    """One registered benchmark."""

    name: str
    description: str
    run: BenchFunction


REGISTRY: dict[str, Benchmark] = {}


def register(name: str, description: str) -> Callable[[BenchFunction], BenchFunction]:
    """Register a benchmark function under ``name`` (a decorator)."""

    def decorate(function: BenchFunction) -> BenchFunction:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} is registered twice")
        REGISTRY[name] = Benchmark(name, description, function)
        return function

    return decorate


def discover() -> dict[str, Benchmark]:
    """Import every benchmark module of this package; return the registry."""
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if module.name not in _NOT_BENCHMARKS:
            importlib.import_module(f"{__name__}.{module.name}")
    return REGISTRY
