"""Map rTorrent fault codes and messages to the project's exceptions (shared by both codecs)."""

from __future__ import annotations

from pyrotorque.errors import FaultError, HashNotFound

# The target hash is unknown. 0.9.8 (xmlrpc-c) says -501 "Could not find info-hash."; 0.16 says
# -503 (XML) / -32602 (JSON) "invalid parameters: info-hash not found". The code alone is not
# enough: 0.9.8 also uses -501 for "Invalid index." and "Unsupported target type found.".
_HASH_NOT_FOUND_TEXTS = ("could not find info-hash", "info-hash not found")

# rTorrent 0.16 answers the same failure with a JSON-RPC 2.0 code over JSON and an xmlrpc-c code
# over XML; we report the XML-RPC code either way so callers see one code per failure.
JSONRPC_TO_XMLRPC_CODES: dict[int, int] = {
    -32700: -503,  # parse error            (xmlrpc-c: "not valid XML")
    -32600: -503,  # invalid request
    -32601: -506,  # method not found
    -32602: -503,  # invalid params: every command error of rTorrent
    -32603: -500,  # internal error
}


def fault_error(code: int, message: str, method: str = "") -> FaultError:
    """Build the exception for one fault, ``HashNotFound`` where the target hash is unknown."""
    lowered = message.lower()
    if any(text in lowered for text in _HASH_NOT_FOUND_TEXTS):
        return HashNotFound(code, message, method)
    return FaultError(code, message, method)


def jsonrpc_fault_error(code: int, message: str, method: str = "") -> FaultError:
    """Build the exception for a JSON-RPC error object, with the code the XML-RPC path would report."""
    return fault_error(JSONRPC_TO_XMLRPC_CODES.get(code, code), message, method)
