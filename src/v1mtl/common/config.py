"""Typed YAML configs: one mechanism for every command that takes a config.

A config schema is a (nested) dataclass with type annotations. A config is built in layers, each merged
onto the previous one key by key (nested mappings merge; other values replace):

1. the schema's defaults;
2. a preset, ``src/v1mtl/presets/<name>.yaml`` (package data);
3. the user's YAML file;
4. ``--set dotted.key=value`` overrides, each value parsed as a YAML scalar (``--set model.width=16``,
   ``--set data.augment=false``, ``--set neural.targets=null``).

Every layer is checked against the schema before it is merged, so an unknown key, a wrong type or a value
outside the field's range (``v1mtl.common.ranges``: ``Annotated[float, Range(...)]`` in the schema; every
float must be finite) raises a one-line ``InputError`` that names the layer (file path, or ``--set``) and the
dotted key from the top of the command's config (``schedule.patience``; ``train.schedule.patience`` in a
study). Values in messages are shortened to ``SHOWN_CHARS`` characters. ``--print-config`` prints the result
as YAML (``config_yaml``) and exits before the command runs.

YAML is read as UTF-8 (a leading byte-order mark is allowed) and refused, with a one-line
``file:line:column: problem`` error, when it is not valid YAML, repeats a key in a mapping, uses more than
``MAX_ALIASES`` aliases, nests deeper than ``MAX_DEPTH`` levels or expands (through aliases) to more than
``MAX_NODES`` values, or when the file is larger than ``MAX_FILE_BYTES``: a config is small, so these limits
only stop alias bombs and runaway files from costing unbounded time and memory.

Supported annotations: ``int``, ``float``, ``str``, ``bool``, ``Optional[X]`` / ``X | None``,
``Literal[...]``, ``list[X]``, ``tuple[X, ...]``, ``dict[str, X]`` and nested dataclasses (also as list
items). ``float`` fields
also accept strings such as ``1e-4``, because YAML 1.1 (PyYAML) reads an exponent without a dot as a string.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import reprlib
import types
import typing
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, TypeVar, Union

import yaml

from v1mtl.common.atomic import write_text
from v1mtl.common.cli_help import set_example
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import Range

T = TypeVar("T")

PRESET_PACKAGE = "v1mtl"
PRESET_FOLDER = "presets"

# Limits of a YAML config (file or --set value); a study config with steps uses a few dozen nodes.
MAX_FILE_BYTES = 1 << 20
MAX_ALIASES = 50
MAX_DEPTH = 32
MAX_NODES = 100_000
# values and keys in messages are cut to this many characters
SHOWN_CHARS = 80


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
        layers.append((str(p), read_yaml(p)))
    if path is not None:
        layers.append((str(path), read_yaml(path)))
    for item in overrides:
        key, value = _parse_override(item)
        _check_set_key(schema, key)
        layers.append(("--set", _nest(key, value)))
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


def check_config(cfg: Any, *, source: str = "config", prefix: str = "") -> None:
    """Check a config built in Python against its schema's types and ranges, as the loader checks a layer.

    ``prefix`` is the config's own dotted key in a larger one (``"train."``), so errors name the full key.

    Raises:
        InputError: naming ``source`` and the dotted key of the first value out of type or range.
    """
    _check(type(cfg), config_to_dict(cfg), source, prefix.rstrip("."))


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


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping in the YAML file ``path`` ({} for an empty file), read within the module's limits.

    Raises:
        InputError: one line naming the file (and ``line:column`` where there is one) when it is missing,
            unreadable, too large, not UTF-8, not valid YAML, over a limit, or not a mapping at the top.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("config file not found", path=path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"larger than {MAX_FILE_BYTES} bytes; a config is a small text file", path=path)
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read it: {err.strerror or err}", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start}); save it as UTF-8", path=path
        ) from None
    try:
        data = _load_yaml(text)
    except yaml.YAMLError as err:
        where, problem = _yaml_problem(err)
        raise InputError(problem, path=f"{path}:{where}" if where else path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"the top level must be a mapping of keys, got {_show(data)}", path=path)
    return data


def _parse_override(item: str) -> tuple[str, Any]:
    """``"a.b=3"`` -> ``("a.b", 3)``."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise InputError(f"expected dotted.key=value, got {_repr(item)}", path="--set")
    try:
        value = _load_yaml(raw) if raw.strip() else None
    except yaml.YAMLError as err:
        where, problem = _yaml_problem(err)
        at = f" at column {where.partition(':')[2]}" if where else ""
        raise InputError(f"bad YAML value{at}: {problem}", path="--set", field=_clip(key)) from None
    return key, value


