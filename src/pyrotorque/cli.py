"""The ``pyrotorque`` command line: the only place that calls ``sys.exit``, picks exit codes and writes
to the terminal; the daemon package reports outcomes (``StartResult``) or raises ``pyrotorque.errors``."""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pyrotorque
from pyrotorque import daemon, logsetup
from pyrotorque.daemon import StartOutcome, StartResult
from pyrotorque.errors import ConditionError, ConfigError, DaemonError, GuardFileMissing, RtorrentError
from pyrotorque.exitcodes import (
    EXIT_CONFIG,
    EXIT_IOERR,
    EXIT_NO_MATCH,
    EXIT_NOT_RUNNING,
    EXIT_OK,
    EXIT_SOFTWARE,
    EXIT_TEMPFAIL,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
)
from pyrotorque.pidfile import AlreadyRunning

log = logging.getLogger(__name__)

# Exit codes (documented in docs/cli.md); the sysexits values follow the original where it was sane.


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the tests and docs/cli.md)."""
    parser = argparse.ArgumentParser(
        prog="pyrotorque",
        description="Background job daemon for rTorrent: queue, tree watch, statistics, metrics.",
        add_help=False,
    )
    _add_general_options(parser.add_argument_group("general"))
    _add_configuration_options(parser.add_argument_group("configuration"))
    _add_process_options(parser.add_argument_group("process control"))
    _add_tool_options(parser.add_argument_group("tools"))
    return parser


def _add_general_options(general: argparse._ArgumentGroup) -> None:
    general.add_argument("-h", "--help", action="help", help="show this help and exit")
    general.add_argument("--version", action="store_true", help="show the version and exit")
    general.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    general.add_argument("-v", "--verbose", action="store_true", help="log debug messages too")
    general.add_argument("--debug", action="store_true", help="like -v, and show tracebacks of errors")
    general.add_argument(
        "--cron", action="store_true", help="cron mode: log to <config dir>/log/torque.log, quiet if running"
    )


def _add_configuration_options(config: argparse._ArgumentGroup) -> None:
    config.add_argument(
        "--config-dir", type=Path, metavar="DIR", help="default: $PYRO_CONFIG_DIR or ~/.pyroscope"
    )
    config.add_argument(
        "--config-file",
        action="append",
        default=[],
        metavar="PATH",
        help="extra configuration file (repeatable)",
    )
    config.add_argument(
        "-D", "--define", action="append", default=[], metavar="KEY=VAL", help="override a [GLOBAL] setting"
    )
    config.add_argument("--url", metavar="URL", help="rTorrent's SCGI/HTTP URL (overrides the configuration)")
    config.add_argument("-n", "--dry-run", action="store_true", help="advise jobs not to change anything")


def _add_process_options(process: argparse._ArgumentGroup) -> None:
    process.add_argument(
        "--fg", "--no-fork", dest="foreground", action="store_true", help="stay in the foreground"
    )
    process.add_argument("--stop", action="store_true", help="stop the running daemon")
    process.add_argument("--restart", action="store_true", help="stop the running daemon, then start")
    process.add_argument("-?", "--status", action="store_true", help="tell whether the daemon runs")
    process.add_argument(
        "--pid-file", type=Path, metavar="PATH", help="default: <config dir>/run/pyrotorque.pid"
    )
    process.add_argument(
        "--guard-file", type=Path, metavar="PATH", help="default: <config dir>/run/pyrotorque (not with --fg)"
    )


def _add_tool_options(tools: argparse._ArgumentGroup) -> None:
    tools.add_argument("--run-once", metavar="JOB", help="run one tick of JOB in the foreground, then exit")
    tools.add_argument("--check", action="store_true", help="validate, connect, list jobs and next runs")
    tools.add_argument("--match", metavar="COND", help="print 'HASH NAME' of the items matching COND")
    tools.add_argument("--view", default="main", help="view for --match (default: main)")
    tools.add_argument("--sort", default="", metavar="FIELDS", help="sort fields for --match")


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
    )


def _log_level(args: argparse.Namespace) -> int:
    if args.debug or args.verbose:
        return logging.DEBUG
    return logging.WARNING if args.quiet else logging.INFO


def _say(text: str) -> None:
    """A result line on stdout."""
    print(text, flush=True)


def _tell(message: str) -> None:
    """One line on stderr."""
    sys.stderr.write(f"pyrotorque: {message}\n")


def _fail(args: argparse.Namespace, code: int, message: str) -> int:
    """One line on stderr (and in the log file in cron mode); returns ``code``."""
    _tell(message)
    if args.cron:
        log.error("%s", message)
    return code


def _status(settings: daemon.Settings) -> int:
    found = daemon.status(settings)
    if found.running:
        _say(f"pyrotorque is running as process #{found.pid}")
        return EXIT_OK
    stale = f" (stale pid file of process #{found.pid})" if found.exists else ""
    _say(f"pyrotorque is not running{stale}")
    return EXIT_NOT_RUNNING


def _stop(args: argparse.Namespace, settings: daemon.Settings) -> int:
    result = daemon.stop(settings)
    if not result.stopped:
        return _fail(
            args, EXIT_TEMPFAIL, f"process #{result.pid} did not stop within {daemon.STOP_TIMEOUT:.0f} s"
        )
    if result.was_running:
        _say(f"pyrotorque process #{result.pid} stopped")
    else:
        _say("pyrotorque was not running")
    return EXIT_OK


def _check(settings: daemon.Settings) -> int:
    plan = daemon.build_plan(settings)
    _say(f"configuration OK: {', '.join(plan.config.files)}")
    info = plan.client.server_info()
    version = info.client_version_text or ".".join(map(str, info.client_version))
    _say(
        f"rTorrent {version} (libtorrent {info.library_version}) at {plan.shown_url}, "
        f"{info.protocol}, {len(info.methods)} methods"
    )
    now = datetime.now().astimezone()
    for planned in plan.jobs:
        next_run = planned.trigger.get_next_fire_time(None, now)
        _say(f"job {planned.name}: {planned.handler}, schedule {planned.schedule!r}, next run at {next_run}")
    if not plan.jobs:
        _say("no active jobs")
    return EXIT_OK


def _run_once(settings: daemon.Settings, job_name: str) -> int:
    plan = daemon.build_plan(settings, only_job=job_name)
    (planned,) = plan.jobs
    planned.job.start()
    try:
        planned.job.run()
    finally:
        planned.job.stop()
    return EXIT_OK


def _match(args: argparse.Namespace, settings: daemon.Settings) -> int:
    from pyrotorque.conditions import match_items  # only this command needs the condition language

    connection = daemon.load_and_connect(settings)
    aliases = connection.settings.announce_aliases
    try:
        items = match_items(connection.client, args.match, view=args.view, sort=args.sort, aliases=aliases)
    except ConditionError as exc:
        return _fail(args, EXIT_USAGE, f"bad condition: {exc}")
    for item in items:
        _say(f"{item.hash} {item.name}")
    return EXIT_OK if items else EXIT_NO_MATCH


def _start(args: argparse.Namespace, settings: daemon.Settings) -> int:
    if args.restart:
        code = _stop(args, settings)
        if code != EXIT_OK:
            return code
    plan = daemon.build_plan(settings)
    return _started(daemon.start(settings, plan))


def _started(result: StartResult) -> int:
    """The exit code of a start, in the process that served the jobs or in the launcher."""
    outcome = result.outcome
    if outcome in (StartOutcome.STOPPED, StartOutcome.DAEMON_READY):
        return EXIT_OK
    if outcome is StartOutcome.DAEMON_FAILED:
        _tell(f"starting the jobs failed: {result.message}")  # the daemon logged it; say it here too
    elif outcome is StartOutcome.DAEMON_LOST:
        _tell("the daemon died while starting, see its log")
    # JOBS_FAILED: this process logged why (to the terminal in the foreground, else to its log).
    return EXIT_SOFTWARE


def run(args: argparse.Namespace) -> int:
    """Do what the parsed arguments ask; returns the exit code."""
    settings = _settings(args)
    if args.status:
        return _status(settings)
    if args.stop:
        return _stop(args, settings)
    if args.check:
        return _check(settings)
    if args.run_once:
        return _run_once(settings, args.run_once)
    if args.match is not None:
        return _match(args, settings)
    return _start(args, settings)


#: Options that each ask for something else than a start; at most one may be given.
_EXCLUSIVE = ("status", "stop", "restart", "check", "run_once", "match")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pyrotorque`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        where = Path(pyrotorque.__file__).parent
        _say(f"pyrotorque {pyrotorque.__version__} from {where} on Python {platform.python_version()}")
        return EXIT_OK
    exclusive = _check_combinations(parser, args)
    _restrict_umask()
    settings = _settings(args)
    starting = not exclusive or args.restart
    to_file = args.cron or (starting and not args.foreground)
    try:
        logsetup.setup_logging(
            _log_level(args), settings.log_path if to_file else None, console=not args.cron, debug=args.debug
        )
    except OSError as exc:
        # Not _fail: with no log there is nowhere to log it, and logging's fallback would repeat it.
        _tell(f"cannot open the log file {settings.log_path}: {exc.strerror}")
        return EXIT_IOERR
    return _run_mapping_errors(args)


def _restrict_umask() -> None:
    """Keep group and others from writing what we create (pid, log, state), whatever umask we got.

    cron and rTorrent's execute pass on their own umask, which may be 0; the pid file and the state
    decide what the daemon does, so nobody else may change them.
    """
    current = os.umask(0o022)
    os.umask(current | 0o022)


def _check_combinations(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The exclusive options given; a usage error (exit 2) for options that cannot go together."""
    if args.quiet and (args.verbose or args.debug):
        parser.error("-q cannot be combined with -v or --debug")
    exclusive = [name for name in _EXCLUSIVE if getattr(args, name)]
    if len(exclusive) > 1:
        parser.error("choose one of " + ", ".join("--" + name.replace("_", "-") for name in exclusive))
    return exclusive


def _run_mapping_errors(args: argparse.Namespace) -> int:
    """``run(args)``, with every error turned into its exit code and one line on stderr (docs/cli.md)."""
    try:
        return run(args)
    except AlreadyRunning as exc:
        if args.cron:  # the watchdog calls us every few minutes: a running daemon is the normal case
            log.debug("%s", exc)
            return EXIT_OK
        return _fail(args, EXIT_TEMPFAIL, str(exc))
    except GuardFileMissing as exc:
        return _fail(args, EXIT_TEMPFAIL, str(exc))
    except ConfigError as exc:
        return _fail(args, EXIT_CONFIG, f"configuration error: {exc}")
    except ConditionError as exc:
        return _fail(args, EXIT_CONFIG, f"bad condition: {exc}")
    except RtorrentError as exc:
        if args.debug:
            log.exception("rTorrent error")
        return _fail(args, EXIT_UNAVAILABLE, f"rTorrent: {exc}")
    except DaemonError as exc:
        return _fail(args, EXIT_IOERR, str(exc))
    except KeyboardInterrupt:
        return _fail(args, 130, "interrupted")
    except Exception as exc:
        log.exception("Unexpected error")
        return _fail(args, EXIT_SOFTWARE, f"unexpected {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
