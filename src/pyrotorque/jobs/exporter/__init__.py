"""The Prometheus exporter job (``job.exporter``): ``job`` serves HTTP, ``metrics`` collects the groups."""

from __future__ import annotations

from pyrotorque.jobs.exporter.job import ExporterOptions, RtorrentExporter

__all__ = ["ExporterOptions", "RtorrentExporter"]
