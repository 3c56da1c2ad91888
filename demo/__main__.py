"""``make demo``: a sandboxed rTorrent, pyrotorque in the foreground, metafiles dropped into a watched
tree, the queue starting them two at a time, a corrupt file left alone, and the exporter's metrics.

Usage, from the repository root: ``.venv/bin/python -m demo --seconds N`` (N=0: run until Ctrl-C).
Everything it starts (rTorrent, the daemon) is stopped at the end and its temporary directory
removed; exit code 0.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from types import FrameType

from sandbox.metafiles import make_metafile
from sandbox.rtorrent import LINES, RtorrentSandbox

#: [TORQUE] lines of the demo; {watch} and {port} are filled in.
DEMO_TORQUE = [
    "job.connstats.schedule = second=*/5",
    "job.treewatch.active = yes",
    "job.treewatch.path = {watch}",
    "job.treewatch.load_mode = start",
    "job.treewatch.queued = yes",
    # The folder below the watch root becomes the item's label (a template; values are escaped).
    "job.treewatch.cmd.label = {{{{# label }}}}d.custom1.set={{{{relpath}}}}",
    "job.queue.active = yes",
    "job.queue.schedule = second=*/2",
    "job.queue.downloading_max = 2",
    "job.exporter.active = yes",
    "job.exporter.port = {port}",
    "job.exporter.jobs = system, tracker",
]

#: (folder below the watch root, item name, size); all land in the queue, two may download at once.
SAMPLES = [
    ("linux", "demo-ubuntu-like-iso", 3 << 20),
    ("music", "demo-album", 700 << 10),
    ("podcasts", "demo-podcast", 90 << 10),
    ("linux", "demo-debian-like-iso", 2 << 20),
]

#: Conditions tried with ``pyrotorque --match`` on the sample items, as a user would debug a queue.
DEMO_MATCHES = [
    ("is_complete=no prio>0", "-size"),
    ("size>500k", "name"),
    ("name=*album* OR name=*podcast*", "-prio,name"),
]


def say(text: str) -> None:
    """A line of the demo's own narration."""
    print(f"demo | {text}", flush=True)


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_torque(watch: Path, port: int) -> list[str]:
    """The demo's [TORQUE] lines for this run."""
    return [line.format(watch=watch, port=port) for line in DEMO_TORQUE]


def write_config(config_dir: Path, url: str, torque: list[str]) -> None:
    """A minimal config dir: rTorrent's URL in config.ini, the demo jobs in torque.ini."""
    (config_dir / "run").mkdir(parents=True, exist_ok=True)
    (config_dir / "config.ini").write_text(f"[GLOBAL]\nscgi_url = {url}\n")
    (config_dir / "torque.ini").write_text("[TORQUE]\n" + "\n".join(torque) + "\n")


def drop_metafiles(watch: Path) -> None:
    """Write the sample metafiles (and one corrupt file) into the watched tree, as a browser would."""
    for folder, name, size in SAMPLES:
        target = watch / folder
        target.mkdir(parents=True, exist_ok=True)
        meta = make_metafile(name, size=size, seed=7)
        partial = target / f".{name}.part"
        partial.write_bytes(meta.data)
        partial.rename(target / f"{name}.torrent")  # appears at once, complete
        say(f"dropped {folder}/{name}.torrent")
    (watch / "broken.torrent").write_bytes(b"d8:announce4:http")
    say("dropped broken.torrent (corrupt: it is logged and left where it is)")


def show_items(rtorrent: RtorrentSandbox) -> None:
    """Each item's state, priority and label, as rTorrent reports them."""
    rows = rtorrent.rpc("d.multicall2", "", "main", "d.name=", "d.state=", "d.priority=", "d.custom1=")
    for name, state, prio, label in sorted(rows):
        print(
            f"items | {name:24s} {'started' if state else 'stopped':8s} prio={prio} label={label}", flush=True
        )


def show_metrics(port: int) -> None:
    """A few lines of what Prometheus would scrape."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    for line in text.splitlines():
        shown = (
            "rtorrent_up",
            'rtorrent_view_size{view="main"}',
            "rtorrent_tracker_items",
            "pyrotorque_queue_items_started_total",
            "pyrotorque_treewatch_files_",
        )
        if line.startswith(shown):
            print(f"metrics | {line}", flush=True)


def show_matches(config_dir: Path) -> None:
    """Run ``pyrotorque --match`` for each demo condition and show what it prints."""
    for condition, sort in DEMO_MATCHES:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pyrotorque",
                "--config-dir",
                str(config_dir),
                "--match",
                condition,
                f"--sort={sort}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        say(f"pyrotorque --match {condition!r} --sort={sort}  (exit {done.returncode})")
        for line in (done.stdout + done.stderr).splitlines():
            if "WARNING" not in line:  # the missing-config.ini notice is not the point here
                print(f"match | {line}", flush=True)


def relay(stream: object, prefix: str) -> threading.Thread:
    """Copy a child's output lines to our stdout, prefixed, in a background thread."""

    def pump() -> None:
        for line in stream:  # type: ignore[attr-defined]
            print(f"{prefix} | {line.rstrip()}", flush=True)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


def main() -> int:
    """Run the demo; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=0, help="how long to run (0: until Ctrl-C)")
    parser.add_argument("--line", choices=LINES, default="0.9.8", help="rTorrent line to run")
    args = parser.parse_args()

    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    with tempfile.TemporaryDirectory(prefix="pyrotorque-demo-") as scratch:
        root = Path(scratch)
        say(f"starting a sandboxed rTorrent {args.line} in {root / 'rtorrent'}")
        with RtorrentSandbox(root / "rtorrent", args.line) as rtorrent:
            say(f"rTorrent {rtorrent.version} answers at {rtorrent.url}")
            config_dir = root / "config"
            watch = root / "watch"
            watch.mkdir()
            port = free_port()
            torque = demo_torque(watch, port)
            write_config(config_dir, rtorrent.url, torque)
            say(f"config dir {config_dir}, torque.ini:")
            for line in torque:
                print(f"torque.ini | {line}", flush=True)
            daemon = subprocess.Popen(
                [sys.executable, "-m", "pyrotorque", "--fg", "-v", "--config-dir", str(config_dir)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # Ctrl-C reaches only us; we stop the daemon ourselves
            )
            pump = relay(daemon.stdout, "pyrotorque")
            try:
                time.sleep(2)
                drop_metafiles(watch)
                time.sleep(3)
                say("what rTorrent holds now (the queue starts two, the others wait for a slot):")
                show_items(rtorrent)
                show_matches(config_dir)
                say(f"the exporter on http://127.0.0.1:{port}/metrics says:")
                show_metrics(port)
                deadline = time.monotonic() + args.seconds if args.seconds > 0 else None
                say("running " + (f"for {args.seconds:g} s" if deadline else "until Ctrl-C"))
                while not stop_requested.is_set() and daemon.poll() is None:
                    if deadline is not None and time.monotonic() >= deadline:
                        break
                    stop_requested.wait(0.2)
                if daemon.poll() is not None:
                    say(f"pyrotorque exited early with code {daemon.returncode}")
            finally:
                if daemon.poll() is None:
                    say("stopping pyrotorque (SIGTERM)")
                    daemon.send_signal(signal.SIGTERM)
                    try:
                        daemon.wait(15)
                    except subprocess.TimeoutExpired:
                        daemon.kill()
                        daemon.wait()
                pump.join(2)
                with contextlib.suppress(Exception):
                    say(f"rTorrent holds {len(rtorrent.item_hashes())} items; stopping it")
        say("done, everything stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
