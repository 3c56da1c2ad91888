"""Action (``job.NAME.handler = Action``): each tick, act on the items that match a condition.

1. One fetch of ``view`` filtered by ``condition`` (pushed down to rTorrent where it can), with the
   fields the verb and the templates read, sorted by ``sort_fields``.
2. The first ``max_per_run`` items only, so one bad condition cannot touch a whole client in one tick.
3. Their tracker aliases (one multicall, only for a value with templates), each value rendered.
4. One INFO line per item (``WOULD …`` under ``dry_run``, which changes nothing), then the verb acts on
   all of them, with one multicall where the verb allows; one item's failure is logged and the rest go on.

The verbs are in verbs.py (start, stop, erase, label, priority), verb_delete.py, verb_move.py,
verb_exec.py and verb_transfer.py; docs/rules.md has the keys and recipes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pyrotorque.conditions import Item, ItemQuery, announce_alias, parse_condition
from pyrotorque.config.options import option
from pyrotorque.errors import ConfigError, FaultError, TemplateError
from pyrotorque.figures import RULE_ITEM_FAILURES, RULE_ITEMS
from pyrotorque.jobs.base import Job, JobContext
from pyrotorque.jobs.option_checks import required_condition_problem, sort_problem
from pyrotorque.jobs.rules.actions import action_problem, parse_action
from pyrotorque.jobs.rules.protected import protected_paths
from pyrotorque.jobs.rules.values import TEMPLATE_FIELDS
from pyrotorque.jobs.rules.verbs import Target, Verb, VerbRun, job_custom_key

#: The fetched fields every template sees (the tracker alias is read separately, for the chosen items).
_NAMESPACE_FIELDS = tuple(name for name in TEMPLATE_FIELDS if name != "tracker_alias")


@dataclass(frozen=True)
class ActionOptions:
    """The ``job.NAME.*`` keys of an Action job."""

    condition: str = option(check=required_condition_problem, help="which items, in the condition language")
    action: str = option(
        check=action_problem,
        help="start, stop, erase, delete, label=, priority=, move=, exec=, transfer=",
    )
    view: str = option("main", help="the rTorrent view the items are read from")
    sort_fields: str = option("loaded, name", check=sort_problem, help="which matching items come first")
    max_per_run: int = option(10, minimum=1, help="at most this many items per tick")
    once: bool = option(False, help="act on each item only once (remembered in the item, d.custom)")


def once_key(job_name: str) -> str:
    """The ``d.custom`` key where a ``once`` job marks the items it acted on (the time, in epoch seconds)."""
    return job_custom_key("rule", job_name)


def _identity(path: str) -> str:
    return path


class Action(Job):
    """Applies one action to at most ``max_per_run`` matching items per tick."""

    Options = ActionOptions

    def __init__(self, context: JobContext, options: ActionOptions) -> None:
        super().__init__(context, options)
        self.options: ActionOptions = options
        self.verb: Verb = parse_action(options.action)
        known = {*context.clients, context.connection}
        if problem := self.verb.connection_problem(known):
            raise self._config_error("action", problem)
        fields = dict.fromkeys((*_NAMESPACE_FIELDS, *self.verb.fields))
        self.aliases = context.settings.announce_aliases
        condition = options.condition
        if pending := self.verb.pending_condition(context.name):
            condition = f"[ {condition} ] OR [ {pending} ]"
        if options.once:
            condition = f'[ {condition} ] custom_{once_key(context.name)}=""'
        self.query = ItemQuery(
            parse_condition(condition), options.sort_fields, self.aliases, fields=tuple(fields)
        )
        self.host_path: Callable[[str], str] = _identity
        self.rt_path: Callable[[str], str] = _identity
        self.protected: frozenset[str] = frozenset()

    def _config_error(self, param: str, message: str) -> ConfigError:
        """A ConfigError about ``job.NAME.param`` that names the key, the file and the line."""
        key = f"job.{self.context.name}.{param}"
        setting = self.context.config.setting("torque", key) if self.context.config is not None else None
        if setting is None:
            return ConfigError(message, key=key)
        return setting.error(message, key)

    def map_paths(self, host_path: Callable[[str], str], rt_path: Callable[[str], str]) -> None:
        """Translate rTorrent's paths (when rTorrent runs in a chroot or container) both ways."""
        self.host_path, self.rt_path = host_path, rt_path

    def start(self) -> None:
        """Read the paths no rule may remove, and log how the condition was read."""
        self.protected = protected_paths(self.context.config)
        labels = (self.context.name, self.verb.name)
        self.context.figures.add(RULE_ITEMS, labels, 0)  # the series exist before the first tick acts
        self.context.figures.add(RULE_ITEM_FAILURES, labels, 0)
        self.log.info(
            "Action %r: %s for [ %s ], at most %d per run",
            self.context.name,
            self.options.action,
            self.query.condition,
            self.options.max_per_run,
        )

    def stop(self) -> None:
        """End what the verb still runs (exec's program), so nothing outlives the daemon's stop."""
        self.verb.stop()

    def run(self) -> None:
        """One tick: fetch, cap, render, log, act."""
        client = self.context.client
        matching = self.query.fetch(client, self.options.view, now=self.context.clock())
        connection = self.context.connection
        matching = [item for item in matching if not self.verb.leaves_alone(item, connection)]
        chosen = matching[: self.options.max_per_run]
        if len(matching) > len(chosen):
            self.log.debug(
                "%d item(s) match, acting on %d (max_per_run); the rest wait for the next run",
                len(matching),
                len(chosen),
            )
        targets = self._targets(chosen)
        if not targets:
            return
        dry_run = self.context.dry_run
        for target in targets:
            self.log.info("%s", self._describe(target, dry_run))
        if dry_run:
            return
        run = VerbRun(
            client,
            self.log,
            host_path=self.host_path,
            rt_path=self.rt_path,
            protected=self.protected | self._default_directory(),
            job_name=self.context.name,
            connection=connection,
            clients=self.context.clients or {connection: client},
            clock=self.context.clock,
        )
        done: list[Target] = []
        for target, reason in zip(targets, self.verb.apply(targets, run), strict=True):
            if reason is None:
                done.append(target)
            else:
                self.log.error(
                    "Could not %s %r #%s: %s", self.verb.name, target.item.name, target.item.hash, reason
                )
        labels = (self.context.name, self.verb.name)
        self.context.figures.add(RULE_ITEMS, labels, len(done))
        self.context.figures.add(RULE_ITEM_FAILURES, labels, len(targets) - len(done))
        if self.options.once and done:
            self._mark(done)

    def _mark(self, done: Sequence[Target]) -> None:
        """Remember in each item that this ``once`` job acted on it (one multicall)."""
        key, stamp = once_key(self.context.name), str(int(self.context.clock()))
        calls = [("d.custom.set", (target.item.hash, key, stamp)) for target in done]
        for target, result in zip(done, self.context.client.multicall(calls), strict=True):
            if isinstance(result, FaultError):  # e.g. an item erased by the action itself
                self.log.debug(
                    "Could not mark %r #%s as done: %s", target.item.name, target.item.hash, result
                )

    def _describe(self, target: Target, dry_run: bool) -> str:
        """``Stopping 'NAME' #HASH``, or ``WOULD stop 'NAME' #HASH`` under dry_run (with the value)."""
        value = f" ({target.value})" if self.verb.takes_value else ""
        doing = f"WOULD {self.verb.name}" if dry_run else self.verb.doing
        return f"{doing} {target.item.name!r} #{target.item.hash}{value}"

    def _targets(self, items: Sequence[Item]) -> list[Target]:
        """Each item with its fields and rendered value; an item whose value cannot be rendered is logged
        and left out."""
        aliases = self._aliases(items) if self._needs_aliases() else [""] * len(items)
        targets: list[Target] = []
        for item, alias in zip(items, aliases, strict=True):
            fields: dict[str, Any] = {name: item.get(name) for name in _NAMESPACE_FIELDS}
            fields["tracker_alias"] = alias
            try:
                targets.append(Target(item, self.verb.render(fields), fields))
            except (TemplateError, ConfigError) as exc:
                self.log.error("Not acting on %r #%s: %s", item.name, item.hash, exc)
        return targets

    def _needs_aliases(self) -> bool:
        return self.verb.takes_value and (self.verb.template is None or not self.verb.template.is_literal)

    def _aliases(self, items: Sequence[Item]) -> list[str]:
        """The tracker alias of each item from its first tracker (one multicall; "" when unknown)."""
        if not items:
            return []
        urls = self.context.client.multicall([("t.url", (f"{item.hash}:t0",)) for item in items])
        return [
            "" if isinstance(url, FaultError) or not url else announce_alias(str(url), self.aliases)
            for url in urls
        ]

    def _default_directory(self) -> frozenset[str]:
        """rTorrent's default download directory, for verbs that touch data (never removed)."""
        if not self.verb.touches_data:
            return frozenset()
        answer = self.context.client.call("directory.default")
        return frozenset({self.host_path(str(answer))}) if answer else frozenset()
