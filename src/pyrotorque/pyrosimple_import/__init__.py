"""``pyrotorque --import-pyrosimple PATH``: a pyrosimple ``config.toml`` as one of our INI files.

The output holds ``[GLOBAL]`` (``scgi_url``, ``rtorrent_rc``; a ``[CONNECTIONS]`` name resolved),
``[ANNOUNCE]`` (from ``[ALIASES]``) and ``[TORQUE]`` (every ``[TORQUE.NAME]`` job); any of our files may
hold any section, so it can be saved as ``torque.ini`` as it is. Each setting without an equivalent
is a warning, given back to the caller and written as a ``# WARNING`` comment where it belongs.
Nothing is read but the one file; the package's own jobs that pyrosimple would not run are switched off.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pyrotorque.config.ini import parse_ini
from pyrotorque.errors import ConfigError
from pyrotorque.jobs.loader import handler_reference
from pyrotorque.pyrosimple_import import values
from pyrotorque.pyrosimple_import.jobs import JobOutput, convert_job, our_handler

__all__ = ["Conversion", "convert_file", "convert_toml"]

_SETTINGS_NOTES: Mapping[str, str] = {
    "pid_file": "use --pid-file (default <config dir>/run/pyrotorque.pid)",
    "log_file": "a background daemon logs to <config dir>/log/torque.log; --fg logs to stderr",
    "log_level": "use -q (warnings) or -v (debug) on the command line",
    "log_format": "no equivalent",
    "autoreload": "no equivalent: send SIGHUP to reload (kill -HUP $(cat ~/.pyroscope/run/pyrotorque.pid))",
}


@dataclass
class Conversion:
    """The INI text and the warnings (one line each) about settings without an equivalent."""

    text: str
    warnings: list[str] = field(default_factory=list)


def convert_file(path: Path) -> Conversion:
    """Read and convert one ``config.toml``; ConfigError naming the file for one that cannot be read."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read pyrosimple configuration: {exc.strerror or exc}", path=path) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not a UTF-8 text file ({exc.reason} at byte {exc.start})", path=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not a valid TOML file: {exc}", path=path) from exc
    return convert_toml(data, origin=str(path))


def _section(data: Mapping[str, Any], name: str) -> Any:
    """A top-level key of pyrosimple's file, whose names it reads in any case."""
    return next((value for key, value in data.items() if key.upper() == name), None)


def _package_jobs() -> dict[str, str]:
    """Our package's job names -> the class reference of their handler."""
    text = (resources.files("pyrotorque") / "data" / "torque.ini").read_text(encoding="utf-8")
    torque = parse_ini(text, "package torque.ini").get("torque", {})
    return {
        key.split(".")[1]: handler_reference(setting.value)
        for key, setting in torque.items()
        if key.startswith("job.") and key.endswith(".handler")
    }


def convert_toml(data: Mapping[str, Any], origin: str = "config.toml") -> Conversion:
    """Our INI text for a parsed pyrosimple configuration."""
    warnings: list[str] = []
    lines = [
        f"# Made by pyrotorque --import-pyrosimple from {origin}.",
        "# Save it as ~/.pyroscope/torque.ini (any of our files may hold every section).",
    ]
    url = _global_section(data, lines, warnings)
    _announce_section(data, lines, warnings)
    _torque_section(data, url, lines, warnings)
    return Conversion("\n".join(lines) + "\n", warnings)


def _write(lines: list[str], warnings: list[str], key: str, value: str, comments: list[str]) -> None:
    written, problem = values.ini_value(value)
    lines.extend(f"# {comment}" for comment in comments)
    if written is None:
        warnings.append(f"{key}: {problem}")
        lines.append(f"# WARNING: {key} not written: {problem}")
    else:
        lines.append(f"{key} = {written}")


