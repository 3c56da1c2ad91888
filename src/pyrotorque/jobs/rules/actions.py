"""The table of actions (verb name -> verb) and reading a job's ``action`` setting.

Its own module, so that the verbs that move or remove data or run programs (each in its own module,
built on verbs.py) and the simple ones in verbs.py meet here without an import cycle.
"""

from __future__ import annotations

from pyrotorque.errors import ConfigError, TemplateError
from pyrotorque.jobs.rules.verb_delete import DeleteVerb
from pyrotorque.jobs.rules.verb_exec import ExecVerb
from pyrotorque.jobs.rules.verb_move import MoveVerb
from pyrotorque.jobs.rules.verb_transfer import TransferVerb
from pyrotorque.jobs.rules.verbs import SIMPLE_VERBS, Verb

#: Every verb by name.
_ALL: tuple[type[Verb], ...] = (*SIMPLE_VERBS, DeleteVerb, MoveVerb, ExecVerb, TransferVerb)
VERBS: dict[str, type[Verb]] = {verb.name: verb for verb in _ALL}


def parse_action(text: str) -> Verb:
    """``VERB`` or ``VERB=VALUE`` -> the verb, its value checked (ConfigError or TemplateError if not)."""
    word, equals, value = text.strip().partition("=")
    verb = VERBS.get(word.strip().lower())
    if verb is None:
        known = ", ".join(sorted(f"{name}=VALUE" if cls.takes_value else name for name, cls in VERBS.items()))
        raise ConfigError(f"unknown action {word.strip()!r}; known actions: {known}")
    if verb.takes_value and not (equals and value.strip()):
        raise ConfigError(f"action {verb.name!r} needs a value: {verb.name}=VALUE")
    if not verb.takes_value and equals:
        raise ConfigError(f"action {verb.name!r} takes no value, got {text.strip()!r}")
    return verb(value.strip())


def action_problem(text: str) -> str | None:
    """Option check of ``action``: why ``text`` is not a valid action, or None."""
    try:
        parse_action(text)
    except ConfigError as exc:
        return exc.reason
    except TemplateError as exc:
        return str(exc)
    return None
