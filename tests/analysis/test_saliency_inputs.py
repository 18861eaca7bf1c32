import h5py
import numpy as np
import pytest

from v1mtl.analysis.images import load_analysis_images
from v1mtl.analysis.saliency_maps_io import load_saliency_maps
from v1mtl.analysis.saliency_models import centre_surround, saliency_map, spectral_residual
from v1mtl.common.errors import InputError


def _scene(size: int = 64) -> np.ndarray:
    """A flat textured background with one bright square: the square is the salient spot."""
    rng = np.random.default_rng(0)
    img = 0.4 + 0.02 * rng.normal(size=(size, size))
    img[40:48, 12:20] = 0.9
    return img


@pytest.mark.parametrize("model", [spectral_residual, centre_surround])
def test_builtin_models_peak_on_the_odd_one_out(model):
    sal = model(_scene())
    assert sal.shape == (64, 64) and sal.min() >= 0
    inside = sal[40:48, 12:20].mean()
    assert inside > 2 * np.median(sal)


def test_unknown_builtin_model():
    with pytest.raises(ValueError, match="unknown"):
        saliency_map(_scene(), "deepgaze")


def test_npz_h5_and_npy_maps_are_cropped_resized_and_validated(tmp_path):
    ids = ["a", "dir/b"]
    wide = np.zeros((20, 40))
    wide[:, 20:] = 1.0  # right half of the centre square is 1
    np.savez(tmp_path / "m.npz", a=wide, **{"dir/b": np.ones((8, 8))})
    maps = load_saliency_maps(tmp_path / "m.npz", ids, 10)
    assert maps.shape == (2, 10, 10)
    assert maps[0, :, :4].max() == 0 and maps[0, :, 6:].min() == 1
    with h5py.File(tmp_path / "m.h5", "w") as f:
        f["a"] = np.log(np.full((10, 10), 2.0))
        f["dir/b"] = np.zeros((10, 10))
    logd = load_saliency_maps(tmp_path / "m.h5", ids, 10, log_density=True)
    np.testing.assert_allclose(logd[0], 2.0)
    np.save(tmp_path / "m.npy", np.ones((2, 10, 10)))
    assert load_saliency_maps(tmp_path / "m.npy", ids, 10).shape == (2, 10, 10)
    with pytest.raises(InputError, match="2 maps for 1 images"):
        load_saliency_maps(tmp_path / "m.npy", ["a"], 10)
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["a"] = np.full((10, 10), np.nan)
    with pytest.raises(InputError) as err:
        load_saliency_maps(tmp_path / "bad.h5", ["a"], 10)
    assert "bad.h5" in str(err.value) and "'a'" in str(err.value)
    with pytest.raises(InputError, match="unsupported"):
        (tmp_path / "m.txt").write_text("x")
        load_saliency_maps(tmp_path / "m.txt", ids, 10)


def test_image_sources(tmp_path):
    from PIL import Image

    folder = tmp_path / "imgs" / "sub"
    folder.mkdir(parents=True)
    Image.fromarray(np.full((40, 50), 128, np.uint8)).save(folder / "x.png")
    ids, imgs = load_analysis_images(tmp_path / "imgs", size=16)
    assert ids == ["sub/x"] and imgs.shape == (1, 16, 16)
    assert imgs.max() == pytest.approx(128 / 255, abs=1e-3)
    np.save(tmp_path / "a.npy", np.random.default_rng(0).uniform(0, 1, (3, 20, 20)).astype(np.float32))
    ids, imgs = load_analysis_images(tmp_path / "a.npy", size=10, n=2)
    assert ids == ["0", "1"] and imgs.shape == (2, 10, 10)
    np.savez(tmp_path / "b.npz", images=np.zeros((2, 8, 8), np.uint8), ids=np.array([5, 5]))
    with pytest.raises(InputError, match="unique"):
        load_analysis_images(tmp_path / "b.npz", size=8)
    with pytest.raises(InputError):
        load_analysis_images(tmp_path / "nothing.png", size=8)


def test_builtin_images_are_deterministic_and_extend_with_crops():
    ids, imgs = load_analysis_images("builtin", size=16, n=22, seed=1)
    assert len(ids) == 22 == len(set(ids)) and imgs.shape == (22, 16, 16)
    assert any("_crop" in i for i in ids)
    ids2, imgs2 = load_analysis_images("builtin", size=16, n=22, seed=1)
    assert ids2 == ids and np.array_equal(imgs, imgs2)
