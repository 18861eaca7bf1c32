"""``v1mtl corrupt``: layout, resumability, determinism across resumes, JPEG output, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from v1mtl.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:preset .* is calibrated:UserWarning")


@pytest.fixture(autouse=True)
def one_thread():
    """Small tensors run faster on one thread than on two contending ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def src(tmp_path):
    rs = np.random.RandomState(0)
    root = tmp_path / "src"
    for cls in ("cat", "dog"):
        (root / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rs.randint(0, 256, (32, 40, 3), dtype=np.uint8)).save(
                root / cls / f"{cls}{i}.JPEG"
            )
    Image.fromarray(rs.randint(0, 256, (24, 24), dtype=np.uint8)).save(root / "dog" / "gray.png")
    return root


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_renders_layout_and_resumes(src, tmp_path):
    dst = tmp_path / "dst"
    args = ["corrupt", str(src), str(dst), "--table", "cifar", "--corruptions", "fog", "contrast"]
    assert main(args + ["--severities", "1", "3", "--batch-size", "2"]) == 0
    images = [f"{c}/{n}.png" for c, n in [("cat", "cat0"), ("cat", "cat1"), ("cat", "cat2")]]
    images += [f"dog/{n}.png" for n in ("dog0", "dog1", "dog2", "gray")]
    expected = sorted(f"{c}/{s}/{f}" for c in ("fog", "contrast") for s in (1, 3) for f in images)
    expected += sorted(f"{c}/{s}/.complete" for c in ("fog", "contrast") for s in (1, 3))
    assert sorted(_files(dst)) == sorted(expected + ["corrupt_config.json"])
    config = json.loads((dst / "corrupt_config.json").read_text())
    assert (
        config["table"] == "cifar" and config["corruptions"] == ["fog", "contrast"] and config["images"] == 7
    )
    gray = Image.open(dst / "fog/3/dog/gray.png")
    assert gray.mode == "L" and gray.size == (24, 24)
    assert Image.open(dst / "fog/3/cat/cat0.png").size == (40, 32)

    before = (dst / "fog/3/cat/cat1.png").read_bytes()
    stamp = (dst / "contrast/1/dog/dog0.png").stat().st_mtime_ns
    # An interrupted run: one file and the folder's marker missing; the rerun writes only that file.
    (dst / "fog/3/cat/cat1.png").unlink()
    (dst / "fog/3/.complete").unlink()
    assert main(args + ["--severities", "1", "3"]) == 0
    assert (dst / "fog/3/cat/cat1.png").read_bytes() == before
    assert (dst / "fog/3/.complete").exists()
    assert (dst / "contrast/1/dog/dog0.png").stat().st_mtime_ns == stamp


def test_jpeg_roundtrip_keeps_jpeg_names(src, tmp_path):
    dst = tmp_path / "dst"
    assert (
        main(
            [
                "corrupt",
                str(src),
                str(dst),
                "--corruptions",
                "brightness",
                "--severities",
                "2",
                "--jpeg-roundtrip",
            ]
        )
        == 0
    )
    assert (dst / "brightness/2/cat/cat0.JPEG").exists() and (dst / "brightness/2/dog/gray.jpg").exists()
    with Image.open(dst / "brightness/2/cat/cat0.JPEG") as im:
        assert im.format == "JPEG"


def test_changed_seed_on_resume_is_refused(src, tmp_path, capsys):
    dst = tmp_path / "dst"
    base = ["corrupt", str(src), str(dst), "--corruptions", "contrast", "--severities", "1"]
    assert main(base) == 0
    assert main(base + ["--seed", "5"]) == 2
    assert "seed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--corruptions", "fogg"], "gaussian_noise"),
        (["--severities", "6"], "must be in [1, 5]"),
    ],
)
def test_bad_arguments(src, tmp_path, capsys, extra, message):
    assert main(["corrupt", str(src), str(tmp_path / "dst")] + extra) == 2
    assert message in capsys.readouterr().err


def test_images_outside_class_folders_are_refused(tmp_path, capsys):
    root = tmp_path / "flat"
    root.mkdir()
    Image.fromarray(np.zeros((32, 32, 3), dtype=np.uint8)).save(root / "a.png")
    assert main(["corrupt", str(root), str(tmp_path / "dst")]) == 2
    assert "<class>" in capsys.readouterr().err


def _config(argv):
    from v1mtl.cli import build_parser
    from v1mtl.commands.corrupt import config_from_flags

    return config_from_flags(build_parser().parse_args(["corrupt", "unused-src", "unused-dst", *argv]))


def test_set_key_gives_the_same_config_as_its_flag():
    from v1mtl.corruptions.render import RenderConfig

    by_flags = _config(
        ["--table", "cifar", "--corruptions", "fog", "contrast", "--severities", "1", "3"]
        + ["--jpeg-roundtrip", "--seed", "4", "--batch-size", "2"]
    )
    keys = ["table=cifar", "corruptions=[fog, contrast]", "severities=[1, 3]", "jpeg_roundtrip=true"]
    keys += ["seed=4", "batch_size=2"]
    by_set = _config([arg for key in keys for arg in ("--set", key)])
    assert by_set == by_flags != RenderConfig()
    # a flag that is given wins over --set
    assert _config(["--set", "seed=4", "--seed", "5"]).seed == 5


def test_config_file_works_and_flags_override_it(src, tmp_path):
    import yaml

    path = tmp_path / "corrupt.yaml"
    path.write_text(yaml.safe_dump({"table": "cifar", "corruptions": ["fog"], "severities": [2], "seed": 3}))
    dst = tmp_path / "dst"
    assert main(["corrupt", str(src), str(dst), "--config", str(path), "--batch-size", "3"]) == 0
    config = json.loads((dst / "corrupt_config.json").read_text())
    assert (config["table"], config["corruptions"], config["severities"]) == ("cifar", ["fog"], [2])
    assert (config["seed"], config["batch_size"]) == (3, 3)
    assert sorted(p.name for p in dst.iterdir()) == ["corrupt_config.json", "fog"]
    assert len(list((dst / "fog/2").rglob("*.png"))) == 7


@pytest.mark.parametrize(
    "item", ["severities=[6]", "batch_size=0", "table=tiny", "jpeg_roundtrip=maybe", "corruptions=[fogg]"]
)
def test_bad_set_value_is_one_error_line_naming_the_key(src, tmp_path, capsys, item):
    dst = tmp_path / "dst"
    assert main(["corrupt", str(src), str(dst), "--set", item]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"field '{item.split('=')[0]}" in err[0]  # severities[0]: the item's key
    assert not dst.exists()
