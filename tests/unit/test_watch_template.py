"""Load command templates of the tree watch: rendering, escaping, flags, namespace, errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tempita
from hypothesis import given
from hypothesis import strategies as st

from pyrotorque.bunch import Bunch
from pyrotorque.config.ini import parse_ini
from pyrotorque.errors import TemplateError
from pyrotorque.jobs.treewatch.templates import (
    HELPERS,
    LoadCommand,
    path_flags,
    template_namespace,
)
from pyrotorque.metafile import Metafile
from pyrotorque.rtorrent.commands import rtorrent_escape

ROOT = Path("/var/torrent/watch")
ALIASES = {"EXAMPLE": ["http://tracker.example.org:6969/announce"]}

# The settings as a user writes them in torque.ini (read with our INI reader, which joins the
# continuation lines with "\n" after stripping them).
TORQUE_INI = """\
[TORQUE]
job.treewatch.cmd.nfo = f.multicall=*.nfo,f.priority.set=2
job.treewatch.cmd.target = {{# set target path
    }}d.custom.set=targetdir,/var/torrent/done/{{label}}/{{relpath}}
job.watch-sorted.cmd.setdir = {{# comment
    }}{{if '/music/' in pathname}}d.directory_base.set="/srv/sorted/{{relpath}}/{{pathname|h.pathname}}"{{#
    }}{{elif traits.kind == 'tv'}}d.directory.set="/srv/sorted/{{relpath}}/{{traits.get('show', 'X').title()}}"{{#
    }}{{else}}d.directory.set="/srv/sorted/{{relpath}}"{{#
    }}{{endif}}
