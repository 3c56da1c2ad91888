"""What the command line writes: results on stdout, one-line messages on stderr (and the log in cron mode)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's, nor argparse and logging here: the control commands use say()
if TYPE_CHECKING:
    import argparse


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
        import logging

        logging.getLogger("pyrotorque.cli").error("%s", message)
    return code
