"""The RPC benchmark: one ``d.multicall2`` of 20 fields over every item of the ``main`` view.

Per line it measures (medians over several fresh requests, nothing cached between them):

(a) the SCGI round trip alone (send the request, read the whole answer): the floor;
(b) the same round trip plus ``xmlrpc.client.loads``: the stdlib way;
(c) ``RtorrentClient(url, protocol="xml").d_multicall(...)``: ours, end to end;

and, where rTorrent speaks JSON-RPC (0.16), the JSON floor and ``RtorrentClient(url,
protocol="json").d_multicall(...)`` next to the XML ones. Decoding alone (same bytes, no socket)
is printed too, to show where the time goes.
"""

from __future__ import annotations

import json
import xmlrpc.client
from collections.abc import Callable
from typing import Any

from bench import register
from bench.common import (
    FIELDS_20,
    BenchContext,
    Timing,
    print_table,
    ratio_line,
    same_rows,
    scgi_exchange,
    time_interleaved,
)
from pyrotorque.rtorrent.client import RtorrentClient
from pyrotorque.rtorrent.jsonrpc import JSONRPC
from pyrotorque.rtorrent.xmlrpc import XMLRPC

VIEW = "main"


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def _speaks_json(context: BenchContext) -> bool:
    probe = {"jsonrpc": "2.0", "id": 1, "method": "system.client_version", "params": []}
    try:
        answer = json.loads(
            scgi_exchange(context.socket_path, json.dumps(probe).encode(), "application/json")
        )
    except ValueError:
        return False
    return isinstance(answer, dict) and "result" in answer


@register("rpc", "d.multicall2 of 20 fields over all items: socket floor, stdlib, our client (XML and JSON)")
def rpc_benchmark(context: BenchContext) -> None:
    """Print floor, stdlib and our client's times for one big d.multicall2."""
    params = ["", VIEW, *FIELDS_20]
    xml_body = XMLRPC.encode_call("d.multicall2", params)
    json_body = JSONRPC.encode_call("d.multicall2", params)
    speaks_json = _speaks_json(context)
    # Forced protocols: no detection round trip, so each call is exactly one d.multicall2.
    xml_client = RtorrentClient(context.url, protocol="xml", timeout=300)
    json_client = RtorrentClient(context.url, protocol="json", timeout=300)

    def floor_xml() -> bytes:
        return scgi_exchange(context.socket_path, xml_body)

    fetches: dict[str, Callable[[], Any]] = {
        "a": floor_xml,
        "b": lambda: xmlrpc.client.loads(floor_xml(), use_builtin_types=True)[0][0],
        "c": lambda: xml_client.d_multicall(VIEW, FIELDS_20),
    }
    if speaks_json:
        fetches["a_json"] = lambda: scgi_exchange(context.socket_path, json_body, JSONRPC.content_type)
        fetches["c_json"] = lambda: json_client.d_multicall(VIEW, FIELDS_20)
    # Round-robin, so that load from other processes falls on every measurement alike.
    timings, results = time_interleaved(fetches, context.repeat)
    xml_answer: bytes = results["a"]
    decoding: dict[str, Callable[[], Any]] = {
        "stdlib": lambda: xmlrpc.client.loads(xml_answer, use_builtin_types=True),
        "xml": lambda: XMLRPC.decode_response(xml_answer),
    }
    if speaks_json:
        json_answer: bytes = results["a_json"]
        decoding["json"] = lambda: JSONRPC.decode_response(json_answer)
    decode_timings, _ = time_interleaved(decoding, context.repeat)

    a, b, c = timings["a"], timings["b"], timings["c"]
    rows: list[tuple[str, Timing]] = [
        ("(a) XML: socket round trip (floor)", a),
        ("(b) XML: round trip + xmlrpc.client.loads", b),
        ("(c) XML: RtorrentClient.d_multicall", c),
    ]
    notes = [
        ratio_line("c/b", c, b, 0.6),
        ratio_line("c/a", c, a, 1.5),
        ratio_line("decode only, ours/stdlib", decode_timings["xml"], decode_timings["stdlib"]),
        f"our rows equal the stdlib's (types included): {_yes(same_rows(results['c'], results['b']))}",
    ]
    sizes = f"XML answer {len(xml_answer) / 1e6:.2f} MB"
    if speaks_json:
        a_json, c_json = timings["a_json"], timings["c_json"]
        rows += [
            ("(a) JSON: socket round trip (floor)", a_json),
            ("(c) JSON: RtorrentClient.d_multicall", c_json),
        ]
        notes += [
            ratio_line("JSON c / XML b (ours over JSON vs. the XML stdlib path)", c_json, b, 0.35),
            ratio_line("JSON c / XML c", c_json, c),
            ratio_line("JSON c / JSON a", c_json, a_json),
            f"JSON rows equal XML rows (types included): {_yes(same_rows(results['c_json'], results['c']))}",
        ]
        sizes += f", JSON answer {len(json_answer) / 1e6:.2f} MB"
    rows += [
        ("    decode only: xmlrpc.client.loads", decode_timings["stdlib"]),
        ("    decode only: our XML-RPC decoder", decode_timings["xml"]),
    ]
    if speaks_json:
        rows.append(("    decode only: our JSON-RPC decoder", decode_timings["json"]))

    title = (
        f"[rpc] rTorrent {context.sandbox.version} ({context.line}): d.multicall2 '{VIEW}' "
        f"{len(results['c']):,} items x {len(FIELDS_20)} fields; {sizes}; {context.repeat} repetitions"
    )
    print_table(title, rows, notes)
