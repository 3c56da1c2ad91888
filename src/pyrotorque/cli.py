"""The ``pyrotorque`` command line: the only place that calls ``sys.exit``, picks exit codes and writes
to the terminal; the daemon package reports outcomes (``StartResult``) or raises ``pyrotorque.errors``."""

from __future__ import annotations

import os
import sys

from pyrotorque import daemon, paths
from pyrotorque.cli_output import fail, say, tell
from pyrotorque.cli_quick import quick_answer, restrict_umask, status_answer, version_line
from pyrotorque.errors import ConditionError, ConfigError, DaemonError, GuardFileMissing, RtorrentError
from pyrotorque.exitcodes import (
    EXIT_CONFIG,
    EXIT_IOERR,
    EXIT_OK,
    EXIT_SOFTWARE,
    EXIT_TEMPFAIL,
    EXIT_UNAVAILABLE,
)
from pyrotorque.pidfile import AlreadyRunning, PidStatus, probe

TYPE_CHECKING = False  # not typing's: see below
if TYPE_CHECKING:
    import argparse
    import logging
    from collections.abc import Sequence
    from pathlib import Path

    from pyrotorque.cli_parser import build_parser

# The control commands (--version, --status, --stop and --cron while a daemon runs) are a fresh
# interpreter each, the watchdog's --cron every few minutes for years: their cost is the imports.
# So main() lets cli_quick answer their plain forms first, and this module imports at the top only
# what that needs (os and the pid file); argparse, logging, pathlib, the daemon's parts (its package
# imports each on first use), the configuration, the jobs and the tools are imported inside the code
# paths that use them. tests/unit/test_control_imports.py keeps it so; bench/control.py times it.

__all__ = ["build_parser", "main", "run"]


def _log() -> logging.Logger:
    import logging

    return logging.getLogger(__name__)


def __getattr__(name: str) -> object:
    """``build_parser`` on first use (PEP 562): it imports argparse and pathlib."""
    if name == "build_parser":
        from pyrotorque.cli_parser import build_parser

        return build_parser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Exit codes (documented in docs/cli.md); the sysexits values follow the original where it was sane.


def _settings(args: argparse.Namespace) -> daemon.Settings:
    return daemon.Settings(
        config_dir=args.config_dir,
        extra_files=tuple(args.config_file),
        defines=tuple(args.define),
        dry_run=args.dry_run,
        url=args.url,
        foreground=args.foreground,
        cron=args.cron,
        pid_file=args.pid_file,
        guard_file=args.guard_file,
        connection=args.connection,
    )


def _log_level(args: argparse.Namespace) -> int:
    import logging

    if args.debug or args.verbose:
        return logging.DEBUG
    return logging.WARNING if args.quiet else logging.INFO


def _pid_path(args: argparse.Namespace) -> Path:
    """The pid file, as ``daemon.Settings.pid_path`` has it, without building the settings."""
    return paths.pid_path(args.config_dir, args.pid_file, os.environ)


def _pid_status(args: argparse.Namespace) -> PidStatus:
    """What the pid file says (``daemon.status`` without importing the daemon)."""
    return probe(_pid_path(args))


def _status(args: argparse.Namespace) -> int:
    pid_path = _pid_path(args)
    return status_answer(str(pid_path), probe(pid_path))


def _stop(args: argparse.Namespace) -> int:
    if not _pid_status(args).running:  # as daemon.stop finds it, without importing the daemon
        say("pyrotorque was not running")
        return EXIT_OK
    result = daemon.stop(_settings(args))
    if not result.stopped:
        return fail(
            args, EXIT_TEMPFAIL, f"process #{result.pid} did not stop within {daemon.STOP_TIMEOUT:.0f} s"
        )
    if result.was_running:
        say(f"pyrotorque process #{result.pid} stopped")
    else:
        say("pyrotorque was not running")
    return EXIT_OK


def _cron_finds_it_running(args: argparse.Namespace) -> bool:
    """``--cron`` while a daemon runs, the watchdog's call every few minutes: a look at the pid lock only.

    Building the plan first (the configuration, APScheduler, every job) would cost ten times a bare
    Python start for nothing; ``start`` checks the lock again, so a daemon that ends meanwhile is no race.
    """
    found = _pid_status(args)
    if found.running:
        _log().debug("pyrotorque is already running as process #%d, not starting", found.pid)
    return found.running