def _global_section(data: Mapping[str, Any], lines: list[str], warnings: list[str]) -> str | None:
    url = _section(data, "SCGI_URL")
    connections = _section(data, "CONNECTIONS") or {}
    if url is not None and isinstance(connections, dict) and str(url) in connections:
        url = connections[str(url)]
    if isinstance(url, list):
        warnings.append("scgi_url: a list of connections has no equivalent; the first one is used")
        url = url[0] if url else None
    rc_file = _section(data, "RTORRENT_RC")
    if url is None and rc_file is None:
        return None
    lines += ["", "[GLOBAL]"]
    if url is not None:
        _write(lines, warnings, "scgi_url", str(url), [])
    if rc_file is not None:
        _write(lines, warnings, "rtorrent_rc", str(rc_file), [])
    if connections:
        lines.append("# [CONNECTIONS] of pyrosimple: one daemon talks to one rTorrent; use --url for another")
    return None if url is None else str(url)


def _announce_section(data: Mapping[str, Any], lines: list[str], warnings: list[str]) -> None:
    aliases = _section(data, "ALIASES")
    if not isinstance(aliases, dict) or not aliases:
        return
    lines += ["", "[ANNOUNCE]"]
    for alias, entries in aliases.items():
        urls: list[str] = []
        for entry in entries if isinstance(entries, list) else [entries]:
            text = str(entry).strip()
            if "://" in text:
                urls.append(text)
            else:
                _warn(
                    lines,
                    warnings,
                    f"[ALIASES] {alias}: {text!r} is a host name; ours match announce URLs, so it is "
                    "written as http(s)://HOST/ and matches that host only",
                )
                urls += [f"http://{text}/", f"https://{text}/"]
        _write(lines, warnings, str(alias), " ".join(urls), [])


def _torque_section(data: Mapping[str, Any], url: str | None, lines: list[str], warnings: list[str]) -> None:
    torque = _section(data, "TORQUE")
    lines += ["", "[TORQUE]"]
    if not isinstance(torque, dict):
        warnings.append("[TORQUE]: not found, no jobs to import")
        torque = {}
    tables = {
        name: table for name, table in torque.items() if isinstance(table, dict) and name != "_settings"
    }
    for key, value in torque.items():
        if key == "_settings" and isinstance(value, dict):
            for setting, text in value.items():
                note = _SETTINGS_NOTES.get(setting, "no equivalent")
                _warn(lines, warnings, f"[TORQUE._settings] {setting} = {values.toml_text(text)}: {note}")
        elif key not in tables:
            note = _SETTINGS_NOTES.get(key, "no equivalent")
            _warn(lines, warnings, f"[TORQUE] {key} = {values.toml_text(value)}: {note}")
    package = _package_jobs()
    if "connstats" in package and "connstats" not in tables:
        lines.append(
            "# pyrosimple runs only the jobs of its file: our package's connstats job is switched off"
        )
        lines.append("job.connstats.active = no")
    for name, table in tables.items():
        _job_block(_job(name, table, url, package), lines, warnings)


def _job(name: str, table: Mapping[str, Any], url: str | None, package: Mapping[str, str]) -> JobOutput:
    output = convert_job(name, table, url)
    _kind, handler = our_handler(str(table.get("handler", "")))
    inherited = package.get(output.name)
    if inherited is not None and inherited != handler_reference(handler):
        # The package's keys for a job of that name would not fit another kind of job.
        renamed = f"{output.name}_imported"
        output = convert_job(renamed, table, url)
        output.warn(
            "(name)", f"{name!r} is one of our package's jobs of another kind; written as {renamed!r}"
        )
    if not output.has("active"):
        output.add("active", "yes", "pyrosimple's default (ours is no for the package's jobs)")
    return output


def _warn(lines: list[str], warnings: list[str], message: str) -> None:
    warnings.append(message)
    lines.append(f"# WARNING: {message}")


def _job_block(output: JobOutput, lines: list[str], warnings: list[str]) -> None:
    lines += ["", f"# --- job {output.name}"]
    lines.extend(f"# {note}" for note in output.notes)
    for message in output.warnings:
        _warn(lines, warnings, message)
    for key, value, comments in output.keys:
        _write(lines, warnings, key, value, comments)
