"""Typed YAML configs: one mechanism for every command that takes a config.

A config schema is a (nested) dataclass with type annotations. A config is built in layers, each merged
onto the previous one key by key (nested mappings merge; other values replace):

1. the schema's defaults;
2. a preset, ``src/v1mtl/presets/<name>.yaml`` (package data);
3. the user's YAML file;
4. ``--set dotted.key=value`` overrides, each value parsed as a YAML scalar (``--set model.width=16``,
   ``--set data.augment=false``, ``--set neural.targets=null``).

Every layer is checked against the schema before it is merged, so an unknown key or a wrong type raises an
``InputError`` that names the layer (file path, or ``--set``) and the dotted key (``schedule.patience``).
``--print-config`` prints the result as YAML (``config_yaml``) and exits before the command runs.

Supported annotations: ``int``, ``float``, ``str``, ``bool``, ``Optional[X]`` / ``X | None``,
``Literal[...]``, ``list[X]``, ``tuple[X, ...]``, ``dict[str, X]`` and nested dataclasses (also as list
items). ``float`` fields
also accept strings such as ``1e-4``, because YAML 1.1 (PyYAML) reads an exponent without a dot as a string.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar, Union

import yaml

from v1mtl.common.atomic import write_text
from v1mtl.common.cli_help import set_example
from v1mtl.common.errors import InputError

T = TypeVar("T")

PRESET_PACKAGE = "v1mtl"
PRESET_FOLDER = "presets"


def available_presets(prefix: str | None = None) -> list[str]:
    """Names of the bundled presets (file stems), or, with ``prefix``, the part after ``<prefix>-``."""
    folder = resources.files(PRESET_PACKAGE) / PRESET_FOLDER
    stems = sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))
    if prefix is None:
        return stems
    return [s[len(prefix) + 1 :] for s in stems if s.startswith(f"{prefix}-")]


def preset_path(name: str) -> Path:
    """The file of the bundled preset ``name`` (e.g. ``train-quick``)."""
    path = Path(str(resources.files(PRESET_PACKAGE) / PRESET_FOLDER / f"{name}.yaml"))
    if not path.is_file():
        raise InputError(
            f"unknown preset '{name}'; available: {', '.join(available_presets())}", field="preset"
        )
    return path


def load_config(
    schema: type[T],
    path: str | Path | None = None,
    overrides: Sequence[str] = (),
    preset: str | None = None,
    *,
    flags: Mapping[str, Any] | None = None,
) -> T:
    """Build a validated ``schema`` instance from defaults, a preset, a YAML file and ``--set`` overrides.

    Args:
        schema: the dataclass type of the config.
        path: the user's YAML file, or None.
        overrides: ``"dotted.key=value"`` strings, applied in order; values are YAML scalars.
        preset: the name of a bundled preset (``presets/<preset>.yaml``), or None.
        flags: dotted keys -> values of dedicated command-line flags (``{"device": "cuda"}``); those that
            are not None are applied last.

    Raises:
        InputError: naming the file (or ``--set``) and the dotted key of an unknown key, a wrong type, a
            value outside a ``Literal``, or a required key that no layer sets.
    """
    layers: list[tuple[str, Any]] = []
    if preset is not None:
        p = preset_path(preset)
        layers.append((str(p), _read_yaml(p)))
    if path is not None:
        layers.append((str(path), _read_yaml(Path(path))))
    for item in overrides:
        layers.append(("--set", _parse_override(item)))
    for key, value in (flags or {}).items():
        if value is not None:
            layers.append((f"--{key.rsplit('.', 1)[-1].replace('_', '-')}", _nest(key, value)))

    merged: dict[str, Any] = {}
    for source, data in layers:
        _check(schema, data, source, "")
        merged = _merge(merged, data)
    return config_from_dict(schema, merged, source=layers[-1][0] if layers else "config")


def config_from_dict(schema: type[T], data: Mapping[str, Any], *, source: str = "config") -> T:
    """Validate a plain mapping against ``schema`` and build the dataclass (missing keys take defaults)."""
    _check(schema, data, source, "")
    return _build(schema, data, source, "")


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """A plain, YAML-safe nested dict of a config (tuples become lists, paths become strings)."""
    if not dataclasses.is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"expected a dataclass instance, got {type(cfg).__name__}")
    return _plain(cfg)


def apply_dotted(data: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with each ``dotted.key -> value`` of ``values`` merged in, in order (as ``--set`` does)."""
    out = dict(data)
    for key, value in values.items():
        out = _merge(out, _nest(key, value))
    return out


