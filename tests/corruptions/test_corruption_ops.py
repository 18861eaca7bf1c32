"""The batched building blocks against the library routines the reference calls (OpenCV, SciPy,
scikit-image, PIL) and against a literal re-statement of the reference's sequential glass-blur loop."""

from __future__ import annotations

from io import BytesIO

import cv2
import numpy as np
import pytest
import skimage.color
import torch
from corruption_fixtures import photo_crops, to_tensor
from PIL import Image
from scipy.ndimage import zoom as scipy_zoom

from v1mtl.corruptions import _ops, spatter
from v1mtl.corruptions._jpeg import jpeg_roundtrip
from v1mtl.corruptions._random import ImageRandom
from v1mtl.corruptions.blur import _glass_shuffle

pytestmark = pytest.mark.filterwarnings("ignore:preset .* is calibrated:UserWarning")


def test_hsv_round_trip_matches_skimage():
    rgb = np.random.RandomState(0).rand(2, 16, 16, 3)
    rgb[0, :4] = 0.5  # gray pixels (hue ties, zero saturation)
    rgb[1, :2, :, 1] = rgb[1, :2, :, 0]  # red = green ties
    hsv = _ops.rgb_to_hsv(torch.from_numpy(rgb).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(hsv, skimage.color.rgb2hsv(rgb), atol=1e-12)
    back = _ops.hsv_to_rgb(torch.from_numpy(hsv).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(back, skimage.color.hsv2rgb(hsv), atol=1e-12)


@pytest.mark.parametrize(
    ("n_in", "n_out", "method"), [(64, 38, "box"), (38, 64, "box"), (57, 64, "nearest"), (224, 56, "box")]
)
def test_pil_resize_matrix_matches_pil(n_in, n_out, method):
    img = photo_crops(1, 224)[0, :n_in, :n_in, 0]
    flag = Image.BOX if method == "box" else Image.NEAREST
    ref = np.asarray(Image.fromarray(img).resize((n_out, n_out), flag)).astype(float)
    m = _ops.pil_resize_matrix(n_in, n_out, method)
    ours = m @ img.astype(float) @ m.T
    assert np.abs(ours - ref).max() <= 1.0  # PIL rounds its 8-bit intermediate


@pytest.mark.parametrize(
    ("factor", "trim"), [(1.06, "center"), (1.3, "top_left"), (2.5, "top_left"), (1.75, "center")]
)
def test_zoom_matches_reference_clipped_zoom(factor, trim):
    img = np.random.RandomState(1).rand(48, 48).astype(np.float64)
    ch = int(np.ceil(48 / factor))
    top = (48 - ch) // 2
    zoomed = scipy_zoom(img[top : top + ch, top : top + ch], factor, order=1)
    start = (zoomed.shape[0] - 48) // 2 if trim == "center" else 0
    ref = zoomed[start : start + 48, start : start + 48]
    ours = _ops.zoom(torch.from_numpy(img)[None, None], factor, trim)[0, 0].numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-9)


@pytest.mark.parametrize("angle", [-45.0, -10.0, 30.0, -100.0])
def test_motion_blur_matches_reference_port(angle):
    from imagecorruptions.corruptions import _motion_blur

    img = photo_crops(1, 64)[0].astype(np.float32)
    ref = _motion_blur(img, radius=15, sigma=5, angle=angle)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].double()
    ours = _ops.motion_blur(x, 15, 5, torch.tensor([angle]))[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-3)


def test_defocus_fft_equals_direct_filtering_and_opencv():
    x = to_tensor(photo_crops(2, 64)).double()
    kernel = _ops.disk_kernel(6, 0.5)
    direct = _ops.filter2d(x, kernel, "mirror")
    torch.testing.assert_close(_ops.filter2d_fft(x, kernel, "mirror"), direct, atol=1e-10, rtol=0)
    ref = cv2.filter2D(x[0, 0].numpy(), -1, kernel)
    np.testing.assert_allclose(direct[0, 0].numpy(), ref, atol=1e-6)


