"""Fuzzing the checkpoint loaders (issue 16): seeded hypothesis mutations of small valid checkpoints.

A tiny ``best.pt`` (with and without neural readouts), a V1 ``model.pt`` and a ``last.pt`` are built in
code; each case writes one mutated variant, the damaged bytes of a file or a changed field, and hands the
load to ``fuzz_check``: the only allowed outcomes are a valid network or an ``InputError`` whose message is
one line naming the file. Each mutation states whether it must be refused (``REJECT``), is harmless
(``ACCEPT``: the network loads with the original weights) or may go either way (``EITHER``). Malicious
pickles are refused, with one line, and run nothing.
"""

from __future__ import annotations

import copy
import itertools
import os
import pickle
from functools import partial
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from train_fixtures import tiny_config

from v1mtl.common.config import config_to_dict
from v1mtl.models import build_network
from v1mtl.neural_model.checkpoint import KIND as V1_KIND
from v1mtl.neural_model.checkpoint import load_shared_core, load_v1_model
from v1mtl.training.checkpoint import (
    FORMAT_VERSION,
    NETWORK_KIND,
    STATE_KIND,
    load_trained_network,
    read_checkpoint,
)

pytestmark = pytest.mark.fuzz

REJECT, ACCEPT, EITHER = "reject", "accept", "either"
SIDE = 32
_case = itertools.count()


def network_payload(sessions: dict[str, int]) -> dict:
    """A ``best.pt`` dict as the trainer writes it, for a tiny vgg11 with ``sessions`` readouts."""
    cfg = tiny_config("mtl" if sessions else "baseline")
    torch.manual_seed(0)
    net = build_network(
        cfg.model,
        n_classes=3,
        sessions=sessions or None,
        image_size=SIDE,
        neural_image_size=SIDE if sessions else None,
    )
    return {
        "kind": NETWORK_KIND,
        "format_version": FORMAT_VERSION,
        "model_config": config_to_dict(cfg.model),
        "state_dict": net.state_dict(),
        "loss_weights": {},
        "n_classes": 3,
        "class_names": ["a", "b", "c"],
        "sessions": dict(sessions),
        "target_scaling": {},
        "image_size": SIDE,
        "neural_image_size": SIDE if sessions else None,
        "normalization": {"mean": 0.45, "std": 0.22},
        "config": config_to_dict(cfg),
        "epoch": 1,
        "val_accuracy": 0.4,
    }


def v1_payload() -> dict:
    """A V1 ``model.pt`` dict as ``fit_v1_model`` writes it: readouts, no classifier."""
    cfg = tiny_config("baseline")
    torch.manual_seed(0)
    net = build_network(
        cfg.model, n_classes=None, sessions={"s0": 4}, image_size=SIDE, neural_image_size=(SIDE, SIDE)
    )
    return {
        "kind": V1_KIND,
        "model_config": config_to_dict(cfg.model),
        "state_dict": net.state_dict(),
        "sessions": {"s0": 4},
        "input_shape": [1, SIDE, SIDE],
        "stats": {"mean": 0.4, "std": 0.2},
        "preprocess": {"crop": 0, "subsample": 1, "scale": 1.0},
        "dataset": "tiny",
        "core_from": None,
        "freeze_core": False,
    }


@pytest.fixture(scope="module")
def payloads() -> dict[str, dict]:
    return {"plain": network_payload({}), "readouts": network_payload({"s0": 5, "s1": 3}), "v1": v1_payload()}


def write(tmp_path: Path, payload: dict, name: str = "best.pt") -> Path:
    path = tmp_path / f"case{next(_case)}" / name
    path.parent.mkdir()
    torch.save(payload, path)
    return path


def same_weights(net: torch.nn.Module, state: dict) -> None:
    """The network holds ``state``'s weights (to float16 precision: a harmless mutation stores them so)."""
    for key, value in net.state_dict().items():
        assert torch.allclose(value.double(), state[key].double(), rtol=1e-3, atol=1e-3), key


def valid_network(payload: dict):
    def check(value) -> None:
        net, cfg, extras = value
        assert not net.training and cfg.data.image_size == SIDE
        assert extras["image_size"] == SIDE and set(extras["sessions"]) == set(payload["sessions"])
        same_weights(net, payload["state_dict"])

    return check


def check_outcome(outcome: str, value, expect: str, valid) -> None:
    if expect == REJECT:
        assert outcome == "input_error", "silently accepted"
    if expect == ACCEPT:
        assert outcome == "accepted", value
    if outcome == "accepted":
        valid(value)


# ---------------------------------------------------------------------------------------------------------
# damaged bytes


