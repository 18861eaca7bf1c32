"""Fuzzed configs of every command: generated bad values (``--set``, flags, YAML files) and damaged YAML.

Every outcome must be a loaded config or an ``InputError`` of one line naming the ``--set`` key or the file
(``fuzz_check``, tests/conftest.py); a value outside its field's declared range must be an ``InputError``
naming its key. The schemas are walked, so a numeric field added without a ``Range`` fails
``test_every_number_of_every_schema_has_a_range``.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Union

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from v1mtl.analysis import ReconstructionConfig, SaliencyConfig
from v1mtl.commands.simulate_v1 import FLAG_KEYS
from v1mtl.common.config import config_yaml, load_config
from v1mtl.common.ranges import Range
from v1mtl.corruptions.render import RenderConfig
from v1mtl.data.images.builtin import BuiltinConfig
from v1mtl.evaluate import PredictivityConfig, RobustnessConfig
from v1mtl.evaluate.brain_vs_robustness import BrainRobustnessConfig
from v1mtl.neural_model import FitNeuralConfig
from v1mtl.neural_model.targets import PredictTargetsConfig
from v1mtl.simulator import SimulationConfig
from v1mtl.study import StudyConfig
from v1mtl.training import TrainConfig

pytestmark = pytest.mark.fuzz

# The schema of every command that takes a config (the study nests train, fit-neural, simulate-v1, ...).
SCHEMAS: dict[str, type] = {
    "run": StudyConfig,
    "train": TrainConfig,
    "fit-neural": FitNeuralConfig,
    "simulate-v1": SimulationConfig,
    "predict-responses": PredictTargetsConfig,
    "corrupt": RenderConfig,
    "evaluate robustness": RobustnessConfig,
    "evaluate predictivity": PredictivityConfig,
    "evaluate brain-robustness": BrainRobustnessConfig,
    "analyze reconstruction": ReconstructionConfig,
    "analyze saliency": SaliencyConfig,
    "data make-builtin": BuiltinConfig,
}
# Numbers whose range is every finite number: ELU(r + elu_offset) + 1 is meaningful for any offset.
ANY_FINITE = {"elu_offset"}
# BuiltinConfig (v1mtl.data.images.builtin) is the data readers' to bound; its numbers are checked when
# the set is made. Its keys are still fuzzed for tracebacks below.
UNBOUNDED_SCHEMAS = {"data make-builtin"}


@dataclasses.dataclass(frozen=True)
class Leaf:
    """A number of a schema: its ``--set`` key, how a value is written there, its type and range."""

    command: str
    key: str  # as written after --set
    shape: str  # "scalar", "list" ([value]), "tuple2" ([value, 1]), "tuple3" ([value, 1, 1]) or "dict" (key.x=value)
    kind: type  # int or float
    range: Range | None

    @property
    def field(self) -> str:
        """The key an error about the generated value names."""
        return {
            "scalar": self.key,
            "list": f"{self.key}[0]",
            "tuple2": f"{self.key}[0]",
            "tuple3": f"{self.key}[0]",
            "dict": f"{self.key}.x",
        }[self.shape]

    def override(self, value: Any) -> str:
        """The ``--set`` item that puts ``value`` at this number."""
        text = _yaml_number(value)
        written = {
            "scalar": text,
            "list": f"[{text}]",
            "tuple2": f"[{text}, 1]",
            "tuple3": f"[{text}, 1, 1]",
            "dict": text,
        }[self.shape]
        return f"{self.key}{'.x' if self.shape == 'dict' else ''}={written}"


def _leaves(schema: type, command: str, prefix: str = "") -> list[Leaf]:
    hints = typing.get_type_hints(schema, include_extras=True)
    out: list[Leaf] = []
    for f in dataclasses.fields(schema):
        out += _leaves_of(hints[f.name], command, prefix + f.name, "scalar")
    return out


def _leaves_of(tp: Any, command: str, key: str, shape: str) -> list[Leaf]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return _leaves(tp, command, key + ".")
    if origin is Annotated:
        bound = next((m for m in tp.__metadata__ if isinstance(m, Range)), None)
        return [Leaf(command, key, shape, args[0], bound)] if args[0] in (int, float) else []
    if origin in (Union, types.UnionType):
        return [leaf for a in args if a is not type(None) for leaf in _leaves_of(a, command, key, shape)]
    if origin is list:
        return _leaves_of(args[0], command, key, "list")
    if origin is tuple:
        fixed = len(args) in (2, 3) and args[-1] is not Ellipsis
        return _leaves_of(args[0], command, key, f"tuple{len(args)}" if fixed else "list")
    if origin is dict:
        return _leaves_of(args[1], command, key, "dict")
    return [Leaf(command, key, shape, tp, None)] if tp in (int, float) else []


LEAVES = [leaf for command, schema in SCHEMAS.items() for leaf in _leaves(schema, command)]
BOUNDED = [
    leaf
    for leaf in LEAVES
    if leaf.command not in UNBOUNDED_SCHEMAS and leaf.key.rsplit(".")[-1] not in ANY_FINITE
]


def _yaml_number(value: float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    return repr(value)


def test_every_number_of_every_schema_has_a_range():
    unbounded = [f"{leaf.command}: {leaf.key}" for leaf in BOUNDED if leaf.range is None]
    assert unbounded == []
    assert len({(leaf.command, leaf.key) for leaf in BOUNDED}) > 200  # the walk reaches the nested schemas


def _outside(leaf: Leaf) -> st.SearchStrategy:
    """Values of ``leaf``'s type outside its range, and for floats NaN and the infinities."""
    r = leaf.range
    options = []
    if leaf.kind is int:
        if r.low is not None:
            options.append(st.integers(max_value=math.ceil(r.low) - (0 if r.low_open else 1)))
        if r.high is not None:
            options.append(st.integers(min_value=math.floor(r.high) + (0 if r.high_open else 1)))
    else:
        if r.low is not None:
            options.append(
                st.floats(max_value=r.low, exclude_max=not r.low_open, allow_nan=False, allow_infinity=False)
            )
        if r.high is not None:
            options.append(
                st.floats(
                    min_value=r.high, exclude_min=not r.high_open, allow_nan=False, allow_infinity=False
                )
            )
        options.append(st.sampled_from([math.nan, math.inf, -math.inf]))
    return st.one_of(options)