"""  # noqa: E501  (the example exactly as the brief gives it)


def metafile(name: str, files: list[tuple[str, int]] | None = None, announce: str = "") -> Metafile:
    entries = (
        tuple((tuple(path.split("/")), length) for path, length in files)
        if files is not None
        else (((name,), 1000),)
    )
    return Metafile(
        path=None,
        data=b"",
        info_hash="0123456789ABCDEF0123456789ABCDEF01234567",
        name=name,
        announce=announce,
        files=entries,
        is_multi_file=files is not None,
    )


def commands() -> dict[str, LoadCommand]:
    settings = parse_ini(TORQUE_INI, "torque.ini")["torque"]
    return {
        key: LoadCommand.parse(key, setting.value, config_dir=Path("/nonexistent"))
        for key, setting in settings.items()
    }


def namespace_for(meta: Metafile, relative: str) -> dict[str, Any]:
    return template_namespace(meta, ROOT / relative, ROOT, [ROOT, Path("/srv/other")], ALIASES)


def parse(text: str, name: str = "job.treewatch.cmd.test", config_dir: Path = Path("/x")) -> LoadCommand:
    return LoadCommand.parse(name, text, config_dir=config_dir)


# -- the examples of the docs ------------------------------------------------------------------


def test_plain_command_stays_byte_identical() -> None:
    command = commands()["job.treewatch.cmd.nfo"]
    meta = metafile("Some.Show.S01E02.720p.HDTV.x264-GRP.mkv")
    assert command.render(namespace_for(meta, "tv/foo.torrent")) == "f.multicall=*.nfo,f.priority.set=2"


def test_target_example_renders_label_and_relpath() -> None:
    command = commands()["job.treewatch.cmd.target"]
    assert command.text.startswith("{{# set target path\n}}d.custom.set=")
    meta = metafile("Some.Show.S01E02.720p.HDTV.x264-GRP.mkv")
    rendered = command.render(namespace_for(meta, "tv/new/foo.torrent"))
    assert rendered == "d.custom.set=targetdir,/var/torrent/done/tv/mkv/tv/new"


@pytest.mark.parametrize(
    ("name", "files", "relative", "expected"),
    [
        (
            "Band - Album",
            [("01 Song.flac", 9000), ("cover.jpg", 100)],
            "music/rock/Band - Album.torrent",
            'd.directory_base.set="/srv/sorted/music/rock/Band\\ -\\ Album"',
        ),
        (
            "some.show.s02e03.1080p.web.h264-grp.mkv",
            None,
            "tv/foo.torrent",
            'd.directory.set="/srv/sorted/tv/Some\\ Show"',
        ),
        ("Manual.pdf", None, "docs/x.torrent", 'd.directory.set="/srv/sorted/docs"'),
    ],
)
def test_sorted_directory_example(
    name: str, files: list[tuple[str, int]] | None, relative: str, expected: str
) -> None:
    command = commands()["job.watch-sorted.cmd.setdir"]
    assert command.render(namespace_for(metafile(name, files), relative)) == expected


def test_show_default_applies_when_the_name_has_no_show() -> None:
    command = commands()["job.watch-sorted.cmd.setdir"]
    namespace = namespace_for(metafile("x.mkv"), "a/b.torrent")
    namespace["traits"] = type(namespace["traits"])(kind="tv")
    assert command.render(namespace) == 'd.directory.set="/srv/sorted/a/X"'


# -- plain commands and %-interpolation ----------------------------------------------------------


def test_percent_reference_is_replaced_escaped() -> None:
    command = parse("d.custom.set=origin,%(tracker_alias)s/%(info_name)s 100%%")
    assert command.render({"tracker_alias": "EX", "info_name": "a,b;c"}) == (
        "d.custom.set=origin,EX/a\\,b\\;c 100%"
    )


@pytest.mark.parametrize("text", ["d.custom.set=x,50%", "d.custom.set=x,%s", "a%(label)d", "%"])
def test_bad_percent_is_refused_when_parsed(text: str) -> None:
    with pytest.raises(TemplateError, match=r"^job\.treewatch\.cmd\.test: .*'%"):
        parse(text)


def test_unknown_percent_name_is_refused_when_rendered() -> None:
    with pytest.raises(TemplateError, match=r"job\.treewatch\.cmd\.test: '%\(nope\)s' names an unknown"):
        parse("d.custom.set=x,%(nope)s").render({})


def test_tempita_text_is_not_percent_interpolated() -> None:
    assert parse("{{#}}d.custom.set=x,50%").render({}) == "d.custom.set=x,50%"


def test_blank_result_means_no_command() -> None:
    assert parse("{{if False}}d.start={{endif}}").render({}) == ""


def test_literal_template_text_is_not_escaped() -> None:
    text = '{{#}}d.custom.set=a,"b c";d.custom.set=d,{e,f}'
    assert parse(text).render({}) == text[len("{{#}}") :]


def test_expression_values_are_escaped() -> None:
    command = parse("{{#}}d.custom.set=a,{{value}}|{{number}}|{{nothing}}")
    assert command.render({"value": "x y,z", "number": 42, "nothing": None}) == (
        "d.custom.set=a,x\\ y\\,z|42|"
    )


def test_rtescape_helper_adds_one_level_for_nested_commands() -> None:
    command = parse('{{#}}d.multicall2=,"d.custom.set=a,{{value|h.rtescape}}"')
    assert command.render({"value": "x,y", "h": HELPERS}) == 'd.multicall2=,"d.custom.set=a,x\\\\\\,y"'


# -- file: templates -----------------------------------------------------------------------------


def test_file_template_relative_to_config_templates(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "target.txt").write_text("{{#}}d.custom.set=t,{{label}}\n\n", encoding="utf-8")
    command = parse("file:target.txt", config_dir=tmp_path)
    assert command.render({"label": "tv/mkv"}) == "d.custom.set=t,tv/mkv"


def test_file_template_absolute(tmp_path: Path) -> None:
    path = tmp_path / "plain.cmd"
    path.write_text("d.priority.set=3\n", encoding="utf-8")
    assert parse(f"file:{path}").render({}) == "d.priority.set=3"


def test_missing_template_file_names_command_and_path(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"job\.treewatch\.cmd\.test: cannot read template file .*nope"):
        parse("file:nope", config_dir=tmp_path)


# -- errors --------------------------------------------------------------------------------------


def test_unclosed_block_names_command_and_position() -> None:
    with pytest.raises(TemplateError) as caught:
        parse("{{# x\n}}{{if label}}d.start=", name="job.treewatch.cmd.target")
    message = str(caught.value)
    assert message.startswith("job.treewatch.cmd.target: No {{endif}} at line 2 column 5")
    # The caret stands under the statement ("if"), after the line number column.
    assert message.endswith("      2| }}{{if label}}d.start=\n" + " " * 13 + "^")


def test_unclosed_expression_points_at_it() -> None:
    with pytest.raises(TemplateError) as caught:
        parse("{{#}}d.custom.set=x,{{label")
    assert "No }} to finish last expression at line 1 column" in str(caught.value)
    assert "^" in str(caught.value)


def test_expansion_error_names_command_and_position() -> None:
    command = parse("{{#\n}}d.custom.set=x,{{traits.missing}}", name="job.treewatch.cmd.target")
    with pytest.raises(
        TemplateError,
        match=r"^job\.treewatch\.cmd\.target: AttributeError: missing at line 2 column 20$",
    ):
        command.render(namespace_for(metafile("Manual.pdf"), "x.torrent"))


# Positions count lines and columns from the start of the text, also after multi-line comments
# (Tempita 0.6.0 alone puts everything after one too far down).
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{# one\ntwo\nthree }}{{if label}}d.start=", "No {{endif}} at line 3 column 11"),
        ("{{# a\n}}{{# b\n}}{{# c\n}}{{if label}}d.start=", "No {{endif}} at line 4 column 5"),
        ("{{# a\n}}\n}}", "}} outside expression at line 3 column 3"),
        ("{{# a\nb }}x {{ {{", "{{ inside expression at line 2 column 12"),
        ("{{# a\n}}{{#\n}}d.custom.set=x,{{label", "No }} to finish last expression at line 3 column 20"),
        ("{{# a\n}}{{for x y}}{{endfor}}", "Bad for (no \"in\") in 'x y' at line 2 column 5"),
        ("{{# a\n}}{{else}}", "else outside of an if block at line 2 column 5"),
        ("{{# a\n}}{{if x}}{{endfor}}", "Unexpected endfor at line 2 column 13"),
        ("{{if x}}{{endif}}{{endif}}", "Unexpected endif at line 1 column 20"),
    ],
)
def test_parse_error_positions_after_multi_line_comments(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse(text, name="job.t.cmd.x")
    assert str(caught.value).split("\n")[0] == f"job.t.cmd.x: {message}"


@pytest.mark.parametrize(
    ("text", "namespace", "message"),
    [
        ("{{#\n\n}}{{nope}}", {}, "NameError: name 'nope' is not defined at line 3 column 5"),
        (
            "{{# a\nb\n}}d.x={{value}}",
            {"value": "\x00"},
            "character U+0000 at position 0 of '\\x00' cannot be passed to rTorrent at line 3 column 9",
        ),
        (
            "{{# a\n}}{{# b\n}}{{for v in nope}}{{v}}{{endfor}}",
            {},
            "NameError: name 'nope' is not defined at line 3 column 5",
        ),
        ("{{# a\n}}\n{{py:x = 1/0}}", {}, "ZeroDivisionError: division by zero at line 3 column 3"),
        ("{{# a\n}}{{if 1/0}}x{{endif}}", {}, "ZeroDivisionError: division by zero at line 2 column 5"),
        (
            "{{# a\n}}{{if 0}}x{{elif 1/0}}y{{endif}}",
            {},
            "ZeroDivisionError: division by zero at line 2 column 14",
        ),
        ("{{# a\n}}{{default z = nope}}", {}, "NameError: name 'nope' is not defined at line 2 column 5"),
        (
            "{{# a\n}}{{value|nope}}",
            {"value": "v"},
            "NameError: name 'nope' is not defined at line 2 column 5",
        ),
        (
            "{{# a\n}}{{def f(a=nope)}}{{a}}{{enddef}}{{f()}}",
            {},
            "NameError: name 'nope' is not defined at line 2 column 5 at line 2 column 37",
        ),
    ],
)
def test_render_error_positions_after_multi_line_comments(
    text: str, namespace: dict[str, Any], message: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        parse(text, name="job.t.cmd.x").render(namespace)
    assert str(caught.value) == f"job.t.cmd.x: {message}"


def test_importing_our_templates_leaves_tempita_alone() -> None:
    """Our positions are fixed in our template class; the library's function stays its own."""
    assert tempita.find_position.__module__ == "tempita"
    script = (
        "import tempita\n"
        "before = tempita.find_position\n"
        "import pyrotorque.jobs.treewatch.templates\n"
        "assert tempita.find_position is before, tempita.find_position\n"
    )
    subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def test_unknown_name_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match=r"job\.treewatch\.cmd\.test: NameError: .*'nope'"):
        parse("{{#}}{{nope}}").render({})


