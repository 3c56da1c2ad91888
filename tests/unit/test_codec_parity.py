"""The same real rTorrent 0.16 answers, over XML-RPC and JSON-RPC, decode to the same values and faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pyrotorque.errors import FaultError
from pyrotorque.rtorrent.codec import Call, Codec
from pyrotorque.rtorrent.jsonrpc import JSONRPC
from pyrotorque.rtorrent.xmlrpc import XMLRPC

DATA = Path(__file__).parent.parent / "data" / "rpc"
SAMPLE = "rtorrent-0.16"
MULTICALL: list[Call] = [
    ("d.name", ["5613446C4CC2857C0A0A3D0A56572FEF9AA5111C"]),
    ("d.name", ["0123456789ABCDEF0123456789ABCDEF01234567"]),
    ("d.size_bytes", ["729B5750B5A91CA04EBD2C61E72C8325EA1C0943"]),
]


def sample(name: str, suffix: str) -> bytes:
    return (DATA / f"{SAMPLE}-{name}.{suffix}").read_bytes()


def fault_of(codec: Codec, body: bytes) -> FaultError:
    with pytest.raises(FaultError) as caught:
        codec.decode_response(body, "m")
    return caught.value


def test_codecs_satisfy_the_protocol() -> None:
    codecs: list[Codec] = [XMLRPC, JSONRPC]
    assert [codec.name for codec in codecs] == ["xml", "json"]


def test_d_multicall2_answer_is_the_same_over_both_protocols() -> None:
    from_xml: Any = XMLRPC.decode_response(sample("multicall", "xml"), "d.multicall2")
    from_json: Any = JSONRPC.decode_response(sample("multicall", "json"), "d.multicall2")
    assert from_xml == from_json
    # equal is not enough: the types must agree too (an int is not a str, True is not 1)
    assert [[type(value) for value in row] for row in from_xml] == [
        [type(value) for value in row] for row in from_json
    ]
    assert len(from_xml) == 5


@pytest.mark.parametrize("name", ["fault-hash", "fault-method"])
def test_faults_map_to_the_same_exception_and_code(name: str) -> None:
    over_xml = fault_of(XMLRPC, sample(name, "xml"))
    over_json = fault_of(JSONRPC, sample(name, "json"))
    assert type(over_xml) is type(over_json)
    assert over_xml.code == over_json.code


def test_multicall_and_batch_give_the_same_outcomes() -> None:
    over_xml = XMLRPC.decode_multicall(sample("system-multicall", "xml"), MULTICALL)
    over_json = JSONRPC.decode_multicall(sample("batch", "json"), MULTICALL)
    assert [type(result) for result in over_xml] == [type(result) for result in over_json]
    assert over_xml[0] == over_json[0] and over_xml[2] == over_json[2]
    assert isinstance(over_xml[1], FaultError) and isinstance(over_json[1], FaultError)
    assert over_xml[1].code == over_json[1].code
