"""The config mechanism: layering, validation errors that name the key, overrides, round trip."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import Annotated, Literal

import pytest

from v1mtl.common.config import (
    MAX_ALIASES,
    MAX_DEPTH,
    SHOWN_CHARS,
    add_config_arguments,
    available_presets,
    check_config,
    config_from_args,
    config_to_dict,
    load_config,
    save_config,
)
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import PositiveFloat, Range


@dataclass
class Inner:
    width: int = 8
    rate: float = 0.1
    momentum: Annotated[float, Range(0, 1, high_open=True)] = 0.5
    sizes: list[Annotated[int, Range(1, 5)]] = field(default_factory=list)
    lr: PositiveFloat | None = None
    kind: Literal["a", "b"] = "a"
    tags: list[str] = field(default_factory=list)


@dataclass
class Outer:
    name: str = "x"
    flag: bool = False
    path: str | None = None
    inner: Inner = field(default_factory=Inner)
    weights: dict[str, float] = field(default_factory=lambda: {"c": 1.0})


def _yaml(tmp_path, text, name="cfg.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_defaults_without_layers():
    assert load_config(Outer) == Outer()


def test_file_then_overrides_merge_nested(tmp_path):
    p = _yaml(tmp_path, "name: y\ninner:\n  width: 16\n  tags: [p, q]\n")
    cfg = load_config(Outer, p, ["inner.rate=1e-4", "flag=true", "path=null", "weights.n=0.5"])
    assert cfg.name == "y"
    assert cfg.inner.width == 16  # kept from the file: the override of a sibling key merges
    assert cfg.inner.rate == pytest.approx(1e-4)  # "1e-4" is a string in YAML 1.1; float fields accept it
    assert cfg.inner.tags == ["p", "q"]
    assert cfg.flag is True and cfg.path is None
    assert cfg.weights == {"c": 1.0, "n": 0.5}


def test_unknown_key_names_file_and_dotted_key(tmp_path):
    p = _yaml(tmp_path, "inner:\n  widht: 3\n")
    with pytest.raises(InputError) as err:
        load_config(Outer, p)
    assert str(p) in str(err.value) and "inner.widht" in str(err.value)


def test_wrong_type_names_key(tmp_path):
    p = _yaml(tmp_path, "inner:\n  width: 2.5\n")
    with pytest.raises(InputError, match=r"inner\.width.*expected int"):
        load_config(Outer, p)
    with pytest.raises(InputError, match=r"flag.*expected bool"):
        load_config(Outer, overrides=["flag=1"])
    with pytest.raises(InputError, match=r"inner\.tags\[1\]"):
        load_config(Outer, overrides=["inner.tags=[a, 3]"])


def test_override_unknown_key_names_set():
    with pytest.raises(InputError) as err:
        load_config(Outer, overrides=["inner.depth=3"])
    assert "--set" in str(err.value) and "inner.depth" in str(err.value)
    with pytest.raises(InputError, match="dotted.key=value"):
        load_config(Outer, overrides=["inner.width"])


def test_literal_violation():
    with pytest.raises(InputError, match=r"inner\.kind.*one of 'a', 'b'"):
        load_config(Outer, overrides=["inner.kind=c"])


def test_top_level_must_be_mapping(tmp_path):
    with pytest.raises(InputError, match="mapping"):
        load_config(Outer, _yaml(tmp_path, "- 1\n- 2\n"))
    with pytest.raises(InputError, match="mapping"):
        load_config(Outer, overrides=["inner=3"])


def test_round_trip(tmp_path):
    cfg = load_config(Outer, overrides=["inner.width=5", "inner.tags=[u]", "path=/tmp/x", "inner.kind=b"])
    save_config(cfg, tmp_path / "out.yaml")
    assert load_config(Outer, tmp_path / "out.yaml") == cfg
    assert config_to_dict(cfg)["inner"] == {
        "width": 5,
        "rate": 0.1,
        "momentum": 0.5,
        "sizes": [],
        "lr": None,
        "kind": "b",
        "tags": ["u"],
    }


def test_presets_are_listed_and_loaded_through_argparse(tmp_path):
    from v1mtl.training import TrainConfig

    assert {"quick", "paper"} <= set(available_presets("train"))
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, preset_prefix="train", example="v1mtl train --preset quick --out runs/x")
    user = _yaml(tmp_path, "seed: 7\n")
    args = parser.parse_args([str(user), "--preset", "quick", "--set", "schedule.max_epochs=2"])
    cfg = config_from_args(TrainConfig, args, preset_prefix="train", flags={"device": "cpu", "bf16": None})
    assert cfg.seed == 7 and cfg.schedule.max_epochs == 2 and cfg.device == "cpu"
    assert cfg.data.source == load_config(TrainConfig, preset="train-quick").data.source


# ranges ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("inner.momentum=-1", "field 'inner.momentum': must be in [0, 1), got -1.0"),
        ("inner.momentum=1", "field 'inner.momentum': must be in [0, 1), got 1.0"),
        ("inner.sizes=[1, 6]", "field 'inner.sizes[1]': must be in [1, 5], got 6"),
        ("inner.lr=0", "field 'inner.lr': must be > 0, got 0.0"),
        ("inner.rate=.nan", "field 'inner.rate': must be a finite number, got float nan"),
        ("inner.rate=-.inf", "field 'inner.rate': must be a finite number, got float -inf"),
        ("inner.rate=1e999", "field 'inner.rate': must be a finite number, got str '1e999'"),
    ],
)
def test_a_value_out_of_range_is_refused_naming_layer_and_key(override, message):
    with pytest.raises(InputError) as err:
        load_config(Outer, overrides=[override])
    assert str(err.value) == f"--set: {message}"


def test_an_in_range_value_and_a_null_optional_pass():
    cfg = load_config(Outer, overrides=["inner.momentum=0", "inner.sizes=[1, 5]", "inner.lr=null"])
    assert cfg.inner.momentum == 0.0 and cfg.inner.sizes == [1, 5] and cfg.inner.lr is None


def test_a_huge_int_for_a_float_is_not_finite():
    with pytest.raises(InputError, match="finite"):
        load_config(Outer, overrides=[f"inner.rate={10**400}"])


def test_a_nested_schema_reports_the_key_from_the_top():
    from v1mtl.study import StudyConfig

    with pytest.raises(InputError, match=r"field 'train\.schedule\.max_epochs'"):
        load_config(StudyConfig, overrides=["train.schedule.max_epochs=-1"])
    with pytest.raises(InputError, match=r"field 'fit\.data\.scale'"):
        load_config(StudyConfig, overrides=["fit.data.scale=0"])
    # a check across keys, made by the study for its stages, names the study's key too
    with pytest.raises(
        InputError, match=r"field 'train\.data\.image_size': the built-in set comes in 32 or 64"
    ):
        load_config(StudyConfig, overrides=["train.data.image_size=33"]).validate()


def test_an_unknown_set_key_is_named_as_written():
    with pytest.raises(InputError) as err:
        load_config(Outer, overrides=["inner.deeper.width=3"])
    assert str(err.value).startswith(
        "--set: field 'inner.deeper.width': unknown key 'deeper' (known here: width,"
    )


def test_flags_are_a_layer_named_by_the_flag():
    from v1mtl.simulator import SimulationConfig

    with pytest.raises(InputError) as err:
        load_config(SimulationConfig, flags={"image_size": 100000})
    assert str(err.value) == "--image-size: field 'image_size': must be in [16, 512], got 100000"


def test_a_config_built_in_python_is_checked_like_a_file():
    check_config(Inner(momentum=0.9))
    with pytest.raises(InputError, match=r"field 'run\.momentum'"):
        check_config(Inner(momentum=2.0), prefix="run.")


def test_values_in_messages_are_shortened():
    with pytest.raises(InputError) as err:
        load_config(Outer, overrides=["inner.width=" + "x" * 10_000])
    assert len(str(err.value)) < SHOWN_CHARS + 60
    with pytest.raises(InputError) as err:
        load_config(Outer, overrides=["inner.sizes=[0b" + "1" * 20_000 + "]"])  # too many digits for str()
    assert "too large to show" in str(err.value)


# YAML limits --------------------------------------------------------------------------------------------


def _one_line_error(call) -> str:
    with pytest.raises(InputError) as err:
        call()
    assert "\n" not in str(err.value)
    return str(err.value)


def test_a_repeated_key_is_refused_with_its_line(tmp_path):
    p = _yaml(tmp_path, "name: a\ninner:\n  width: 1\n  width: 2\n")
    assert _one_line_error(lambda: load_config(Outer, p)) == f"{p}:4:3: duplicate key 'width'"
    assert "duplicate key 'c'" in _one_line_error(
        lambda: load_config(Outer, overrides=["weights={c: 1, c: 2}"])
    )


def test_a_merge_key_may_be_overridden():
    cfg = load_config(Outer, overrides=["weights={<<: {c: 2.0}, c: 3.0}"])
    assert cfg.weights == {"c": 3.0}


def test_a_syntax_error_is_one_line_with_file_line_and_column(tmp_path):
    p = _yaml(tmp_path, "name: a\ninner:\n  width: 1\n - x\n")
    message = _one_line_error(lambda: load_config(Outer, p))
    assert message.startswith(f"{p}:4:2: expected <block end>")
    assert (
        "--set: field 'inner': bad YAML value at column 10: expected ',' or ']', but got '}'"
        in _one_line_error(lambda: load_config(Outer, overrides=["inner={a: [1, 2}"]))
    )


def test_an_alias_bomb_is_refused_fast_in_a_file_and_in_set(tmp_path):
    laughs = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)]
    p = _yaml(tmp_path, "\n".join(laughs) + "\n")
    started = time.perf_counter()
    assert f"more than {MAX_ALIASES} aliases" in _one_line_error(lambda: load_config(Outer, p))
    # fewer aliases, each doubling: 2**20 values once expanded
    doubling = "{" + ", ".join(f"k{i}: &x{i} [*x{i - 1}, *x{i - 1}]" for i in range(1, 21)) + "}"
    message = _one_line_error(lambda: load_config(Outer, overrides=["weights={x0: &x0 [1], " + doubling[1:]]))
    assert "expands to more than" in message and len(message) < 200
    assert time.perf_counter() - started < 2


def test_deep_nesting_through_aliases_is_refused(tmp_path):
    # 40 aliases, each nesting the one before 30 levels deeper: 1200 levels once expanded
    lines = ["a0: &a0 1"] + [f"a{i}: &a{i} {'[' * 30}*a{i - 1}{']' * 30}" for i in range(1, 41)]
    p = _yaml(tmp_path, "weights: {" + ", ".join(lines) + "}\n")
    assert f"nested deeper than {MAX_DEPTH} levels" in _one_line_error(lambda: load_config(Outer, p))


def test_a_self_referring_alias_is_refused(tmp_path):
    p = _yaml(tmp_path, "weights: &w {c: *w}\n")
    assert "refers to a node that contains it" in _one_line_error(lambda: load_config(Outer, p))


@pytest.mark.parametrize(
    "text", ["weights: " + "[" * 10_000 + "]" * 10_000, "".join(f"{'  ' * i}k{i}:\n" for i in range(200))]
)
def test_deep_nesting_is_refused(tmp_path, text):
    p = _yaml(tmp_path, text + "\n")
    assert f"nested deeper than {MAX_DEPTH} levels" in _one_line_error(lambda: load_config(Outer, p))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("name: 'caf\u00e9'\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 10)"),
        ("name: x\n".encode("utf-16"), "not UTF-8 text (byte 0xff at offset 0)"),
        ("name: x\n".encode("utf-16-le"), "character #x0000 at position 1 is not allowed"),
    ],
)
def test_a_file_that_is_not_utf8_is_refused(tmp_path, data, problem):
    p = tmp_path / "cfg.yaml"
    p.write_bytes(data)
    assert problem in _one_line_error(lambda: load_config(Outer, p))


def test_a_utf8_byte_order_mark_is_fine(tmp_path):
    p = tmp_path / "cfg.yaml"
    p.write_bytes(b"\xef\xbb\xbfname: y\n")
    assert load_config(Outer, p).name == "y"


def test_a_value_yaml_cannot_build_is_an_input_error(tmp_path):
    assert "cannot read this timestamp" in _one_line_error(
        lambda: load_config(Outer, _yaml(tmp_path, "name: 2001-02-30\n"))
    )
