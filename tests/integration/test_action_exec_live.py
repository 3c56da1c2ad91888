"""exec= against a real rTorrent (0.9.8 and 0.16): a hostile item name reaches the program byte for byte,
as one argument, and nothing in it runs; max_per_run caps the programs; dry_run runs none."""

from __future__ import annotations

import json
import logging
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.config import Config
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.rules import Action, ActionOptions
from pyrotorque.rtorrent.client import RtorrentClient

pytestmark = pytest.mark.rtorrent

LOGGER = "pyrotorque.job.rules"
#: Quotes, command substitutions, a separator, spaces, a backslash, non-ASCII, template syntax, a
#: leading dash and a newline: each would mean something to a shell or to a second rendering.
HOSTILE = "-rf 'q\" $(touch pwned1) `touch pwned2`; x  \\ é 日本 {{hash}} %(name)s\nline2 > pwned3"
#: Appends its argv (as the bytes it got, hex) and its PYRO_* variables to the JSON-lines file argv[1].
RECORDER = """#!{python}
import json, os, sys
env = {{k: v for k, v in os.environ.items() if k.startswith("PYRO_")}}
with open(sys.argv[1], "a") as out:
    out.write(json.dumps({{"argv": [os.fsencode(a).hex() for a in sys.argv[2:]], "env": env}}) + "\\n")
"""


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """An executable recorder script and the file it writes; the test's working directory is
    ``tmp_path``, where a shell would have created the ``pwned`` files."""
    script = tmp_path / "record.py"
    script.write_text(RECORDER.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.chdir(tmp_path)
    return script, tmp_path / "runs.jsonl"


def runs(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def action_job(rt: RtorrentSandbox, *, dry_run: bool = False, **options: Any) -> Action:
    context = JobContext(
        name="hook",
        client=RtorrentClient(rt.url),
        config=Config(config_dir=Path("/nonexistent")),
        dry_run=dry_run,
        log=logging.getLogger(LOGGER),
    )
    job = Action(context, ActionOptions(**options))
    job.map_paths(lambda path: str(rt.host_path(path)), rt.rt_path)
    job.start()
    return job


def test_a_hostile_name_arrives_byte_for_byte_and_nothing_runs_in_a_shell(
    rt: RtorrentSandbox, recorder: tuple[str, Path], tmp_path: Path
) -> None:
    script, out = recorder
    meta = make_metafile(HOSTILE, size=4096, payload_dir=rt.download_dir)
    (info_hash,) = rt.load_metafiles([meta])
    assert rt.rpc("d.name", info_hash) == HOSTILE  # rTorrent keeps the name as it is, newline included
    rt.load_items(1, prefix="bystander")  # does not match: no program for it (one run above)
    job = action_job(
        rt, condition=f"hash={info_hash}", action=f"exec={script} {out} {{{{name}}}} --item={{{{name}}}}"
    )
    job.run()

    (seen,) = runs(out)
    assert [bytes.fromhex(arg) for arg in seen["argv"]] == [
        HOSTILE.encode("utf-8"),
        b"--item=" + HOSTILE.encode("utf-8"),
    ]
    env = seen["env"]
    assert env["PYRO_NAME"] == HOSTILE and env["PYRO_HASH"] == info_hash
    assert env["PYRO_JOB"] == "hook" and env["PYRO_SIZE"] == "4096"
    assert Path(env["PYRO_PATH"]) == rt.download_dir / HOSTILE  # this machine's path, on both lines
    assert Path(env["PYRO_PATH"]).is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["record.py", "runs.jsonl"]  # no pwned*


def test_max_per_run_caps_the_programs_and_dry_run_runs_none(
    rt: RtorrentSandbox, recorder: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    script, out = recorder
    hashes = rt.load_items(5, prefix="hooked")
    options: dict[str, Any] = {
        "condition": "name=hooked*",
        "action": f"exec={script} {out} {{{{name}}}}",
        "sort_fields": "name",
        "max_per_run": 2,
    }
    with caplog.at_level(logging.INFO, LOGGER):
        action_job(rt, dry_run=True, **options).run()
    assert not out.exists()
    assert caplog.text.count("WOULD exec 'hooked") == 2

    action_job(rt, **options).run()
    assert [bytes.fromhex(seen["argv"][0]) for seen in runs(out)] == [b"hooked00000", b"hooked00001"]
    assert [seen["env"]["PYRO_HASH"] for seen in runs(out)] == hashes[:2]