@st.composite
def byte_mutations(draw, data: bytes) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "junk", "foreign"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))], REJECT
    if kind == "flip":
        out = bytearray(data)
        for pos, xor in draw(
            st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(1, 255)), min_size=1, max_size=3)
        ):
            out[pos] ^= xor
        # the archive's CRC-32s catch a flip in any member; a flip in the zip's own headers may go unseen
        return bytes(out), EITHER
    if kind == "insert":
        pos = draw(st.integers(0, len(data)))
        return data[:pos] + draw(st.binary(min_size=1, max_size=16)) + data[pos:], EITHER
    if kind == "junk":
        return draw(st.binary(max_size=256)), REJECT
    foreign = draw(st.sampled_from(["yaml", "npy", "pickle", "zip"]))
    if foreign == "yaml":
        return b"kind: v1mtl-trained-network\nstate_dict: {}\n", REJECT
    if foreign == "npy":
        return (
            b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }" + b" " * 60,
            REJECT,
        )
    if foreign == "pickle":  # a plain pickle of a dict: torch's legacy format check refuses it
        return pickle.dumps({"kind": NETWORK_KIND}), REJECT
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", b"not a pickle")
    return buf.getvalue(), REJECT


@given(which=st.sampled_from(["plain", "readouts"]), data=st.data())
@settings(max_examples=60)
def test_fuzz_checkpoint_bytes(which, data, payloads, tmp_path, fuzz_check):
    path = write(tmp_path, payloads[which])
    content, expect = data.draw(byte_mutations(path.read_bytes()))
    path.write_bytes(content)
    outcome, value = fuzz_check("checkpoint", lambda: load_trained_network(path), path)
    check_outcome(outcome, value, expect, valid_network(payloads[which]))


@given(data=st.data())
@settings(max_examples=20)
def test_fuzz_shared_core_bytes(data, payloads, tmp_path, fuzz_check):
    path = write(tmp_path, payloads["plain"])
    content, expect = data.draw(byte_mutations(path.read_bytes()))
    path.write_bytes(content)

    def valid(core) -> None:
        assert core.normalization == (0.45, 0.22)
        for key, value in core.state_dict.items():
            assert torch.equal(value, payloads["plain"]["state_dict"][f"shared.{key}"])

    outcome, value = fuzz_check("checkpoint", lambda: load_shared_core(path), path)
    check_outcome(outcome, value, expect, valid)


# ---------------------------------------------------------------------------------------------------------
# fields of best.pt

NAN, INF = float("nan"), float("inf")
# key -> (values that must be refused, values that are harmless); None as a harmless value: "set to null"
FIELDS = {
    "kind": ([None, "v1mtl-v1-model", 1, [], "x" * 500], [STATE_KIND]),
    "format_version": ([2, 0, -1, "1", 1.5, True, []], [None, 1]),
    "model_config": (
        [None, [], "vgg11", {"arch": "vgg99"}, {"width": "abc"}, {"unknown": 1}, {"width": -1.0}],
        [],
    ),
    "config": (
        [None, [], "x", {"data": {"image_size": "big"}}, {"nope": 1}, {"data": {"image_size": 64}}],
        [],
    ),
    "n_classes": ([0, -3, 2, 4, 3.0, "3", True, None, [3]], []),
    "class_names": ([["a"], "abc", [1, 2, 3], {"a": 1}, ["a", "b", None]], [None, ["x", "y", "z"]]),
    "image_size": ([64, 0, -1, "32", 32.0, True, [32]], [None, SIDE]),
    "neural_image_size": (["x", 0, -5, [SIDE], 1.5], [None]),
    "normalization": (
        [
            {"mean": 0.4},
            {"mean": "a", "std": 1},
            {"mean": 0.4, "std": 0},
            {"mean": NAN, "std": 0.2},
            {"mean": 0.4, "std": -1},
            {"mean": 0.4, "std": INF},
            [0.4, 0.2],
            "x",
        ],
        [None, {"mean": 0, "std": 1, "extra": 5}],
    ),
    "epoch": ([-1, "1", 1.5, []], [None, 0, 7]),
    "val_accuracy": ([1.5, -0.1, NAN, INF, "0.4", []], [None, 0, 1, 0.25]),
    "loss_weights": ([], [None, "not read", {}]),
    "target_scaling": ([], [None, [1, 2]]),
}
REQUIRED = {"kind", "model_config", "state_dict", "config", "n_classes"}


@st.composite
def field_mutations(draw, payload: dict) -> tuple[dict, str]:
    out = copy.copy(payload)
    kind = draw(st.sampled_from(["remove", "bad-value", "harmless-value", "extra-key"]))
    if kind == "extra-key":
        out[draw(st.sampled_from(["notes", "optimizer", "x" * 300]))] = draw(
            st.sampled_from([1, "x", [None], {}])
        )
        return out, ACCEPT
    if kind == "remove":
        key = draw(st.sampled_from(sorted(payload)))
        del out[key]
        # without its sessions a network with readouts is built without them, and its weights do not fit
        needed = key in REQUIRED or (key == "sessions" and payload["sessions"])
        return out, REJECT if needed else ACCEPT
    pool = [(k, v) for k, (bad, good) in FIELDS.items() for v in (bad if kind == "bad-value" else good)]
    key, value = draw(st.sampled_from(pool))
    if isinstance(value, dict) and key in ("model_config", "config"):
        value = {**payload[key], **value}  # one wrong field in an otherwise sound section
    out[key] = value
    return out, REJECT if kind == "bad-value" else ACCEPT


