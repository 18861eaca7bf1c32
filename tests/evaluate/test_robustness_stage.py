"""``run_robustness_stage`` called directly gives what ``v1mtl evaluate robustness`` gives; its config's keys."""

import json
import sys
from pathlib import Path

import pytest

# the tiny checkpoints of the command tests, so that the stage and the command run on the same inputs
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "commands"))
from robustness_checkpoints import builtin_run, private_cache  # noqa: E402, F401

from v1mtl.cli import build_parser, main  # noqa: E402
from v1mtl.commands.evaluate_robustness import config_from_flags  # noqa: E402
from v1mtl.common.errors import InputError  # noqa: E402
from v1mtl.evaluate.robustness_stage import RobustnessConfig, run_robustness_stage  # noqa: E402

# The images are deliberately smaller than the presets are calibrated for.
pytestmark = pytest.mark.filterwarnings("ignore:preset .* is calibrated:UserWarning")

TABLES = ("robustness.csv", "summary.csv", "corruption_scores.csv")


def _protocol(out: Path) -> dict:
    """``protocol.json`` without the output folder, the one thing two runs into two folders differ in."""
    saved = json.loads((out / "protocol.json").read_text())
    assert saved["arguments"].pop("out") == str(out)
    return saved


@pytest.mark.parametrize(
    ("flags", "cfg"),
    [
        (
            [
                "--table",
                "tiny-imagenet",
                "--corruptions",
                "contrast",
                "gaussian_noise",
                "--severities",
                "1",
                "5",
            ],
            RobustnessConfig(
                table="tiny-imagenet", corruptions=["contrast", "gaussian_noise"], severities=[1, 5]
            ),
        ),
        (
            ["--source", "gaussian-sweep", "--stds", "0", "0.3"],
            RobustnessConfig(source="gaussian-sweep", stds=[0, 0.3]),
        ),
    ],
)
def test_the_stage_writes_what_the_command_writes(tmp_path, flags, cfg):
    run_a, run_b = builtin_run(tmp_path, "run_a", seed=0), builtin_run(tmp_path, "run_b", seed=1)
    common = ["--limit", "30", "--seed", "2", "--batch-size", "16", "--reference", str(run_b)]
    command = tmp_path / "command"
    assert main(["evaluate", "robustness", str(run_a), "--out", str(command), *flags, *common]) == 0

    cfg.limit, cfg.seed, cfg.batch_size = 30, 2, 16
    stage = tmp_path / "stage"
    result = run_robustness_stage(cfg, str(run_a), stage, reference=str(run_b))
    for name in TABLES:
        assert (stage / name).read_bytes() == (command / name).read_bytes(), name
    assert _protocol(stage) == _protocol(command)
    assert [s.model for s in result["summaries"]] == ["run_a", "run_b"]
    assert {p.name for p in result["paths"]} >= {"summary.csv", "corruption_scores.csv"}


@pytest.mark.parametrize(
    ("flag", "override"),
    [
        (["--source", "gaussian-sweep"], "source=gaussian-sweep"),
        (["--table", "cifar"], "table=cifar"),
        (["--corruptions", "fog", "contrast"], "corruptions=[fog, contrast]"),
        (["--corruptions", "extra"], "corruptions=[extra]"),
        (["--severities", "2", "4"], "severities=[2, 4]"),
        (["--stds", "0", "0.5"], "stds=[0, 0.5]"),
        (["--tinyimagenet-c", "tic/"], "prerendered=tic/"),
        (["--data", "images/"], "data=images/"),
        (["--space", "gray"], "space=gray"),
        (["--jpeg-roundtrip"], "jpeg_roundtrip=true"),
        (["--limit", "7"], "limit=7"),
        (["--seed", "3"], "seed=3"),
        (["--batch-size", "8"], "batch_size=8"),
    ],
)
def test_a_flag_and_its_set_key_give_the_same_config(tmp_path, flag, override):
    by_flag, by_set = _config(*flag), _config("--set", override)
    assert by_flag == by_set != RobustnessConfig()
    key = override.partition("=")[0]
    # the same key in a --config file means the same
    (tmp_path / "c.yaml").write_text(f"{key}: {json.dumps(getattr(by_set, key))}\n")
    assert _config("--config", str(tmp_path / "c.yaml")) == by_set


def test_flags_given_beat_set_which_beats_the_file_and_unset_flags_change_nothing(tmp_path):
    assert _config() == RobustnessConfig()
    (tmp_path / "c.yaml").write_text("seed: 4\nlimit: 9\nsource: gaussian-sweep\n")
    cfg = _config("--config", str(tmp_path / "c.yaml"), "--set", "seed=5", "--set", "limit=3", "--limit", "2")
    assert (cfg.source, cfg.seed, cfg.limit) == ("gaussian-sweep", 5, 2)


def _config(*extra: str) -> RobustnessConfig:
    """The config ``v1mtl evaluate robustness run --out o EXTRA...`` would run with."""
    return config_from_flags(
        build_parser().parse_args(["evaluate", "robustness", "run", "--out", "o", *extra])
    )


@pytest.mark.parametrize(
    ("flag", "values", "message"),
    [
        ("--severities", ["1", "x"], "expected an integer, got 'x'"),
        ("--severities", ["1.5"], "expected an integer, got '1.5'"),
        ("--stds", ["0", "loud"], "expected a number, got 'loud'"),
    ],
)
def test_a_list_flag_with_a_bad_number_names_the_flag(flag, values, message):
    with pytest.raises(InputError) as err:
        _config(flag, *values)
    assert str(err.value) == f"{flag}: field '{flag[2:]}': {message}"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--set", "space=blue"], "space"),
        (["--set", "severities=[1, x]"], "severities[1]"),
        (["--severities", "1", "x"], "severities"),
        (["--set", "gaussian_sweep=true"], "gaussian_sweep"),  # the study's key, not the stage's
        (["--set", "tinyimagenet_c=x"], "tinyimagenet_c"),  # the flag's name is not a key
        (["--source", "pre-rendered"], "prerendered"),
        (["--set", "jpeg_roundtrip=true", "--source", "gaussian-sweep"], "jpeg_roundtrip"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_key(tmp_path, capsys, extra, field):
    run = builtin_run(tmp_path)
    assert main(["evaluate", "robustness", str(run), "--out", str(tmp_path / "o"), *extra]) == 2
    err = capsys.readouterr().err
    assert f"field '{field}'" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("cfg", "field"),
    [
        (RobustnessConfig(), "table"),
        (RobustnessConfig(source="pre-rendered"), "prerendered"),
        (RobustnessConfig(table="tiny-imagenet", space="blue"), "space"),
        (RobustnessConfig(table="tiny-imagenet", severities=[1, 9]), "severities[1]"),
        (RobustnessConfig(table="tiny-imagenet", corruptions=["rain"]), "corruptions"),
    ],
)
def test_the_stage_refuses_a_bad_config_naming_its_key(tmp_path, cfg, field):
    run = builtin_run(tmp_path)
    with pytest.raises(InputError) as err:
        run_robustness_stage(cfg, run, tmp_path / "o")
    assert err.value.field == field and "\n" not in str(err.value)
    assert not (tmp_path / "o" / "robustness.csv").exists()
