"""The command line's tools besides starting and stopping: --check, --run-once, --load-pending, --match,
--create-config / --show-includes, --hash-password, --import-pyrosimple. Each imports what only it needs
inside its function, so the control commands (--status, --stop, --cron) stay cheap to start."""

from __future__ import annotations

import argparse
import shlex
import sys

from pyrotorque import daemon
from pyrotorque.cli_output import fail, say, tell
from pyrotorque.errors import ConditionError, ConfigError
from pyrotorque.exitcodes import EXIT_CONFIG, EXIT_IOERR, EXIT_NO_MATCH, EXIT_OK, EXIT_USAGE


def check(settings: daemon.Settings) -> int:
    """Validate, list the jobs, then connect: the jobs are listed even while rTorrent is down.

    A connection problem comes last, as the RtorrentError the caller maps to exit 69.
    """
    from datetime import datetime  # imports are the cost of the control commands: only where needed

    plan = daemon.build_plan(settings)
    say(f"configuration OK: {', '.join(plan.config.files)}")
    now = datetime.now().astimezone()
    several = len(plan.connections) > 1
    for planned in plan.jobs:
        next_run = planned.trigger.get_next_fire_time(None, now)
        on = f", connection {planned.connection}" if several else ""
        schedule = f"schedule {planned.schedule!r}"
        say(f"job {planned.name}: {planned.handler}, {schedule}, next run at {next_run}{on}")
    if not plan.jobs:
        say("no active jobs")
    return _check_connections(plan, settings.connection)


def _check_connections(plan: daemon.Plan, only: str | None) -> int:
    """One line per connection: its rTorrent's version, or why it does not answer.

    Every connection is asked before the first failure is raised (exit 69), so one line shows each.
    A single default connection keeps the line it always had (no name).
    """
    from pyrotorque.errors import RtorrentError

    instances = list(plan.connections.values()) or [daemon.Instance("default", plan.url, plan.client)]
    if only is not None:
        instances = [daemon.named_instance({one.name: one for one in instances}, only)]
    named = len(plan.connections) > 1
    failure: RtorrentError | None = None
    for instance in instances:
        label = f"connection {instance.name}: " if named else ""
        try:
            info = instance.client.server_info()
        except RtorrentError as exc:
            if not named:
                raise
            say(f"{label}NOT reachable at {instance.shown_url}: {exc}")
            failure = failure or exc
            continue
        version = info.client_version_text or ".".join(map(str, info.client_version))
        say(
            f"{label}rTorrent {version} (libtorrent {info.library_version}) at {instance.shown_url}, "
            f"{info.protocol}, {len(info.methods)} methods"
        )
    if failure is not None:
        raise failure
    return EXIT_OK


def run_once(settings: daemon.Settings, job_name: str) -> int:
    plan = daemon.build_plan(settings, only_job=job_name)
    (planned,) = plan.jobs
    planned.job.start()
    try:
        planned.job.run()
    finally:
        planned.job.stop()
    return EXIT_OK


def load_pending(settings: daemon.Settings, job_name: str) -> int:
    plan = daemon.build_plan(settings, only_job=job_name)
    (planned,) = plan.jobs
    load_pending = getattr(planned.job, "load_pending", None)
    if load_pending is None:
        raise ConfigError(f"--load-pending: job {job_name!r} ({planned.handler}) is not a tree watch")
    try:
        load_pending()
    finally:
        planned.job.stop()
    return EXIT_OK


def match(args: argparse.Namespace, settings: daemon.Settings) -> int:
    from pyrotorque.conditions import match_items  # only this command needs the condition language

    connection = daemon.load_and_connect(settings)
    aliases = connection.settings.announce_aliases
    client = daemon.named_instance(connection.instances, settings.connection or "default").client
    try:
        items = match_items(client, args.match, view=args.view, sort=args.sort, aliases=aliases)
    except ConditionError as exc:
        return fail(args, EXIT_USAGE, f"bad condition: {exc}")
    for item in items:
        say(f"{item.hash} {item.name}")
    return EXIT_OK if items else EXIT_NO_MATCH


def lay_out(args: argparse.Namespace, settings: daemon.Settings) -> int:
    """``--create-config`` and ``--show-includes`` (pyrotorque.layout)."""
    from pyrotorque import layout  # only these two commands need it

    if args.show_includes:
        for path in layout.shipped_includes():
            say(str(path))
        return EXIT_OK
    config_dir, command = settings.resolved_config_dir, layout.command_path()
    try:
        written = layout.create_config(config_dir, command)
    except OSError as exc:
        return fail(args, EXIT_IOERR, f"cannot create {exc.filename}: {exc.strerror or exc}")
    for item in written:
        say(f"{item.change.value:9} {item.path}{'/' if item.path.is_dir() else ''}")
    say("\nAdd these lines to your rtorrent.rc, then restart rTorrent:\n")
    for line in layout.rc_lines(layout.include_copies(config_dir), command, config_dir):
        say(line)
    guard = config_dir / daemon.GUARD_FILE_NAME
    unit = config_dir / (layout.UNIT_NAME + layout.DEFAULT_SUFFIX)
    say(f"\nThen `touch {shlex.quote(str(guard))}` to let rTorrent's watchdog start pyrotorque,")
    say(f"or run it under systemd without the watchdog: {unit} is a user unit")
    say('(docs/cli.md, "Under a service manager").')
    return EXIT_OK


def hash_password(args: argparse.Namespace) -> int:
    """Print the exporter's ``auth_password_hash`` of a password typed twice, or of stdin's first line."""
    import getpass

    from pyrotorque.jobs.exporter.auth import make_hash  # only this command needs it

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            return fail(args, EXIT_USAGE, "the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        return fail(args, EXIT_USAGE, "an empty password")
    say(make_hash(password))
    return EXIT_OK


def import_pyrosimple(parser: argparse.ArgumentParser, args: argparse.Namespace, exclusive: list[str]) -> int:
    """The converted file on stdout, a line on stderr per setting without an equivalent (exit 0)."""
    if exclusive:
        parser.error("--import-pyrosimple cannot be combined with --" + exclusive[0].replace("_", "-"))
    from pyrotorque.pyrosimple_import import convert_file  # only this command needs it

    try:
        conversion = convert_file(args.import_pyrosimple)
    except ConfigError as exc:
        return fail(args, EXIT_CONFIG, f"configuration error: {exc}")
    sys.stdout.write(conversion.text)
    for warning in conversion.warnings:
        tell(f"import: {warning}")
    return EXIT_OK
