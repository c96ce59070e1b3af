"""A command-line parser generated from a config dataclass: one ``--field value`` flag per field.

The recipes' CLIs (``videomae pretrain``, ``videomae finetune``, ``python -m videomae.train.*``)
are their config classes read through :func:`build_parser` and :func:`dataclass_from_args`, so a
new config field is a new flag with no second place to edit. A field whose metadata has
``cli=False`` is not offered as a flag and keeps its default. ``--config FILE`` (YAML or JSON,
:mod:`videomae.train.settings`) sets any flag by its name; flags on the command line win.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from collections.abc import Callable, Sequence
from difflib import get_close_matches
from typing import Any

from videomae.errors import ConfigError
from videomae.train.config import config_dict
from videomae.train.settings import load_settings


def cli_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of dataclass ``cls`` that are CLI flags."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("cli", True)]


def _flag_type(tp: Any) -> tuple[Any, bool]:
    """(inner type, optional) of an annotation such as ``int | None``."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        return (inner[0] if len(inner) == 1 else str), True
    return tp, False


def _none_or(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def inner(text: str) -> Any:
        return None if text.lower() in ("none", "null", "") else parse(text)

    inner.__name__ = getattr(parse, "__name__", "value")
    return inner


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean (true/false), got {text!r}")


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _value_kwargs(tp: Any, optional: bool) -> dict[str, Any]:
    """argparse ``type`` / ``nargs`` for a non-boolean field of type ``tp``."""
    origin = typing.get_origin(tp)
    if origin is tuple:
        elem = typing.get_args(tp)[0]
        n = len(typing.get_args(tp)) if ... not in typing.get_args(tp) else "+"
        return {"nargs": n, "type": elem, "metavar": elem.__name__.upper()}
    if tp is dict or origin is dict:
        return {"type": json.loads}
    base_t = _parse_bool if tp is bool else tp
    return {"type": _none_or(base_t) if optional else base_t}


def add_dataclass_args(parser: argparse.ArgumentParser, cls: type) -> None:
    """One ``--field value`` flag per CLI field of ``cls`` (bools also take ``--no-field``).

    ``X | None`` fields accept ``none``; tuples take several values; dicts take JSON. Flags are
    spelled with dashes; the underscore spelling is accepted too.
    """
    hints = typing.get_type_hints(cls)
    for f in cli_fields(cls):
        tp, optional = _flag_type(hints[f.name])
        default = _default(f)
        helptext = f"{f.metadata.get('help', '')} (default: {default})".strip()
        flag = "--" + f.name.replace("_", "-")
        flags = [flag] if flag == "--" + f.name else [flag, "--" + f.name]
        if tp is bool and not optional:
            parser.add_argument(
                *flags,
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=helptext,
            )
        else:
            kwargs = {"dest": f.name, "default": default, "help": helptext}
            parser.add_argument(*flags, **kwargs, **_value_kwargs(tp, optional))


def dataclass_from_args(cls: type, namespace: argparse.Namespace) -> Any:
    """Build ``cls`` from the parsed flags of :func:`add_dataclass_args` (tuples restored)."""
    values = {}
    for f in cli_fields(cls):
        v = getattr(namespace, f.name)
        values[f.name] = tuple(v) if isinstance(v, list) else v
    if getattr(namespace, "quiet", False) and "progress" in values:
        values["progress"] = False
    return cls(**values)


def build_parser(cls: type, prog: str) -> argparse.ArgumentParser:
    """The parser of a recipe: ``cls``'s docstring as description, one flag per field,
    ``--config FILE`` and ``-q/--quiet``."""
    parser = argparse.ArgumentParser(prog=prog, description=(cls.__doc__ or "").strip())
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="YAML or JSON settings, any flag by its name (batch_size: 8); flags given here win; "
        "the run saves its effective settings as OUT_DIR/config.yaml (or .json) to repeat it",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or step lines")
    add_dataclass_args(parser, cls)
    return parser


def _coerce(action: argparse.Action, key: str, value: Any, source: str) -> Any:
    """A settings-file value as the flag's parser would produce it (strings parsed)."""
    parse = _parse_bool if isinstance(action, argparse.BooleanOptionalAction) else action.type
    try:
        if action.nargs not in (None, 0) and not isinstance(action, argparse.BooleanOptionalAction):
            items = value if isinstance(value, (list, tuple)) else [value]
            return [parse(v) if isinstance(v, str) and parse else v for v in items]
        if isinstance(value, str) and parse is not None:
            return parse(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"--config {source}: {key}: {exc}") from None
    if parse is int and isinstance(value, float) and not value.is_integer():
        raise ConfigError(f"--config {source}: {key} must be a whole number, got {value}")
    return value


def apply_settings(
    parser: argparse.ArgumentParser, cls: type, values: dict[str, Any], source: str
) -> None:
    """Make the ``values`` of a settings file the parser's defaults (so flags still win)."""
    actions = {a.dest: a for a in parser._actions}
    known = [f.name for f in cli_fields(cls)]
    unknown = [k for k in values if k not in known]
    if unknown:
        hints = {k: get_close_matches(k, known, n=1) for k in unknown}
        said = ", ".join(f"{k} (did you mean {h[0]}?)" if h else k for k, h in hints.items())
        raise ConfigError(
            f"--config {source}: unknown setting(s) {said}; the settings are the flags of "
            f"`{parser.prog} -h`, spelled with underscores or dashes"
        )
    parser.set_defaults(**{k: _coerce(actions[k], k, v, source) for k, v in values.items()})


def parse_run(cls: type, prog: str, argv: Sequence[str] | None = None) -> tuple[Any, str | None]:
    """(``cls`` from ``argv`` over the ``--config`` file's values, that file's path or None)."""
    parser = build_parser(cls, prog)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", default=None)
    source = pre.parse_known_args(argv)[0].config
    if source:
        apply_settings(parser, cls, load_settings(source), source)
    return dataclass_from_args(cls, parser.parse_args(argv)), source


def cli_values(cfg: Any) -> dict[str, Any]:
    """The flag values of a config (plain values, tuples as lists): a settings file's content."""
    names = {f.name for f in cli_fields(type(cfg))}
    return {k: v for k, v in config_dict(cfg).items() if k in names}


def parse_config(cls: type, prog: str, argv: Sequence[str] | None = None) -> Any:
    """``cls`` from the command line ``argv`` (``sys.argv[1:]`` when None) and ``--config``."""
    return parse_run(cls, prog, argv)[0]
