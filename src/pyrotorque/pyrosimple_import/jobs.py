"""One ``[TORQUE.NAME]`` table of pyrosimple as our ``job.NAME.*`` keys, with a note for each change.

The queue, the tree watch, the stats job and the exporter get our handler names and our key names,
plus pyrosimple's defaults where ours differ, so the imported job behaves as before. The rule jobs
(Action, Command, ItemCommand) keep pyrosimple's handler names: their adapters take its keys.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyrotorque.jobs.loader import BUILTIN_HANDLERS
from pyrotorque.pyrosimple_import import values

#: pyrosimple handler -> the handler name we write.
HANDLERS: Mapping[str, str] = {
    "pyrosimple.job.queue:QueueManager": "QueueManager",
    "pyrosimple.job.watch:TreeWatch": "TreeWatch",
    "pyrosimple.job.metrics:EngineStats": "EngineStats",
    "pyrosimple.job.metrics:RtorrentExporter": "RtorrentExporter",
    "pyrosimple.job.action:Action": "pyrosimple.job.action:Action",
    "pyrosimple.job.action:Command": "Command",
    "pyrosimple.job.action:ItemCommand": "ItemCommand",
}
#: Keys every job has, with the same name and meaning on both sides.
COMMON_KEYS = ("active", "dry_run", "log_level")

#: Per handler: pyrosimple key -> our key, for keys whose value is taken as it is.
_RENAMED: Mapping[str, Mapping[str, str]] = {
    "QueueManager": {
        "matcher": "startable",
        "startable": "startable",
        "sort": "sort_fields",
        "sort_fields": "sort_fields",
        "start_at_once": "start_at_once",
        "downloading": "downloading",
        "downloading_min": "downloading_min",
        "downloading_max": "downloading_max",
        "intermission": "intermission",
        "downloading_traffic_max": "max_downloading_traffic",
        "max_downloading_traffic": "max_downloading_traffic",
    },
    "TreeWatch": {"path": "path", "trace_inotify": "trace_inotify"},
    "RtorrentExporter": {"port": "port", "addr": "addr", "prefix": "prefix", "jobs": "jobs"},
    "pyrosimple.job.action:Action": {k: k for k in ("matcher", "view", "sort", "action")},
    "Command": {k: k for k in ("shell", "cwd", "timeout", "check")},
    "ItemCommand": {k: k for k in ("matcher", "view", "sort", "cwd", "timeout", "check")},
}
#: pyrosimple's defaults where they differ from ours (written out unless the table sets the key).
_DEFAULTS: Mapping[str, Mapping[str, str]] = {
    "QueueManager": {
        "startable": 'is_complete=no is_ignored=no is_open=no message="" done=0',
        "sort_fields": "name,hash",
        "downloading_min": "0",
        "downloading_max": "20",
        "intermission": "120",
    },
    "RtorrentExporter": {"addr": "0.0.0.0"},
}
#: Keys that change nothing here, with the reason given in the output.
_DROPPED: Mapping[str, Mapping[str, str]] = {
    "TreeWatch": {
        "check_unhandled": "our tree watch always scans its trees at start and on every tick",
        "start_immediately": "our tree watch always starts watching at once",
        "preload_fields": "our tree watch reads no fields after a load",
    },
    "QueueManager": {"viewname": "not used by pyrosimple's queue either"},
}
#: Two pyrosimple names for one key: when both are given, pyrosimple reads the second.
_PREFERRED: Mapping[str, str] = {
    "startable": "matcher",
    "sort_fields": "sort",
    "max_downloading_traffic": "downloading_traffic_max",
}


@dataclass
class JobOutput:
    """The keys of one imported job (key, value, comments), and the warnings about it."""

    name: str
    keys: list[tuple[str, str, list[str]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: pyrosimple's queue ``view`` (ours reads "main"): becomes part of the startable condition.
    view: str | None = None

    def add(self, param: str, value: str, *comments: str) -> None:
        self.keys.append((f"job.{self.name}.{param}", value, list(comments)))

    def set(self, param: str, value: str, *comments: str) -> None:
        """Replace the key if it was added already, else add it."""
        self.keys = [entry for entry in self.keys if entry[0] != f"job.{self.name}.{param}"]
        self.add(param, value, *comments)

    def value(self, param: str) -> str | None:
        return next((value for key, value, _c in self.keys if key == f"job.{self.name}.{param}"), None)

    def has(self, param: str) -> bool:
        return any(key == f"job.{self.name}.{param}" for key, _value, _comments in self.keys)

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(f"[TORQUE.{self.name}] {key}: {message}")


def job_name(name: str) -> str:
    """A table name usable in ``job.NAME.PARAM``: letters, digits, ``_`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "_"


def our_handler(handler: str) -> tuple[str | None, str]:
    """(the table's kind in HANDLERS' values or None for other classes, the handler name we write)."""
    name = handler.strip()
    # pyrosimple rewrote every pyrocore/pyrobase in a handler's module path to pyrosimple.
    rewritten = re.sub(r"^(pyrocore|pyrobase)\.", "pyrosimple.", name)
    if rewritten in HANDLERS:
        return HANDLERS[rewritten], HANDLERS[rewritten]
    return None, name


def convert_job(name: str, table: Mapping[str, Any], scgi_url: str | None) -> JobOutput:
    """Our keys for one ``[TORQUE.NAME]`` table; ``scgi_url`` is the daemon's (to compare a job's)."""
    output = JobOutput(job_name(name))
    if output.name != name:
        output.warn("(name)", f"job name {name!r} is written as {output.name!r}")
    kind, handler = our_handler(str(table.get("handler", "")))
    output.add("handler", handler)
    text, notes = values.schedule(str(table.get("schedule", "")))
    output.add("schedule", text)
    for note in notes:
        output.warn("schedule", note)
    for key in COMMON_KEYS:
        if key in table:
            output.add(key, values.toml_text(table[key]))
    rest = {key: value for key, value in table.items() if key not in ("handler", "schedule", *COMMON_KEYS)}
    if kind is None:
        if not table.get("handler"):
            output.warn("handler", "missing; pyrosimple refuses such a job too")
        elif handler not in BUILTIN_HANDLERS:
            output.notes.append("a job class of your own: its keys are copied as they are")
        for key, value in rest.items():
            _plain(output, key, value)
        return output
    _convert_keys(output, kind, rest, scgi_url)
    for param, default in _DEFAULTS.get(kind, {}).items():
        if not output.has(param):
            output.add(param, default, f"pyrosimple's default for {param} (ours differs)")
    if output.view is not None:
        startable = output.value("startable") or ""
        output.set("startable", f"[ {startable} ] views={output.view}", f"pyrosimple's view = {output.view}")
    return output


def _plain(output: JobOutput, key: str, value: Any) -> None:
    if isinstance(value, dict):
        for subkey, subvalue in value.items():
            output.add(f"{key}.{subkey}", values.toml_text(subvalue))
    elif isinstance(value, list):
        output.add(key, ", ".join(values.toml_text(item) for item in value))
    else:
        output.add(key, values.toml_text(value))


def _convert_keys(output: JobOutput, kind: str, rest: Mapping[str, Any], scgi_url: str | None) -> None:
    renamed = _RENAMED.get(kind, {})
    dropped = _DROPPED.get(kind, {})
    special = _SPECIAL.get(kind, {})
    for key, value in rest.items():
        if key in _PREFERRED and _PREFERRED[key] in rest:
            output.notes.append(f"{key} left out: {_PREFERRED[key]} is given too, and pyrosimple reads that")
        elif key == "scgi_url":
            _job_url(output, value, scgi_url)
        elif key in special:
            special[key](output, key, value)
        elif kind == "TreeWatch" and key.startswith("cmd_"):
            _load_command(output, key.removeprefix("cmd_"), value)
        elif key in renamed:
            output.add(renamed[key], values.toml_text(value))
        elif key in dropped:
            output.notes.append(f"{key} = {values.toml_text(value)} left out: {dropped[key]}")
        else:
            output.warn(key, f"has no equivalent for {kind}; left out")


def _job_url(output: JobOutput, value: Any, scgi_url: str | None) -> None:
    if scgi_url is not None and str(value) == scgi_url:
        output.notes.append("scgi_url left out: it is the daemon's URL")
    else:
        output.warn(
            "scgi_url", "no equivalent: every job talks to the daemon's one rTorrent ([GLOBAL] scgi_url)"
        )


def _load_command(output: JobOutput, name: str, value: Any) -> None:
    text, notes = values.load_command(str(value))
    output.add(f"cmd.{name}", text)
    for note in notes:
        output.warn(f"cmd_{name}", note)


def _inverted(ours: str) -> Callable[[JobOutput, str, Any], None]:
    """A pyrosimple flag that says the opposite of ours (log_to_client vs quiet)."""

    def convert(output: JobOutput, key: str, value: Any) -> None:
        output.add(ours, values.toml_text(not bool(value)))

    return convert


def _queue_view(output: JobOutput, key: str, value: Any) -> None:
    if str(value).strip() != "main":
        output.view = str(value).strip()


def _watch_started(output: JobOutput, key: str, value: Any) -> None:
    if value:
        output.set("load_mode", "start", "started = true (pyrosimple documented it, its job ignored it)")


def _watch_load_mode(output: JobOutput, key: str, value: Any) -> None:
    if not output.has("load_mode"):
        output.add("load_mode", str(value) or "normal")


def _never_removes(output: JobOutput, key: str, value: Any) -> None:
    if value:
        output.warn(key, "no equivalent: our tree watch never deletes a metafile; left out")


def _item_list(ours: str) -> Callable[[JobOutput, str, Any], None]:
    def convert(output: JobOutput, key: str, value: Any) -> None:
        items = value if isinstance(value, list) else str(value).split(",")
        output.add(ours, ", ".join(str(item).strip() for item in items))

    return convert


def _args(output: JobOutput, key: str, value: Any) -> None:
    output.add("args", values.command_line(value))


def _env(output: JobOutput, key: str, value: Any) -> None:
    if not isinstance(value, dict):
        output.warn(key, "expected a table of NAME = VALUE; left out")
        return
    for name, text in value.items():
        output.add(f"env.{name}", values.toml_text(text))


def _item_shell(output: JobOutput, key: str, value: Any) -> None:
    if value:
        output.warn(
            key, "no equivalent: item text never goes through a shell here; the job is written inactive"
        )
        output.set(
            "active", "no", "shell = true has no equivalent: rewrite args without a shell, then activate"
        )


def _watch_cmd_table(output: JobOutput, key: str, value: Any) -> None:
    if isinstance(value, dict):
        for name, text in value.items():
            _load_command(output, str(name), text)
    else:
        output.warn(key, "expected a table of load commands; left out")


_SPECIAL: Mapping[str, Mapping[str, Callable[[JobOutput, str, Any], None]]] = {
    "QueueManager": {"log_to_client": _inverted("quiet"), "view": _queue_view},
    "TreeWatch": {
        "started": _watch_started,
        "load_mode": _watch_load_mode,
        "print_to_client": _inverted("quiet"),
        "remove_unhandled": _never_removes,
        "remove_already_added": _never_removes,
        "cmd": _watch_cmd_table,
    },
    "RtorrentExporter": {"item-stats": _item_list("item_stats"), "item-labels": _item_list("item_labels")},
    "pyrosimple.job.action:Action": {"args": _args},
    "Command": {"args": _args, "env": _env},
    "ItemCommand": {"args": _args, "env": _env, "shell": _item_shell},
}
