"""``v1mtl simulate-v1`` end to end on a tiny dataset."""

import numpy as np
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