def config_yaml(cfg: Any) -> str:
    """``cfg`` as YAML text, keys in the schema's order; ``load_config`` reads it back to an equal config."""
    return yaml.safe_dump(config_to_dict(cfg), sort_keys=False, default_flow_style=False)


def save_config(cfg: Any, path: str | Path) -> None:
    """Write ``cfg`` as YAML, atomically. ``load_config(type(cfg), path)`` gives back an equal config."""
    write_text(path, config_yaml(cfg))


def print_config(*configs: Any) -> NoReturn:
    """What ``--print-config`` does: print each config as one YAML document and exit 0, running nothing.

    Raises:
        SystemExit: always, with code 0, so that the command stops before it reads inputs or writes.
    """
    print("---\n".join(config_yaml(cfg) for cfg in configs), end="")
    raise SystemExit(0)


def add_config_arguments(
    parser: argparse.ArgumentParser,
    *,
    preset_prefix: str | None,
    example: str,
    positional: bool = True,
) -> None:
    """Add the arguments every config-taking command shares: ``CONFIG`` (or ``--config``), ``--preset``,
    ``--set`` and ``--print-config``; end the command's help with ``example``.

    ``--preset NAME`` selects ``presets/<preset_prefix>-NAME.yaml`` (no ``--preset`` when ``preset_prefix`` is
    None). Commands whose positional arguments are inputs (checkpoints) take the file as ``--config`` instead.
    ``example`` is a whole command line (``v1mtl train --preset quick --set schedule.max_epochs=3 --out
    runs/x``); it is required so that no command's help goes without one.
    """
    if positional:
        parser.add_argument("config", nargs="?", default=None, help="YAML config file (optional)")
    else:
        parser.add_argument("--config", default=None, metavar="YAML", help="YAML config file (optional)")
    if preset_prefix is not None:
        names = available_presets(preset_prefix)
        parser.add_argument(
            "--preset",
            choices=names or None,
            default=None,
            help=f"start from a bundled preset ({', '.join(names) or 'none'}); the config file and --set apply "
            "on top",
        )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value by its dotted key (repeatable; values are YAML; see the example)",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the resolved config (preset, config file, --set and flags applied) as YAML and exit, "
        "without running or writing anything",
    )
    set_example(parser, example)


def config_from_args(
    schema: type[T],
    args: argparse.Namespace,
    *,
    preset_prefix: str | None = None,
    flags: Mapping[str, Any] | None = None,
) -> T:
    """Build the config of a command from the arguments added by ``add_config_arguments``.

    ``flags`` maps dotted keys to values of dedicated command-line flags (``{"device": args.device}``);
    those that are not None are applied after every ``--set``. With ``--print-config`` it prints the
    config and exits 0 (``print_config``); a command that resolves more than one config passes a namespace
    without ``print_config`` and calls ``print_config`` itself with all of them.
    """
    chosen = getattr(args, "preset", None)
    preset = None if chosen is None else f"{preset_prefix}-{chosen}"
    cfg = load_config(schema, args.config, args.overrides, preset, flags=flags)
    if getattr(args, "print_config", False):
        print_config(cfg)
    return cfg


# --------------------------------------------------------------------------------------------------------
# reading


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError("config file not found", path=path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise InputError(f"not valid YAML: {err}", path=path) from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"the top level must be a mapping of keys, got {type(data).__name__}", path=path)
    return data


