"""Configuration: INI syntax, overlay loading, job grouping, typed options and legacy params."""

from __future__ import annotations

import dataclasses
import importlib
import logging
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pyrotorque.bunch
from pyrotorque.config import (
    Bunch,
    Config,
    JobConfig,
    Setting,
    build_options,
    job_configs,
    legacy_params,
    load_config,
    option,
    parse_ini,
)
from pyrotorque.config.ini import Overlay
from pyrotorque.errors import ConfigError, JobLoadError

DATA = Path(__file__).parent.parent / "data"


def read_sections(text: str, path: str = "test.ini") -> dict[str, dict[str, Setting]]:
    """Parse and interpolate one file, the way the loader does."""
    overlay = Overlay({"config_dir": "/cfg"})
    overlay.add(parse_ini(text, path))
    return overlay.final


def values(section: dict[str, Setting]) -> dict[str, str]:
    return {key: setting.value for key, setting in section.items()}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "pyroscope"
    directory.mkdir()
    (directory / "config.ini").write_text("[GLOBAL]\n")
    return directory


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


# --- INI syntax -------------------------------------------------------------------------


class TestIniSyntax:
    @pytest.fixture
    def torque(self) -> dict[str, Setting]:
        path = DATA / "syntax.ini"
        return read_sections(path.read_text(), str(path))["torque"]

    def test_split_at_first_colon_or_equals(self, torque: dict[str, Setting]) -> None:
        assert torque["colon"].value == "value after a colon"
        assert torque["equals"].value == "value after an equals sign"

    def test_semicolon_is_a_comment_only_after_whitespace(self, torque: dict[str, Setting]) -> None:
        assert torque["no_comment"].value == "a;b"

    def test_hash_is_never_an_inline_comment(self, torque: dict[str, Setting]) -> None:
        assert torque["hash_kept"].value == "a # not a comment"

    def test_keys_are_case_sensitive(self, torque: dict[str, Setting]) -> None:
        assert torque["CaseKey"].value == "upper"
        assert torque["casekey"].value == "lower"

    def test_empty_values(self, torque: dict[str, Setting]) -> None:
        assert torque["empty_quotes"].value == ""
        assert torque["empty"].value == ""

    def test_continuation_lines_join_with_newline_and_skip_empty_ones(
        self, torque: dict[str, Setting]
    ) -> None:
        assert torque["multi"].value == "first\nsecond\nthird\n# indented hash is part of the value"
        assert torque["multi"].line == 14

    def test_value_with_empty_first_line_starts_with_newline(self, torque: dict[str, Setting]) -> None:
        assert torque["starts_empty"].value == "\nonly line"

    def test_interpolation(self, torque: dict[str, Setting]) -> None:
        assert torque["from_default"].value == "/srv/torrent/done"
        assert torque["from_section"].value == "value after a colon!"
        assert torque["percent"].value == "100% sure"

    def test_home_expansion_only_at_start(self, torque: dict[str, Setting]) -> None:
        assert torque["home"].value == str(Path("~/watch").expanduser())
        assert torque["not_home"].value == "x~/watch"

    def test_key_with_inner_spaces(self, torque: dict[str, Setting]) -> None:
        assert torque["key with spaces"].value == "spaced"

    def test_comments_are_not_keys(self, torque: dict[str, Setting]) -> None:
        assert not any(key.startswith(("#", ";")) for key in torque)

    def test_every_setting_knows_file_and_line(self, torque: dict[str, Setting]) -> None:
        assert torque["colon"].path == str(DATA / "syntax.ini")
        assert torque["colon"].line == 6
        assert torque["percent"].line == 23

    def test_section_names_are_lower_cased_and_merged(self) -> None:
        sections = read_sections("[Torque]\na = 1\n[TORQUE]\nb = 2\n")
        assert values(sections["torque"]) == {"a": "1", "b": "2"}

    def test_later_duplicate_key_wins(self) -> None:
        assert read_sections("[S]\na = 1\na = 2\n")["s"]["a"] == Setting("2", "test.ini", 3)

    def test_section_header_may_carry_a_comment(self) -> None:
        assert "s" in read_sections("[S]  ; note\nk = v\n")

    def test_blank_line_does_not_end_a_value(self) -> None:
        assert read_sections("[S]\nk = a\n\n  b\n")["s"]["k"].value == "a\nb"


