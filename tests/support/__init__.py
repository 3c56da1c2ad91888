"""Test support: real rTorrent sandboxes and metafile builders, shared by tests, bench and demo."""
