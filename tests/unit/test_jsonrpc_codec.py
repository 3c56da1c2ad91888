"""The JSON-RPC 2.0 codec for rTorrent 0.16."""

from __future__ import annotations

import base64
import contextlib
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyrotorque.errors import FaultError, HashNotFound, ProtocolError
from pyrotorque.rtorrent.codec import ParamEncodeError
from pyrotorque.rtorrent.jsonrpc import JSONRPC

DATA = Path(__file__).parent.parent / "data" / "rpc"


def test_identity() -> None:
    assert (JSONRPC.name, JSONRPC.content_type) == ("json", "application/json")


def test_encode_call_is_one_request_object() -> None:
    request = json.loads(JSONRPC.encode_call("d.multicall2", ("", "main", "d.hash=")))
    assert request == {"jsonrpc": "2.0", "id": 1, "method": "d.multicall2", "params": ["", "main", "d.hash="]}


def test_encode_keeps_64_bit_ints_and_unicode() -> None:
    body = JSONRPC.encode_call("m", ["é ✓ 😀", 2**63 - 1, -(2**63), True, [1, {"k": "v"}]])
    assert "é ✓ 😀".encode() in body  # sent as UTF-8, not as \u escapes
    assert json.loads(body)["params"] == ["é ✓ 😀", 2**63 - 1, -(2**63), True, [1, {"k": "v"}]]


def test_encode_bytes_as_base64_data_uri() -> None:
    payload = bytes(range(256))
    (sent,) = json.loads(JSONRPC.encode_call("load.raw", ["", payload]))["params"][1:]
    prefix, _, encoded = sent.partition(",")
    assert prefix == "data:;base64"
    assert base64.b64decode(encoded) == payload


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "no type for NoneType"),
        (2**63, "64 bits"),
        (math.nan, "not a finite number"),
        ({2: 1}, "not a string"),
        ("lone \ud800 surrogate", "not valid Unicode"),
        ([[object()]], r"parameter 0 of m\[0\]\[0\]"),
    ],
)
def test_encode_refuses_what_it_cannot_send(value: Any, message: str) -> None:
    with pytest.raises(ParamEncodeError, match=message):
        JSONRPC.encode_call("m", [value])


def test_encode_multicall_is_a_batch_with_positional_ids() -> None:
    batch = json.loads(JSONRPC.encode_multicall([("d.name", ["A" * 40]), ("view.size", ("", "main"))]))
    assert batch == [
        {"jsonrpc": "2.0", "id": 0, "method": "d.name", "params": ["A" * 40]},
        {"jsonrpc": "2.0", "id": 1, "method": "view.size", "params": ["", "main"]},
    ]


def test_decode_result() -> None:
    assert JSONRPC.decode_response(b'{"id":1,"jsonrpc":"2.0","result":[["x",9223372036854775807]]}') == [
        ["x", 2**63 - 1]
    ]


def test_real_multicall_answer() -> None:
    rows = JSONRPC.decode_response((DATA / "rtorrent-0.16-multicall.json").read_bytes(), "d.multicall2")
    assert len(rows) == 5 and all(len(row) == 20 for row in rows)
    assert {row[1] for row in rows} >= {"Ümlaut ✓ 日本語", "amp & <lt> \"q\" 'a'", "tab\there"}
    assert max(row[8] for row in rows) > 2**32


def test_real_hash_fault_is_hash_not_found_with_the_xml_code() -> None:
    with pytest.raises(HashNotFound) as caught:
        JSONRPC.decode_response((DATA / "rtorrent-0.16-fault-hash.json").read_bytes(), "d.name")
    assert (caught.value.code, caught.value.message, caught.value.method) == (
        -503,
        "invalid parameters: info-hash not found",
        "d.name",
    )


def test_real_unknown_method_fault() -> None:
    with pytest.raises(FaultError) as caught:
        JSONRPC.decode_response((DATA / "rtorrent-0.16-fault-method.json").read_bytes(), "no.such.method")
    assert not isinstance(caught.value, HashNotFound)
    assert (caught.value.code, caught.value.message) == (-506, "method not found: no.such.method")