def _check_set_key(schema: type, dotted: str) -> None:
    """Refuse a ``--set`` key that leaves the schema, naming the whole key as written (``counts.test``, not
    the ``counts`` where it leaves); below a mapping or value field ``_check`` judges the rest."""
    tp: Any = schema
    for part in dotted.split("."):
        if not dataclasses.is_dataclass(tp):
            return
        hints = _hints(tp)
        if part not in hints:
            known = ", ".join(f.name for f in dataclasses.fields(tp))
            raise InputError(
                f"unknown key {_repr(part)} (known here: {known})", path="--set", field=_clip(dotted)
            )
        tp = hints[part]


class _ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses duplicate keys, many aliases and deep nesting while it composes,
    before any expansion or Python recursion can cost more than the text itself."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, f"more than {MAX_ALIASES} aliases", mark)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<: *defaults' merges keys that the mapping's own keys may override
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # an unhashable key: PyYAML's own construct_mapping refuses it
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {_repr(key)}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except ValueError as err:  # int() of a 5000-digit number, a date such as 2001-02-30
            tag = node.tag.rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this {tag}: {_clip(str(err))}", node.start_mark
            ) from None


def _load_yaml(text: str) -> Any:
    """The YAML document ``text`` as Python values; ``yaml.YAMLError`` when it breaks a rule or a limit."""
    loader = _ConfigLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size, _ = _expanded_shape(node, {})
        if size > MAX_NODES:
            raise yaml.composer.ComposerError(None, None, f"expands to more than {MAX_NODES} values", None)
        return loader.construct_document(node)
    finally:
        loader.dispose()


_IN_PROGRESS = (-1, -1)


def _expanded_shape(node: yaml.Node, known: dict[int, tuple[int, int]], level: int = 1) -> tuple[int, int]:
    """(values, height) of ``node`` at nesting ``level`` with every alias expanded (values capped just
    above ``MAX_NODES``). ``known`` memoizes shared (aliased) nodes, so this costs one visit per node of the
    text however large the expansion is, and it never descends below ``MAX_DEPTH``.

    Raises:
        yaml.composer.ComposerError: the expansion nests deeper than ``MAX_DEPTH``, or an alias is inside
            the node it refers to.
    """
    too_deep = f"nested deeper than {MAX_DEPTH} levels through aliases"
    if level > MAX_DEPTH:
        raise yaml.composer.ComposerError(None, None, too_deep, node.start_mark)
    shape = known.get(id(node))
    if shape == _IN_PROGRESS:
        raise yaml.composer.ComposerError(
            None, None, "an alias refers to a node that contains it", node.start_mark
        )
    if shape is None:
        known[id(node)] = _IN_PROGRESS
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = []
        size, height = 1, 0
        for child in children:
            child_size, child_height = _expanded_shape(child, known, level + 1)
            size = min(size + child_size, MAX_NODES + 1)
            height = max(height, child_height)
        shape = known[id(node)] = (size, height + 1)
    if level + shape[1] - 1 > MAX_DEPTH:  # a shared node met again, deeper than before
        raise yaml.composer.ComposerError(None, None, too_deep, node.start_mark)
    return shape


