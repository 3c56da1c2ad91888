"""An example job (docs/custom-jobs.md): log items whose tracker message matches a pattern.

Configured as ``job.NAME.handler = pyrotorque.examples.tracker_messages:TrackerMessages``. Each tick
asks rTorrent once for every item's name and tracker message, logs one WARNING per item whose
message newly matches ``pattern``, and, with ``summary`` set, writes the matching items to that file
(replaced atomically; not written in a dry run). It uses only what ``pyrotorque`` exports.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from pyrotorque import ConfigError, Job, JobContext


@dataclass(frozen=True)
class TrackerMessagesOptions:
    """The ``job.NAME.*`` keys of this job (unknown keys are refused by the loader)."""

    #: A regular expression searched in each item's tracker message (case-insensitive).
    pattern: str = "unregistered|not registered|not found"
    #: The rTorrent view to look at.
    view: str = "main"
    #: A file to write the matching items to ("" for none); ``~`` is expanded.
    summary: str = ""


class TrackerMessages(Job):
    """Logs the items whose tracker message matches ``pattern``; optionally writes a summary file."""

    Options = TrackerMessagesOptions
    options: TrackerMessagesOptions

    def __init__(self, context: JobContext, options: TrackerMessagesOptions) -> None:
        super().__init__(context, options)
        try:  # checking the configuration is the one thing a constructor may do
            self.pattern = re.compile(options.pattern, re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(f"bad regular expression: {exc}", key=f"job.{context.name}.pattern") from None
        self.summary = Path(options.summary).expanduser() if options.summary else None
        #: Hashes reported already, so a message stuck for days is logged once, not every tick.
        self.reported: set[str] = set()

    def run(self) -> None:
        """One tick: one d.multicall2; RtorrentError goes to the daemon, which reports outages once."""
        rows = self.context.client.d_multicall(self.options.view, ["d.hash", "d.name", "d.message"])
        matching = [(str(h), str(n), str(m)) for h, n, m in rows if self.pattern.search(str(m))]
        for info_hash, name, message in matching:
            if info_hash not in self.reported:
                self.log.warning("Tracker message of %r (#%s): %s", name, info_hash, message)
        self.reported = {info_hash for info_hash, _name, _message in matching}
        if self.summary is not None:
            self._write_summary(matching)

    def _write_summary(self, matching: list[tuple[str, str, str]]) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.context.clock()))
        lines = [f"# {len(matching)} item(s) with a matching tracker message at {stamp}"]
        lines += [f"{info_hash}\t{name}\t{message}" for info_hash, name, message in matching]
        if self.context.dry_run:
            self.log.info("WOULD write %d line(s) to %s", len(lines), self.summary)
            return
        assert self.summary is not None
        temporary = self.summary.with_name(self.summary.name + ".tmp")
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(temporary, self.summary)  # readers never see half a file
