"""Read a V1 dataset in any supported format: ``native``, ``cadena2019``, ``nnvision`` or ``nwb``."""

from __future__ import annotations

from pathlib import Path

from v1mtl.common.errors import InputError
from v1mtl.data.neural.cadena import DEFAULT_FILE as CADENA_FILE
from v1mtl.data.neural.cadena import read_cadena
from v1mtl.data.neural.limits import max_array_elements
from v1mtl.data.neural.native import is_native, read_native
from v1mtl.data.neural.nnvision import is_nnvision, read_nnvision
from v1mtl.data.neural.nwb import NwbOptions, is_nwb, read_nwb
from v1mtl.data.neural.recordings import V1Dataset

V1_FORMATS = ("native", "cadena2019", "nnvision", "nwb")
_PICKLE_SUFFIXES = (".pkl", ".pickle")
# First bytes of a pickle: PROTO opcode (protocol >= 2), or the MARK / EMPTY_DICT opcodes of protocols 0-1.
_PICKLE_STARTS = (b"\x80", b"(", b"}")


def detect_v1_format(path: str | Path) -> str | None:
    """Guess the format of ``path`` from its layout, without loading it; None if it is not a V1 dataset.

    - ``native``: a folder with ``manifest.json`` (or the arrays of an interrupted native write);
    - ``nnvision``: a folder with a ``neuronal_data`` subfolder;
    - ``cadena2019``: a ``.pkl``/``.pickle`` file that starts like a pickle, or a folder holding
      ``cadena_ploscb_data.pkl``;
    - ``nwb``: a file named ``*.nwb``.
    """
    path = Path(path)
    if path.is_dir():
        if is_native(path):
            return "native"
        if is_nnvision(path):
            return "nnvision"
        if (path / CADENA_FILE).is_file():
            return "cadena2019"
        return None
    if is_nwb(path):
        return "nwb"
    if path.is_file() and path.suffix.lower() in _PICKLE_SUFFIXES:
        try:
            with path.open("rb") as fh:
                head = fh.read(1)
        except OSError:
            return None
        return "cadena2019" if head in _PICKLE_STARTS else None
    return None


def read_v1(
    path: str | Path, fmt: str | None = None, max_elements: int | None = None, nwb: NwbOptions | None = None
) -> V1Dataset:
    """Read the V1 dataset at ``path``; ``fmt`` is one of ``V1_FORMATS`` or None to auto-detect.

    ``max_elements`` is the most array elements one file may declare (default: ``V1MTL_MAX_ARRAY_ELEMENTS``
    if set, else ``limits.MAX_ARRAY_ELEMENTS``); raise it to read a dataset with larger arrays.

    ``nwb`` says where an NWB file keeps its stimulus table, image column and images, and the counting
    window (``NwbOptions``; its defaults when None). The other formats ignore it.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", path=path)
    if fmt is None:
        fmt = detect_v1_format(path)
        if fmt is None:
            raise InputError(
                f"unknown V1 data format (expected one of {', '.join(V1_FORMATS)}); pass the format explicitly",
                path=path,
                field="format",
            )
    readers = {"native": read_native, "cadena2019": read_cadena, "nnvision": read_nnvision, "nwb": read_nwb}
    if fmt not in readers:
        raise InputError(
            f"unknown format {fmt!r} (expected one of {', '.join(V1_FORMATS)})", path=path, field="format"
        )
    limit = max_array_elements(max_elements)
    if fmt == "nwb":
        return read_nwb(path, max_elements=limit, options=nwb)
    return readers[fmt](path, max_elements=limit)
