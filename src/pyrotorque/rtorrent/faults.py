"""Map rTorrent fault codes and messages to the project's exceptions (shared by both codecs)."""

from __future__ import annotations

from pyrotorque.errors import FaultError, HashNotFound

# rTorrent 0.9.8 (xmlrpc-c) says -501 "Could not find info-hash."; 0.16 may phrase it differently.
_HASH_NOT_FOUND_CODES = frozenset({-501})
_HASH_NOT_FOUND_TEXTS = ("could not find info-hash", "info-hash not found")


def fault_error(code: int, message: str, method: str = "") -> FaultError:
    """Build the exception for one fault, ``HashNotFound`` where the target hash is unknown."""
    lowered = message.lower()
    if code in _HASH_NOT_FOUND_CODES or any(text in lowered for text in _HASH_NOT_FOUND_TEXTS):
        return HashNotFound(code, message, method)
    return FaultError(code, message, method)
