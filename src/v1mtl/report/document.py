"""A small document model rendered to Markdown, to one self-contained HTML file and to plain text, so every
form of the report says the same thing.

The HTML embeds its figures as ``data:`` URIs, so ``report.html`` copied or mailed alone still shows them;
the Markdown links them relative to the report (it is read next to its folder).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Heading:
    text: str
    level: int = 2


@dataclass
class Paragraph:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Figure:
    path: str  # relative to the report
    caption: str


@dataclass
class Box:
    """A framed list: ``kind`` is ``answer`` (the summary the report opens with) or ``warning``."""

    title: str
    items: list[str]
    kind: str = "answer"


Block = Heading | Paragraph | Bullets | Table | Figure | Box


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, block: Block) -> None:
        self.blocks.append(block)


def to_markdown(doc: Document) -> str:
    out = [f"# {doc.title}", ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Paragraph):
            out += [b.text, ""]
        elif isinstance(b, Bullets):
            out += [f"- {item}" for item in b.items] + [""]
        elif isinstance(b, Table):
            out.append("| " + " | ".join(b.header) + " |")
            out.append("|" + "|".join("---" for _ in b.header) + "|")
            out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in b.rows]
            out.append("")
        elif isinstance(b, Figure):
            out += [f"![{b.caption}]({b.path})", "", f"*{b.caption}*", ""]
        elif isinstance(b, Box):
            mark = "**Warning: " if b.kind == "warning" else "**"
            out += [f"> {mark}{b.title}**", ">"] + [f"> - {item}" for item in b.items] + [""]
    return "\n".join(out).rstrip() + "\n"


def box_text(box: Box) -> str:
    """A box as plain text for the console: its title, then one line per item."""
    title = ("WARNING: " if box.kind == "warning" else "") + box.title
    return "\n".join([title, *(f"  - {item}" for item in box.items)])


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
    "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #bbb;padding:.3rem .6rem;text-align:right}"
    "td:first-child,th:first-child{text-align:left}img{max-width:100%}figcaption{font-style:italic;color:#444}"
    ".box{border:2px solid #3b6ea5;background:#f3f7fb;padding:.2rem 1rem;margin:1rem 0;border-radius:4px}"
    ".box.warning{border-color:#b8860b;background:#fff8e6}.box h2{font-size:1.1rem;margin:.6rem 0}"
)


def _image_source(path: str, root: Path | None) -> str:
    """A ``data:`` URI of the figure under ``root``; the relative path when there is no file to embed."""
    file = root / path if root is not None else None
    if file is None or not file.is_file():
        return path
    mime = "image/svg+xml" if file.suffix == ".svg" else "image/png"
    return f"data:{mime};base64," + base64.b64encode(file.read_bytes()).decode("ascii")


def to_html(doc: Document, root: str | Path | None = None) -> str:
    """One HTML file; with ``root`` (the folder figure paths are relative to) the figures are embedded."""
    e = html.escape
    base = Path(root) if root is not None else None
    out = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{e(doc.title)}</title><style>{_STYLE}</style></head><body>',
        f"<h1>{e(doc.title)}</h1>",
    ]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{e(b.text)}</h{b.level}>")
        elif isinstance(b, Paragraph):
            out.append(f"<p>{e(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{e(h)}</th>" for h in b.header)
            body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in b.rows)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(b, Figure):
            src = _image_source(b.path, base)
            out.append(
                f'<figure><img src="{e(src)}" alt="{e(b.caption)}"><figcaption>{e(b.caption)}</figcaption></figure>'
            )
        elif isinstance(b, Box):
            title = ("Warning: " if b.kind == "warning" else "") + b.title
            items = "".join(f"<li>{e(i)}</li>" for i in b.items)
            out.append(f'<section class="box {e(b.kind)}"><h2>{e(title)}</h2><ul>{items}</ul></section>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"
