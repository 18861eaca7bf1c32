import numpy as np
import pytest
from PIL import Image, ImageFile

from v1mtl.common.errors import InputError
from v1mtl.data.images import limits
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


def _png_declaring(path, width, height, rows=1):
    """A PNG whose header declares ``width`` x ``height`` but whose (complete) zlib stream holds ``rows`` rows."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress((b"\x00" + b"\x80" * width) * rows)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def test_declared_size_over_the_limit_is_refused_before_decoding(tmp_path):
    bomb = _png_declaring(tmp_path / "bomb.png", 14000, 14000)
    with pytest.raises(InputError, match=r"bomb.png.*(limit|exceeds)"):
        decode_image(bomb, 16)
    wide = _png_declaring(tmp_path / "wide.png", 9000, 16, rows=16)
    with pytest.raises(InputError, match=r"wide.png.*9000x16 px, over the limit of 8192"):
        decode_image(wide, 16)
    assert decode_image(wide, 16, max_side=9000).shape == (16, 16)  # the limit is raised per call


def test_limit_module_constant_is_the_default(tmp_path, monkeypatch):
    path = _png_declaring(tmp_path / "a.png", 40, 40, rows=40)
    monkeypatch.setattr(limits, "MAX_IMAGE_SIDE", 32)
    with pytest.raises(InputError, match="over the limit of 32"):
        decode_image(path, 16)


def test_png_with_rows_missing_is_an_error_not_zero_filled(tmp_path):
    # a complete zlib stream holding 1 of 10000 declared rows: PIL alone zero-fills the other 9999
    short = _png_declaring(tmp_path / "short.png", 100, 10000)
    with pytest.raises(InputError, match=r"short.png.*does not fit the size its header declares"):
        decode_image(short, 16, max_side=10000)
    with pytest.raises(InputError, match="does not fit"):  # more data than rows: shifted rows
        decode_image(_png_declaring(tmp_path / "long.png", 16, 16, rows=17), 16)
    assert decode_image(_png_declaring(tmp_path / "ok.png", 16, 16, rows=16), 16).shape == (16, 16)


def test_jpeg_too_short_for_its_declared_size_is_an_error(tmp_path):
    import struct

    path = tmp_path / "x.jpg"
    Image.fromarray(np.full((24, 24), 90, dtype=np.uint8)).save(path, quality=95)
    data = path.read_bytes()
    i = data.index(b"\xff\xc0")
    path.write_bytes(data[: i + 5] + struct.pack(">HH", 8000, 8000) + data[i + 9 :])
    with pytest.raises(InputError, match=r"x.jpg.*JPEG data does not fit"):
        decode_image(path, 16)


def test_truncated_image_is_an_error(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(np.full((24, 24), 90, dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(InputError, match=r"(?i)cut.jpg: cannot read image: .*truncated"):
        decode_image(path, 16)


def test_refuses_to_decode_with_pil_load_truncated_images_on(tmp_path, monkeypatch):
    path = _png_declaring(tmp_path / "ok.png", 16, 16, rows=16)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        decode_image(path, 16)
