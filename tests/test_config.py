"""The config mechanism: layering, validation errors that name the key, overrides, round trip."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Literal

import pytest

from v1mtl.common.config import (
    add_config_arguments,
    available_presets,
    config_from_args,
    config_to_dict,
    load_config,
    save_config,
)
from v1mtl.common.errors import InputError


@dataclass
class Inner:
    width: int = 8
    rate: float = 0.1
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
    assert config_to_dict(cfg)["inner"] == {"width": 5, "rate": 0.1, "kind": "b", "tags": ["u"]}


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