def _sequential_glass_shuffle(img: np.ndarray, delta: int, offsets: np.ndarray) -> np.ndarray:
    """The reference loop on an H x W x 3 array, with its copy-not-swap tuple assignment."""
    x = img.copy()
    h, w = x.shape[:2]
    visits = [(hh, ww) for hh in range(h - delta, delta, -1) for ww in range(w - delta, delta, -1)]
    order = {p: i for i, p in enumerate(sorted(visits))}  # our draws are indexed in raster order
    for hh, ww in visits:
        dx, dy = offsets[order[(hh, ww)]]
        x[hh, ww], x[hh + dy, ww + dx] = x[hh + dy, ww + dx], x[hh, ww]
    return x


@pytest.mark.parametrize("delta", [1, 2, 4])
def test_glass_shuffle_reproduces_the_sequential_reference_loop(delta):
    img = (np.random.RandomState(delta).rand(2, 20, 24, 3) * 255).round()
    args = (11, [0, 1], "glass_blur", 3, torch.device("cpu"))
    ours = _glass_shuffle(torch.from_numpy(img).permute(0, 3, 1, 2), delta, ImageRandom(*args))
    n_visited = (20 - 2 * delta) * (24 - 2 * delta)
    offsets = ImageRandom(*args).randint(-delta, delta, (n_visited, 2)).numpy()
    for i in range(2):
        ref = _sequential_glass_shuffle(img[i], delta, offsets[i])
        np.testing.assert_array_equal(ours[i].permute(1, 2, 0).numpy(), ref)


def _liquid_layers() -> np.ndarray:
    rs = np.random.RandomState(0)
    layers = []
    for sigma in (1.0, 2.0, 3.0):
        layer = cv2.GaussianBlur(rs.normal(0.65, 0.3, (64, 64)), (0, 0), sigma)
        layer[layer < 0.68] = 0
        layers.append(np.clip(layer * 255, 0, 255).astype(np.uint8))
    return np.stack(layers)


def test_canny_matches_opencv():
    layers = _liquid_layers()
    ours = spatter.canny(torch.from_numpy(layers).float()[:, None], 50, 150)[:, 0].numpy()
    for layer, edges in zip(layers, ours, strict=True):
        ref = cv2.Canny(layer, 50, 150) > 0
        assert ref.any()
        assert (edges != ref).mean() <= 0.002


def test_chamfer_distance_and_equalize_hist_match_opencv():
    layers = _liquid_layers()
    edges = np.stack([cv2.Canny(layer, 50, 150) > 0 for layer in layers])
    ours = spatter.chamfer_distance(torch.from_numpy(edges)[:, None], 20.0)[:, 0].numpy()
    for e, d in zip(edges, ours, strict=True):
        ref = np.minimum(cv2.distanceTransform((~e).astype(np.uint8) * 255, cv2.DIST_L2, 5), 20)
        np.testing.assert_allclose(d, ref, atol=0.02)
    img = np.floor(ours).astype(np.uint8)
    eq = spatter.equalize_hist(torch.from_numpy(img).float()[:, None])[:, 0].numpy()
    for src, out in zip(img, eq, strict=True):
        np.testing.assert_array_equal(out, cv2.equalizeHist(src))


@pytest.mark.parametrize("quality", [7, 25, 50, 85, 95])
@pytest.mark.parametrize("size", [(64, 64), (40, 56)])
def test_batched_jpeg_matches_pil(quality, size):
    crops = photo_crops(4, 64, seed=quality)[:, : size[0], : size[1]]
    ours = jpeg_roundtrip(to_tensor(crops), quality)
    ours = torch.round(ours * 255).permute(0, 2, 3, 1).numpy()
    for crop, out in zip(crops, ours, strict=True):
        buf = BytesIO()
        Image.fromarray(crop).save(buf, format="JPEG", quality=quality)
        ref = np.asarray(Image.open(buf)).astype(float)
        assert np.abs(out - ref).mean() <= 1.0, quality