def test_control_characters_in_template_text_are_refused() -> None:
    with pytest.raises(TemplateError, match="control character U\\+0001"):
        parse("{{#}}a\x01b")


@pytest.mark.parametrize(
    "text",
    [
        "{{#}}d.custom.set=x,{{value}}",
        '{{#}}d.custom.set=x,"{{value}}"',
        "{{#}}d.custom.set=x, {{value}}",
        "{{#}}d.custom.set=x,{a,{{value}}}",
        "{{#}}d.custom.set=x,(({{value}}))",
        "{{#}}d.a=;d.custom.set=x,{{value}}",
        "{{#}}d.custom.set={{value}}",
        "{{value}}",
    ],
)
def test_dollar_value_that_would_begin_an_argument_is_refused(text: str) -> None:
    with pytest.raises(TemplateError, match="would begin an rTorrent argument"):
        parse(text).render({"value": "$d.erase="})


@pytest.mark.parametrize(
    "text",
    ["{{#}}d.custom.set=x,a{{value}}", "{{#}}d.custom.set=x,/done/{{value}}", "{{#}}d.x=a\\,{{value}}"],
)
def test_dollar_value_inside_an_argument_is_data(text: str) -> None:
    assert parse(text).render({"value": "$d.erase="}).endswith("\\$d.erase\\=")


