"""Integration tests against a real rTorrent (parametrized over --rtorrent-lines)."""
