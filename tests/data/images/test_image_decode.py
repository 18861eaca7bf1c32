import numpy as np
from PIL import Image

from v1mtl.data.images.decode import decode_image


def test_gray_matches_pil_convert_l(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    path = tmp_path / "x.png"
    Image.fromarray(rgb).save(path)
    ours = decode_image(path, 48).astype(int)
    pil = np.asarray(Image.open(path).convert("L"), dtype=int)
    assert np.abs(ours - pil).max() <= 1
    # And the luma formula by hand for one pixel.
    r, g, b = rgb[5, 7].astype(float)
    assert abs(ours[5, 7] - (0.299 * r + 0.587 * g + 0.114 * b)) <= 0.5 + 1e-6


def test_non_square_is_center_cropped_then_resized(tmp_path):
    img = np.zeros((64, 128), dtype=np.uint8)
    img[:, 32:96] = 200  # the central square is uniformly bright, the sides dark
    path = tmp_path / "wide.png"
    Image.fromarray(img).save(path)
    out = decode_image(path, 32)
    assert out.shape == (32, 32)
    assert np.all(out == 200)
    assert decode_image(path, 32, color=True).shape == (32, 32, 3)
