"""``v1mtl predict-responses`` on the command line."""

from __future__ import annotations

import pytest

from v1mtl.cli import main
from v1mtl.data.neural import read_native
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
