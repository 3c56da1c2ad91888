"""pyrotorque: a background job daemon for rTorrent."""

from __future__ import annotations

__version__ = "0.1.0"