@pytest.mark.parametrize("leaf", BOUNDED, ids=lambda leaf: f"{leaf.command}:{leaf.key}")
@settings(max_examples=3)
@given(data=st.data())
def test_an_out_of_range_value_is_an_input_error_naming_the_full_key(fuzz_check, leaf, data):
    value = data.draw(_outside(leaf))
    schema = SCHEMAS[leaf.command]
    outcome, message = fuzz_check(
        "config", lambda: load_config(schema, overrides=[leaf.override(value)]), leaf.key
    )
    assert outcome == "input_error" and f"--set: field '{leaf.field}'" in message


SIMULATE_FLAGS = [
    leaf for leaf in BOUNDED if leaf.command == "simulate-v1" and leaf.key in {k for k, _, _ in FLAG_KEYS}
]


@pytest.mark.parametrize("leaf", SIMULATE_FLAGS, ids=lambda leaf: leaf.key)
@settings(max_examples=5)
@given(data=st.data())
def test_an_out_of_range_flag_is_an_input_error_naming_the_flag(fuzz_check, leaf, data):
    # simulate-v1 --image-size 100000, --fano nan: the flags are the config's last layer
    value = data.draw(_outside(leaf))
    flag = f"--{leaf.key.replace('_', '-')}"
    outcome, message = fuzz_check(
        "config", lambda: load_config(SimulationConfig, flags={leaf.key: value}), flag
    )
    assert outcome == "input_error" and message.startswith(f"{flag}: field '{leaf.key}'")