def _parse_override(item: str) -> dict[str, Any]:
    """``"a.b=3"`` -> ``{"a": {"b": 3}}``."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise InputError(f"expected dotted.key=value, got '{item}'", path="--set")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        raise InputError(f"value is not valid YAML: {err}", path="--set", field=key) from err
    return _nest(key, value)


def _nest(dotted: str, value: Any) -> dict[str, Any]:
    """``("a.b", 3)`` -> ``{"a": {"b": 3}}``."""
    for part in reversed(dotted.split(".")):
        value = {part: value}
    return value


def _merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------------------------------------
# checking against a schema


def _hints(schema: type) -> dict[str, Any]:
    return typing.get_type_hints(schema)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _check(schema: type, data: Any, source: str, prefix: str) -> None:
    """Raise ``InputError`` for the first unknown key or wrongly typed value of a (partial) layer."""
    if not isinstance(data, Mapping):
        raise InputError(f"expected a mapping of keys, got {_show(data)}", path=source, field=prefix or None)
    hints = _hints(schema)
    for key, value in data.items():
        dotted = _join(prefix, str(key))
        if key not in hints:
            known = ", ".join(f.name for f in dataclasses.fields(schema))
            raise InputError(f"unknown key (known here: {known})", path=source, field=dotted)
        _coerce(hints[key], value, source, dotted)


def _coerce(tp: Any, value: Any, source: str, dotted: str) -> Any:
    """Check ``value`` against the annotation ``tp``; return it in the field's Python type."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        _check(tp, value, source, dotted)
        return _build(tp, value, source, dotted)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(option, value, source, dotted)
            except InputError as err:
                errors.append(err)
        if len(errors) == 1:
            raise errors[0]
        raise InputError(f"expected {_describe(tp)}, got {_show(value)}", path=source, field=dotted)
    if origin is Literal:
        if not any(a == value and type(a) is type(value) for a in args):
            choices = ", ".join(repr(a) for a in args)
            raise InputError(f"must be one of {choices}, got {_show(value)}", path=source, field=dotted)
        return value
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise InputError(f"expected a list, got {_show(value)}", path=source, field=dotted)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise InputError(f"expected {len(args)} items, got {len(value)}", path=source, field=dotted)
            item_types = list(args)
        else:
            item_types = [args[0] if args else Any] * len(value)
        items = [
            _coerce(t, v, source, f"{dotted}[{i}]")
            for i, (t, v) in enumerate(zip(item_types, value, strict=True))
        ]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise InputError(f"expected a mapping, got {_show(value)}", path=source, field=dotted)
        key_type, value_type = args if args else (Any, Any)
        out = {}
        for k, v in value.items():
            if key_type is str and not isinstance(k, str):
                raise InputError(f"keys must be strings, got {_show(k)}", path=source, field=dotted)
            out[k] = _coerce(value_type, v, source, _join(dotted, str(k)))
        return out
    return _coerce_scalar(tp, value, source, dotted)


def _coerce_scalar(tp: Any, value: Any, source: str, dotted: str) -> Any:
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif tp is str:
        if isinstance(value, str):
            return value
    elif tp is Path:
        if isinstance(value, str | Path):
            return Path(value)
    else:
        raise TypeError(f"unsupported annotation {tp!r} at '{dotted}'")
    raise InputError(f"expected {_describe(tp)}, got {_show(value)}", path=source, field=dotted)


def _build(schema: type[T], data: Mapping[str, Any], source: str, prefix: str) -> T:
    hints = _hints(schema)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(schema):
        dotted = _join(prefix, f.name)
        tp = hints[f.name]
        if f.name in data:
            value = data[f.name]
            if dataclasses.is_dataclass(tp):
                kwargs[f.name] = _build(tp, value, source, dotted)
            elif typing.get_origin(tp) is dict and isinstance(value, Mapping):
                # mappings merge in every layer, the schema's default included
                kwargs[f.name] = {**_default(f), **_coerce(tp, value, source, dotted)}
            else:
                kwargs[f.name] = _coerce(tp, value, source, dotted)
        elif (
            dataclasses.is_dataclass(tp)
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ):
            kwargs[f.name] = _build(tp, {}, source, dotted)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise InputError("required key is missing", path=source, field=dotted)
    return schema(**kwargs)


def _default(f: dataclasses.Field) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return {} if f.default is dataclasses.MISSING or f.default is None else f.default


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"
