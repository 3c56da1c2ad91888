"""Talking to rTorrent: URLs, SCGI/HTTP transports, XML-RPC and JSON-RPC codecs, the client."""
