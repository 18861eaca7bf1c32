"""Checks every image reader applies to what it reads: names, paths and text files.

- **Names.** Every folder and file name a reader keeps must be printable UTF-8. Names become class names,
  cache keys, JSON and one-line error messages; a byte that is not UTF-8 (which Python carries as a lone
  surrogate) or a control character such as a newline would break each of them later, far from the file.
- **Containment.** Every path a reader keeps lies, after following links, inside the dataset root, and
  no file is listed twice (say through a link from ``val/`` into ``train/``), so a training image cannot
  end up in the test set.
- **Text files.** ``wnids.txt``, ``words.txt`` and ``val_annotations.txt`` must be UTF-8; an undecodable
  byte is an error that names the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from v1mtl.common.errors import InputError

# Library messages (PIL, the OS) quoted in an error are cut to this many characters.
MAX_QUOTED = 200


def one_line(text: object) -> str:
    """``text`` as one line of at most ``MAX_QUOTED`` characters: runs of whitespace and control characters
    become one space (an error message must stay one line whatever a library put in it)."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in str(text))
    flat = " ".join(cleaned.split())
    return flat if len(flat) <= MAX_QUOTED else flat[: MAX_QUOTED - 3] + "..."


def check_name(path: Path, base: Path) -> None:
    """Raise ``InputError`` if a part of ``path`` below ``base`` is not printable UTF-8.

    The error names the last good folder and shows the bad name escaped, so the message itself stays
    printable and one line.
    """
    parts = path.relative_to(base).parts
    for i, part in enumerate(parts):
        if not part.isprintable():
            raise InputError(
                f"the name {ascii(part)} is not printable UTF-8 (an undecodable byte or a control "
                "character); rename it",
                path=base.joinpath(*parts[:i]),
            )


def check_component(name: str, source: Path, field: str) -> None:
    """``name``, read from the text file ``source``, must be one printable folder name: no ``/``, no
    ``..``, so that joining it to a folder cannot leave that folder."""
    if not name.isprintable() or name in (".", "..") or "/" in name or "\\" in name:
        raise InputError(f"{ascii(name)} is not a plain folder name", path=source, field=field)


def check_relative(name: str, source: Path, field: str) -> None:
    """``name`` (from ``source``) must be a relative path that stays below the folder it is joined to."""
    parts = PurePosixPath(name).parts
    if not name or not name.isprintable() or name.startswith("/") or ".." in parts or "\\" in name:
        raise InputError(
            f"{ascii(name)} is not a relative path inside the folder (absolute, '..' or unprintable)",
            path=source,
            field=field,
        )


def resolve_inside(path: Path, root: Path) -> Path:
    """The real path of ``path`` (links followed); an ``InputError`` if it lies outside ``root``.

    ``root`` must itself be a real path (``Path.resolve()``).
    """
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as err:  # RuntimeError: a link loop (Python < 3.13)
        raise InputError(f"cannot resolve the path: {one_line(err)}", path=path) from err
    if not real.is_relative_to(root):
        raise InputError(f"lies outside the dataset root {root} (through a link)", path=path)
    return real


def list_folders(folder: Path, root: Path) -> dict[str, Path]:
    """``name -> real path`` of the subfolders of ``folder`` (hidden ones skipped), sorted by name, each
    checked for a printable name and for lying inside ``root`` (a real path)."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as err:
        raise InputError(f"cannot list the folder: {one_line(err)}", path=folder) from err
    out = {}
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        check_name(entry, folder)
        out[entry.name] = resolve_inside(entry, root)
    return out


def check_unique(files: Iterable[Path]) -> None:
    """Raise ``InputError`` for a real path listed twice: two links to one file, or a link from one split
    into another (a training image in the test set)."""
    seen: set[Path] = set()
    for f in files:
        if f in seen:
            raise InputError("listed twice (a link points to it from elsewhere in the dataset)", path=f)
        seen.add(f)


def read_lines(path: Path) -> list[str]:
    """The lines of the UTF-8 text file ``path`` (a byte-order mark is allowed, ``\\r\\n`` too).

    A missing or unreadable file, or a byte that is not UTF-8, is an ``InputError`` naming the file (and
    the line).
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read the file: {one_line(err)}", path=path) from err
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        # err.object is what was decoded (without a byte-order mark), so err.start indexes it
        bad = err.object[err.start]
        line = err.object[: err.start].count(b"\n") + 1
        raise InputError(f"line {line}: byte 0x{bad:02x} is not UTF-8", path=path) from err
    return [line.removesuffix("\r") for line in text.split("\n")]
