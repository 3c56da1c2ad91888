"""Fixtures shared by the integration tests of one kind of job."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pyrotorque.jobs.exporter import RtorrentExporter


@pytest.fixture
def exporters() -> Iterator[list[RtorrentExporter]]:
    """Exporter jobs to stop after the test."""
    started: list[RtorrentExporter] = []
    yield started
    for job in started:
        job.stop()
