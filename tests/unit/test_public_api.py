"""The public API stays what the docs promise: a test that fails when either side changes alone."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import pyrotorque
from pyrotorque import errors

ROOT = Path(__file__).resolve().parents[2]


def test_every_exception_of_the_tree_is_public() -> None:
    tree = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, Exception) and value.__module__ == errors.__name__
    }
    assert tree <= set(pyrotorque.__all__)


def test_all_names_exist_and_nothing_else_is_exported_by_accident() -> None:
    for name in pyrotorque.__all__:
        assert hasattr(pyrotorque, name), name
    assert {"Job", "JobContext", "NoOptions", "__version__"} <= set(pyrotorque.__all__)


def test_version_matches_the_package_metadata() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert pyrotorque.__version__ == project["version"]


def test_exception_tree_docstring_names_every_class() -> None:
    drawn = set(re.findall(r"\b([A-Z][A-Za-z]+(?:Error|Found|Timeout))\b", errors.__doc__ or ""))
    classes = {name for name in pyrotorque.__all__ if name.endswith(("Error", "Found", "Timeout"))}
    assert drawn == classes
