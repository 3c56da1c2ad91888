"""Docs that cannot drift: docs/configuration.md against the shipped defaults, docs/cli.md against --help.

How docs/configuration.md states a default (what this test reads):

* a table row ``| `KEY` | `DEFAULT` | ... |`` (``(empty)`` for an empty value, ``(not set)`` for a key
  the defaults leave out); a job's own keys are rows after its ``**NAME** — `handler`, `schedule = …`,
  `active = …``` line, by their short name; other rows are found under the heading that names their
  section (``[GLOBAL]``, ``[ANNOUNCE]`` …) or anywhere for ``[TORQUE]``;
* or inline, as `` `KEY = DEFAULT` ``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pyrotorque.cli_parser import build_parser
from pyrotorque.config.ini import parse_ini

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "pyrotorque" / "data"
CONFIGURATION_MD = ROOT / "docs" / "configuration.md"
CLI_MD = ROOT / "docs" / "cli.md"

#: A table row's key and default cell; a "|" inside a cell is written "\\|" (as GitHub needs it).
_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*((?:[^|\\]|\\.)*?)\s*\|")
_JOB_LINE = re.compile(r"^\*\*(\w+)\*\* — `([^`]+)`, `schedule = ([^`]+)`.*?`active = (\w+)`")
_HEADING = re.compile(r"^#{2,4} (.*)")


def _cell_value(cell: str) -> str | None:
    """A default cell's value: the text in backticks, "" for (empty), None for (not set)."""
    cell = cell.replace("\\|", "|")
    if cell.startswith("(empty)"):
        return ""
    if cell.startswith("(not set)"):
        return None
    found = re.match(r"`([^`]*)`", cell)
    return found.group(1) if found else cell


@dataclass
class DocDefaults:
    """The defaults docs/configuration.md states, by where it states them."""

    #: (context, key) -> default; the context is a job name or the last heading's text.
    rows: dict[tuple[str, str], str | None] = field(default_factory=dict)
    #: job name -> {"handler", "schedule", "active"} -> value, from the job's bold line.
    jobs: dict[str, dict[str, str]] = field(default_factory=dict)
    text: str = ""

    @classmethod
    def read(cls, path: Path) -> DocDefaults:
        found = cls(text=path.read_text(encoding="utf-8"))
        context = ""
        for line in found.text.splitlines():
            if heading := _HEADING.match(line):
                context = heading.group(1)
            elif job := _JOB_LINE.match(line):
                context = job.group(1)
                found.jobs[context] = dict(
                    zip(("handler", "schedule", "active"), job.groups()[1:], strict=True)
                )
            elif row := _ROW.match(line):
                found.rows.setdefault((context, row.group(1)), _cell_value(row.group(2)))
        return found

    def in_section(self, section: str, key: str) -> list[str | None]:
        """The defaults stated for ``key`` under headings naming ``[SECTION]``, or inline."""
        values = [
            value
            for (context, row_key), value in self.rows.items()
            if row_key == key and (section == "torque" or f"[{section.upper()}]" in context.upper())
        ]
        values += re.findall(rf"`{re.escape(key)} = ([^`]*)`", self.text)
        return values


def _shipped() -> list[tuple[str, str, str]]:
    """(section, key, default) of every key in the package's *.ini files; continuation lines joined."""
    keys = []
    for path in sorted(DATA.glob("*.ini")):
        for section, settings in parse_ini(path.read_text(encoding="utf-8"), str(path)).items():
            keys += [(section, key, " ".join(setting.value.split())) for key, setting in settings.items()]
    return keys


def _documented(docs: DocDefaults, section: str, key: str) -> list[str | None]:
    if section == "torque" and key.startswith("job."):
        _, job, param = key.split(".", 2)
        if param in docs.jobs.get(job, {}):
            return [docs.jobs[job][param]]
        if (job, param) in docs.rows:
            return [docs.rows[job, param]]
        return docs.in_section(section, f"job.NAME.{param}")
    return docs.in_section(section, key)


def test_configuration_md_states_every_shipped_default() -> None:
    docs = DocDefaults.read(CONFIGURATION_MD)
    shipped = _shipped()
    assert len(shipped) > 40  # the reader found the files
    drift = []
    for section, key, default in shipped:
        stated = _documented(docs, section, key)
        if not stated:
            drift.append(f"[{section.upper()}] {key} = {default!r}: not in {CONFIGURATION_MD.name}")
        elif default not in stated:
            drift.append(f"[{section.upper()}] {key}: shipped {default!r}, documented {stated}")
    assert drift == []


def test_keys_documented_for_a_job_exist_in_the_shipped_defaults_or_say_not_set() -> None:
    docs = DocDefaults.read(CONFIGURATION_MD)
    shipped = {key for section, key, _ in _shipped() if section == "torque"}
    stale = [
        f"job.{job}.{key}"
        for (job, key), value in docs.rows.items()
        if job in docs.jobs and value is not None and "." not in key and f"job.{job}.{key}" not in shipped
    ]
    assert stale == []


def _options_table(text: str) -> list[str]:
    """The first cells of docs/cli.md's options table."""
    section = text.split("## Options", 1)[1].split("\n## ", 1)[0]
    return [match.group(1) for match in re.finditer(r"^\|\s*`([^`]+)`\s*\|", section, re.MULTILINE)]


def test_every_option_of_help_is_in_cli_md_and_nothing_else() -> None:
    cells = _options_table(CLI_MD.read_text(encoding="utf-8"))
    documented = {token for cell in cells for token in re.split(r"[ ,]+", cell) if token.startswith("-")}
    parser = build_parser()
    offered = {option for action in parser._actions for option in action.option_strings}
    assert sorted(offered - documented) == []
    assert sorted(documented - offered) == []
    assert set(re.findall(r"(?<![\w-])(--?[\w?][\w-]*)", parser.format_help())) <= documented
