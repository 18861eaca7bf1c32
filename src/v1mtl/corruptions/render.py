"""Render a corrupted copy of an image folder to disk, resumably (the engine of ``v1mtl corrupt``).

Layout: ``SRC/<class>/<...>/<file>`` -> ``DST/<corruption>/<severity>/<class>/<...>/<stem>.png`` (or the
original name with a JPEG suffix, saved by PIL at quality 85 with ``optimize=True``, with
``jpeg_roundtrip``). Images keep their size and mode: gray files (PIL mode ``L``) are corrupted as gray
(see :func:`v1mtl.corruptions.corrupt`), everything else as RGB. Image ``i`` of the sorted file list is
seeded with ``(seed, i)``; batches hold images of one size and mode. ``RenderConfig`` holds the settings
(``--config`` / ``--set`` of ``v1mtl corrupt``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from v1mtl import __version__
from v1mtl.common.atomic import write_bytes, write_json, write_text
from v1mtl.common.config import config_to_dict
from v1mtl.common.errors import InputError
from v1mtl.common.ranges import BatchSize, Range, Seed

COMPLETE_MARKER = ".complete"
CONFIG_NAME = "corrupt_config.json"
JPEG_SUFFIXES = {".jpg", ".jpeg"}
# Settings that change the pixels: a resumed run must use the same ones.
PIXEL_SETTINGS = ("table", "jpeg_roundtrip", "seed")


@dataclass
class RenderConfig:
    """Settings of a corrupted copy: the config of ``v1mtl corrupt`` (``--config``, ``--set``).

    Attributes:
        table: the corruption parameter table (``v1mtl.corruptions.presets.PRESETS``): ``tiny-imagenet``
            (64 px), ``imagenet`` (224 px), ``cifar`` (32 px).
        corruptions: corruption names, or ``common`` (the 15), ``extra`` (the 4 held-out), ``all``.
        severities: severities, each in 1..5.
        jpeg_roundtrip: save JPEG quality 85 (as Tiny-ImageNet-C was) instead of PNG.
        seed: image ``i`` of the sorted file list is seeded with ``(seed, i)``.
        batch_size: images per batch.
    """

    table: Literal["tiny-imagenet", "imagenet", "cifar"] = "tiny-imagenet"
    corruptions: list[str] = field(default_factory=lambda: ["common"])
    severities: list[Annotated[int, Range(1, 5)]] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    jpeg_roundtrip: bool = False
    seed: Seed = 0
    batch_size: BatchSize = 128


def resolve_corruptions(requested: list[str]) -> list[str]:
    """Expand ``common`` / ``extra`` / ``all`` and check every name (order kept, duplicates dropped)."""
    from v1mtl.corruptions import names

    out: list[str] = []
    valid = names("all")
    for item in requested:
        for name in names(item) if item in ("common", "extra", "all") else [item]:
            if name not in valid:
                raise InputError(
                    f"unknown corruption {name!r}; valid: {', '.join(valid)}", field="corruptions"
                )
            if name not in out:
                out.append(name)
    return out


def list_source(src: Path) -> list[Path]:
    """Image files under ``src/<class>/``, sorted by path."""
    from v1mtl.data.images.decode import list_images

    if not src.is_dir():
        raise InputError("is not a folder", path=src)
    files = list_images(src)
    loose = [p for p in files if p.parent == src]
    if loose:
        raise InputError(
            f"expected SRC/<class>/<file>; found image files directly in SRC, e.g. {loose[0].name}", path=src
        )
    if not files:
        raise InputError("contains no image files under SRC/<class>/", path=src)
    return files


def output_path(dst: Path, src: Path, file: Path, name: str, severity: int, jpeg: bool) -> Path:
    rel = file.relative_to(src)
    if jpeg:
        rel = rel if rel.suffix.lower() in JPEG_SUFFIXES else rel.with_suffix(".jpg")
    else:
        rel = rel.with_suffix(".png")
    return dst / name / str(severity) / rel


def _load(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(im if im.mode == "L" else im.convert("RGB"))
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read image: {err}", path=path) from err


def _encode(pixels: np.ndarray, jpeg: bool) -> bytes:
    buf = io.BytesIO()
    img = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    if jpeg:
        img.save(buf, format="JPEG", quality=85, optimize=True)
    else:
        img.save(buf, format="PNG")
    return buf.getvalue()


def _batches(files: list[Path], batch_size: int):
    """Yield ``(indices, (B, C, H, W) float tensor)`` of consecutive files sharing size and mode."""
    group: list[tuple[int, np.ndarray]] = []
    for i, f in enumerate(files):
        arr = _load(f)
        if group and (arr.shape != group[0][1].shape or len(group) == batch_size):
            yield _stack(group)
            group = []
        group.append((i, arr))
    if group:
        yield _stack(group)


def _stack(group: list[tuple[int, np.ndarray]]) -> tuple[list[int], torch.Tensor]:
    arrays = np.stack([a if a.ndim == 3 else a[..., None] for _, a in group])
    return [i for i, _ in group], torch.from_numpy(arrays).permute(0, 3, 1, 2).float() / 255


def _check_config(dst: Path, settings: dict[str, Any]) -> None:
    import json

    path = dst / CONFIG_NAME
    if not path.exists():
        return
    old = json.loads(path.read_text())
    for key in PIXEL_SETTINGS:
        if key in old and old[key] != settings[key]:
            raise InputError(
                f"was rendered with {key}={old[key]!r}, this run asks for {settings[key]!r}; use a new DST",
                path=path,
                field=key,
            )


def render(config: RenderConfig, src: str | Path, dst: str | Path, *, device: str = "cpu") -> dict[str, int]:
    """Render every requested (corruption, severity) of every image of ``src`` into ``dst``; returns counts.

    Args:
        config: the settings (checked again here, so a hand-built config fails as a YAML one would).
        src: image folder laid out as ``src/<class>/<file>``.
        dst: output folder; rerunning into it resumes (with the same table, seed and output format).
        device: torch device the corruptions run on.

    Returns:
        ``written`` and ``already_done`` files, ``images`` per variant, ``variants`` (corruption, severity).
    """
    from v1mtl.corruptions import corrupt, to_uint8
    from v1mtl.corruptions.presets import PRESETS

    if config.table not in PRESETS:
        raise InputError(f"unknown table {config.table!r}; valid: {', '.join(PRESETS)}", field="table")
    bad = [s for s in config.severities if not 1 <= s <= 5]
    if bad:
        raise InputError(f"severities run from 1 to 5, got {bad[0]}", field="severities")
    if config.batch_size < 1:
        raise InputError("must be at least 1", field="batch_size")
    names = resolve_corruptions(config.corruptions)
    severities = sorted(set(config.severities))
    # the run's record: what was read and written, the resolved settings, and where it ran
    settings = (
        {"src": str(src), "dst": str(dst)}
        | config_to_dict(config)
        | {"device": device, "corruptions": names, "severities": severities}
    )
    src, dst = Path(src), Path(dst)
    files = list_source(src)
    _check_config(dst, settings)
    write_json(dst / CONFIG_NAME, settings | {"images": len(files), "v1mtl_version": __version__})

    todo = [(n, s) for n in names for s in severities if not (dst / n / str(s) / COMPLETE_MARKER).exists()]
    torch_device = torch.device(device)
    written = done = 0
    bar = tqdm(total=len(files) * len(todo), desc="corrupting", unit="img", disable=None)
    for indices, batch in _batches(files, config.batch_size) if todo else ():
        batch = batch.to(torch_device)
        for name, severity in todo:
            outs = [output_path(dst, src, files[i], name, severity, config.jpeg_roundtrip) for i in indices]
            missing = [k for k, out in enumerate(outs) if not out.exists()]
            done += len(indices) - len(missing)
            if missing:
                sel = batch[missing]
                result = corrupt(
                    sel,
                    name,
                    severity,
                    preset=config.table,
                    seed=config.seed,
                    indices=[indices[k] for k in missing],
                )
                pixels = to_uint8(result).permute(0, 2, 3, 1).cpu().numpy()
                for k, px in zip(missing, pixels, strict=True):
                    write_bytes(outs[k], _encode(px, config.jpeg_roundtrip))
                written += len(missing)
            bar.update(len(indices))
    bar.close()
    for name, severity in todo:
        write_text(dst / name / str(severity) / COMPLETE_MARKER, f"{len(files)} images\n")
    return {
        "written": written,
        "already_done": done + len(files) * (len(names) * len(severities) - len(todo)),
        "images": len(files),
        "variants": len(names) * len(severities),
    }
