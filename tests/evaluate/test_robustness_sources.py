"""On-the-fly and pre-rendered (Tiny-ImageNet-C) sources."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from robustness_fixtures import BrightnessClassifier, brightness_split, direct_accuracy

from v1mtl.common.errors import InputError
from v1mtl.data.images import ImageSplit, TinyImageNetC
from v1mtl.evaluate.corrupted_sources import OnTheFlySource, PreRenderedSource
from v1mtl.evaluate.robustness import evaluate_robustness

# The images are deliberately smaller than the presets are calibrated for.
pytestmark = pytest.mark.filterwarnings("ignore:preset .* is calibrated:UserWarning")

SIZE = 16  # the smallest side v1mtl.corruptions accepts


def _images(source, corruption, severity, batch_size):
    return torch.cat([x for x, _ in source.batches(corruption, severity, batch_size, "cpu")])


@pytest.mark.parametrize("color", [False, True])
def test_on_the_fly_is_deterministic_per_image_whatever_the_batching(color):
    split = brightness_split(n=12, size=SIZE, color=color)

    def make(**kw):
        return OnTheFlySource(
            split, ["gaussian_noise", "glass_blur"], [2], preset="tiny-imagenet", seed=5, **kw
        )

    for corruption in ("gaussian_noise", "glass_blur"):
        a = _images(make(), corruption, 2.0, batch_size=5)
        b = _images(make(), corruption, 2.0, batch_size=12)
        assert a.shape == (12, 1, SIZE, SIZE)
        assert torch.equal(a, b)
        limited = make(limit=4)
        assert torch.equal(
            a[torch.from_numpy(limited.indices)], _images(limited, corruption, 2.0, batch_size=3)
        )
    # Corrupted values sit on uint8 levels before the gray conversion; gray input stays on them.
    if not color:
        assert torch.allclose(a * 255, torch.round(a * 255), atol=1e-4)
    rows_1 = evaluate_robustness(BrightnessClassifier(), make(), batch_size=5, progress=False)
    rows_2 = evaluate_robustness(BrightnessClassifier(), make(), batch_size=12, progress=False)
    assert rows_1 == rows_2
    assert [(r.corruption, r.severity) for r in rows_1] == [
        ("clean", 0.0),
        ("gaussian_noise", 2.0),
        ("glass_blur", 2.0),
    ]


def test_contrast_keeps_the_mean_so_a_brightness_rule_keeps_its_accuracy():
    split = brightness_split(n=40, size=SIZE)
    source = OnTheFlySource(split, ["contrast"], [1, 5], preset="tiny-imagenet")
    rows = evaluate_robustness(BrightnessClassifier(), source, progress=False)
    expected = direct_accuracy(split.images / 255.0, split.labels)
    assert [r.accuracy for r in rows] == pytest.approx([expected] * 3)
    assert all(r.source == "on-the-fly" and r.preset == "tiny-imagenet" and r.space == "gray" for r in rows)
    # while the images themselves did change
    assert not torch.equal(_images(source, "contrast", 5.0, 40), _images(source, "clean", 0.0, 40))


def test_jpeg_roundtrip_changes_images_and_is_recorded():
    split = brightness_split(n=6, size=SIZE, color=True)
    plain = OnTheFlySource(split, ["brightness"], [1], preset="tiny-imagenet")
    jpeg = OnTheFlySource(split, ["brightness"], [1], preset="tiny-imagenet", jpeg_roundtrip=True)
    assert not torch.equal(_images(plain, "brightness", 1.0, 6), _images(jpeg, "brightness", 1.0, 6))
    assert jpeg.describe()["jpeg_quality"] == 85 and plain.describe()["jpeg_quality"] is None
    rows = evaluate_robustness(BrightnessClassifier(), jpeg, progress=False)
    assert all(r.jpeg_roundtrip for r in rows)


def test_on_the_fly_bad_inputs():
    split = brightness_split(n=4, size=SIZE)
    with pytest.raises(InputError, match="corruptions"):
        OnTheFlySource(split, ["rain"], preset="tiny-imagenet")
    with pytest.raises(InputError, match="severities"):
        OnTheFlySource(split, ["contrast"], [0, 6], preset="tiny-imagenet")


WNIDS = ["n001", "n002"]


def _write_tinyimagenet_c(root, corruptions=("fog", "contrast"), severities=(1, 2), per_class=3, seed=0):
    """``root/<corruption>/<severity>/<wnid>/*.JPEG``: dark images in n001, bright in n002 (one mislabelled)."""
    rng = np.random.default_rng(seed)
    for c in corruptions:
        for s in severities:
            for k, wnid in enumerate(WNIDS):
                folder = root / c / str(s) / wnid
                folder.mkdir(parents=True)
                for i in range(per_class):
                    level = rng.uniform(0.55, 0.9) if (k == 1) != (i == 0) else rng.uniform(0.1, 0.45)
                    rgb = np.clip(level + rng.normal(0, 0.05, (SIZE, SIZE, 3)), 0, 1)
                    Image.fromarray((rgb * 255).astype(np.uint8)).save(
                        folder / f"{wnid}_{i}.JPEG", quality=85
                    )
    return root


def _pil_gray_accuracy(folder):
    images, labels = [], []
    for k, wnid in enumerate(WNIDS):
        for f in sorted((folder / wnid).glob("*.JPEG")):
            images.append(np.asarray(Image.open(f).convert("L"), dtype=np.float64) / 255)
            labels.append(k)
    return direct_accuracy(np.stack(images), np.asarray(labels))


def test_pre_rendered_accuracy_equals_a_direct_computation_on_the_files(tmp_path):
    root = _write_tinyimagenet_c(tmp_path / "tic")
    sets = TinyImageNetC(root, WNIDS, size=SIZE, cache_dir=tmp_path / "cache")
    clean = brightness_split(n=10, size=SIZE)
    rows = evaluate_robustness(
        BrightnessClassifier(), PreRenderedSource(sets, clean, root=str(root)), progress=False
    )
    got = {(r.corruption, r.severity): r for r in rows}
    assert list(got) == [("clean", 0.0), ("contrast", 1.0), ("contrast", 2.0), ("fog", 1.0), ("fog", 2.0)]
    assert got[("clean", 0.0)].accuracy == pytest.approx(direct_accuracy(clean.images / 255, clean.labels))
    for c in ("fog", "contrast"):
        for s in (1, 2):
            assert got[(c, float(s))].accuracy == pytest.approx(_pil_gray_accuracy(root / c / str(s)))
            assert got[(c, float(s))].n == 6
    assert all(r.jpeg_roundtrip and r.preset == "tiny-imagenet" and r.source == "pre-rendered" for r in rows)


def test_pre_rendered_selection_and_errors(tmp_path):
    root = _write_tinyimagenet_c(tmp_path / "tic")
    sets = TinyImageNetC(root, WNIDS, size=SIZE, cache_dir=tmp_path / "cache")
    source = PreRenderedSource(sets, None, corruptions=["fog"], severities=[2])
    assert source.conditions() == [("fog", 2.0)]  # no clean split, no clean row
    with pytest.raises(InputError, match="not in the pre-rendered folder"):
        PreRenderedSource(sets, None, corruptions=["snow"], root=str(root))
    with pytest.raises(InputError, match="no \\(corruption, severity\\) sets"):
        PreRenderedSource(sets, None, severities=[5])
    # A model whose classes are not the folder's wnids cannot be scored on it.
    other = TinyImageNetC(root, ["n001", "n999"], size=SIZE, cache_dir=tmp_path / "cache")
    with pytest.raises(InputError, match="not a TinyImageNet class"):
        evaluate_robustness(BrightnessClassifier(), PreRenderedSource(other, None), progress=False)


def test_pre_rendered_limit_spreads_over_classes(tmp_path):
    root = _write_tinyimagenet_c(tmp_path / "tic", corruptions=("fog",), severities=(1,), per_class=4)
    sets = TinyImageNetC(root, WNIDS, size=SIZE, cache_dir=tmp_path / "cache")
    labels = torch.cat([y for _, y in PreRenderedSource(sets, None, limit=2).batches("fog", 1.0, 8, "cpu")])
    assert sorted(labels.tolist()) == [0, 1]
    assert isinstance(sets[("fog", 1)], ImageSplit)