def _yaml_problem(err: yaml.YAMLError) -> tuple[str, str]:
    """``("line:column", problem)`` of a PyYAML error, in one line (the position is "" when unknown)."""
    if isinstance(err, yaml.reader.ReaderError):
        code = ord(err.character) if isinstance(err.character, str) else err.character
        return "", f"character #x{code:04x} at position {err.position} is not allowed in YAML"
    if not isinstance(err, yaml.MarkedYAMLError):
        return "", _clip(" ".join(str(err).split()), 200)
    mark = err.problem_mark or err.context_mark
    problem = err.problem or err.context or "not valid YAML"
    if err.problem and err.context:
        problem = f"{err.problem} ({err.context})"
    where = f"{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
    return where, _clip(" ".join(problem.split()), 200)


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


@functools.cache
def _hints(schema: type) -> dict[str, Any]:
    # include_extras keeps the Range of an Annotated field
    return typing.get_type_hints(schema, include_extras=True)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _check(schema: type, data: Any, source: str, prefix: str) -> None:
    """Raise ``InputError`` for the first unknown key or wrongly typed value of a (partial) layer."""
    if not isinstance(data, Mapping):
        raise InputError(f"expected a mapping of keys, got {_show(data)}", path=source, field=prefix or None)
    hints = _hints(schema)
    for key, value in data.items():
        dotted = _join(prefix, _repr(key) if not isinstance(key, str) else _clip(key))
        if key not in hints:
            known = ", ".join(f.name for f in dataclasses.fields(schema))
            raise InputError(f"unknown key (known here: {known})", path=source, field=dotted)
        _coerce(hints[key], value, source, dotted)


def _coerce(tp: Any, value: Any, source: str, dotted: str) -> Any:
    """Check ``value`` against the annotation ``tp``; return it in the field's Python type."""
    if isinstance(value, Mapping) and value and not _takes_mapping(tp):
        # keys under a value (``--set model.dropout=...`` where ``model`` is a name): the key as written
        written, node = dotted, value
        while isinstance(node, Mapping) and node:
            inner = next(iter(node))
            written, node = (
                _join(written, _clip(inner) if isinstance(inner, str) else _repr(inner)),
                node[inner],
            )
        raise InputError(f"'{dotted}' takes a single value, not keys", path=source, field=written)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Annotated:
        value = _coerce(args[0], value, source, dotted)
        for bound in tp.__metadata__:
            if isinstance(bound, Range) and not bound.contains(value):
                raise InputError(f"must be {bound}, got {_repr(value)}", path=source, field=dotted)
        return value
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
                errors.append((option, err))
        # the option of the value's own type says why it does not fit (its range), not that it is no str
        own = [err for option, err in errors if _same_kind(option, value)]
        if len(own) == 1:
            raise own[0]
        if len(errors) == 1:
            raise errors[0][1]
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
        number = _as_float(value)
        if number is not None:
            if not math.isfinite(number):
                raise InputError(f"must be a finite number, got {_show(value)}", path=source, field=dotted)
            return number
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


def _takes_mapping(tp: Any) -> bool:
    """Whether the annotation ``tp`` accepts a mapping (a section, a dict, or anything)."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _takes_mapping(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return any(_takes_mapping(a) for a in typing.get_args(tp))
    return tp is Any or origin is dict or tp is dict or dataclasses.is_dataclass(tp)


def _same_kind(tp: Any, value: Any) -> bool:
    """Whether ``value`` has the scalar type of the annotation ``tp``, whatever its range."""
    if typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return tp in (int, str, bool) and type(value) is tp


def _as_float(value: Any) -> float | None:
    """``value`` as a float (infinite when too large), or None when it is no number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond the float range
        return math.inf
    except ValueError:
        return None


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _describe(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp))


# A repr that stops early: a huge or alias-expanded value costs no more to show than its first items.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxset = 2, 4, 4, 4, 4
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = SHOWN_CHARS


def _show(value: Any) -> str:
    """The type and the (shortened) repr of ``value``, for an error message."""
    return _clip(f"{type(value).__name__} {_repr(value)}")


def _repr(value: Any) -> str:
    """The shortened repr of ``value``."""
    try:
        return _clip(_REPR.repr(value))
    except ValueError:  # an int with more digits than Python converts to text (sys.get_int_max_str_digits)
        return f"<{type(value).__name__} too large to show>"


def _clip(text: str, limit: int = SHOWN_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
