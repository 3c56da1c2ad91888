"""Unit tests: no real rTorrent needed."""
