"""Configuration: pyrocore-compatible INI files, overlaid, with typed job options.

``load_config()`` reads the package defaults, ``config.ini``, ``torque.ini``, extra files and
``-D`` overrides into a ``Config``; ``job_configs()`` groups the ``job.NAME.PARAM`` keys;
``build_options()`` fills a job's Options dataclass; ``legacy_params()`` serves pyrocore-style jobs;
``GlobalSettings.from_config()`` reads ``[GLOBAL]``, ``[ANNOUNCE]`` and the daemon-wide ``[TORQUE]``
keys once.
"""

from __future__ import annotations

from pyrotorque.bunch import Bunch
from pyrotorque.config.convert import BadValue, parse_bool
from pyrotorque.config.ini import Setting, parse_ini
from pyrotorque.config.jobs import (
    COMMON_KEYS,
    JobConfig,
    job_configs,
    legacy_params,
    legacy_value,
    split_schedule,
)
from pyrotorque.config.loader import CONFIG_DIR_ENV, Config, load_config, parse_define, resolve_config_dir
from pyrotorque.config.options import build_options, option
from pyrotorque.config.settings import GlobalSettings, SchedulerSettings

__all__ = [
    "COMMON_KEYS",
    "CONFIG_DIR_ENV",
    "BadValue",
    "Bunch",
    "Config",
    "GlobalSettings",
    "JobConfig",
    "SchedulerSettings",
    "Setting",
    "build_options",
    "job_configs",
    "legacy_params",
    "legacy_value",
    "load_config",
    "option",
    "parse_bool",
    "parse_define",
    "parse_ini",
    "resolve_config_dir",
    "split_schedule",
]
