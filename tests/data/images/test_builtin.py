import numpy as np
import pytest
from image_fixtures import fake_photographs

from v1mtl.common.errors import InputError
from v1mtl.data.images import builtin, load_classification
from v1mtl.data.images.builtin import CLASS_NAMES, make_builtin, render_shapes, split_regions, texture_bank

COUNTS = (40, 20, 20)


def test_deterministic_per_seed_and_cached(tmp_path, monkeypatch):
    monkeypatch.setattr("v1mtl.data.images.photos.load_photographs", fake_photographs)
    a = make_builtin(size=32, counts=COUNTS, seed=3, cache_dir=tmp_path / "a")
    b = make_builtin(size=32, counts=COUNTS, seed=3, cache_dir=tmp_path / "b")
    c = make_builtin(size=32, counts=COUNTS, seed=4, cache_dir=tmp_path / "a")
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(a.split(split).images, b.split(split).images)
        np.testing.assert_array_equal(a.split(split).labels, b.split(split).labels)
        assert not np.array_equal(a.split(split).images, c.split(split).images)
    assert a.train.images.shape == (40, 32, 32) and a.train.images.dtype == np.uint8
    assert np.bincount(a.train.labels, minlength=10).tolist() == [4] * 10
    assert a.class_names == CLASS_NAMES == sorted(CLASS_NAMES) and len(CLASS_NAMES) >= 10
    # Second call with the same parameters is served from the cache without rendering.
    monkeypatch.setattr(builtin, "render_split", lambda *args, **kw: pytest.fail("rendered again"))
    d = load_classification("builtin", size=32, seed=3, builtin_counts=COUNTS, cache_dir=tmp_path / "a")
    assert isinstance(d.test.images, np.memmap)
    np.testing.assert_array_equal(d.test.images, a.test.images)
    rgb = load_classification(
        "builtin", size=32, seed=3, builtin_counts=COUNTS, cache_dir=tmp_path / "a", color=True
    )
    assert rgb.val.images.shape == (20, 32, 32, 3)
    np.testing.assert_array_equal(rgb.val.images[..., 2], a.val.images)


def test_images_from_the_real_photographs_are_varied():
    images, labels = builtin.render_split("test", 30, 64, seed=0)
    assert images.shape == (30, 64, 64)
    assert images.std(axis=(1, 2)).min() > 1.0  # no blank images
    assert len({img.tobytes() for img in images}) == 30


def test_split_regions_are_disjoint_and_cover_the_photo():
    for h, w in [(512, 512), (300, 451), (1411, 1411)]:
        owner = np.zeros((h, w), dtype=int)
        for top, bottom, left, right in split_regions(h, w).values():
            owner[top:bottom, left:right] += 1
        assert (owner == 1).all()


def test_texture_bank_takes_pixels_from_its_split_region_only():
    h, w = 300, 400
    photo = np.zeros((h, w), dtype=np.float32)
    values = {"train": 0.2, "val": 0.5, "test": 0.8}
    for split, (top, bottom, left, right) in split_regions(h, w).items():
        photo[top:bottom, left:right] = values[split]
    for split, value in values.items():
        bank = texture_bank({"p": photo}, split, 32)
        assert len(bank) == len(builtin.ZOOMS)
        for entry in bank:
            np.testing.assert_allclose(entry, value, atol=1e-6)


def test_every_class_renders_a_distinct_centered_shape():
    n = len(CLASS_NAMES)
    labels = np.arange(n)
    masks = render_shapes(
        labels, np.full(n, 32.0), np.full(n, 32.0), np.full(n, 16.0), np.zeros(n), np.zeros(n), 64
    )
    assert masks.min() >= 0 and masks.max() <= 1
    coverage = masks.mean(axis=(1, 2))
    assert (coverage > 0.05).all() and (coverage < 0.6).all()
    # Equal-area scaling: the classes cover similar areas.
    assert coverage.max() / coverage.min() < 1.3
    binary = masks > 0.5
    for i in range(n):
        for j in range(i + 1, n):
            assert (binary[i] ^ binary[j]).sum() > 0.05 * (binary[i] | binary[j]).sum(), (
                CLASS_NAMES[i],
                CLASS_NAMES[j],
            )


def test_bad_parameters():
    with pytest.raises(InputError, match="32 or 64"):
        make_builtin(size=48, counts=COUNTS)
    with pytest.raises(InputError, match="three positive counts"):
        make_builtin(size=32, counts=(10, 0, 5))
