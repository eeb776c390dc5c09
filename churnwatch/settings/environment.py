"""Settings for the command line, with every mistake in the environment named plainly.

A command loads only the sections it uses strictly: an invalid Kafka setting must not stop
``replay``, which never talks to Kafka. Unknown ``CHURNWATCH_*`` variables (a typo such as
``CHURNWATCH_KAFKA_BROKERS`` with one underscore) would otherwise be ignored in silence.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from churnwatch.errors import UserError
from churnwatch.settings.model import CONFIG_VARIABLE, ConfigFileError, Settings

PREFIX = "CHURNWATCH_"
DEBUG_VARIABLE = "CHURNWATCH_DEBUG"
SECTIONS = frozenset(Settings.model_fields)


def load(uses: frozenset[str] = SECTIONS, env: Mapping[str, str] | None = None
         ) -> tuple[Settings, list[str]]:
    """(settings, warnings). Raises :class:`UserError` for a problem in a used section;
    a problem in a section the command does not use is a warning, and its defaults apply."""
    env = os.environ if env is None else env
    warnings = unknown_variables(env)
    try:
        return Settings.from_env(), warnings
    except ConfigFileError as exc:
        raise UserError(f"{exc}\n  (unset {CONFIG_VARIABLE} or point it at a TOML or JSON "
                        "file)") from None
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    fatal = [e for e in errors if _section(e) in uses or not e["loc"]]  # or across sections
    if fatal:
        raise UserError("\n".join(describe(e, env) for e in fatal))
    unused = {_section(e) for e in errors}
    warnings += [f"{describe(e, env)} (not used by this command: ignored)" for e in errors
                 if e["type"] != "extra_forbidden"]  # unknown names are warned of above
    defaults = Settings.build()
    return Settings(**{name: getattr(defaults, name) for name in unused}), warnings


def from_mapping(values: Mapping[str, Any]) -> Settings:
    """Settings from a dict of overrides shaped like the config file (the Python API), a
    mistake told as the command line tells it: the dotted name, the value, a likely name."""
    try:
        return Settings.build(**values)
    except ValidationError as exc:
        raise ValueError("\n".join(
            "settings: " + _describe(e, ".".join, _suggest_dotted)
            for e in exc.errors(include_url=False))) from None


def _suggest_dotted(name: str) -> str:
    guess = difflib.get_close_matches(name, _DOTTED, n=1, cutoff=0.8)
    return f"; did you mean {guess[0]}?" if guess else ""


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    return [f"{name} is not a churnwatch setting and is ignored{_suggest(name)}"
            for name in sorted(env)
            if name.upper().startswith(PREFIX) and name.upper() not in _KNOWN]


def _suggest(name: str) -> str:
    bare = {k.removeprefix(PREFIX): k for k in _KNOWN}  # compare without the shared prefix
    guess = difflib.get_close_matches(name.upper().removeprefix(PREFIX), bare, n=1, cutoff=0.8)
    if guess:
        return f"; did you mean {bare[guess[0]]}?"
    return " (nested settings are joined by a double underscore, e.g. CHURNWATCH_KAFKA__BROKERS)"


def describe(error: ErrorDetails, env: Mapping[str, str]) -> str:
    """One line: where the value came from, what it was, what is expected."""
    return _describe(error, lambda path: _origin(path, env), _suggest)


def _describe(error: ErrorDetails, name: Callable[[list[str]], str],
              suggest: Callable[[str], str]) -> str:
    """``describe`` for any naming of a setting: ``name`` turns its path into what the
    user wrote (a variable, a file key, a dotted key); ``suggest`` says what was meant."""
    message = error["msg"].removeprefix("Value error, ")
    path = [str(p) for p in error["loc"]]
    if not path:  # a rule between sections: its message names the settings
        return message
    where = name(path)
    if error["type"] == "extra_forbidden":
        return f"{where} is not a churnwatch setting{suggest(where)}"
    shown = "***" if any("password" in p for p in path) else repr(error.get("input"))
    return f"{where}={shown}: {message}"


def _origin(path: list[str], env: Mapping[str, str]) -> str:
    """The variable that set this value, or the config file's key."""
    upper = {k.upper() for k in env}
    for n in range(len(path), 0, -1):
        name = PREFIX + "__".join(path[:n]).upper()
        if name in upper:
            return name if n == len(path) else f"{name} ({'.'.join(path[n:])})"
    if env.get(CONFIG_VARIABLE):
        return f"{env[CONFIG_VARIABLE]}: {'.'.join(path)}"
    return PREFIX + "__".join(path).upper()


def _section(error: ErrorDetails) -> str:
    return str(error["loc"][0]) if error["loc"] else ""


def _paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        yield path
        nested: Any = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            yield from _paths(nested, path)


_KNOWN = frozenset({PREFIX + "__".join(path).upper() for path in _paths(Settings)}
                   | {CONFIG_VARIABLE, DEBUG_VARIABLE})
_DOTTED = sorted(".".join(path) for path in _paths(Settings))