def _start(args: argparse.Namespace) -> int:
    if args.cron and not args.restart and _cron_finds_it_running(args):
        return EXIT_OK
    if args.restart:
        code = _stop(args)
        if code != EXIT_OK:
            return code
    settings = _settings(args)
    plan = daemon.build_plan(settings)
    return _started(daemon.start(settings, plan))


def _started(result: daemon.StartResult) -> int:
    """The exit code of a start, in the process that served the jobs or in the launcher."""
    outcome = result.outcome
    if outcome is daemon.StartOutcome.DAEMON_READY and result.message:
        tell(f"started, without: {result.message}")  # the others run; the daemon logged it too
    if outcome in (daemon.StartOutcome.STOPPED, daemon.StartOutcome.DAEMON_READY):
        return EXIT_OK
    if outcome is daemon.StartOutcome.DAEMON_FAILED:
        tell(f"starting the jobs failed: {result.message}")  # the daemon logged it; say it here too
    elif outcome is daemon.StartOutcome.DAEMON_LOST:
        tell("the daemon died while starting, see its log")
    # JOBS_FAILED: this process logged why (to the terminal in the foreground, else to its log).
    return EXIT_SOFTWARE


def run(args: argparse.Namespace) -> int:
    """Do what the parsed arguments ask; returns the exit code."""
    if args.status:
        return _status(args)
    if args.stop:
        return _stop(args)
    if _asks_for_a_tool(args):
        return _run_tool(args)
    return _start(args)


def _asks_for_a_tool(args: argparse.Namespace) -> bool:
    """True for the commands of cli_tools (each option tested as ``_run_tool`` tests it)."""
    tools = (args.hash_password, args.create_config, args.show_includes, args.check, args.run_once)
    return any(tools) or bool(args.load_pending) or args.match is not None


def _run_tool(args: argparse.Namespace) -> int:
    from pyrotorque import cli_tools  # the tools are not control commands: imported for them only

    if args.hash_password:
        return cli_tools.hash_password(args)
    settings = _settings(args)
    if args.create_config or args.show_includes:
        return cli_tools.lay_out(args, settings)
    if args.check:
        return cli_tools.check(settings)
    if args.run_once:
        return cli_tools.run_once(settings, args.run_once)
    if args.load_pending:
        return cli_tools.load_pending(settings, args.load_pending)
    return cli_tools.match(args, settings)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pyrotorque`` console script."""
    answered = quick_answer(sys.argv[1:] if argv is None else argv)
    if answered is not None:
        return answered
    from pyrotorque import logsetup
    from pyrotorque.cli_parser import build_parser, check_combinations

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        say(version_line())
        return EXIT_OK
    exclusive = check_combinations(parser, args)
    if args.import_pyrosimple is not None:
        from pyrotorque import cli_tools

        return cli_tools.import_pyrosimple(parser, args, exclusive)
    restrict_umask()
    log_path = paths.log_path(args.config_dir, os.environ)  # daemon.Settings.log_path
    starting = not exclusive or args.restart
    to_file = args.cron or (starting and not args.foreground)
    try:
        logsetup.setup_logging(
            _log_level(args), log_path if to_file else None, console=not args.cron, debug=args.debug
        )
    except OSError as exc:
        # Not _fail: with no log there is nowhere to log it, and logging's fallback would repeat it.
        tell(f"cannot open the log file {log_path}: {exc.strerror}")
        return EXIT_IOERR
    return _run_mapping_errors(args)


def _run_mapping_errors(args: argparse.Namespace) -> int:
    """``run(args)``, with every error turned into its exit code and one line on stderr (docs/cli.md)."""
    try:
        return run(args)
    except AlreadyRunning as exc:
        if args.cron:  # the watchdog calls us every few minutes: a running daemon is the normal case
            _log().debug("%s", exc)
            return EXIT_OK
        return fail(args, EXIT_TEMPFAIL, str(exc))
    except GuardFileMissing as exc:
        return fail(args, EXIT_TEMPFAIL, str(exc))
    except ConfigError as exc:
        return fail(args, EXIT_CONFIG, f"configuration error: {exc}")
    except ConditionError as exc:
        return fail(args, EXIT_CONFIG, f"bad condition: {exc}")
    except RtorrentError as exc:
        if args.debug:
            _log().exception("rTorrent error")
        return fail(args, EXIT_UNAVAILABLE, f"rTorrent: {exc}")
    except DaemonError as exc:
        return fail(args, EXIT_IOERR, str(exc))
    except KeyboardInterrupt:
        return fail(args, 130, "interrupted")
    except Exception as exc:
        _log().exception("Unexpected error")
        return fail(args, EXIT_SOFTWARE, f"unexpected {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
