"""Every recipe in docs/rules.md is a configuration this version reads and builds without an error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyrotorque.config import job_configs, load_config
from pyrotorque.config.connections import connection_specs
from pyrotorque.jobs.base import Job, JobContext
from pyrotorque.jobs.loader import build_job
from pyrotorque.jobs.rules import Action
from tests.support.fake_rtorrent import FakeRtorrent

DOC = Path(__file__).parents[2] / "docs" / "rules.md"
BLOCKS = re.findall(r"```ini\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"recipe{n}" for n in range(len(BLOCKS))])
def test_the_recipe_builds(tmp_path: Path, block: str) -> None:
    # A recipe may start with the other sections it needs ([CONNECTIONS] for transfer=).
    other_sections, _, body = block.rpartition("[TORQUE]\n")
    name = body.split(".")[1]
    # A fragment that shows only some keys is completed into an Action job with the keys it lacks.
    if f"job.{name}.handler =" not in body:
        body = f"job.{name}.handler = Action\n" + body
    if f"job.{name}.schedule =" not in body:
        body = f"job.{name}.schedule = minute=*\n" + body
    if f"job.{name}.handler = Action" in body and f"job.{name}.condition =" not in body:
        body = f"job.{name}.condition = name=*\n" + body
    (tmp_path / "config.ini").write_text(
        "[ANNOUNCE]\nLongSeed = http://long.example/announce\n" + other_sections
    )
    (tmp_path / "torque.ini").write_text("[TORQUE]\n" + body)
    config = load_config(tmp_path, environ={})
    names = {line.split(".")[1] for line in body.splitlines() if line.startswith("job.")}
    jobs = [job for job in job_configs(config) if job.name in names]
    assert len(jobs) == len(names) == 1
    clients = {name: FakeRtorrent().client() for name in connection_specs(config, rpc_timeout=30.0)}
    context = JobContext(name=jobs[0].name, client=clients["default"], config=config, clients=clients)
    built = build_job(jobs[0], context)
    assert isinstance(built, Action if jobs[0].handler.value == "Action" else Job)


def test_the_doc_has_its_recipes() -> None:
    assert len(BLOCKS) >= 8
