"""The Action job with the shared fake rTorrent: which items, how many, in which order, what is sent."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from pyrotorque.clock import as_clock
from pyrotorque.config import Config, job_configs, load_config
from pyrotorque.errors import ConfigError, JobLoadError
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.loader import build_job
from pyrotorque.jobs.rules import Action, ActionOptions
from pyrotorque.jobs.rules.pyrosimple_action import PyrosimpleAction
from tests.support.fake_rtorrent import FakeRtorrent

LOGGER = "pyrotorque.job.rules"


def rtorrent(items: list[dict[str, Any]]) -> FakeRtorrent:
    """The shared fake with these items (``name`` plus d.* answers), loaded in list order."""
    fake = FakeRtorrent()
    for index, values in enumerate(items):
        values = dict(values)
        name = values.pop("name")
        tracker = values.pop("tracker", "http://tracker.example.net/announce")
        custom = {"tm_loaded": str(1_700_000_000 + index)}
        fake.add_item(f"{index:040X}", name, values=values, custom=custom, trackers=[(tracker, 1)])
    return fake


def action(
    fake: FakeRtorrent, *, dry_run: bool = False, config: Config | None = None, **options: Any
) -> Action:
    context = JobContext(
        name="rule",
        client=fake.client(),
        config=config or Config(config_dir=Path("/nonexistent")),
        dry_run=dry_run,
        log=logging.getLogger(LOGGER),
        clock=as_clock(lambda: 1_800_000_000.0),
    )
    job = Action(context, ActionOptions(**options))
    job.start()
    return job


def sent(fake: FakeRtorrent, prefix: str) -> list[tuple[str, tuple[Any, ...]]]:
    return [
        (name, tuple(params))
        for request in fake.sent()
        if request.method == "system.multicall"
        for name, params in request.calls
        if name.startswith(prefix)
    ]


def h(index: int) -> str:
    return f"{index:040X}"


def test_stops_only_the_matching_items_in_sort_order_capped(caplog: pytest.LogCaptureFixture) -> None:
    fake = rtorrent(
        [
            {"name": "b-done", "d.complete": 1, "d.state": 1},
            {"name": "still-loading", "d.complete": 0, "d.state": 1},
            {"name": "a-done", "d.complete": 1, "d.state": 1},
            {"name": "c-done", "d.complete": 1, "d.state": 1},
        ]
    )
    job = action(fake, condition="is_complete=yes", action="stop", sort_fields="name", max_per_run=2)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        job.run()
    assert sent(fake, "d.stop") == [("d.stop", (h(2),)), ("d.stop", (h(0),))]
    assert len([r for r in fake.sent() if r.method == "system.multicall"]) == 1  # no alias fetch
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and "#" in r.getMessage()]
    assert infos == [f"Stopping 'a-done' #{h(2)}", f"Stopping 'b-done' #{h(0)}"]
    assert not fake.items[h(2)].started and not fake.items[h(0)].started
    assert fake.items[h(3)].started and fake.items[h(1)].started


def test_dry_run_logs_what_it_would_do_and_sends_nothing(caplog: pytest.LogCaptureFixture) -> None:
    fake = rtorrent([{"name": "x", "d.complete": 1}])
    with caplog.at_level(logging.INFO, logger=LOGGER):
        action(fake, dry_run=True, condition="is_complete=yes", action="erase").run()
    assert sent(fake, "d.erase") == [] and h(0) in fake.items
    assert f"WOULD erase 'x' #{h(0)}" in [r.getMessage() for r in caplog.records]


def test_label_by_tracker_alias_with_the_announce_aliases() -> None:
    fake = rtorrent(
        [
            {"name": "one", "tracker": "https://tracker.one.example/announce/abc"},
            {"name": "two", "tracker": "udp://open.two.example:1337/announce"},
        ]
    )
    config = Config(config_dir=Path("/nonexistent"))
    job = action(fake, config=config, condition="name=*", action="label={{tracker_alias}}")
    job.run()
    assert [fake.items[h(i)].value("d.custom1") for i in (0, 1)] == ["one.example", "two.example"]


def test_a_rendered_value_is_data_never_rendered_again() -> None:
    hostile = "{{hash}} %(name)s $d.erase= ;\\ \"'"
    fake = rtorrent([{"name": hostile}])
    action(fake, condition="name=*", action="label=got {{name}}").run()
    assert fake.items[h(0)].value("d.custom1") == f"got {hostile}"
    assert sent(fake, "d.erase") == [] and h(0) in fake.items


def test_percent_values_and_item_attributes_as_pyrosimple_writes_them() -> None:
    fake = rtorrent([{"name": "n", "d.custom1": "old"}])
    action(fake, condition="name=n", action="label=%(label)s-{{item.hash[:4]}}").run()
    assert fake.items[h(0)].value("d.custom1") == "%(label)s-0000"  # {{ wins: one kind per value
    action(fake, condition="name=n", action="label=%(label)s+%(name)s 100%%").run()
    assert fake.items[h(0)].value("d.custom1") == "%(label)s-0000+n 100%"


def test_priority_and_a_fault_on_one_item_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    fake = rtorrent([{"name": "first"}, {"name": "second"}])
    fake.fail("d.priority.set", -501, "refused", target=h(0))
    with caplog.at_level(logging.INFO, logger=LOGGER):
        action(fake, condition="name=*", action="priority=3").run()
    assert fake.items[h(1)].value("d.priority") == 3
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [f"Could not priority 'first' #{h(0)}: fault -501 in d.priority.set: refused"]


def test_a_templated_priority_out_of_range_is_that_items_error(caplog: pytest.LogCaptureFixture) -> None:
    fake = rtorrent([{"name": "7"}, {"name": "1"}])
    with caplog.at_level(logging.INFO, logger=LOGGER):
        action(fake, condition="name=*", action="priority={{name}}", sort_fields="name").run()
    assert sent(fake, "d.priority.set") == [("d.priority.set", (h(1), 1))]
    assert any("priority is 0, 1, 2 or 3, got '7'" in r.getMessage() for r in caplog.records)


def _write(config_dir: Path, torque: str) -> tuple[Any, Config]:
    config_dir.mkdir(exist_ok=True)
    (config_dir / "torque.ini").write_text("[TORQUE]\njob.rule.schedule = minute=*\n" + torque)
    config = load_config(config_dir, environ={})
    (job,) = [job for job in job_configs(config) if job.name == "rule"]
    return job, config


def _build(tmp_path: Path, torque: str) -> Any:
    job, config = _write(tmp_path, torque)
    return build_job(job, JobContext(name="rule", client=rtorrent([]).client(), config=config))


@pytest.mark.parametrize(
    ("action_text", "reason"),
    [
        ("explode", "unknown action 'explode'; known actions: "),
        ("label", "action 'label' needs a value"),
        ("stop=now", "action 'stop' takes no value"),
        ("priority=5", "a priority is 0, 1, 2 or 3, got '5'"),
        ("label={{tracker_alis}}", "NameError"),
        ("label={{if}}", "value:"),
    ],
)
def test_a_bad_action_names_key_file_and_line(tmp_path: Path, action_text: str, reason: str) -> None:
    torque = (
        f"job.rule.handler = Action\njob.rule.condition = is_complete=yes\njob.rule.action = {action_text}\n"
    )
    with pytest.raises(ConfigError) as caught:
        _build(tmp_path, torque)
    message = str(caught.value)
    assert message.startswith("job.rule.action: ") and "torque.ini line 5" in message
    assert reason in message


def test_condition_and_action_are_required(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"job.rule.condition: must not be empty .*line 4"):
        _build(tmp_path, "job.rule.handler = Action\njob.rule.condition =\njob.rule.action = stop\n")
    with pytest.raises(ConfigError, match=r"needs job\.rule\.action"):
        _build(tmp_path, "job.rule.handler = Action\njob.rule.condition = name=x\n")


def test_a_template_in_a_condition_is_refused_with_its_position(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="position"):
        _build(
            tmp_path, "job.rule.handler = Action\njob.rule.condition = name={{x}}\njob.rule.action = stop\n"
        )


def test_pyrosimple_action_maps_to_ours(tmp_path: Path) -> None:
    job = _build(
        tmp_path,
        "job.rule.handler = pyrosimple.job.action:Action\njob.rule.matcher = is_complete=yes\n"
        "job.rule.action = set_custom\njob.rule.args = 1 'by {{tracker_alias}}'\n",
    )
    assert isinstance(job, PyrosimpleAction)
    assert job.options.action == "label=by {{tracker_alias}}" and job.options.condition == "is_complete=yes"


def test_a_pyrosimple_method_without_an_equivalent_is_refused(tmp_path: Path) -> None:
    with pytest.raises(JobLoadError, match="'move_to_host' has no equivalent here"):
        _build(
            tmp_path,
            "job.rule.handler = pyrosimple.job.action:Action\njob.rule.matcher = name=x\n"
            "job.rule.action = move_to_host\n",
        )


def test_once_acts_on_each_item_once_and_marks_it(caplog: pytest.LogCaptureFixture) -> None:
    fake = rtorrent([{"name": "a", "d.complete": 1}, {"name": "b", "d.complete": 1}])
    job = action(fake, condition="is_complete=yes", action="label=seen", once=True, max_per_run=1)
    for _tick in range(3):
        job.run()
    assert sent(fake, "d.custom1.set") == [
        ("d.custom1.set", (h(0), "seen")),
        ("d.custom1.set", (h(1), "seen")),
    ]
    assert [fake.items[h(i)].custom["rule_rule"] for i in (0, 1)] == ["1800000000"] * 2
    fake.add_item(h(2), "c", values={"d.complete": 1}, custom={"tm_loaded": "1"})
    job.run()
    assert sent(fake, "d.custom1.set")[-1] == ("d.custom1.set", (h(2), "seen"))
    assert len(sent(fake, "d.custom1.set")) == 3
