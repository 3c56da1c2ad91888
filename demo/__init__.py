"""`make demo`: a sandboxed rTorrent and pyrotorque at work (run as ``python -m demo``)."""
