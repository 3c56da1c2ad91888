"""Shared pytest configuration: which real rTorrent lines to test against."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--rtorrent-lines",
        default="0.9.8",
        help="comma-separated rTorrent lines for integration tests (0.9.8, 0.16)",
    )
