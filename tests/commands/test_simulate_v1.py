"""``v1mtl simulate-v1`` end to end on a tiny dataset."""

import numpy as np
import pytest
import yaml

from v1mtl.cli import main
from v1mtl.data.neural import read_native
from v1mtl.data.neural.nnvision import read_nnvision

TINY_ARGS = ["--neurons", "3", "--sessions", "2", "--images", "30", "--test-images", "5", "--repeats", "3"]


def test_writes_native_ground_truth_config_and_nnvision(tmp_path, capsys):
    out, nnv = tmp_path / "sim", tmp_path / "nnv"
    args = ["simulate-v1", "--out", str(out), *TINY_ARGS, "--image-size", "24", "--fano", "1.0"]
    assert main([*args, "--export-nnvision", str(nnv)]) == 0
    assert "wrote" in capsys.readouterr().out
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert (config["neurons"], config["sessions"], config["images"], config["image_size"]) == (3, 2, 30, 24)
    assert config["fano"] == 1.0
    native = read_native(out)
    assert native.images.shape == (35, 24, 24)
    assert [s.n_neurons for s in native.sessions] == [3, 3]
    assert (out / "ground_truth" / "population.npz").is_file()
    exported = read_nnvision(nnv)
    np.testing.assert_array_equal(exported.sessions[1].train_responses, native.sessions[1].train_responses)

    assert main(args) == 0  # same config: kept
    assert "kept" in capsys.readouterr().out


def test_bad_option_is_one_error_line(tmp_path, capsys):
    assert main(["simulate-v1", "--out", str(tmp_path / "x"), *TINY_ARGS, "--fano", "0.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fano" in err[0]
    assert not (tmp_path / "x").exists()


def test_help_states_the_defaults(capsys):
    try:
        main(["simulate-v1", "--help"])
    except SystemExit as exit_:
        assert exit_.code == 0
    text = " ".join(capsys.readouterr().out.split())  # undo argparse line wrapping
    for option, default in [
        ("--neurons", "30"),
        ("--images", "4000"),
        ("--repeats", "10"),
        ("--fano", "1.5"),
    ]:
        assert option in text and f"(default: {default})" in text


def _config(argv):
    from v1mtl.cli import build_parser
    from v1mtl.commands.simulate_v1 import config_from_flags

    return config_from_flags(build_parser().parse_args(["simulate-v1", "--out", "unused", *argv]))


def test_set_key_gives_the_same_config_as_its_flag():
    from v1mtl.simulator import SimulationConfig

    by_flags = _config(["--test-images", "7", "--image-size", "24", "--fano", "2.5"])
    by_set = _config(["--set", "test_images=7", "--set", "image_size=24", "--set", "fano=2.5"])
    assert by_set == by_flags != SimulationConfig()
    # a flag that is given wins over --set
    assert _config(["--set", "neurons=5", "--neurons", "6"]).neurons == 6


def test_config_file_sets_nested_keys_and_flags_override_it(tmp_path, capsys):
    path = tmp_path / "sim.yaml"
    settings = {"neurons": 3, "sessions": 2, "images": 20, "test_images": 4, "repeats": 2, "image_size": 16}
    path.write_text(yaml.safe_dump({**settings, "tuning": {"simple_fraction": 0.7}}))
    out = tmp_path / "sim"
    assert main(["simulate-v1", str(path), "--out", str(out), "--seed", "3"]) == 0
    written = yaml.safe_load((out / "config.yaml").read_text())
    assert {k: written[k] for k in settings} == settings
    assert written["tuning"]["simple_fraction"] == 0.7 and written["seed"] == 3


@pytest.mark.parametrize(
    "item", ["neurons=many", "test_images=1", "tuning.simple_fraction=high", "fov=3", "fano=0.5"]
)
def test_bad_set_value_is_one_error_line_naming_the_key(tmp_path, capsys, item):
    out = tmp_path / "x"
    assert main(["simulate-v1", "--out", str(out), "--set", item]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"'{item.split('=')[0]}'" in err[0]
    assert not out.exists()
