"""Real rTorrent daemons in temporary directories, and metafiles to feed them.

Shared by the tests, the benchmarks (``bench/``) and ``make demo`` (``demo/``); none of it ships
with pyrotorque. ``rtorrent`` starts and stops sandboxed rTorrent 0.9.8 and 0.16 daemons,
``metafiles`` makes deterministic, valid metafiles.
"""