# garbage of every kind ----------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.binary(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
# YAML that is not data: anchors and aliases, tags, flow syntax cut short, YAML 1.1 oddities
YAML_TOKENS = st.sampled_from(
    [
        "&a [*a]",
        "*undefined",
        "{a: 1, a: 1}",
        "[[[[",
        "}",
        "!!python/object/apply:os.system [echo]",
        "!!binary x",
        "2001-02-30",
        "190:20:30",
        "0x" + "f" * 40,
        "0b" + "1" * 20_000,
        "9" * 5000,
        "1e999",
        ".nan",
        "-.inf",
        "~",
        "'unclosed",
        "? [a, b]\n: c",
        "{<<: [1]}",
        "- a\n- b",
        "\x00",
        "\ufeff1",
    ]
)
ALL_KEYS = sorted(
    {leaf.key for leaf in LEAVES}
    | {"train", "train.data", "fit.model", "v1.simulate", "steps", "conditions", "name"}
)


def _yaml_text(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


@settings(max_examples=250)
@given(
    command=st.sampled_from(sorted(SCHEMAS)),
    key=st.sampled_from(ALL_KEYS) | st.from_regex(r"[a-z_]{1,8}(\.[a-z_]{1,8}){0,2}", fullmatch=True),
    text=VALUES.map(_yaml_text) | YAML_TOKENS | st.text(max_size=20),
)
def test_any_set_value_is_a_config_or_a_one_line_error_naming_the_key(fuzz_check, command, key, text):
    fuzz_check("config", lambda: load_config(SCHEMAS[command], overrides=[f"{key}={text}"]), key)


def _write(data: bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-config-"))
    path = folder / "config.yaml"
    path.write_bytes(data)
    return path


@settings(max_examples=100)
@given(
    command=st.sampled_from(sorted(SCHEMAS)),
    document=st.dictionaries(
        st.sampled_from(ALL_KEYS) | st.text(max_size=8), VALUES | YAML_TOKENS, max_size=6
    ),
)
def test_any_yaml_file_is_a_config_or_a_one_line_error_naming_it(fuzz_check, command, document):
    # dotted keys make nested mappings, so garbage reaches every level of the schema
    nested: dict[str, Any] = {}
    for key, value in document.items():
        *parents, last = key.split(".") if key else [key]
        node = nested
        for part in parents:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
        node[last] = value
    text = "\n".join(
        f"{yaml.safe_dump(k).strip().removesuffix('...').strip()}: {_yaml_text(v) if not isinstance(v, str) else v}"
        for k, v in nested.items()
    )
    path = _write(text.encode("utf-8", "surrogatepass"))
    fuzz_check("config", lambda: load_config(SCHEMAS[command], path), path)


@settings(max_examples=100)
@given(command=st.sampled_from(sorted(SCHEMAS)), data=st.data())
def test_a_damaged_valid_config_file_is_a_config_or_a_one_line_error_naming_it(fuzz_check, command, data):
    schema = SCHEMAS[command]
    original = bytearray(config_yaml(schema()).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(original) - 1))
        edit = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        if edit == "flip":
            original[at] ^= 1 << data.draw(st.integers(0, 7))
        elif edit == "insert":
            original[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del original[at]
    path = _write(bytes(original))
    fuzz_check("config", lambda: load_config(schema, path), path)


# attacks: always refused --------------------------------------------------------------------------------


def _duplicate_key(data: st.DataObject, command: str) -> str:
    valid = config_yaml(SCHEMAS[command]()).splitlines()
    line = data.draw(st.sampled_from([ln for ln in valid if ":" in ln]))
    at = valid.index(line)
    return "\n".join([*valid[: at + 1], line, *valid[at + 1 :]])


def _alias_bomb(data: st.DataObject) -> str:
    # width**depth values with width * depth aliases: over MAX_NODES, or over MAX_ALIASES
    width, depth = data.draw(st.integers(4, 10)), data.draw(st.integers(9, 14))
    lines = [f"name: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"x{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth)]
    return "\n".join(lines)


def _deep(data: st.DataObject) -> str:
    depth = data.draw(st.integers(33, 3000))
    if data.draw(st.booleans()):
        return "name: " + "[" * depth + "]" * depth
    depth = min(depth, 400)  # block style grows quadratically in bytes
    return "".join(f"{'  ' * i}k{i}:\n" for i in range(depth)) + "  " * depth + "x"


ATTACKS = ["duplicate key", "alias bomb", "deep nesting"]


@settings(max_examples=60)
@given(command=st.sampled_from(sorted(SCHEMAS)), attack=st.sampled_from(ATTACKS), data=st.data())
def test_duplicate_keys_alias_bombs_and_deep_nesting_are_refused_in_files(fuzz_check, command, attack, data):
    text = {
        "duplicate key": lambda: _duplicate_key(data, command),
        "alias bomb": lambda: _alias_bomb(data),
        "deep nesting": lambda: _deep(data),
    }[attack]()
    path = _write(text.encode())
    outcome, message = fuzz_check("config", lambda: load_config(SCHEMAS[command], path), path)
    assert outcome == "input_error"
    assert any(word in message for word in ("duplicate key", "aliases", "expands to", "nested deeper")), (
        message
    )


@settings(max_examples=40)
@given(
    command=st.sampled_from(sorted(SCHEMAS)),
    attack=st.sampled_from(["alias bomb", "deep nesting"]),
    data=st.data(),
)
def test_alias_bombs_and_deep_nesting_are_refused_in_set(fuzz_check, command, attack, data):
    if attack == "alias bomb":
        width, depth = data.draw(st.integers(3, 6)), data.draw(st.integers(12, 16))
        items = [f"a0: &a0 [{', '.join(['1'] * width)}]"]
        items += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, depth)]
        value = "{" + ", ".join(items) + "}"
    else:
        depth = data.draw(st.integers(33, 5000))
        value = "[" * depth + "]" * depth
    key = data.draw(st.sampled_from([leaf.key for leaf in LEAVES if leaf.command == command] or ["name"]))
    outcome, _ = fuzz_check(
        "config", lambda: load_config(SCHEMAS[command], overrides=[f"{key}={value}"]), key
    )
    assert outcome == "input_error"


