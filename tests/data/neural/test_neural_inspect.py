import json

import numpy as np
import pytest
from neural_fixtures import toy_dataset

from v1mtl.cli import main
from v1mtl.data.neural import write_native
from v1mtl.data.neural.inspect import detect_neural_format, inspect_neural


def test_summary_counts_and_nan_fraction(tmp_path):
    d = toy_dataset(neurons=(3, 4), repeats=(4, 2))
    write_native(d, tmp_path / "ds")
    assert detect_neural_format(tmp_path / "ds") == "native"
    info = inspect_neural(tmp_path / "ds", None)
    assert info["format"] == "native"
    assert info["n_images"] == 20 and info["image_shape"] == [8, 8] and info["n_neurons_total"] == 7
    values = [a for s in d.sessions for a in (s.train_responses, s.test_responses)]
    expected_nan = sum(np.isnan(a).sum() for a in values) / sum(a.size for a in values)
    assert info["nan_fraction"] == pytest.approx(expected_nan)
    assert [(s["id"], s["n_neurons"], s["n_test_images"], s["n_repeats"]) for s in info["sessions"]] == [
        ("s0", 3, 4, 4),
        ("s1", 4, 4, 2),
    ]
    assert info["sessions"][0]["n_train_trials"] == len(d.sessions[0].train_image_ids)


def test_explainable_variance_of_noise_free_and_pure_noise_repeats(tmp_path):
    d = toy_dataset(nan_fraction=0.0)
    rng = np.random.default_rng(0)
    for s in d.sessions:  # identical repeats: all variance is stimulus-driven
        per_image = rng.uniform(0, 10, size=(s.n_test_images, 1, s.n_neurons)).astype(np.float32)
        s.test_responses = np.repeat(per_image, s.n_repeats, axis=1)
    write_native(d, tmp_path / "clean")
    ev = inspect_neural(tmp_path / "clean", "native")["explainable_variance"]
    assert ev["median"] == pytest.approx(1.0) and ev["fraction_above_0.15"] == 1.0 and ev["n_neurons"] == 7

    for s in d.sessions:  # the same value on every image and repeat except one repeat: noise only
        s.test_responses = np.ones_like(s.test_responses)
        s.test_responses[:, 0] = 3.0
    write_native(d, tmp_path / "noise")
    ev = inspect_neural(tmp_path / "noise", "native")["explainable_variance"]
    assert ev["median"] < 0.15 and ev["fraction_above_0.15"] == 0.0


def test_cli_prints_one_json_object(tmp_path, capsys):
    write_native(toy_dataset(), tmp_path / "ds")
    assert main(["data", "inspect", str(tmp_path / "ds")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "native" and len(info["sessions"]) == 2
    assert set(info["explainable_variance"]) >= {"median", "fraction_above_0.15"}


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    write_native(toy_dataset(), tmp_path / "ds")
    (tmp_path / "ds" / "manifest.json").unlink()
    assert main(["data", "inspect", str(tmp_path / "ds"), "--format", "native"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "manifest.json" in err and "field 'manifest'" in err
