"""``make demo`` runs unattended with a time limit and stops everything it started."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_for_the_given_seconds_and_cleans_up(rtorrent_line: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "demo", "--seconds", "6", "--line", rtorrent_line],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert re.search(r"pyrotorque \| .* INFO +Stats for \S+ - up ", out), out
    assert re.search(r"pyrotorque \| .* pyrotorque process #(\d+) stopped", out), out
    # The condition language on the sample items: 'size>500k' sorted by name gives two items in order.
    size_matches = out.split("--match 'size>500k' --sort=name  (exit 0)")[1].split("demo |")[0]
    assert re.findall(r"match \| [0-9A-F]{40} (\S+)", size_matches) == [
        "demo-album",
        "demo-debian-like-iso",
        "demo-ubuntu-like-iso",
    ]
    # Tree watch loaded every dropped metafile, labelled by folder; the queue started exactly two.
    assert len(re.findall(r"INFO +Loaded 'demo-[\w-]+' from .* \[queued\] \[startable\]", out)) == 4, out
    items = dict(re.findall(r"items \| (\S+) +(started|stopped) +prio=2 label=\w+", out))
    assert sorted(items) == ["demo-album", "demo-debian-like-iso", "demo-podcast", "demo-ubuntu-like-iso"]
    assert list(items.values()).count("started") == 2, out
    assert re.search(r"ERROR +invalid metafile '.*/broken.torrent'", out), out
    assert "metrics | rtorrent_up 1.0" in out
    assert 'metrics | rtorrent_view_size{view="main"} 4.0' in out
    assert 'metrics | pyrotorque_queue_items_started_total{job="queue"}' in out
    assert out.rstrip().endswith("demo | done, everything stopped")
    scratch = re.search(r"starting a sandboxed rTorrent \S+ in (\S+)/rtorrent", out)
    assert scratch and not Path(scratch.group(1)).exists()  # its temporary directory is gone