class TestIniErrors:
    @pytest.mark.parametrize(
        ("text", "line", "fragment"),
        [
            ("key = 1\n", 1, "before any [SECTION]"),
            ("[S]\njust words\n", 2, "expected 'key = value'"),
            ("[S]\n= value\n", 2, "expected 'key = value'"),
            ("[S]\n  indented = 1\n", 2, "does not continue"),
            ("[]\n", 1, "bad section header"),
            ("[S\n", 1, "bad section header"),
            ("[S] trailing\n", 1, "bad section header"),
            ("[S]\na = 1\nb = 50% off\n", 3, "'%' must start"),
            ("[S]\na = %(nope)s\n", 2, "unknown key 'nope'"),
            ("[S]\na = %(a)s\n", 2, "cycle"),
            ("[S]\na = %(b\n", 2, "'%' must start"),
        ],
    )
    def test_errors_name_file_and_line(self, text: str, line: int, fragment: str) -> None:
        with pytest.raises(ConfigError) as info:
            read_sections(text, "/etc/x.ini")
        assert info.value.path == "/etc/x.ini"
        assert info.value.line == line
        assert fragment in str(info.value)
        assert f"(/etc/x.ini line {line})" in str(info.value)

    def test_interpolation_error_names_the_key(self) -> None:
        with pytest.raises(ConfigError) as info:
            read_sections("[S]\n\nprice = 5 %\n", "p.ini")
        assert info.value.key == "price"
        assert str(info.value).startswith("price: ")

    def test_reference_across_files_uses_what_was_loaded_so_far(self) -> None:
        overlay = Overlay({})
        overlay.add(parse_ini("[S]\nroot = /a\n", "one.ini"))
        overlay.add(parse_ini("[S]\nsub = %(root)s/b\n", "two.ini"))
        overlay.add(parse_ini("[S]\nroot = /z\n", "three.ini"))
        assert overlay.final["s"]["sub"].value == "/a/b"
        assert overlay.final["s"]["root"].value == "/z"


# --- The seed docs' example -------------------------------------------------------------


class TestSeedExample:
    @pytest.fixture
    def config(self, config_dir: Path) -> Config:
        write(config_dir, "torque.ini", (DATA / "seed-torque.ini").read_text())
        return load_config(config_dir, environ={})

    def test_multi_line_startable(self, config: Config) -> None:
        assert config.torque["job.queue.startable"].value == (
            "is_ignored=0 message= prio>0\n[ prio>2 OR [ NOT [ traits=audio kind_25=jpg,png,tif,bmp ] ] ]"
        )
        assert config.torque["job.queue.startable"].line == 11

    def test_single_line_values(self, config: Config) -> None:
        torque = values(config.torque)
        assert torque["job.queue.downloading"] == "[ prio>1 [ down>3 OR started<2i ] ]"
        assert torque["job.queue.schedule"] == "second=*/5"
        assert torque["job.queue.intermission"] == "60"
        assert torque["job.queue.downloading_max"] == "3"
        assert torque["job.treewatch.path"] == "/var/torrent/watch"
        assert torque["job.treewatch.cmd.tif"] == "f.multicall=*.tif,f.priority.set=0"

    def test_template_spanning_two_lines(self, config: Config) -> None:
        assert config.torque["job.treewatch.cmd.target"].value == (
            "{{# set target path\n}}d.custom.set=targetdir,/var/torrent/done/{{label}}/{{relpath}}"
        )

    def test_user_values_overlay_package_defaults(self, config: Config) -> None:
        jobs = {job.name: job for job in job_configs(config)}
        queue = jobs["queue"]
        assert queue.active is True
        assert queue.schedule.value == "second=*/5"
        assert queue.params["downloading_max"].path.endswith("torque.ini")
        assert queue.params["downloading_max"].line == 10
        # Untouched keys keep the package default.
        assert queue.params["downloading_min"].value == "1"
        assert queue.params["sort_fields"].value == "-prio, loaded, name"
        assert queue.handler.value == "pyrotorque.jobs.queue:QueueManager"
        watch = jobs["treewatch"]
        assert sorted(key for key in watch.params if key.startswith("cmd.")) == [
            "cmd.jpg",
            "cmd.nfo",
            "cmd.png",
            "cmd.target",
            "cmd.tif",
        ]
        assert jobs["connstats"].active is True
        assert jobs["exporter"].active is False


