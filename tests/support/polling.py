"""Waiting for a real process (rTorrent, the daemon) to reach a state: poll, never sleep blindly."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

#: Generous: a loaded CI machine runs two rTorrents and the suite at once.
DEFAULT_TIMEOUT = 20.0


def wait_for(
    condition: Callable[[], Any], what: str = "the condition", timeout: float = DEFAULT_TIMEOUT
) -> Any:
    """Poll ``condition`` until it returns something truthy, and return that; AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
