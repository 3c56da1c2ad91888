"""``make demo``: a sandboxed rTorrent, pyrotorque in the foreground, a few items, the daemon's log.

Usage: ``.venv/bin/python scripts/demo.py --seconds N`` (N=0: run until Ctrl-C). Everything it starts
(rTorrent, the daemon) is stopped at the end and its temporary directory removed; exit code 0.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.support.metafiles import make_metafile  # noqa: E402
from tests.support.sandbox import LINES, RtorrentSandbox  # noqa: E402

#: [TORQUE] lines of the demo; other jobs' demos add theirs here.
DEMO_TORQUE = [
    "job.connstats.schedule = second=*/5",
]

SAMPLES = [("demo-ubuntu-like-iso", 3 << 20), ("demo-album", 700 << 10), ("demo-podcast", 90 << 10)]

#: Conditions tried with ``pyrotorque --match`` on the sample items, as a user would debug a queue.
DEMO_MATCHES = [
    ("is_complete=no prio>0", "-size"),
    ("size>500k", "name"),
    ("name=*album* OR name=*podcast*", "-prio,name"),
]


def say(text: str) -> None:
    """A line of the demo's own narration."""
    print(f"demo | {text}", flush=True)


def write_config(config_dir: Path, url: str) -> None:
    """A minimal config dir: rTorrent's URL in config.ini, the demo jobs in torque.ini."""
    (config_dir / "run").mkdir(parents=True, exist_ok=True)
    (config_dir / "config.ini").write_text(f"[GLOBAL]\nscgi_url = {url}\n")
    (config_dir / "torque.ini").write_text("[TORQUE]\n" + "\n".join(DEMO_TORQUE) + "\n")


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
            write_config(config_dir, rtorrent.url)
            say(f"config dir {config_dir}: " + "; ".join(DEMO_TORQUE))
            daemon = subprocess.Popen(
                [sys.executable, "-m", "pyrotorque", "--fg", "-v", "--config-dir", str(config_dir)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # Ctrl-C reaches only us; we stop the daemon ourselves
            )
            pump = relay(daemon.stdout, "pyrotorque")
            try:
                time.sleep(1.5)
                samples = [make_metafile(name, size=size, seed=7) for name, size in SAMPLES]
                rtorrent.load_metafiles(samples)
                say(f"loaded {len(samples)} sample items: " + ", ".join(m.name for m in samples))
                show_matches(config_dir)
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
