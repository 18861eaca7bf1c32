import json

import numpy as np
import pytest

from v1mtl.cli import main
from v1mtl.data.images import load_classification


def fake_photographs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {name: rng.random((300, 400), dtype=np.float32) for name in ("a", "b")}


def test_make_builtin_writes_an_image_folder_that_reads_back(tmp_path, capsys, monkeypatch):
    # Stand-in photographs keep the test fast; the real ones are exercised in tests/data/test_builtin.py.
    monkeypatch.setattr("v1mtl.data.images.photos.load_photographs", fake_photographs)
    out = tmp_path / "set"
    args = ["data", "make-builtin", "--out", str(out), "--size", "32", "--seed", "5"]
    args += ["--train", "30", "--val", "10", "--test", "20", "--cache-dir", str(tmp_path / "cache")]
    args += ["--grid", str(tmp_path / "grid.png")]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["splits"] == {"train": 30, "val": 10, "test": 20}
    assert json.loads((out / "config.json").read_text())["seed"] == 5
    assert (tmp_path / "grid.png").stat().st_size > 1000
    assert len(list((out / "test").rglob("*.png"))) == 20

    from v1mtl.data.images import make_builtin

    original = make_builtin(size=32, counts=(30, 10, 20), seed=5, cache_dir=tmp_path / "cache")
    back = load_classification(out, size=32, cache_dir=tmp_path / "cache2")
    assert back.class_names == original.class_names
    for split in ("train", "val", "test"):
        a, b = original.split(split), back.split(split)
        # Files are named by index within the split; reorder both by (label, image bytes) to compare as sets.
        key_a = sorted(zip(a.labels.tolist(), (img.tobytes() for img in a.images), strict=True))
        key_b = sorted(zip(b.labels.tolist(), (img.tobytes() for img in b.images), strict=True))
        assert key_a == key_b
    assert np.asarray(back.train.images).dtype == np.uint8


def test_make_builtin_rejects_other_sizes(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["data", "make-builtin", "--out", str(tmp_path), "--size", "48"])


def _config(argv):
    from v1mtl.cli import build_parser
    from v1mtl.commands.data_make_builtin import config_from_flags

    return config_from_flags(build_parser().parse_args(["data", "make-builtin", "--out", "unused", *argv]))


def test_set_key_gives_the_same_config_as_its_flag():
    from v1mtl.data.images.builtin import BuiltinConfig

    by_flags = _config(["--size", "32", "--seed", "5", "--train", "30", "--val", "10", "--test", "20"])
    keys = ["size=32", "seed=5", "counts.train=30", "counts.val=10", "counts.test=20"]
    by_set = _config([arg for key in keys for arg in ("--set", key)])
    assert by_set == by_flags != BuiltinConfig()
    # a flag that is given wins over --set
    assert _config(["--set", "counts.val=3", "--val", "4"]).counts.val == 4


def test_config_file_works_and_flags_override_it(tmp_path, capsys, monkeypatch):
    import yaml

    monkeypatch.setattr("v1mtl.data.images.photos.load_photographs", fake_photographs)
    path = tmp_path / "builtin.yaml"
    path.write_text(yaml.safe_dump({"size": 32, "seed": 5, "counts": {"train": 12, "val": 6, "test": 8}}))
    out = tmp_path / "set"
    args = ["data", "make-builtin", "--out", str(out), "--config", str(path), "--test", "9"]
    assert main([*args, "--cache-dir", str(tmp_path / "cache")]) == 0
    assert json.loads(capsys.readouterr().out)["splits"] == {"train": 12, "val": 6, "test": 9}
    written = json.loads((out / "config.json").read_text())
    assert (written["size"], written["seed"], written["counts"]) == (
        32,
        5,
        {"train": 12, "val": 6, "test": 9},
    )


@pytest.mark.parametrize("item", ["size=48", "counts.val=ten", "counts.all=3", "seed=null"])
def test_bad_set_value_is_one_error_line_naming_the_key(tmp_path, capsys, item):
    out = tmp_path / "set"
    assert main(["data", "make-builtin", "--out", str(out), "--set", item]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"'{item.split('=')[0]}'" in err[0]
    assert not out.exists()