ENCODINGS = ["latin-1", "cp1252", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]


@settings(max_examples=40)
@given(
    command=st.sampled_from(sorted(SCHEMAS)),
    encoding=st.sampled_from(ENCODINGS),
    word=st.text(st.characters(min_codepoint=0xC0, max_codepoint=0xFF), min_size=1, max_size=6),
)
def test_a_file_in_another_encoding_is_refused(fuzz_check, command, encoding, word):
    path = _write(f"name: {word}\n".encode(encoding))
    outcome, message = fuzz_check("config", lambda: load_config(SCHEMAS[command], path), path)
    assert outcome == "input_error" and ("UTF-8" in message or "not allowed in YAML" in message)


# a run folder being resumed -----------------------------------------------------------------------------

DAMAGED = st.one_of(
    st.binary(max_size=40),
    VALUES.map(lambda v: _yaml_text(v).encode()),
    YAML_TOKENS.map(str.encode),
    st.just(b"seed: 1\nseed: 2\n"),
    st.just("name: caf\xe9\n".encode("latin-1")),
)


@pytest.fixture(scope="module")
def run_folders(tmp_path_factory) -> tuple[Path, Path]:
    """A training folder killed after its first checkpoint, and a V1 model fit killed before its first."""
    train_dir, fit_dir = tmp_path_factory.mktemp("train-run"), tmp_path_factory.mktemp("fit-run")
    (train_dir / "last.pt").write_bytes(b"a checkpoint; never read, the config is compared first")
    return train_dir, fit_dir


@settings(max_examples=40)
@given(damaged=DAMAGED, stage=st.sampled_from(["train", "fit-neural"]))
def test_a_damaged_config_yaml_in_a_run_folder_is_an_input_error(fuzz_check, run_folders, damaged, stage):
    from v1mtl.neural_model import fit_v1_model
    from v1mtl.training import train

    folder = run_folders[0] if stage == "train" else run_folders[1]
    (folder / "config.yaml").write_bytes(damaged)
    if stage == "train":
        call = lambda: train(TrainConfig(), folder)  # noqa: E731
    else:
        call = lambda: fit_v1_model(FitNeuralConfig(), folder / "no-dataset", folder)  # noqa: E731
    # a config.yaml that loads names its folder ("holds a run with a different config"), the rest the file
    outcome, _ = fuzz_check("config", call, folder)
    assert outcome == "input_error"
