"""Escaped template values reach a real rTorrent (0.9.8 and 0.16) as literal data, nothing else.

Each test renders a load command with a hostile value, loads a metafile with ``load.raw`` and
that command (as the tree watch does), then reads the value back with ``d.custom=probe`` and
checks that no injected command ran: the item is still there, alone, stopped, with its default
priority and no ``evil`` custom key.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest
from sandbox.metafiles import make_metafile
from sandbox.rtorrent import RtorrentSandbox

from pyrotorque.errors import TemplateError
from pyrotorque.jobs.treewatch.templates import HELPERS, LoadCommand
from pyrotorque.rtorrent.client import RtorrentClient
from pyrotorque.rtorrent.commands import rtorrent_escape

pytestmark = pytest.mark.rtorrent

_SERIAL = itertools.count()

# Hostile values; each must come back byte-identical. The injections try to start, erase or
# tag the item, or to set another custom key, through every separator rTorrent knows.
NASTY = {
    "plain": "plain",
    "empty": "",
    "commas": "a,b,,c,",
    "semicolons": "a;b;",
    "double-quotes": 'say "hi" "',
    "single-quotes": "it's 'quoted'",
    "backslashes": "C:\\dir\\sub\\",
    "lone-backslash": "\\",
    "braces": "{a,b}{",
    "parentheses": "((x)) (y,z)",
    "dollar-inside": "price$5 $d.name=",
    "equals": "a=b==c",
    "hash": "#not a comment",
    "newline": "line1\nline2\n",
    "tab": "\tcol1\tcol2",
    "spaces-around": "  padded value  ",
    "non-ascii": "Ünïcødé ✓ 日本語 ½ \u00a0\ufffd",
    "all-ascii-punctuation": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "number-like": "0123",
    "boolean-like": "yes",
    "tilde": "~root/x",
    "inject-semicolon": "x;d.custom.set=evil,1;d.start=",
    "inject-comma": "x,d.start=",
    "inject-newline": "x\nd.start=\nd.custom.set=evil,1",
    "inject-quote": 'x";d.start=;d.custom.set=evil,1;"',
    "inject-escape": "x\\;d.start=\\,d.custom.set=evil,1",
    "inject-brace": "x}d.start=;{",
    "inject-paren": "x)(d.start=)",
    "inject-erase": ";d.erase=",
    "inject-dollar-later": "x,$d.start=,$d.erase=",
}


def client_for(rt: RtorrentSandbox) -> RtorrentClient:
    return RtorrentClient(rt.url, timeout=30)


def load_with(rt: RtorrentSandbox, client: RtorrentClient, *commands: str) -> str:
    """Load a fresh metafile with ``load.raw`` and the given load commands; returns its hash."""
    meta = make_metafile(f"escape-probe-{next(_SERIAL):04d}", size=16 << 10)
    client.call("load.raw", "", meta.data, *commands)
    deadline = time.monotonic() + 20
    while meta.info_hash not in rt.item_hashes():
        if time.monotonic() > deadline:
            pytest.fail(f"item was not loaded with {commands!r}; see {rt.log_path}")
        time.sleep(0.01)
    return meta.info_hash


def assert_untouched(client: RtorrentClient, rt: RtorrentSandbox, info_hash: str) -> None:
    """Nothing but the probe happened: item alone, stopped, default priority, no 'evil' key."""
    assert rt.item_hashes() == [info_hash]
    state = client.multicall(
        [
            ("d.state", [info_hash]),
            ("d.priority", [info_hash]),
            ("d.custom", [info_hash, "evil"]),
            ("d.custom1", [info_hash]),
        ]
    )
    assert state == [0, 2, "", ""]


def render(text: str, **namespace: Any) -> str:
    return LoadCommand.parse("job.test.cmd.probe", text, config_dir=Path("/nonexistent")).render(namespace)


@pytest.mark.parametrize("value", list(NASTY.values()), ids=list(NASTY))
def test_value_comes_back_byte_identical(rt: RtorrentSandbox, value: str) -> None:
    client = client_for(rt)
    command = render("{{#}}d.custom.set=probe,{{value}}", value=value)
    assert command == "d.custom.set=probe," + rtorrent_escape(value)
    info_hash = load_with(rt, client, command)
    assert client.call("d.custom", info_hash, "probe") == value
    assert_untouched(client, rt, info_hash)


@pytest.mark.parametrize("value", list(NASTY.values()), ids=list(NASTY))
def test_value_inside_user_quotes_comes_back(rt: RtorrentSandbox, value: str) -> None:
    client = client_for(rt)
    command = render('{{#}}d.custom.set=probe,"/srv/sorted/{{value}}/end"', value=value)
    info_hash = load_with(rt, client, command)
    assert client.call("d.custom", info_hash, "probe") == f"/srv/sorted/{value}/end"
    assert_untouched(client, rt, info_hash)


@pytest.mark.parametrize("value", ["x;d.start=", 'a "b", c', "\\;$d.erase="], ids=["semi", "quote", "mixed"])
def test_percent_style_value_comes_back(rt: RtorrentSandbox, value: str) -> None:
    client = client_for(rt)
    command = render("d.custom.set=probe,/done/%(info_name)s", info_name=value)
    info_hash = load_with(rt, client, command)
    assert client.call("d.custom", info_hash, "probe") == f"/done/{value}"
    assert_untouched(client, rt, info_hash)


def test_several_values_in_one_argument(rt: RtorrentSandbox) -> None:
    client = client_for(rt)
    values = {"a": "x,", "b": "$d.start=", "c": ";y"}
    command = render("{{#}}d.custom.set=probe,{{a}}{{b}}{{c}}", **values)
    info_hash = load_with(rt, client, command)
    assert client.call("d.custom", info_hash, "probe") == "x,$d.start=;y"
    assert_untouched(client, rt, info_hash)


def test_unescaped_dollar_argument_runs_a_command(rt: RtorrentSandbox) -> None:
    """Why values starting with '$' are refused: rTorrent runs such an argument, escaped or quoted."""
    client = client_for(rt)
    info_hash = load_with(rt, client, "d.custom.set=probe,\\$d.hash=", 'd.custom.set=quoted,"$d.hash="')
    assert client.call("d.custom", info_hash, "probe") == info_hash
    assert client.call("d.custom", info_hash, "quoted") == info_hash


@pytest.mark.parametrize(
    "text",
    [
        "{{#}}d.custom.set=probe,{{value}}",
        '{{#}}d.custom.set=probe,"{{value}}"',
        "{{#}}d.custom.set=probe,  {{value}}",
        "{{#}}d.custom.set={{value}}",
        "{{#}}d.custom.set=probe,{x,{{value}}}",
        "{{#}}d.custom.set=probe,{{empty}}{{value}}",
        "{{#}}d.custom.set=probe,{{escaped_backslash}},{{value}}",
        "d.custom.set=probe,%(value)s",
    ],
)
def test_dollar_value_at_argument_start_is_refused(text: str) -> None:
    with pytest.raises(TemplateError, match=r"job\.test\.cmd\.probe: .*'\$'.*run it as a command"):
        render(text, value="$d.erase=", empty="", escaped_backslash="\\")


def test_unescaped_separators_do_inject(rt: RtorrentSandbox) -> None:
    """The control experiment: the same hostile text without escaping runs the injected command."""
    client = client_for(rt)
    info_hash = load_with(rt, client, "d.custom.set=probe,x;d.custom.set=evil,1")
    assert client.call("d.custom", info_hash, "probe") == "x"
    assert client.call("d.custom", info_hash, "evil") == "1"


def test_plain_command_is_passed_unchanged_and_works(rt: RtorrentSandbox) -> None:
    client = client_for(rt)
    text = "d.custom.set=probe,plain\\,text"
    assert render(text) == text
    info_hash = load_with(rt, client, render(text))
    assert client.call("d.custom", info_hash, "probe") == "plain,text"


def test_directory_example_sets_a_hostile_directory(rt: RtorrentSandbox) -> None:
    """The sorted-directory example of the docs, with a relpath full of separators."""
    client = client_for(rt)
    text = (
        "{{# comment\n}}{{if '/music/' in pathname}}"
        'd.directory_base.set="/srv/sorted/{{relpath}}/{{pathname|h.pathname}}"{{#\n}}'
        "{{elif traits.kind == 'tv'}}"
        "d.directory.set=\"/srv/sorted/{{relpath}}/{{traits.get('show', 'X').title()}}\"{{#\n}}"
        '{{else}}d.directory.set="/srv/sorted/{{relpath}}"{{#\n}}{{endif}}'
    )
    relpath = 'music/a b,c;d"e\\f'
    namespace: dict[str, Any] = {
        "pathname": f"/watch/{relpath}/Album; d.erase=.torrent",
        "relpath": relpath,
        "traits": {"kind": None},
        "h": HELPERS,
    }
    command = LoadCommand.parse("job.watch-sorted.cmd.setdir", text, config_dir=Path("/")).render(namespace)
    assert command.startswith('d.directory_base.set="/srv/sorted/music/')
    info_hash = load_with(rt, client, command)
    assert client.call("d.directory_base", info_hash) == f"/srv/sorted/{relpath}/Album; d.erase="
    assert_untouched(client, rt, info_hash)


@pytest.mark.parametrize(
    "value", ["a\x00b", "a\rb", "bell\x07", "\x1b[31m", "lone \ud800", "film 🎬", "\uffff"]
)
def test_unsendable_value_is_refused(value: str) -> None:
    """NUL, CR (0.9.8 turns it into LF), other controls, lone surrogates and non-BMP are refused."""
    with pytest.raises(TemplateError, match=r"job\.test\.cmd\.probe: character U\+[0-9A-F]{4,6} .* line 1"):
        render("{{#}}d.custom.set=probe,{{value}}", value=value)