def test_unknown_error_codes_are_kept() -> None:
    with pytest.raises(FaultError) as caught:
        JSONRPC.decode_response(b'{"id":1,"jsonrpc":"2.0","error":{"code":-1,"message":"odd"}}')
    assert (caught.value.code, caught.value.message) == (-1, "odd")


def test_real_batch_answer() -> None:
    calls = [
        ("d.name", ["5613446C4CC2857C0A0A3D0A56572FEF9AA5111C"]),
        ("d.name", ["0" * 40]),
        ("d.size_bytes", ["x"]),
    ]
    results = JSONRPC.decode_multicall((DATA / "rtorrent-0.16-batch.json").read_bytes(), calls)
    assert results[0] == "Ümlaut ✓ 日本語"
    assert isinstance(results[1], HashNotFound) and results[1].method == "d.name"
    assert results[2] == 5572928145


def test_batch_answers_are_matched_by_id_not_position() -> None:
    calls: list[tuple[str, list[Any]]] = [(f"m{index}", []) for index in range(20)]
    answers = [{"jsonrpc": "2.0", "id": index, "result": index * 10} for index in range(20)]
    random.Random(3).shuffle(answers)
    assert JSONRPC.decode_multicall(json.dumps(answers).encode(), calls) == [
        index * 10 for index in range(20)
    ]


@pytest.mark.parametrize(
    "answer",
    [
        [{"id": 0, "result": 1}],  # too few
        [{"id": 0, "result": 1}, {"id": 0, "result": 2}],  # duplicate id
        [{"id": 0, "result": 1}, {"id": 5, "result": 2}],  # unknown id
        [{"id": 0, "result": 1}, {"id": None, "result": 2}],
        [{"id": 0, "result": 1}, {"id": 1}],  # neither result nor error
        [{"id": 0, "result": 1}, {"id": 1, "error": "text"}],
        [{"id": 0, "result": 1}, {"id": 1, "error": {"code": "x", "message": "m"}}],
        [1, 2],
        {"id": 1, "result": [1, 2]},
        "string",
    ],
)
def test_malformed_batch_answers_are_protocol_errors(answer: Any) -> None:
    with pytest.raises(ProtocolError):
        JSONRPC.decode_multicall(json.dumps(answer).encode(), [("a", []), ("b", [])])


def test_refused_batch_raises_its_fault() -> None:
    answer = b'{"error":{"code":-32700,"message":"parse error"},"id":null,"jsonrpc":"2.0"}'
    with pytest.raises(FaultError) as caught:
        JSONRPC.decode_multicall(answer, [("a", [])])
    assert caught.value.code == -503


def test_empty_multicall_needs_no_answer() -> None:
    assert JSONRPC.decode_multicall(b"", []) == []


@pytest.mark.parametrize(
    "body",
    [b"", b"garbage", b"\xff\xfe", b"[1,", b"null", b"42", b'{"id":1}', b'{"error":{"code":1}}'],
)
def test_malformed_answers_are_protocol_errors(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        JSONRPC.decode_response(body, "m")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(value=JSON_VALUES)
def test_random_results_come_back_exactly(value: Any) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": value}, ensure_ascii=False).encode()
    assert JSONRPC.decode_response(body) == value


@settings(max_examples=200, deadline=None)
@given(value=JSON_VALUES.filter(lambda value: value is not None))
def test_random_params_are_sent_exactly(value: Any) -> None:
    try:
        body = JSONRPC.encode_call("m", [value])
    except ParamEncodeError:
        return  # lone surrogates in generated text
    assert json.loads(body)["params"] == [value]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200) | st.text(max_size=100).map(str.encode))
def test_garbage_raises_protocol_error_and_nothing_else(data: bytes) -> None:
    with contextlib.suppress(ProtocolError, FaultError):
        JSONRPC.decode_response(data)
    with contextlib.suppress(ProtocolError, FaultError):
        JSONRPC.decode_multicall(data, [("a", []), ("b", [])])


def test_absurdly_nested_answer_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        JSONRPC.decode_response(b'{"id":1,"result":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
