import json

from image_fixtures import make_image_folder, make_tinyimagenet, make_tinyimagenet_c

from v1mtl.cli import main
from v1mtl.data.images.inspect import detect_image_format, inspect_images


def _cli_inspect(path, capsys):
    assert main(["data", "inspect", str(path)]) == 0
    return json.loads(capsys.readouterr().out)


def test_inspect_tinyimagenet(tmp_path, capsys):
    root = make_tinyimagenet(tmp_path / "tin", n_train=10, n_val=2)
    assert detect_image_format(root) == "tinyimagenet"
    out = _cli_inspect(root, capsys)
    assert out["format"] == "tinyimagenet"
    assert out["n_classes"] == 3
    assert out["splits"] == {"train": 27, "val": 3, "test": 6}
    assert out["image_size"] == 64 and out["channels"] == 3


def test_inspect_image_folder(tmp_path, capsys):
    root = make_image_folder(tmp_path / "f", n=5, splits=("train", "test"), size=32)
    assert detect_image_format(root) == "imagefolder"
    out = _cli_inspect(root, capsys)
    assert out["format"] == "imagefolder"
    assert out["n_classes"] == 3
    assert out["splits"] == {"train": 14, "val": 1, "test": 15}
    assert out["image_size"] == 32 and out["channels"] == 1


def test_inspect_tiny_imagenet_c(tmp_path, capsys):
    root = make_tinyimagenet_c(tmp_path / "c", corruptions=("fog", "snow"), severities=(1, 3), n=2)
    assert detect_image_format(root) == "tiny-imagenet-c"
    out = _cli_inspect(root, capsys)
    assert out["format"] == "tiny-imagenet-c"
    assert out["n_classes"] == 3
    assert out["splits"] == {"fog/1": 6, "fog/3": 6, "snow/1": 6, "snow/3": 6}
    assert out["corruptions"] == ["fog", "snow"] and out["severities"] == [1, 3]
    assert out["image_size"] == 64 and out["channels"] == 3


def test_inspect_builtin(capsys):
    assert detect_image_format("builtin") == "builtin"
    out = _cli_inspect("builtin", capsys)
    assert out["format"] == "builtin"
    assert out["n_classes"] >= 10
    assert out["splits"]["train"] >= 20000 and out["splits"]["val"] >= 2000 and out["splits"]["test"] >= 5000
    assert out["channels"] == 1 and out["image_size"] == 64


def test_not_an_image_dataset(tmp_path):
    (tmp_path / "x").mkdir()
    assert detect_image_format(tmp_path / "x") is None
    assert detect_image_format(tmp_path / "missing") is None
    assert inspect_images("builtin", "builtin")["format"] == "builtin"
