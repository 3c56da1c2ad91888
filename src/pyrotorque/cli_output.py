"""What the command line writes: results on stdout, one-line messages on stderr (and the log in cron mode)."""

from __future__ import annotations

import argparse
import logging
import sys

log = logging.getLogger("pyrotorque.cli")


def say(text: str) -> None:
    """A result line on stdout."""
    print(text, flush=True)


def tell(message: str) -> None:
    """One line on stderr."""
    sys.stderr.write(f"pyrotorque: {message}\n")


def fail(args: argparse.Namespace, code: int, message: str) -> int:
    """One line on stderr (and in the log file in cron mode); returns ``code``."""
    tell(message)
    if args.cron:
        log.error("%s", message)
    return code