@given(which=st.sampled_from(["plain", "readouts"]), data=st.data())
@settings(max_examples=80)
def test_fuzz_checkpoint_fields(which, data, payloads, tmp_path, fuzz_check):
    payload, expect = data.draw(field_mutations(payloads[which]))
    path = write(tmp_path, payload)
    outcome, value = fuzz_check("checkpoint", lambda: load_trained_network(path), path)
    check_outcome(outcome, value, expect, valid_network(payloads[which]))


@given(
    which=st.sampled_from(["plain", "readouts"]),
    kind=st.sampled_from(["session-count", "session-added", "model-differs"]),
)
@settings(max_examples=6)
def test_fuzz_checkpoint_inconsistent_fields(which, kind, payloads, tmp_path, fuzz_check):
    payload = copy.copy(payloads[which])
    if kind == "session-count":
        payload["sessions"] = {**payload["sessions"], "s0": 9}
    elif kind == "session-added":
        payload["sessions"] = {**payload["sessions"], "s9": 2}
    else:  # a consistent model_config and config.model, both unlike the weights
        model = {**payload["model_config"], "width": 0.125}
        payload["model_config"] = model
        payload["config"] = {**payload["config"], "model": model}
    path = write(tmp_path, payload)
    outcome, _ = fuzz_check("checkpoint", lambda: load_trained_network(path), path)
    assert outcome == "input_error"


# ---------------------------------------------------------------------------------------------------------
# the state_dict


def _float_key(state: dict, i: int) -> str:
    keys = [k for k, v in state.items() if v.is_floating_point() and v.dim() >= 1]
    return keys[i % len(keys)]


@st.composite
def state_mutations(draw, state: dict) -> tuple[object, str]:
    out = dict(state)
    key = _float_key(state, draw(st.integers(0, 10**6)))
    kind = draw(
        st.sampled_from(
            [
                "drop",
                "add",
                "reshape",
                "int",
                "complex",
                "nan",
                "not-a-tensor",
                "int-key",
                "sparse",
                "not-a-dict",
                "float64",
                "float16",
                "counter-as-float",
                "counter-as-int32",
            ]
        )
    )
    harmless = {"float64": torch.float64, "float16": torch.float16}
    if kind in harmless:
        out[key] = state[key].to(harmless[kind])
        return out, ACCEPT
    counter = next(k for k in state if k.endswith("num_batches_tracked"))
    if kind == "counter-as-int32":
        out[counter] = state[counter].to(torch.int32)
        return out, ACCEPT
    if kind == "counter-as-float":
        out[counter] = state[counter].double()
    elif kind == "drop":
        del out[key]
    elif kind == "add":
        out[draw(st.sampled_from(["extra.weight", key + "_copy", "shared.99.weight"]))] = torch.zeros(2)
    elif kind == "reshape":
        out[key] = torch.zeros(*state[key].shape, 1)
    elif kind == "int":
        out[key] = state[key].to(torch.int64)
    elif kind == "complex":
        out[key] = state[key].to(torch.complex64)
    elif kind == "nan":
        bad = state[key].clone()
        bad.view(-1)[draw(st.integers(0, bad.numel() - 1))] = draw(st.sampled_from([NAN, INF, -INF]))
        out[key] = bad
    elif kind == "not-a-tensor":
        out[key] = draw(st.sampled_from([None, 1.0, [1.0, 2.0], "w"]))
    elif kind == "int-key":
        out[7] = out.pop(key)
    elif kind == "sparse":
        out[key] = state[key].to_sparse()
    else:
        return draw(st.sampled_from([None, [], "weights", list(state.values())[:2]])), REJECT
    return out, REJECT


@given(which=st.sampled_from(["plain", "readouts"]), data=st.data())
@settings(max_examples=50)
def test_fuzz_checkpoint_state_dict(which, data, payloads, tmp_path, fuzz_check):
    payload = dict(payloads[which])
    payload["state_dict"], expect = data.draw(state_mutations(payload["state_dict"]))
    path = write(tmp_path, payload)
    outcome, value = fuzz_check("checkpoint", lambda: load_trained_network(path), path)
    check_outcome(outcome, value, expect, valid_network(payloads[which]))


# ---------------------------------------------------------------------------------------------------------
# V1 models and train states