# -- flags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "flag"),
    [
        ("tv/start/foo.torrent", "start"),
        ("movies/foo.start.torrent", "start"),
        ("tv/load/foo.torrent", "load"),
        ("movies/foo.load.torrent", "load"),
        ("tv/queue/foo.torrent", "queue"),
        ("movies/foo.queue.torrent", "queue"),
    ],
)
def test_flags_table_of_the_docs(relative: str, flag: str) -> None:
    flags = path_flags(ROOT / relative, ROOT)
    assert flag in flags
    assert flags & {"start", "load", "queue"} == {flag}


def test_flags_ignore_folders_above_the_root() -> None:
    root = Path("/srv/start/queue/watch")
    assert path_flags(root / "tv" / "foo.torrent", root) == {"tv", "foo.torrent", "foo", "torrent"}


def test_flags_of_file_directly_in_root_and_outside_it() -> None:
    assert path_flags(ROOT / "a.b..c.torrent", ROOT) == {"a.b..c.torrent", "a", "b", "c", "torrent"}
    assert path_flags(Path("/elsewhere/start/x.torrent"), ROOT) == {"x.torrent", "x", "torrent"}


def test_flags_of_a_sibling_folder_sharing_the_root_prefix_and_of_the_file_system_root() -> None:
    # "/srv/watch2" starts like "/srv/watch" but is not below it.
    assert path_flags(Path("/srv/watch2/start/x.torrent"), Path("/srv/watch")) == {
        "x.torrent",
        "x",
        "torrent",
    }
    assert path_flags(Path("/tv/x.torrent"), Path("/")) == {"tv", "x.torrent", "x", "torrent"}
    assert path_flags(Path("/srv/watch/./tv/../movies/x.torrent"), Path("/srv/watch/")) == {
        "movies",
        "x.torrent",
        "x",
        "torrent",
    }


# -- namespace -----------------------------------------------------------------------------------


def test_namespace_of_single_file_item() -> None:
    meta = metafile(
        "Some.Show.S01E02.720p.HDTV.x264-GRP.MKV", announce="http://tracker.example.org:6969/announce"
    )
    namespace = namespace_for(meta, "tv/start/foo.torrent")
    assert namespace["pathname"] == "/var/torrent/watch/tv/start/foo.torrent"
    assert namespace["info_hash"] == meta.info_hash
    assert namespace["info_name"] == meta.name
    assert namespace["tracker_alias"] == "EXAMPLE"
    assert namespace["watch_path"] == ("/var/torrent/watch", "/srv/other")
    assert namespace["relpath"] == "tv/start"
    assert namespace["flags"] == {"tv", "start", "foo.torrent", "foo", "torrent"}
    assert namespace["filetype"] == ".MKV"
    assert namespace["label"] == "tv/mkv"
    assert namespace["commands"] == []
    assert namespace["size"] == 1000
    traits = namespace["traits"]
    assert traits.kind == "tv"
    assert (traits.show, traits.season, traits.episode) == ("Some Show", 1, 2)
    assert (traits.resolution, traits.source, traits.codec, traits.group) == ("720p", "HDTV", "x264", "GRP")


def test_namespace_of_multi_file_item() -> None:
    meta = metafile(
        "Band - Album (2019)",
        [("CD1/01.flac", 5000), ("CD2/01.flac", 5000), ("scans/cover.JPG", 200)],
        announce="udp://open.tracker.example.net:1337/announce",
    )
    namespace = namespace_for(meta, "new.torrent")
    assert namespace["relpath"] == ""
    # Largest file, ties broken by the last path part (the later one wins).
    assert namespace["filetype"] == ".flac"
    assert namespace["label"] == "audio/flac"
    assert namespace["traits"].kind is None  # audio, although the name has a year
    assert namespace["tracker_alias"] == "example.net"
    assert namespace["size"] == 10200


