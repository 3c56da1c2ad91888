"""The ``pyrotorque`` command line's options: the parser, and which options cannot go together."""

from __future__ import annotations

import argparse
from pathlib import Path


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
    _add_migration_options(parser.add_argument_group("migration"))
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
    tools.add_argument(
        "--load-pending", metavar="JOB", help="load the files tree watch JOB has not loaded, then exit"
    )
    tools.add_argument("--check", action="store_true", help="validate, connect, list jobs and next runs")
    tools.add_argument("--match", metavar="COND", help="print 'HASH NAME' of the items matching COND")
    tools.add_argument("--view", default="main", help="view for --match (default: main)")
    tools.add_argument(
        "--connection",
        metavar="NAME",
        help="the [CONNECTIONS] rTorrent for --match, --check, --run-once, --load-pending (default: all for"
        " --check, else the job's or 'default')",
    )
    tools.add_argument("--sort", default="", metavar="FIELDS", help="sort fields for --match")
    tools.add_argument(
        "--create-config",
        action="store_true",
        help="write the *.default files, run/ and log/ into the config dir; print the rtorrent.rc lines",
    )
    tools.add_argument(
        "--show-includes", action="store_true", help="print the paths of the shipped rtorrent.rc includes"
    )
    tools.add_argument(
        "--hash-password",
        action="store_true",
        help="read a password (prompt, or first line of stdin) and print its hash for auth_password_hash",
    )


def _add_migration_options(migration: argparse._ArgumentGroup) -> None:
    migration.add_argument(
        "--import-pyrosimple",
        type=Path,
        metavar="PATH",
        help="print a pyrosimple config.toml's [TORQUE] jobs as our torque.ini (docs/migration.md)",
    )


#: Options that each ask for something else than a start; at most one may be given.
_EXCLUSIVE = (
    "status",
    "stop",
    "restart",
    "check",
    "run_once",
    "load_pending",
    "match",
    "create_config",
    "show_includes",
    "hash_password",
)


#: The tools that talk to one rTorrent, which --connection names.
_TAKE_CONNECTION = frozenset({"check", "run_once", "load_pending", "match"})


def check_combinations(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The exclusive options given; a usage error (exit 2) for options that cannot go together."""
    if args.quiet and (args.verbose or args.debug):
        parser.error("-q cannot be combined with -v or --debug")
    exclusive = [name for name in _EXCLUSIVE if getattr(args, name)]
    if len(exclusive) > 1:
        parser.error("choose one of " + ", ".join("--" + name.replace("_", "-") for name in exclusive))
    if args.connection is not None and not set(exclusive) & _TAKE_CONNECTION:
        parser.error("--connection goes with --match, --check, --run-once or --load-pending")
    return exclusive
