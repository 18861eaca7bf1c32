import numpy as np
import pytest
from skimage.transform import rescale

from v1mtl.common.errors import InputError
from v1mtl.data.neural.preprocess import (
    ImageStats,
    check_unit_range,
    crop_subsample,
    prepare_images,
    rescale_images,
)


def test_crop_and_subsample_by_hand():
    images = np.arange(2 * 6 * 7).reshape(2, 6, 7)
    out = crop_subsample(images, crop=1, subsample=2)
    np.testing.assert_array_equal(out[0], [[8, 10, 12], [22, 24, 26]])
    per_side = crop_subsample(images, crop=((0, 2), (3, 0)))
    np.testing.assert_array_equal(per_side[1], images[1, 0:4, 3:7])
    with pytest.raises(InputError, match="leaves nothing"):
        crop_subsample(images, crop=3)


def test_rescale_matches_the_reference_call_and_keeps_dtype():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(2, 10, 12), dtype=np.uint8)
    out = rescale_images(images, 0.5)
    assert out.shape == (2, 5, 6) and out.dtype == np.uint8
    ref = rescale(images[1], 0.5, mode="reflect", anti_aliasing=False, preserve_range=True).astype(np.uint8)
    np.testing.assert_array_equal(out[1], ref)
    assert rescale_images(images, 1.0) is images


def test_computed_stats_zscore_uint8_in_unit_range():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(5, 9, 9), dtype=np.uint8)
    x, stats = prepare_images(images, crop=1)
    assert x.shape == (5, 1, 7, 7) and x.dtype == np.float32
    unit = images[:, 1:-1, 1:-1] / 255.0
    assert stats.mean == pytest.approx(unit.mean()) and stats.std == pytest.approx(unit.std())
    assert abs(float(x.mean())) < 1e-5 and float(x.std()) == pytest.approx(1.0, abs=1e-5)


def test_given_stats_are_applied_as_is():
    images = np.full((2, 4, 4), 51, dtype=np.uint8)  # 0.2 in [0, 1] units
    x, stats = prepare_images(images, stats=ImageStats(mean=0.4519, std=0.2221))
    np.testing.assert_allclose(x, (0.2 - 0.4519) / 0.2221, rtol=1e-5)
    assert stats.to_dict() == {"mean": 0.4519, "std": 0.2221}
    floats = np.full((1, 3, 3), 7.0, dtype=np.float32)  # float stimuli keep their units
    x, _ = prepare_images(floats, stats=ImageStats(mean=5.0, std=2.0))
    np.testing.assert_allclose(x, 1.0)
    with pytest.raises(InputError, match="standard deviation"):
        prepare_images(floats)


def test_unit_range_check_accepts_uint8_and_unit_floats_only():
    check_unit_range(np.full((2, 3, 3), 255, np.uint8), "d")
    check_unit_range(np.linspace(0, 1, 18, dtype=np.float32).reshape(2, 3, 3), "d")
    for bad in (np.full((1, 2, 2), 2.0, np.float32), np.full((1, 2, 2), -0.5, np.float32)):
        with pytest.raises(InputError, match=r"\[0, 1\]") as err:
            check_unit_range(bad, "data.pkl")
        assert err.value.path == "data.pkl" and err.value.field == "images"