def test_namespace_of_movie_and_unknown() -> None:
    movie = namespace_for(metafile("The.Film.Title.1999.1080p.BluRay.x264-GRP.mkv"), "m/x.torrent")
    assert movie["label"] == "movie/mkv"
    assert movie["traits"] == {
        "kind": "movie",
        "title": "The Film Title",
        "year": 1999,
        "extension": "mkv",
        "resolution": "1080p",
        "source": "BluRay",
        "codec": "x264",
        "group": "GRP",
    }
    unknown = namespace_for(metafile("notes.xyz"), "x.torrent")
    assert unknown["label"] == ""
    assert unknown["traits"] == {"kind": None}
    assert unknown["tracker_alias"] == ""


def test_traits_are_the_bunch_pyrocore_jobs_get() -> None:
    traits = namespace_for(metafile("Some.Show.S01E02.mkv"), "x.torrent")["traits"]
    assert type(traits) is Bunch
    assert not hasattr(traits, "title") and getattr(traits, "title", "none") == "none"
    # What a template writes to an attribute is a key afterwards, for the next expression too.
    command = parse("{{#}}{{py:traits.show = traits.show.upper()}}d.custom.set=x,{{traits['show']}}")
    assert command.render({"traits": traits}) == "d.custom.set=x,SOME\\ SHOW"


def test_helpers_and_the_pathname_quirk() -> None:
    namespace = namespace_for(metafile("x.mkv"), "a/My.File.torrent")
    h = namespace["h"]
    assert namespace["pathname"] == "/var/torrent/watch/a/My.File.torrent"  # the variable wins
    assert h.pathname(namespace["pathname"]) == "My.File"
    assert (
        h.pathbase(namespace["pathname"]) == namespace["pathbase"](namespace["pathname"]) == "My.File.torrent"
    )
    assert h.pathext(namespace["pathname"]) == ".torrent"
    assert h.pathdir(namespace["pathname"]) == "/var/torrent/watch/a"
    assert (h.sz(512), h.sz(1536), h.sz(3 << 30)) == ("512 bytes", "1.5 KiB", "3.0 GiB")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", h.iso(1_700_000_000))
    assert h.duration(3723) == "1h 2m 3s"
    with pytest.raises(AttributeError, match=r"no helper h\.nope"):
        _ = h.nope


def test_pathname_outside_root_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        template_namespace(metafile("x"), Path("/elsewhere/x.torrent"), ROOT, [ROOT], {})


# -- rtorrent_escape -----------------------------------------------------------------------------

# rTorrent's argument parser (rpc/parse.cc, and measured on 0.9.8 and 0.16): a backslash takes the
# next character literally; unquoted, a blank, ',', ';', newline, '}' or ')' ends the argument;
# quoted, only '"' ends it.
_UNQUOTED_ENDS = frozenset(" \t\n,;})")

# What rtorrent_escape accepts: any text without the refused characters.
sendable_text = st.text(
    st.characters(
        codec="utf-8",
        max_codepoint=0xFFFD,
        blacklist_characters="\r",
        blacklist_categories=["Cs"],
    ).filter(lambda char: char in "\t\n" or ord(char) >= 0x20)
)


def parse_argument(text: str, *, quoted: bool) -> tuple[str, int]:
    """Model of rTorrent's parse_string: the argument's value and where parsing stopped."""
    out: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if (char == '"') if quoted else (char in _UNQUOTED_ENDS):
            break
        if char == "\\":
            pos += 1
            if pos == len(text):
                raise AssertionError("escape character at end of input")
            char = text[pos]
        out.append(char)
        pos += 1
    return "".join(out), pos


@given(sendable_text)
def test_escaped_text_is_one_whole_argument_with_the_same_value(value: str) -> None:
    """The guarantee: the output, unquoted or inside quotes, parses back to exactly the value."""
    escaped = rtorrent_escape(value)
    assert parse_argument(escaped, quoted=False) == (value, len(escaped))
    assert parse_argument(escaped, quoted=True) == (value, len(escaped))


@given(sendable_text)
def test_escaped_text_has_no_unescaped_special_character(value: str) -> None:
    """Every character but ASCII letters, digits, ``._-/+@:%~`` and non-ASCII follows a backslash."""
    tokens = re.findall(r"\\.|.", rtorrent_escape(value), flags=re.DOTALL)
    for token in tokens:
        assert token.startswith("\\") or re.fullmatch(r"[A-Za-z0-9._\-/+@:%~]|[^\x00-\x7f]", token), token
    assert "".join(token[-1] for token in tokens) == value


@given(st.text(), st.sampled_from(["\x00", "\r", "\x1f", "\ud800", "\U0001f3ac", "\uffff"]), st.text())
def test_refused_characters_raise(before: str, bad: str, after: str) -> None:
    with pytest.raises(TemplateError, match="cannot be passed to rTorrent"):
        rtorrent_escape(before + bad + after)
