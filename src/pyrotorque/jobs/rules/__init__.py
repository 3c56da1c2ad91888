"""Rule jobs: act on items by condition (Action), and run programs on a schedule (Command)."""

from pyrotorque.jobs.rules.action_job import Action, ActionOptions

__all__ = ["Action", "ActionOptions"]
