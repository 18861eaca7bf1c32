"""Behaviour of ``v1mtl.corruptions.corrupt``: shapes, colour rule, seeding, severity order, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from corruption_fixtures import photo_crops, to_tensor

from v1mtl.common.errors import InputError
from v1mtl.corruptions import PRESETS, api, corrupt, names, to_uint8
from v1mtl.data.images.gray import rgb_to_gray_torch

# Off-size images on purpose (the preset-size warning has its own test).
pytestmark = pytest.mark.filterwarnings("ignore:preset .* is calibrated:UserWarning")

ALL = names("all")
STOCHASTIC = [
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "speckle_noise",
    "glass_blur",
    "motion_blur",
    "snow",
    "frost",
    "fog",
    "elastic_transform",
    "spatter",
]


def test_names_partition_the_19_corruptions():
    common, extra = names("common"), names("extra")
    assert len(common) == 15 and len(extra) == 4
    assert set(common) | set(extra) == set(ALL) and not set(common) & set(extra)
    assert set(extra) == {"speckle_noise", "gaussian_blur", "spatter", "saturate"}
    with pytest.raises(InputError, match="common"):
        names("weird")


def test_every_preset_has_five_severities_of_every_corruption():
    for preset in PRESETS.values():
        assert set(preset.params) == set(ALL)
        assert all(len(v) == 5 for v in preset.params.values())


@pytest.mark.parametrize("name", ALL)
def test_shape_dtype_range_for_rgb_and_gray(name, photos32):
    for preset in PRESETS:
        out = corrupt(photos32, name, 3, preset=preset)
        assert out.shape == photos32.shape and out.dtype == torch.float32 and out.device == photos32.device
        assert float(out.min()) >= 0 and float(out.max()) <= 1
    gray = rgb_to_gray_torch(photos32[:2]).double()
    out = corrupt(gray, name, 5)
    assert out.shape == gray.shape and out.dtype == torch.float64
    assert float(out.min()) >= 0 and float(out.max()) <= 1


@pytest.mark.parametrize("name", ALL)
def test_gray_equals_rgb_corruption_of_replicated_gray_then_luma(name, photos32):
    gray = rgb_to_gray_torch(photos32[:2])
    direct = corrupt(gray, name, 4, seed=3)
    via_rgb = rgb_to_gray_torch(corrupt(gray.expand(-1, 3, -1, -1), name, 4, seed=3))
    torch.testing.assert_close(direct, via_rgb, atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", STOCHASTIC)
def test_seeding_is_per_image_and_independent_of_the_batch(name, photos32):
    full = corrupt(photos32, name, 3, seed=7)
    assert torch.equal(full, corrupt(photos32, name, 3, seed=7))
    part = corrupt(photos32[[3, 1]], name, 3, seed=7, indices=[3, 1])
    torch.testing.assert_close(part, full[[3, 1]], atol=1e-6, rtol=0)
    assert not torch.equal(full, corrupt(photos32, name, 3, seed=8))
    # The same picture at two indices gets two different draws.
    same = photos32[:1].expand(2, -1, -1, -1)
    twice = corrupt(same, name, 3, seed=7)
    assert not torch.equal(twice[0], twice[1])


@pytest.mark.parametrize("name", ["shot_noise", "glass_blur", "contrast", "jpeg_compression"])
def test_cpu_chunking_does_not_change_results(name, photos32, monkeypatch):
    whole = corrupt(photos32, name, 4, preset="cifar", seed=3)
    monkeypatch.setattr(api, "CPU_CHUNK_BYTES", 3 * 32 * 32 * 4 * 3)  # 3 images per chunk
    sizes = []
    one_chunk = api._corrupt_chunk
    monkeypatch.setattr(
        api, "_corrupt_chunk", lambda images, *a: sizes.append(len(images)) or one_chunk(images, *a)
    )
    chunked = corrupt(photos32, name, 4, preset="cifar", seed=3)
    assert len(sizes) > 1 and set(sizes[:-1]) == {3} and sum(sizes) == len(photos32)
    torch.testing.assert_close(chunked, whole, atol=1e-6, rtol=0)


def _mean_psnr(clean: torch.Tensor, out: torch.Tensor) -> float:
    mse = ((to_uint8(out).double() - to_uint8(clean).double()) ** 2).mean((1, 2, 3))
    return float((10 * torch.log10(255.0**2 / mse.clamp(min=1e-10))).mean())


@pytest.mark.parametrize(
    "name",
    [
        "gaussian_noise",
        "shot_noise",
        "impulse_noise",
        "speckle_noise",
        "gaussian_blur",
        "defocus_blur",
        "zoom_blur",
        "contrast",
        "brightness",
        "pixelate",
        "jpeg_compression",
        "fog",
    ],
)
def test_psnr_falls_with_severity(name):
    clean = to_tensor(photo_crops(8, 64, seed=2))
    scores = [_mean_psnr(clean, corrupt(clean, name, s, preset="tiny-imagenet")) for s in range(1, 6)]
    assert all(a > b for a, b in zip(scores, scores[1:], strict=False)), scores


def test_unknown_corruption_lists_the_valid_ones(photos32):
    with pytest.raises(InputError) as err:
        corrupt(photos32, "gausian_noise", 1)
    assert all(n in str(err.value) for n in ALL)


@pytest.mark.parametrize("severity", [0, 6, 2.5, True, "3"])
def test_bad_severity(severity, photos32):
    with pytest.raises(InputError, match="severity"):
        corrupt(photos32, "contrast", severity)


def test_values_outside_unit_range(photos32):
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        corrupt(photos32 * 255, "contrast", 1)
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        corrupt(photos32 - 0.5, "contrast", 1)
    nan = photos32.clone()
    nan[0, 0, 0, 0] = float("nan")
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        corrupt(nan, "contrast", 1)


def test_too_small_images():
    with pytest.raises(InputError, match="at least 16x16"):
        corrupt(torch.rand(2, 3, 12, 40), "fog", 1)
    # 16 px is enough for every corruption, glass blur's widest shuffle window (imagenet severity 5) included
    assert corrupt(torch.rand(1, 3, 16, 16), "glass_blur", 5, preset="imagenet").shape == (1, 3, 16, 16)


def test_bad_shapes_types_and_indices(photos32):
    with pytest.raises(InputError, match="C = 1 or 3"):
        corrupt(torch.rand(2, 2, 32, 32), "contrast", 1)
    with pytest.raises(InputError, match="C = 1 or 3"):
        corrupt(torch.rand(3, 32, 32), "contrast", 1)
    with pytest.raises(InputError, match="floating-point"):
        corrupt((photos32 * 255).to(torch.uint8), "contrast", 1)
    with pytest.raises(InputError, match="floating-point"):
        corrupt(np.zeros((1, 3, 32, 32)), "contrast", 1)
    with pytest.raises(InputError, match="one index per image"):
        corrupt(photos32, "fog", 1, indices=[0, 1])
    with pytest.raises(InputError, match="preset"):
        corrupt(photos32, "fog", 1, preset="imagenet-64")


def test_jpeg_roundtrip_option_matches_pil_quality_85(photos32):
    from io import BytesIO

    from PIL import Image

    out = corrupt(photos32, "contrast", 1, jpeg_roundtrip_quality=85)
    plain = to_uint8(corrupt(photos32, "contrast", 1)).permute(0, 2, 3, 1).numpy()
    for img, ours in zip(plain, to_uint8(out).permute(0, 2, 3, 1).numpy(), strict=True):
        buf = BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=85)
        ref = np.asarray(Image.open(buf)).astype(int)
        assert np.abs(ours.astype(int) - ref).mean() <= 2


def test_warns_when_a_preset_meets_another_image_size():
    import warnings

    with pytest.warns(UserWarning, match="calibrated for 64 px images, got 32x32"):
        corrupt(torch.rand(1, 3, 32, 32), "contrast", 1, preset="tiny-imagenet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        corrupt(torch.rand(1, 3, 32, 32), "contrast", 1, preset="cifar")


def test_empty_batch():
    empty = torch.rand(0, 3, 64, 64)
    assert corrupt(empty, "fog", 2).shape == empty.shape
