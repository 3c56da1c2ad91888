"""Typed job options: convert a job's ``job.NAME.*`` settings into its frozen Options dataclass.

The dataclass is the single source of a handler's defaults, so a second job using the same handler
under another name (``job.queue2.*``) gets them too. Field metadata, set with :func:`option`, can
add simple checks (``minimum``, ``maximum``, ``choices``, ``check``) and a list ``separator``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from pyrotorque.config.convert import DEFAULT_SEPARATOR, SCALAR_PARSERS, BadValue
from pyrotorque.config.ini import Setting
from pyrotorque.config.jobs import JobConfig
from pyrotorque.errors import ConfigError, JobLoadError

T = TypeVar("T")


def option(
    default: Any = dataclasses.MISSING,
    *,
    default_factory: Callable[[], Any] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: Collection[Any] | None = None,
    separator: str | None = None,
    check: Callable[[Any], str | None] | None = None,
    help: str = "",
) -> Any:
    """A dataclass field with conversion hints; ``check`` returns an error message or None."""
    metadata = {
        "minimum": minimum,
        "maximum": maximum,
        "choices": choices,
        "separator": separator,
        "check": check,
        "help": help,
    }
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (annotation, False)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def _check_item(value: Any, meta: dataclasses.Field[Any]) -> None:
    minimum, maximum, choices = (meta.metadata.get(name) for name in ("minimum", "maximum", "choices"))
    if minimum is not None and value < minimum:
        raise BadValue(f"must be at least {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise BadValue(f"must be at most {maximum}, got {value!r}")
    if choices is not None and value not in choices:
        allowed = ", ".join(str(choice) for choice in choices)
        raise BadValue(f"must be one of {allowed}, got {value!r}")


def _convert_scalar(annotation: Any, text: str, meta: dataclasses.Field[Any]) -> Any:
    base, optional = _strip_optional(annotation)
    if optional and not text.strip():
        return None
    try:
        parse = SCALAR_PARSERS[base]
    except (KeyError, TypeError):
        raise JobLoadError(
            f"option {meta.name!r} has a type the config cannot fill: {annotation!r}"
        ) from None
    value = parse(text)
    _check_item(value, meta)
    return value


def _is_dict(annotation: Any) -> bool:
    return typing.get_origin(_strip_optional(annotation)[0]) is dict


def _convert(annotation: Any, text: str, meta: dataclasses.Field[Any]) -> Any:
    base, _optional = _strip_optional(annotation)
    if typing.get_origin(base) is tuple:
        args = typing.get_args(base)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise JobLoadError(f"option {meta.name!r}: only tuple[X, ...] is supported, not {annotation!r}")
        separator = meta.metadata.get("separator")
        items = text.split(separator) if separator else DEFAULT_SEPARATOR.split(text)
        return tuple(_convert_scalar(args[0], item.strip(), meta) for item in items if item.strip())
    return _convert_scalar(annotation, text, meta)


def input_problem(exc: ValueError | OSError) -> str:
    """What a value did to a conversion or check that raised instead of reporting (e.g. a path too long
    for the file system, more digits than Python's int takes), as the reason of a config error."""
    if isinstance(exc, OSError):
        return f"cannot be used: {exc.strerror or exc}"
    return f"cannot be used: {str(exc).split(';')[0]}"


def _run_check(value: Any, meta: dataclasses.Field[Any]) -> None:
    check = meta.metadata.get("check")
    if check is not None and (problem := check(value)):
        raise BadValue(problem)


def build_options(options_cls: type[T], job: JobConfig) -> T:
    """Fill ``options_cls`` from the job's params; ConfigError names the key, file and line."""
    if not dataclasses.is_dataclass(options_cls):
        raise JobLoadError(f"{options_cls!r} is not a dataclass", key=job.key("handler"))
    hints = typing.get_type_hints(options_cls)
    fields = {meta.name: meta for meta in dataclasses.fields(options_cls) if meta.init}
    values: dict[str, Any] = {}
    dict_values: dict[str, dict[str, Any]] = {}

    for param, setting in job.params.items():
        key = job.key(param)
        name, dot, subkey = param.partition(".")
        meta = fields.get(name)
        if meta is None or bool(dot) != _is_dict(hints[name]) or (dot and not subkey):
            raise setting.error(_unknown_key_message(job, fields, hints), key)
        try:
            if dot:
                value_type = typing.get_args(_strip_optional(hints[name])[0])[1]
                dict_values.setdefault(name, {})[subkey] = _convert_scalar(value_type, setting.value, meta)
            else:
                values[name] = _convert(hints[name], setting.value, meta)
                _run_check(values[name], meta)
        except BadValue as exc:
            raise setting.error(str(exc), key) from None
        except (ValueError, OSError) as exc:
            raise setting.error(input_problem(exc), key) from exc

    for name, collected in dict_values.items():
        values[name] = dict(sorted(collected.items()))
        _run_check_at(values[name], fields[name], job, name, collected)

    _refuse_missing(job, fields, values)
    try:
        return options_cls(**values)
    except (TypeError, ValueError) as exc:
        raise job.handler.error(f"invalid options for job {job.name!r}: {exc}", job.key("handler")) from exc


def _refuse_missing(
    job: JobConfig, fields: dict[str, dataclasses.Field[Any]], values: dict[str, Any]
) -> None:
    """ConfigError naming every option without a default that the job's keys do not set."""
    missing = [
        name
        for name, meta in fields.items()
        if name not in values
        and meta.default is dataclasses.MISSING
        and meta.default_factory is dataclasses.MISSING
    ]
    if missing:
        keys = ", ".join(job.key(name) for name in missing)
        raise ConfigError(
            f"job {job.name!r} needs {keys}",
            key=job.key(missing[0]),
            path=job.handler.path,
            line=job.handler.line,
        )


def _run_check_at(
    value: Any, meta: dataclasses.Field[Any], job: JobConfig, name: str, collected: dict[str, Any]
) -> None:
    """Run a dict field's whole-value check, blaming its first key."""
    try:
        _run_check(value, meta)
    except (ValueError, OSError) as exc:
        first = sorted(collected)[0]
        setting: Setting = job.params[f"{name}.{first}"]
        message = str(exc) if isinstance(exc, BadValue) else input_problem(exc)
        raise setting.error(message, job.key(f"{name}.*")) from None


def _unknown_key_message(
    job: JobConfig, fields: dict[str, dataclasses.Field[Any]], hints: dict[str, Any]
) -> str:
    known = sorted(f"{name}.NAME" if _is_dict(hints[name]) else name for name in fields)
    listing = ", ".join(known) if known else "none besides handler, schedule, active, dry_run, log_level"
    return f"unknown key for handler {job.handler.value!r}; it accepts: {listing}"
