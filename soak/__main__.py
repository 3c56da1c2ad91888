"""``make soak``: pyrotorque for a long while beside a real rTorrent that keeps failing under it.

A sandboxed rTorrent holds ``--items`` items; ``pyrotorque --fg`` runs the tree watch, the queue,
the stats job and the exporter on it. A feeder drops metafiles into the watched tree at ``--rate``
per second (written to a hidden temporary file, then renamed, as browsers and RSS tools do), a
scraper reads the metrics every ``--scrape-every`` seconds, and rTorrent is restarted every
``--restart-every`` seconds and frozen (SIGSTOP) once for ``--freeze`` seconds half-way through.

At the end it waits for the last metafiles, then reports what matters for a daemon that runs for
months: files fed and loaded (lost must be 0), the daemon's RSS, threads and open file descriptors
at start, half-way and end (growth in the second half is not warm-up), scrapes answered, how long
the stop took, and every ERROR/WARNING logged. Exit code 0 when nothing was lost, no thread died, no
descriptor leaked and the daemon stopped in time; 1 otherwise.

Usage, from the repository root: ``.venv/bin/python -m soak --minutes 10 [--line 0.16] [--json F]``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sandbox.metafiles import make_metafile
from sandbox.rtorrent import LINES, RtorrentSandbox, free_port

#: The levels the report counts: warnings are expected (rTorrent goes away on purpose), errors are not.
_LEVEL = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b")
#: A stop slower than this fails the soak (docs/cli.md states the bound the daemon promises).
_STOP_BOUND = 30.0
#: Open descriptors the daemon may hold at the end beyond its start (a request in flight, a log
#: reopened); more is a leak, which after months would end in "too many open files".
_FD_SLACK = 3


@dataclass
class ProcessSample:
    """What the daemon holds at one moment, from /proc."""

    rss_kib: int
    threads: int
    open_fds: int

    @classmethod
    def of(cls, pid: int) -> ProcessSample:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return cls(
            rss_kib=int(fields["VmRSS"].split()[0]),
            threads=int(fields["Threads"]),
            open_fds=len(os.listdir(f"/proc/{pid}/fd")),
        )


@dataclass
class SoakReport:
    """The figures docs/reliability.md quotes."""

    line: str
    minutes: float
    items: int
    fed: int = 0
    loaded: int = 0
    lost: int = 0
    restarts: int = 0
    freezes: int = 0
    scrapes: int = 0
    scrapes_answered: int = 0
    scrapes_up: int = 0
    slowest_scrape_s: float = 0.0
    start: ProcessSample | None = None
    #: Taken half-way (before the freeze): growth from here to the end is not the start's warm-up.
    half: ProcessSample | None = None
    end: ProcessSample | None = None
    stop_seconds: float = 0.0
    exit_code: int | None = None
    log_lines: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        threads_kept = (
            self.start is not None and self.end is not None and self.end.threads >= self.start.threads
        )
        fds_kept = (
            self.start is not None
            and self.end is not None
            and self.end.open_fds <= self.start.open_fds + _FD_SLACK
        )
        return (
            self.lost == 0
            and threads_kept
            and fds_kept
            and self.exit_code == 0
            and self.stop_seconds < _STOP_BOUND
        )


def say(text: str) -> None:
    print(f"soak | {text}", flush=True)


class Feeder(threading.Thread):
    """Drops unique metafiles into the watch tree at a steady rate, as a browser would."""

    def __init__(self, watch: Path, rate: float, stop: threading.Event) -> None:
        super().__init__(name="feeder", daemon=True)
        self.watch, self.rate, self.stop_event = watch, rate, stop
        self.fed: list[str] = []

    def run(self) -> None:
        if self.rate <= 0:
            return  # --rate 0: rTorrent's item count stays the same, so RSS should level off
        index = 0
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            meta = make_metafile(f"soak-fed-{index:06d}", size=32 << 10, seed=index)
            folder = self.watch / f"batch{index // 100:04d}"
            folder.mkdir(exist_ok=True)
            partial = folder / f".soak-fed-{index:06d}.part"
            partial.write_bytes(meta.data)
            partial.rename(folder / f"soak-fed-{index:06d}.torrent")
            self.fed.append(meta.info_hash)
            index += 1
            next_at += 1 / self.rate
            self.stop_event.wait(max(0.0, next_at - time.monotonic()))


class Scraper(threading.Thread):
    """GETs /metrics every few seconds; counts answers and rtorrent_up=1 answers."""

    def __init__(self, port: int, every: float, stop: threading.Event, report: SoakReport) -> None:
        super().__init__(name="scraper", daemon=True)
        self.port, self.every, self.stop_event, self.report = port, every, stop, report

    def run(self) -> None:
        while not self.stop_event.wait(self.every):
            self.report.scrapes += 1
            started = time.monotonic()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=60) as answer:
                    text = answer.read().decode()
            except OSError:
                continue
            self.report.slowest_scrape_s = max(self.report.slowest_scrape_s, time.monotonic() - started)
            self.report.scrapes_answered += 1
            if re.search(r"^rtorrent_up 1(\.0)?$", text, re.MULTILINE):
                self.report.scrapes_up += 1


def write_config(config_dir: Path, url: str, watch: Path, port: int) -> None:
    (config_dir / "run").mkdir(parents=True, exist_ok=True)
    (config_dir / "config.ini").write_text(f"[GLOBAL]\nscgi_url = {url}\nrpc_timeout = 5\n")
    torque = [
        "[TORQUE]",
        "job.connstats.schedule = second=*/15",
        "job.treewatch.active = yes",
        f"job.treewatch.path = {watch}",
        "job.treewatch.schedule = minute=*/2",
        "job.queue.active = yes",
        "job.queue.schedule = second=*/5",
        "job.queue.downloading_max = 5",
        "job.exporter.active = yes",
        f"job.exporter.port = {port}",
        "job.exporter.jobs = system, tracker, item",
    ]
    (config_dir / "torque.ini").write_text("\n".join(torque) + "\n")


def count_log_lines(log_text: str) -> dict[str, int]:
    """WARNING and ERROR lines by message, numbers and paths folded so repeats group together."""
    counts: collections.Counter[str] = collections.Counter()
    for line in log_text.splitlines():
        match = _LEVEL.search(line)
        if match is None:
            continue
        message = line[match.start() :]
        message = re.sub(r"'[^']*'|/\S+|\b\d+(\.\d+)?\b", "…", message)
        counts[message[:160]] += 1
    return dict(counts.most_common())


def run(args: argparse.Namespace) -> SoakReport:
    report = SoakReport(line=args.line, minutes=args.minutes, items=args.items)
    with tempfile.TemporaryDirectory(prefix="pyrotorque-soak-") as scratch:
        root = Path(scratch)
        with RtorrentSandbox(root / "rtorrent", args.line) as rtorrent:
            say(f"rTorrent {rtorrent.version}: loading {args.items} items")
            rtorrent.load_items(args.items, prefix="soak-base", size=16 << 10)
            config_dir, watch, port = root / "config", rtorrent.directory / "watch", free_port()
            watch.mkdir()
            write_config(config_dir, rtorrent.url, watch, port)
            log_path = root / "daemon.log"
            with log_path.open("w") as log_file:
                daemon = subprocess.Popen(
                    [sys.executable, "-m", "pyrotorque", "--fg", "-v", "--config-dir", str(config_dir)],
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                exercise(args, rtorrent, daemon, watch, port, report)
            finally:
                stop_daemon(daemon, report)
            report.log_lines = count_log_lines(log_path.read_text(errors="replace"))
    return report


def exercise(
    args: argparse.Namespace,
    rtorrent: RtorrentSandbox,
    daemon: subprocess.Popen[bytes],
    watch: Path,
    port: int,
    report: SoakReport,
) -> None:
    time.sleep(5)  # the daemon's start and first scan
    report.start = ProcessSample.of(daemon.pid)
    stop = threading.Event()
    feeder, scraper = Feeder(watch, args.rate, stop), Scraper(port, args.scrape_every, stop, report)
    feeder.start()
    scraper.start()
    started = time.monotonic()
    deadline = started + args.minutes * 60
    next_restart = started + args.restart_every
    freeze_at = started + args.minutes * 30
    try:
        while time.monotonic() < deadline and daemon.poll() is None:
            now = time.monotonic()
            if report.half is None and now >= freeze_at:
                report.half = ProcessSample.of(daemon.pid)
            if args.freeze > 0 and report.freezes == 0 and now >= freeze_at:
                say(f"freezing rTorrent for {args.freeze:g} s")
                rtorrent.freeze()
                time.sleep(args.freeze)
                rtorrent.thaw()
                report.freezes += 1
            elif now >= next_restart:
                say("restarting rTorrent")
                rtorrent.restart(timeout=120)
                report.restarts += 1
                next_restart = time.monotonic() + args.restart_every
            time.sleep(0.5)
    finally:
        stop.set()
        feeder.join(10)
        scraper.join(70)
    report.fed = len(feeder.fed)
    wait_until = time.monotonic() + 120
    while True:
        present = set(rtorrent.item_hashes())
        missing = [info_hash for info_hash in feeder.fed if info_hash not in present]
        if not missing or time.monotonic() > wait_until or daemon.poll() is not None:
            break
        time.sleep(2)
    report.loaded, report.lost = report.fed - len(missing), len(missing)
    if daemon.poll() is None:
        report.end = ProcessSample.of(daemon.pid)


def stop_daemon(daemon: subprocess.Popen[bytes], report: SoakReport) -> None:
    started = time.monotonic()
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(_STOP_BOUND + 30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    report.stop_seconds = time.monotonic() - started
    report.exit_code = daemon.returncode


def print_report(report: SoakReport) -> None:
    say(f"rTorrent {report.line}, {report.minutes:g} min, {report.items} items")
    say(f"restarts {report.restarts}, freezes {report.freezes}")
    say(f"metafiles fed {report.fed}, loaded {report.loaded}, lost {report.lost}")
    say(
        f"scrapes {report.scrapes}: {report.scrapes_answered} answered, {report.scrapes_up} with up=1,"
        f" slowest {report.slowest_scrape_s:.2f} s"
    )
    for when, sample in (("start", report.start), ("half-way", report.half), ("end", report.end)):
        if sample is not None:
            rss = sample.rss_kib / 1024
            say(f"daemon at {when}: RSS {rss:.1f} MiB, {sample.threads} threads, {sample.open_fds} fds")
    if report.half is not None and report.end is not None:
        say(f"RSS growth in the second half: {(report.end.rss_kib - report.half.rss_kib) / 1024:+.1f} MiB")
    say(f"stop took {report.stop_seconds:.2f} s, exit code {report.exit_code}")
    for message, count in report.log_lines.items():
        say(f"logged {count}x: {message}")
    say("PASSED" if report.passed else "FAILED")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--line", choices=LINES, default="0.9.8")
    parser.add_argument("--items", type=int, default=2000, help="items rTorrent holds before the soak")
    parser.add_argument(
        "--rate", type=float, default=2.0, help="metafiles dropped per second (0: none, a steady item count)"
    )
    parser.add_argument("--restart-every", type=float, default=90.0, help="seconds between rTorrent restarts")
    parser.add_argument(
        "--freeze", type=float, default=20.0, help="seconds rTorrent is frozen once (0: never)"
    )
    parser.add_argument("--scrape-every", type=float, default=5.0)
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args()
    report = run(args)
    print_report(report)
    if args.json is not None:
        args.json.write_text(json.dumps({**asdict(report), "passed": report.passed}, indent=2) + "\n")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