# --- Loading and overlay ----------------------------------------------------------------


class TestLoadConfig:
    def test_package_defaults_alone(self, config_dir: Path) -> None:
        config = load_config(config_dir, environ={})
        assert config.config_dir == config_dir
        assert config.torque["job.queue.downloading_max"].value == "9"
        assert config.torque["queue_startable_base"].value == "is_open=no is_active=no is_complete=no"
        assert config.global_value("rtorrent_rc") == str(Path("~/.rtorrent.rc").expanduser())
        assert config.global_value("scgi_url") == ""
        assert config.global_value("no_such_key", "fallback") == "fallback"
        assert len(config.files) == 3

    def test_overlay_order_key_by_key(self, config_dir: Path) -> None:
        write(
            config_dir, "config.ini", "[TORQUE]\njob.queue.downloading_max = 4\njob.queue.start_at_once = 2\n"
        )
        write(config_dir, "torque.ini", "[TORQUE]\njob.queue.downloading_max = 5\n")
        (config_dir / "extra").mkdir()
        write(config_dir / "extra", "more.ini", "[TORQUE]\njob.queue.start_at_once = 3\n")
        config = load_config(config_dir, extra_files=["extra/more.ini"], environ={})
        torque = config.torque
        assert torque["job.queue.downloading_max"].value == "5"
        assert torque["job.queue.downloading_max"].path == str(config_dir / "torque.ini")
        assert torque["job.queue.start_at_once"].value == "3"
        assert torque["job.queue.start_at_once"].path == str(config_dir / "extra" / "more.ini")
        assert torque["job.queue.intermission"].value == "0"
        assert config.files[-3:] == [
            str(config_dir / "config.ini"),
            str(config_dir / "torque.ini"),
            str(config_dir / "extra" / "more.ini"),
        ]

    def test_absolute_extra_file(self, config_dir: Path, tmp_path: Path) -> None:
        extra = write(tmp_path, "abs.ini", "[GLOBAL]\nfoo = bar\n")
        assert load_config(config_dir, extra_files=[str(extra)], environ={}).global_value("foo") == "bar"

    def test_missing_extra_file_is_an_error(self, config_dir: Path) -> None:
        with pytest.raises(ConfigError) as info:
            load_config(config_dir, extra_files=["nope.ini"], environ={})
        assert info.value.path == str(config_dir / "nope.ini")

    def test_missing_config_ini_is_debug(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        # config.ini is optional: no warning on every start, only a DEBUG line for -v.
        with caplog.at_level(logging.DEBUG, logger="pyrotorque.config"):
            config = load_config(tmp_path, environ={})
        missing = [record for record in caplog.records if "config.ini not found" in record.getMessage()]
        assert [record.levelno for record in missing] == [logging.DEBUG]
        assert config.torque["job.connstats.active"].value == "yes"

    def test_missing_torque_ini_is_silent(self, config_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.WARNING, logger="pyrotorque.config"):
            load_config(config_dir, environ={})
        assert caplog.text == ""

    def test_config_dir_from_environment(self, config_dir: Path) -> None:
        write(config_dir, "torque.ini", "[GLOBAL]\nwhere = env\n")
        config = load_config(environ={"PYRO_CONFIG_DIR": str(config_dir)})
        assert config.config_dir == config_dir
        assert config.global_value("where") == "env"

    def test_argument_beats_environment(self, config_dir: Path, tmp_path: Path) -> None:
        config = load_config(config_dir, environ={"PYRO_CONFIG_DIR": str(tmp_path / "other")})
        assert config.config_dir == config_dir

    def test_default_config_dir(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("HOME", str(tmp_path))
        assert load_config(environ={}).config_dir == tmp_path / ".pyroscope"

    def test_config_dir_is_available_for_interpolation(self, config_dir: Path) -> None:
        write(config_dir, "torque.ini", "[GLOBAL]\nlog_dir = %(config_dir)s/log\n")
        assert load_config(config_dir, environ={}).global_value("log_dir") == f"{config_dir}/log"

    def test_defines_set_global_keys(self, config_dir: Path) -> None:
        config = load_config(config_dir, defines=["scgi_url=scgi://127.0.0.1:5000", "x = a=b"], environ={})
        assert config.global_value("scgi_url") == "scgi://127.0.0.1:5000"
        assert config.global_value("x") == "a=b"
        assert config.section("GLOBAL")["x"].path == "command line -D"

    @pytest.mark.parametrize("define", ["novalue", "=value", "two words=1"])
    def test_bad_define(self, config_dir: Path, define: str) -> None:
        with pytest.raises(ConfigError, match="expected KEY=VALUE"):
            load_config(config_dir, defines=[define], environ={})

    def test_syntax_error_in_user_file_names_it(self, config_dir: Path) -> None:
        write(config_dir, "torque.ini", "[TORQUE]\n\njob.queue.active\n")
        with pytest.raises(ConfigError) as info:
            load_config(config_dir, environ={})
        assert (info.value.path, info.value.line) == (str(config_dir / "torque.ini"), 3)

    def test_binary_file_is_a_config_error(self, config_dir: Path) -> None:
        (config_dir / "torque.ini").write_bytes(b"[TORQUE]\nk = \xff\n")
        with pytest.raises(ConfigError, match="UTF-8"):
            load_config(config_dir, environ={})

    def test_announce_aliases(self, config_dir: Path) -> None:
        write(config_dir, "config.ini", (DATA / "user-config.ini").read_text())
        config = load_config(config_dir, environ={})
        aliases = config.announce_aliases()
        assert aliases["Example"] == ["http://tracker.example.org/announce", "udp://tracker.example.org:6969"]
        assert aliases["Debian"] == ["http://bttracker.debian.org:6969/announce"]
        assert config.global_value("scgi_url") == "scgi:///tmp/rtorrent.sock"


# --- Job grouping -----------------------------------------------------------------------


def load_torque(config_dir: Path, text: str) -> Config:
    write(config_dir, "torque.ini", "[TORQUE]\n" + text)
    return load_config(config_dir, environ={})


def jobs_by_name(config: Config, dry_run: bool = False) -> dict[str, JobConfig]:
    return {job.name: job for job in job_configs(config, dry_run=dry_run)}


class TestJobConfigs:
    def test_package_jobs_in_order(self, config_dir: Path) -> None:
        jobs = job_configs(load_config(config_dir, environ={}))
        assert [job.name for job in jobs] == ["connstats", "queue", "treewatch", "exporter"]
        assert [job.active for job in jobs] == [True, False, False, False]

    def test_param_split_into_at_most_three_parts(self, config_dir: Path) -> None:
        config = load_torque(
            config_dir,
            "job.mine.handler = a.b:C\njob.mine.schedule = hour=*\n"
            "job.mine.cmd.nfo = x\njob.mine.a.b.c = y\n",
        )
        mine = jobs_by_name(config)["mine"]
        assert set(mine.params) == {"cmd.nfo", "a.b.c"}
        assert mine.key("cmd.nfo") == "job.mine.cmd.nfo"

    def test_common_keys_are_not_params(self, config_dir: Path) -> None:
        config = load_torque(config_dir, "job.queue.log_level = debug\n")
        queue = jobs_by_name(config)["queue"]
        assert not {"handler", "schedule", "active", "dry_run", "log_level"} & set(queue.params)
        assert queue.log_level == "DEBUG"

    @pytest.mark.parametrize("key", ["job.foo", "job..x", "job.foo."])
    def test_bad_job_key(self, config_dir: Path, key: str) -> None:
        config = load_torque(config_dir, f"{key} = 1\n")
        with pytest.raises(ConfigError) as info:
            job_configs(config)
        assert info.value.key == key
        assert (info.value.path, info.value.line) == (str(config_dir / "torque.ini"), 2)

    def test_other_torque_keys_are_ignored(self, config_dir: Path) -> None:
        config = load_torque(config_dir, "jobs_are_nice = 1\nhttpd.active = no\n")
        assert "jobs_are_nice" not in jobs_by_name(config)

    @pytest.mark.parametrize("missing", ["handler", "schedule"])
    def test_required_keys(self, config_dir: Path, missing: str) -> None:
        present = {"handler": "a:B", "schedule": "hour=*"}
        del present[missing]
        text = "job.new.dry_run = no\n" + "".join(f"job.new.{k} = {v}\n" for k, v in present.items())
        with pytest.raises(ConfigError) as info:
            job_configs(load_torque(config_dir, text))
        assert info.value.key == f"job.new.{missing}"
        assert f"{config_dir / 'torque.ini'} line 2" in str(info.value)

    def test_active_defaults_to_true(self, config_dir: Path) -> None:
        config = load_torque(config_dir, "job.new.handler = a:B\njob.new.schedule = hour=*\n")
        new = jobs_by_name(config)["new"]
        assert (new.active, new.dry_run, new.log_level, new.params) == (True, False, None, {})

    def test_dry_run_from_key_or_global_flag(self, config_dir: Path) -> None:
        config = load_torque(config_dir, "job.treewatch.dry_run = yes\n")
        assert jobs_by_name(config)["treewatch"].dry_run is True
        assert jobs_by_name(config)["queue"].dry_run is False
        assert jobs_by_name(config, dry_run=True)["queue"].dry_run is True

    @pytest.mark.parametrize(
        ("text", "key"),
        [
            ("job.queue.active = maybe\n", "job.queue.active"),
            ("job.queue.dry_run = 2\n", "job.queue.dry_run"),
            ("job.queue.log_level = LOUD\n", "job.queue.log_level"),
        ],
    )
    def test_bad_common_values(self, config_dir: Path, text: str, key: str) -> None:
        with pytest.raises(ConfigError) as info:
            job_configs(load_torque(config_dir, text))
        assert info.value.key == key
        assert info.value.line == 2

    def test_log_level_names_are_normalised(self, config_dir: Path) -> None:
        config = load_torque(config_dir, "job.queue.log_level = warn\n")
        assert jobs_by_name(config)["queue"].log_level == "WARNING"


# --- Typed options ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SampleOptions:
    """Options using every supported field type."""

    count: int = 1
    offset: int = 0
    ratio: float = 1.5
    enabled: bool = False
    label: str = "none"
    target: Path = Path("/tmp")
    fields: tuple[str, ...] = ("a",)
    roots: tuple[Path, ...] = option((), separator=":")
    cmd: dict[str, str] = dataclasses.field(default_factory=dict)
    limit: int | None = None
    slots: int = option(3, minimum=0, maximum=10)
    mode: str = option("normal", choices=("normal", "start", "started"))
    groups: tuple[str, ...] = option(("system",), choices=("system", "tracker", "item"))
    even: int = option(2, check=lambda value: None if value % 2 == 0 else "must be even")


def sample_job(params: dict[str, str], name: str = "sample") -> JobConfig:
    settings = {
        key: Setting(value, "/cfg/torque.ini", number)
        for number, (key, value) in enumerate(params.items(), 20)
    }
    return JobConfig(
        name=name,
        handler=Setting("tests:Sample", "/cfg/torque.ini", 10),
        schedule=Setting("hour=*", "/cfg/torque.ini", 11),
        params=settings,
    )


class TestBuildOptions:
    def test_defaults_when_nothing_is_given(self) -> None:
        assert build_options(SampleOptions, sample_job({})) == SampleOptions()

    def test_every_type(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HOME", "/home/tester")
        options = build_options(
            SampleOptions,
            sample_job(
                {
                    "count": "42",
                    "offset": "-7",
                    "ratio": "0.25",
                    "enabled": "Yes",
                    "label": "  spaced text ",
                    "target": "~/done",
                    "fields": "-prio, loaded name,,alias",
                    "roots": "/a/b:~/c",
                    "cmd.tif": "f.priority.set=0",
                    "cmd.nfo": "f.priority.set=2",
                    "limit": "5",
                }
            ),
        )
        assert options.count == 42
        assert options.offset == -7
        assert options.ratio == 0.25
        assert options.enabled is True
        assert options.label == "  spaced text "
        assert options.target == Path("/home/tester/done")
        assert options.fields == ("-prio", "loaded", "name", "alias")
        assert options.roots == (Path("/a/b"), Path("/home/tester/c"))
        assert options.cmd == {"nfo": "f.priority.set=2", "tif": "f.priority.set=0"}
        assert list(options.cmd) == ["nfo", "tif"]
        assert options.limit == 5

    @pytest.mark.parametrize(
        ("word", "expected"),
        [
            *((word, True) for word in ["yes", "TRUE", "On", "1", "y", "Y", "+", "t"]),
            *((word, False) for word in ["no", "False", "OFF", "0", "n", "-", "f"]),
        ],
    )
    def test_bool_words(self, word: str, expected: bool) -> None:
        assert build_options(SampleOptions, sample_job({"enabled": word})).enabled is expected

    def test_optional_empty_is_none(self) -> None:
        assert build_options(SampleOptions, sample_job({"limit": ""})).limit is None

    def test_empty_tuple(self) -> None:
        assert build_options(SampleOptions, sample_job({"fields": ""})).fields == ()

    @pytest.mark.parametrize(
        ("key", "value", "message"),
        [
            ("count", "ten", "expected an integer, got 'ten'"),
            ("count", "1.5", "expected an integer, got '1.5'"),
            ("count", "1_000", "expected an integer"),
            ("ratio", "nan", "expected a number, got 'nan'"),
            ("enabled", "maybe", "expected a boolean"),
            ("target", "", "expected a path"),
            ("limit", "x", "expected an integer"),
            ("slots", "-1", "must be at least 0, got -1"),
            ("slots", "11", "must be at most 10, got 11"),
            ("mode", "fast", "must be one of normal, start, started, got 'fast'"),
            ("groups", "system,bogus", "must be one of system, tracker, item, got 'bogus'"),
            ("even", "3", "must be even"),
        ],
    )
    def test_bad_values(self, key: str, value: str, message: str) -> None:
        with pytest.raises(ConfigError) as info:
            build_options(SampleOptions, sample_job({"label": "x", key: value}))
        assert info.value.key == f"job.sample.{key}"
        assert str(info.value) == f"job.sample.{key}: {info.value.reason} (/cfg/torque.ini line 21)"
        assert message in info.value.reason

    def test_message_format_from_the_architecture_doc(self, config_dir: Path) -> None:
        @dataclasses.dataclass(frozen=True)
        class QueueLike:
            downloading_max: int = 9

        config = load_torque(
            config_dir, "job.q.handler = x:Y\njob.q.schedule = hour=*\n\n\njob.q.downloading_max = ten\n"
        )
        with pytest.raises(ConfigError) as info:
            build_options(QueueLike, jobs_by_name(config)["q"])
        assert str(info.value) == (
            f"job.q.downloading_max: expected an integer, got 'ten' ({config_dir / 'torque.ini'} line 6)"
        )

    @pytest.mark.parametrize("key", ["colour", "count.sub", "cmd", "cmd."])
    def test_unknown_keys(self, key: str) -> None:
        with pytest.raises(ConfigError) as info:
            build_options(SampleOptions, sample_job({key: "1"}))
        assert info.value.key == f"job.sample.{key}"
        assert info.value.line == 20
        assert "unknown key for handler 'tests:Sample'" in str(info.value)
        assert "cmd.NAME" in str(info.value)

    def test_required_field(self) -> None:
        @dataclasses.dataclass(frozen=True)
        class NeedsPath:
            path: str

        with pytest.raises(ConfigError) as info:
            build_options(NeedsPath, sample_job({}))
        assert info.value.key == "job.sample.path"
        assert info.value.line == 10

    def test_no_options_class_rejects_everything(self) -> None:
        from pyrotorque.jobs.base import NoOptions

        assert build_options(NoOptions, sample_job({})) == NoOptions()
        with pytest.raises(ConfigError, match="accepts: none"):
            build_options(NoOptions, sample_job({"x": "1"}))

    def test_post_init_errors_become_config_errors(self) -> None:
        @dataclasses.dataclass(frozen=True)
        class Ordered:
            low: int = 1
            high: int = 2

            def __post_init__(self) -> None:
                if self.low > self.high:
                    raise ValueError("low must not exceed high")

        with pytest.raises(ConfigError, match="low must not exceed high"):
            build_options(Ordered, sample_job({"low": "5"}))

    def test_not_a_dataclass(self) -> None:
        with pytest.raises(JobLoadError):
            build_options(dict, sample_job({}))

    def test_second_job_gets_the_handler_defaults_not_the_first_jobs_values(self, config_dir: Path) -> None:
        @dataclasses.dataclass(frozen=True)
        class QueueLike:
            downloading_max: int = 9
            intermission: int = 0

        config = load_torque(
            config_dir,
            "job.first.handler = x:Q\njob.first.schedule = hour=*\njob.first.downloading_max = 2\n"
            "job.second.handler = x:Q\njob.second.schedule = hour=*\njob.second.intermission = 60\n",
        )
        jobs = jobs_by_name(config)
        assert build_options(QueueLike, jobs["first"]) == QueueLike(downloading_max=2)
        assert build_options(QueueLike, jobs["second"]) == QueueLike(intermission=60)


BUILTIN_HANDLERS = {
    "connstats": "pyrotorque.jobs.engine_stats:EngineStats",
    "queue": "pyrotorque.jobs.queue:QueueManager",
    "treewatch": "pyrotorque.jobs.treewatch:TreeWatch",
    "exporter": "pyrotorque.jobs.exporter:RtorrentExporter",
}


@pytest.mark.parametrize("name", sorted(BUILTIN_HANDLERS))
def test_package_defaults_match_the_options_dataclass(config_dir: Path, name: str) -> None:
    """torque.ini and the handler's Options must agree, or job.NAME2 would behave differently."""
    module_name, _, class_name = BUILTIN_HANDLERS[name].partition(":")
    module = importlib.import_module(module_name)  # a built-in job: failing to import is a failure
    handler = getattr(module, class_name)
    job = jobs_by_name(load_config(config_dir, environ={}))[name]
    assert job.handler.value == BUILTIN_HANDLERS[name]
    assert build_options(handler.Options, job) == handler.Options()


# --- Legacy params ----------------------------------------------------------------------


class TestLegacyParams:
    @pytest.fixture
    def params(self) -> Bunch:
        job = JobConfig(
            name="old",
            handler=Setting("mypkg.jobs:OldJob", "t.ini", 1),
            schedule=Setting('hour=12 "day=3rd sun"', "t.ini", 2),
            active=True,
            dry_run=True,
            log_level="DEBUG",
            params={
                key: Setting(value, "t.ini", 3)
                for key, value in {
                    "one": "1",
                    "zero": "0",
                    "big": "120",
                    "yes": "yes",
                    "plus": "+",
                    "no": "N",
                    "negative": "-1",
                    "float": "0.5",
                    "on": "on",
                    "text": "hello",
                    "cmd.nfo": "f.multicall=*.nfo",
                }.items()
            },
        )
        return legacy_params(job)

    def test_digits_become_int_before_bools(self, params: Bunch) -> None:
        assert params.one == 1 and type(params.one) is int
        assert params.zero == 0 and type(params.zero) is int
        assert params.big == 120

    def test_truth_words_become_bool(self, params: Bunch) -> None:
        assert params.yes is True
        assert params.plus is True
        assert params.no is False

    def test_other_values_stay_strings(self, params: Bunch) -> None:
        assert params.negative == "-1"
        assert params.float == "0.5"
        assert params.on == "on"
        assert params.text == "hello"
        assert params["cmd.nfo"] == "f.multicall=*.nfo"

    def test_daemon_supplied_keys(self, params: Bunch) -> None:
        assert params.job_name == "old"
        assert params.dry_run is True
        assert params.active is True
        assert params.handler == "mypkg.jobs:OldJob"
        assert params.log_level == "DEBUG"
        assert params.schedule == {"hour": "12", "day": "3rd sun"}

    def test_attribute_access(self, params: Bunch) -> None:
        params.extra = 5
        assert params["extra"] == 5
        del params.extra
        with pytest.raises(AttributeError):
            _ = params.extra
        assert not hasattr(params, "missing")
        with pytest.raises(AttributeError, match=r"^missing$"):
            del params.missing

    def test_bunch_is_the_shared_class(self, params: Bunch) -> None:
        assert type(params) is Bunch is pyrotorque.bunch.Bunch


def test_public_api_is_importable() -> None:
    module = importlib.import_module("pyrotorque.config")
    for name in module.__all__:
        assert hasattr(module, name), name


def test_option_default_factory_and_help() -> None:
    @dataclasses.dataclass(frozen=True)
    class WithFactory:
        cmd: dict[str, str] = option(default_factory=lambda: {"a": "b"}, help="extra commands")  # noqa: RUF009

    assert build_options(WithFactory, sample_job({})).cmd == {"a": "b"}
    assert build_options(WithFactory, sample_job({"cmd.z": "y"})).cmd == {"z": "y"}
    assert dataclasses.fields(WithFactory)[0].metadata["help"] == "extra commands"


_KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,20}", fullmatch=True)
_LINES = st.from_regex(r"[^\s%;\[\]]([^%;\n\r]{0,30}[^\s%;])?", fullmatch=True).filter(
    lambda text: text != '""' and text.isprintable()
)


@given(st.dictionaries(_KEYS, st.lists(_LINES, min_size=1, max_size=3), min_size=1, max_size=8))
def test_written_values_read_back(entries: dict[str, list[str]]) -> None:
    """Any key with a (multi-line) value written in INI form reads back exactly, with its line."""
    text = "[S]\n"
    lines: dict[str, int] = {}
    for key, parts in entries.items():
        lines[key] = text.count("\n") + 1
        text += f"{key} = {parts[0]}\n" + "".join(f"    {part}\n" for part in parts[1:])
    section = read_sections(text)["s"]
    assert {key: setting.value for key, setting in section.items()} == {
        key: "\n".join(parts) for key, parts in entries.items()
    }
    assert {key: setting.line for key, setting in section.items()} == lines
