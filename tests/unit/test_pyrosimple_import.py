"""``--import-pyrosimple``: pyrosimple's documented examples become a torque.ini our loader builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrotorque.cli import main
from pyrotorque.config import job_configs, load_config
from pyrotorque.config.ini import parse_ini
from pyrotorque.jobs.base import JobContext
from pyrotorque.jobs.loader import build_job
from pyrotorque.pyrosimple_import import convert_file, convert_toml, values
from tests.support.fake_rtorrent import FakeRtorrent

SAMPLES = Path(__file__).parents[1] / "data" / "pyrosimple"


def sample(tmp_path: Path, name: str) -> Path:
    """A sample config with @WATCH@ pointing at a real folder."""
    (tmp_path / "watch").mkdir(exist_ok=True)
    path = tmp_path / name
    path.write_text((SAMPLES / name).read_text().replace("@WATCH@", str(tmp_path / "watch")))
    return path


def test_every_job_kind_round_trips_into_built_jobs(tmp_path: Path) -> None:
    conversion = convert_file(sample(tmp_path, "every-job.toml"))
    assert conversion.warnings == [
        "[TORQUE._settings] pid_file = /run/user/1000/pyrotorque.pid: use --pid-file "
        "(default <config dir>/run/pyrotorque.pid)"
    ]
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    (config_dir / "torque.ini").write_text(conversion.text)
    config = load_config(config_dir, environ={})
    assert config.global_value("scgi_url") == str(Path("~/rtorrent/.scgi_local").expanduser())
    assert config.announce_aliases()["ArchOrg"] == [
        "http://bt1.archive.org:6969/announce",
        "http://bt2.archive.org:6969/announce",
    ]
    active = [job for job in job_configs(config) if job.active]
    built = {
        job.name: build_job(job, JobContext(name=job.name, client=FakeRtorrent().client(), config=config))
        for job in active
    }
    kinds = {name: type(job).__name__ for name, job in built.items()}
    assert kinds == {
        "stats": "EngineStats",
        "load": "TreeWatch",
        "start": "QueueManager",
        "metrics": "RtorrentExporter",
        "stop_well_seeded": "PyrosimpleAction",
        "send_mail": "Command",
        "log_messages": "ItemCommand",
    }
    queue = built["start"].options
    assert (queue.startable, queue.downloading_max, queue.intermission, queue.quiet) == (
        "custom_loaded_by=pyrotorque is_ignored=no prio>0",
        20,
        120.0,
        True,
    )
    assert (queue.sort_fields, queue.downloading_min) == ("name,hash", 0)
    watch = built["load"].options
    assert watch.cmd == {
        "label": "{{if 'TV' in flags}}d.custom1.set=TV{{endif}}",
        "set_custom_fields": values.TEMPLATE_MARK
        + "d.custom.set=loaded_by,pyrotorque\nd.custom.set=tracker_alias,{{tracker_alias}}",
    }
    exporter = built["metrics"].options
    assert (exporter.addr, exporter.item_stats) == ("0.0.0.0", ("d.down.total", "d.up.total"))
    assert built["log_messages"].options.action == "exec=logger -t rtorrent '{{item.hash}} is {{item.name}}'"
    assert built["send_mail"].options.shell is True


def test_keys_without_an_equivalent_are_warnings_on_stderr_and_comments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--import-pyrosimple", str(SAMPLES / "no-equivalent.toml")]) == 0
    out, err = capsys.readouterr()
    expected = [
        "[TORQUE] autoreload = yes: no equivalent: send SIGHUP",
        "[TORQUE.watch] remove_already_added: no equivalent: our tree watch never deletes a metafile",
        "[TORQUE.watch] cmd_guess: 'guessit' has no equivalent",
        "[TORQUE.watch] cmd_guess: Jinja filter 'upper' has no equivalent",
        "[TORQUE.queue] scgi_url: no equivalent",
        "[TORQUE.queue] fast_start: has no equivalent for QueueManager",
        "[TORQUE.log_messaages] shell: no equivalent",
    ]
    err_lines = err.splitlines()
    assert len(err_lines) == len(expected)
    for line, start in zip(err_lines, expected, strict=True):
        assert line.startswith(f"pyrotorque: import: {start}")
        assert f"# WARNING: {line.removeprefix('pyrotorque: import: ')}" in out
    torque = parse_ini(out, "out")["torque"]
    assert torque["job.log_messaages.active"].value == "no"  # a shell job cannot run here as it was
    assert "job.queue.scgi_url" not in torque and "job.watch.remove_already_added" not in torque


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[TORQUE.queue]\nschedule = "minute=*\n', "not a valid TOML file: Illegal character"),
        (b"\xff\xfe[TORQUE]", "not a UTF-8 text file"),
    ],
)
def test_a_bad_file_is_a_config_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | bytes, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert main(["--import-pyrosimple", str(path)]) == 78
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"pyrotorque: configuration error: {message}") and str(path) in err


def test_the_bad_sample_and_a_missing_file_exit_78(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--import-pyrosimple", str(SAMPLES / "bad.toml")]) == 78
    assert "(at line 3, column 21)" in capsys.readouterr().err
    assert main(["--import-pyrosimple", str(tmp_path / "nowhere.toml")]) == 78
    assert "cannot read pyrosimple configuration: No such file" in capsys.readouterr().err


def test_it_goes_with_no_other_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--import-pyrosimple", "x.toml", "--check"])
    assert caught.value.code == 2
    assert "cannot be combined with --check" in capsys.readouterr().err


def test_a_job_named_like_a_package_job_of_another_kind_is_renamed() -> None:
    data = {
        "TORQUE": {"queue": {"handler": "pyrosimple.job.watch:TreeWatch", "schedule": "hour=*", "path": "/"}}
    }
    conversion = convert_toml(data)
    torque = parse_ini(conversion.text, "out")["torque"]
    assert torque["job.queue_imported.handler"].value == "TreeWatch"
    assert any("written as 'queue_imported'" in warning for warning in conversion.warnings)


def test_pyrocore_names_rewritten_as_pyrosimple_did() -> None:
    data = {"TORQUE": {"w": {"handler": "pyrocore.job.watch:TreeWatch", "schedule": "hour=*", "path": "/"}}}
    assert "job.w.handler = TreeWatch" in convert_toml(data).text


@pytest.mark.parametrize(
    ("pyrosimple", "ours"),
    [
        ("minute=*/15", "minute=*/15"),
        ("day_of_week=mon-fri hour=3 jitter=10", "day_of_week=mon-fri hour=3 jitter=10"),
    ],
)
def test_schedules(pyrosimple: str, ours: str) -> None:
    assert values.schedule(pyrosimple) == (ours, [])


def test_a_bad_schedule_is_a_warning() -> None:
    text, notes = values.schedule("minutes=5")
    assert text == "minutes=5" and "unknown schedule field" in notes[0]


def test_plain_commands_split_at_blanks_outside_quotes_and_keep_percent_signs() -> None:
    text, notes = values.load_command('d.custom.set=a,1 d.directory.set="/data/My Movies" x=50%')
    assert notes == []
    assert text == 'd.custom.set=a,1\nd.directory.set="/data/My Movies"\nx=50%%'
    written, _problem = values.ini_value(text)
    assert written is not None
    read = parse_ini(f"[X]\nk = {written}\n", "t")["x"]["k"].value
    assert read == 'd.custom.set=a,1\nd.directory.set="/data/My Movies"\nx=50%%%%'


def test_jinja_becomes_tempita() -> None:
    text, notes = values.load_command(
        "{# set dir #}{%- if 'music' in flags -%}d.directory.set=/m/{{ rel_path|pathbase }}"
        "{% else %}x{% endif %}"
    )
    assert notes == []
    assert (
        text
        == "{{# set dir}}{{if 'music' in flags}}d.directory.set=/m/{{relpath|h.pathbase}}{{else}}x{{endif}}"
    )


def test_a_value_our_ini_reader_cannot_carry_is_not_written() -> None:
    data = {
        "TORQUE": {"a": {"handler": "pyrosimple.job.action:Command", "schedule": "hour=*", "args": "x ; y"}}
    }
    conversion = convert_toml(data)
    assert "# WARNING: job.a.args not written: a ';' after a blank" in conversion.text
    assert any(warning.startswith("job.a.args: a ';'") for warning in conversion.warnings)