V1_FIELDS = {
    "kind": [None, NETWORK_KIND, 3],
    "sessions": [None, {}, {"s0": 0}, {"s0": 5}, {"s0": "4"}, ["s0"]],
    "input_shape": [None, [3, SIDE, SIDE], [SIDE, SIDE], "x", [1, 0, SIDE], [1, SIDE, "32"], [1, 2, 2]],
    "stats": [None, {"mean": 0.4}, {"mean": 0.4, "std": 0.0}, {"mean": NAN, "std": 1}, [0.4, 0.2]],
    "preprocess": ["x", [1]],
    "model_config": [None, {"arch": "vgg99"}],
}


@given(data=st.data())
@settings(max_examples=30)
def test_fuzz_v1_model(data, payloads, tmp_path, fuzz_check):
    payload = dict(payloads["v1"])
    kind = data.draw(st.sampled_from(["remove", "bad-value", "harmless", "state"]))
    expect = REJECT
    if kind == "remove":
        key = data.draw(st.sampled_from(sorted(payload)))
        del payload[key]
        expect = ACCEPT if key in ("preprocess", "dataset", "core_from", "freeze_core") else REJECT
    elif kind == "bad-value":
        key, value = data.draw(st.sampled_from([(k, v) for k, vs in V1_FIELDS.items() for v in vs]))
        payload[key] = {**payloads["v1"][key], **value} if key == "model_config" and value else value
    elif kind == "harmless":
        payload[data.draw(st.sampled_from(["dataset", "notes"]))] = data.draw(st.sampled_from([None, 1, "x"]))
        expect = ACCEPT
    else:
        payload["state_dict"], expect = data.draw(state_mutations(payload["state_dict"]))
    path = write(tmp_path, payload, "model.pt")

    def valid(model) -> None:
        assert model.input_shape == (1, SIDE, SIDE) and model.sessions == {"s0": 4}
        same_weights(model.net, payloads["v1"]["state_dict"])

    outcome, value = fuzz_check("checkpoint", lambda: load_v1_model(path), path)
    check_outcome(outcome, value, expect, valid)


RESUME_KEYS = (
    "state_dict",
    "loss_weights",
    "optimizer",
    "scheduler",
    "early_stopping",
    "best_state_dict",
    "best_loss_weights",
    "history",
)


@given(key=st.sampled_from(RESUME_KEYS), change=st.sampled_from(["remove", "wrong-type", "none"]))
@settings(max_examples=24)
def test_fuzz_train_state(key, change, payloads, tmp_path, fuzz_check):
    payload = dict(payloads["plain"])
    payload.update(
        kind=STATE_KIND,
        optimizer={},
        scheduler={},
        early_stopping={},
        best_state_dict=payload["state_dict"],
        best_loss_weights={},
        history=[],
    )
    if change == "remove":
        del payload[key]
    else:
        payload[key] = None if change == "none" else "junk"
    path = write(tmp_path, payload, "last.pt")
    outcome, _ = fuzz_check("checkpoint", lambda: read_checkpoint(path, STATE_KIND), path)
    assert outcome == "input_error"


def test_intact_checkpoints_load(payloads, tmp_path, fuzz_check):
    """The fixtures themselves are valid: every mutation above starts from a loadable file."""
    for which in ("plain", "readouts"):
        path = write(tmp_path, payloads[which])
        outcome, value = fuzz_check("checkpoint", partial(load_trained_network, path), path)
        check_outcome(outcome, value, ACCEPT, valid_network(payloads[which]))
    path = write(tmp_path, payloads["v1"], "model.pt")
    assert fuzz_check("checkpoint", lambda: load_v1_model(path), path)[0] == "accepted"


# ---------------------------------------------------------------------------------------------------------
# malicious pickles


class _Runs:
    """Unpickling this runs ``func(*args)``: what a malicious checkpoint hides in its pickle."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


@pytest.mark.parametrize("reader", [load_trained_network, load_shared_core, load_v1_model])
@pytest.mark.parametrize("where", ["top", "state_dict", "nested"])
def test_malicious_pickle_is_refused_in_one_line_and_runs_nothing(
    reader, where, payloads, tmp_path, fuzz_check
):
    marker = tmp_path / f"ran-{where}"
    evil = _Runs(os.system, f"touch {marker}")
    payload = dict(payloads["readouts"])
    if where == "top":
        payload["evil"] = evil
    elif where == "state_dict":
        payload["state_dict"] = {**payload["state_dict"], "shared.0.weight": evil}
    else:
        payload["normalization"] = {"mean": _Runs(eval, "0.4"), "std": [evil]}
    path = write(tmp_path, payload)
    outcome, message = fuzz_check("checkpoint", lambda: reader(path), path)
    assert outcome == "input_error" and "refused" in message and "\x1b" not in message
    assert not marker.exists()
