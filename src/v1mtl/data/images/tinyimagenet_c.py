"""Pre-rendered Tiny-ImageNet-C (Hendrycks & Dietterich 2019, Zenodo record 2536630).

Layout: ``<root>/<corruption>/<severity 1-5>/<wnid>/*.JPEG``. The files are already-corrupted RGB
images, so decoding them to gray follows the paper's order: corrupt first, then convert
(neural_cotraining ``dataset/img_classification_loader.py``).
Labels index the TinyImageNet class list (sorted wnids, as ``load_classification`` gives TinyImageNet).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from v1mtl.common.errors import InputError
from v1mtl.data.images.cache import load_or_build
from v1mtl.data.images.checks import list_folders
from v1mtl.data.images.decode import decode_groups, list_images, warn_skipped
from v1mtl.data.images.types import ImageSplit

# The severity folders of Tiny-ImageNet-C: exactly these names (not "0", "05" or a superscript digit).
SEVERITIES = {str(s): s for s in range(1, 6)}


def is_tinyimagenet_c(root: Path) -> bool:
    """True if some ``<corruption>/<severity 1-5>/`` folder holds class folders."""
    try:
        for corruption in root.iterdir():
            for sev in corruption.iterdir() if corruption.is_dir() else ():
                if sev.name in SEVERITIES and sev.is_dir() and any(p.is_dir() for p in sev.iterdir()):
                    return True
    except OSError:  # a predicate: an unreadable folder is simply not Tiny-ImageNet-C
        return False
    return False


def list_tinyimagenet_c(root: str | Path) -> dict[tuple[str, int], Path]:
    """``(corruption, severity) -> folder`` (a real path) for every severity folder, sorted by corruption
    and severity. Every folder below a corruption must be a severity ``1`` to ``5``."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise InputError("not a folder", path=root)
    found = {}
    for corruption, folder in list_folders(root, root).items():
        for name, sev in list_folders(folder, root).items():
            if name not in SEVERITIES:
                raise InputError(
                    f"{ascii(name)} is not a severity (expected a folder named 1 to 5)",
                    path=root / corruption,
                    field="severity",
                )
            found[(corruption, SEVERITIES[name])] = sev
    if not found:
        raise InputError("no <corruption>/<severity>/<wnid>/ folders (Tiny-ImageNet-C layout)", path=root)
    return dict(sorted(found.items()))


def class_folder_names(folders: Iterable[Path], root: Path | None = None) -> list[str]:
    """Sorted union of the class folder names in the given ``<corruption>/<severity>`` folders."""
    return sorted({name for folder in folders for name in list_folders(folder, root or folder)})


def list_corrupted_set(
    folder: Path, wnids: Sequence[str], root: Path | None = None
) -> tuple[list[Path], np.ndarray]:
    """Files (real paths inside ``root``, default ``folder``) and labels of one ``<corruption>/<severity>``
    folder; labels index ``wnids``."""
    root = folder.resolve() if root is None else root
    index = {w: i for i, w in enumerate(wnids)}
    files: list[Path] = []
    labels: list[int] = []
    for name, cls in list_folders(folder, root).items():
        if name not in index:
            raise InputError(
                "class folder is not a TinyImageNet class (not in the wnids given)", path=folder / name
            )
        images = list_images(cls, root)
        if not images:
            raise InputError("empty class folder: no images", path=folder / name)
        files += images
        labels += [index[name]] * len(images)
    if not files:
        raise InputError("no class folders with images", path=folder)
    return files, np.asarray(labels, dtype=np.int64)


class TinyImageNetC(Mapping[tuple[str, int], ImageSplit]):
    """Lazy mapping ``(corruption, severity) -> ImageSplit``; each set is decoded and cached on first use.

    ``wnids`` is the class list (index = label); by default the sorted class folders of all sets.
    ``max_image_side`` caps the side an image file may declare (default ``limits.MAX_IMAGE_SIDE``).
    """

    def __init__(
        self,
        root: str | Path,
        wnids: Sequence[str] | None = None,
        *,
        size: int = 64,
        cache_dir: str | Path | None = None,
        skip_bad: bool = False,
        color: bool = False,
        max_image_side: int | None = None,
    ):
        self.root = Path(root).resolve()
        self.folders = list_tinyimagenet_c(self.root)
        self.wnids = (
            list(wnids) if wnids is not None else class_folder_names(self.folders.values(), self.root)
        )
        self.size = size
        self.cache_dir = cache_dir
        self.skip_bad = skip_bad
        self.color = color
        self.max_image_side = max_image_side
        self._loaded: dict[tuple[str, int], ImageSplit] = {}

    @property
    def corruptions(self) -> list[str]:
        return sorted({c for c, _ in self.folders})

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self.folders)

    def __len__(self) -> int:
        return len(self.folders)

    def __getitem__(self, key: tuple[str, int]) -> ImageSplit:
        if key not in self._loaded:
            self._loaded[key] = self._load(key)
        return self._loaded[key]

    def _load(self, key: tuple[str, int]) -> ImageSplit:
        folder = self.folders[key]
        files, labels = list_corrupted_set(folder, self.wnids, self.root)
        params = {"folder": str(folder), "size": self.size, "color": self.color, "wnids": self.wnids}
        arrays, meta = load_or_build(
            "tiny-imagenet-c",
            params,
            files,
            lambda: decode_groups(
                {"test": (files, labels)},
                self.size,
                color=self.color,
                skip_bad=self.skip_bad,
                max_side=self.max_image_side,
            ),
            self.cache_dir,
        )
        if meta["skipped"]:
            warn_skipped(meta["skipped"])
        return ImageSplit(arrays["test_images"], arrays["test_labels"])
