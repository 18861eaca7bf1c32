"""``v1mtl predict-responses`` on the command line."""

from __future__ import annotations

import pytest

from v1mtl.cli import build_parser, main
from v1mtl.commands.predict_responses import config_from_flags
from v1mtl.data.neural import read_native
from v1mtl.neural_model import PredictTargetsConfig
from v1mtl.simulator.simulate import SimulationConfig, simulate_to_folder


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim") / "tiny"
    cfg = SimulationConfig(neurons=3, sessions=2, images=20, test_images=4, repeats=2, image_size=16, seed=3)
    simulate_to_folder(cfg, folder, progress=False)
    return folder


def test_simulator_targets_with_control(sim, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("V1MTL_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "targets"
    args = [
        "predict-responses",
        "--simulator",
        str(sim),
        "--images",
        "builtin",
        "--out",
        str(out),
        "--size",
        "32",
        "--builtin-counts",
        "30",
        "6",
        "12",
        "--control",
        "shuffled",
        "--seed",
        "5",
    ]
    assert main(args) == 0
    ds = read_native(out)
    assert ds.images.shape == (42, 32, 32)
    assert [s.session_id for s in ds.sessions] == ["sim00", "sim01"]
    assert ds.sessions[0].train_responses.shape == (30, 3)
    assert ds.metadata["control"] == "shuffled" and ds.metadata["control_seed"] == 5
    assert main(args) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_source_is_required_and_exclusive(sim, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["predict-responses", "--images", "builtin", "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit):
        main(
            [
                "predict-responses",
                "--model",
                "m.pt",
                "--simulator",
                str(sim),
                "--images",
                "builtin",
                "--out",
                str(tmp_path / "o"),
            ]
        )


def test_missing_model_file_is_an_input_error(tmp_path, capsys):
    code = main(
        [
            "predict-responses",
            "--model",
            str(tmp_path / "none.pt"),
            "--images",
            "builtin",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "none.pt" in capsys.readouterr().err


def _config(*extra: str) -> PredictTargetsConfig:
    """The config ``v1mtl predict-responses --simulator s --images builtin --out o EXTRA...`` would run with."""
    argv = ["predict-responses", "--simulator", "s", "--images", "builtin", "--out", "o", *extra]
    return config_from_flags(build_parser().parse_args(argv))


@pytest.mark.parametrize(
    ("key", "text", "flag", "value"),
    [
        ("control", "shuffled", ["--control", "shuffled"], "shuffled"),
        ("seed", "5", ["--seed", "5"], 5),
        ("image_size", "32", ["--size", "32"], 32),
        ("builtin_counts", "[30, 6, 12]", ["--builtin-counts", "30", "6", "12"], (30, 6, 12)),
    ],
)
def test_a_set_key_equals_its_dedicated_flag(key, text, flag, value):
    by_set = _config("--set", f"{key}={text}")
    assert by_set == _config(*flag)
    assert getattr(by_set, key) == value != getattr(PredictTargetsConfig(), key)


def test_a_flag_given_beats_set_which_beats_the_file(tmp_path):
    assert _config() == PredictTargetsConfig()
    (tmp_path / "c.yaml").write_text("seed: 4\nimage_size: 48\ncontrol: random\n")
    cfg = _config(
        "--config", str(tmp_path / "c.yaml"), "--set", "seed=5", "--set", "image_size=40", "--size", "32"
    )
    assert (cfg.control, cfg.seed, cfg.image_size) == ("random", 5, 32)


def test_a_config_file_sets_what_the_flags_set(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("V1MTL_CACHE", str(tmp_path / "cache"))
    (tmp_path / "c.yaml").write_text(
        "control: random\nseed: 3\nimage_size: 32\nsplit_seed: 7\nbuiltin_counts: [20, 4, 6]\nbatch_size: 8\n"
    )
    base = ["predict-responses", "--simulator", str(sim), "--images", "builtin"]
    assert main([*base, "--out", str(tmp_path / "by_file"), "--config", str(tmp_path / "c.yaml")]) == 0
    by_flags = [
        *["--control", "random", "--seed", "3", "--size", "32", "--builtin-counts", "20", "4", "6"],
        *["--set", "split_seed=7"],
    ]
    assert main([*base, "--out", str(tmp_path / "by_flags"), *by_flags]) == 0
    by_file, by_flag = read_native(tmp_path / "by_file"), read_native(tmp_path / "by_flags")
    assert by_file.images.shape == (26, 32, 32)
    assert by_file.metadata == by_flag.metadata
    assert by_file.metadata["split_seed"] == 7 and by_file.metadata["control_seed"] == 3
    for a, b in zip(by_file.sessions, by_flag.sessions, strict=True):
        assert (a.train_responses == b.train_responses).all()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--set", "control=none"], "control"),
        (["--set", "image_size=big"], "image_size"),
        (["--set", "builtin_counts=[30, 6]"], "builtin_counts"),
        (["--set", "size=32"], "size"),  # the flag's name is not a key
        (["--size", "0"], "image_size"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_key(sim, tmp_path, capsys, extra, field):
    argv = ["predict-responses", "--simulator", str(sim), "--images", "builtin", "--out", str(tmp_path / "o")]
    assert main([*argv, *extra]) == 2
    err = capsys.readouterr().err
    assert f"field '{field}'" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()
