import base64

from v1mtl.report.document import (
    Box,
    Bullets,
    Document,
    Figure,
    Heading,
    Paragraph,
    Table,
    box_text,
    to_html,
    to_markdown,
)


def _doc() -> Document:
    return Document(
        "T",
        [
            Heading("Summary"),
            Paragraph("a < b"),
            Table(["x", "y"], [["1", "a|b"]]),
            Bullets(["one"]),
            Figure("f/x.png", "cap"),
        ],
    )


def test_markdown_renders_every_block():
    md = to_markdown(_doc())
    assert md.startswith("# T\n")
    assert "## Summary" in md and "| x | y |" in md and "| 1 | a\\|b |" in md
    assert "- one" in md and "![cap](f/x.png)" in md


def test_html_is_escaped_and_complete():
    html = to_html(_doc())
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "a &lt; b" in html and "<th>x</th>" in html and '<img src="f/x.png" alt="cap">' in html


def test_boxes_render_in_every_form():
    doc = Document("T", [Box("The answer", ["Claim 1: yes"]), Box("thin", ["one seed"], kind="warning")])
    md = to_markdown(doc)
    assert "> **The answer**\n>\n> - Claim 1: yes" in md and "> **Warning: thin**" in md
    html = to_html(doc)
    assert '<section class="box answer"><h2>The answer</h2><ul><li>Claim 1: yes</li></ul></section>' in html
    assert '<section class="box warning"><h2>Warning: thin</h2>' in html
    assert box_text(doc.blocks[1]) == "WARNING: thin\n  - one seed"


def test_html_embeds_the_figures_it_can_find(tmp_path):
    png = b"\x89PNG\r\n\x1a\nfake"
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "x.png").write_bytes(png)
    doc = Document("T", [Figure("f/x.png", "here"), Figure("f/missing.png", "gone")])
    html = to_html(doc, tmp_path)
    assert f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="here">' in html
    assert '<img src="f/missing.png" alt="gone">' in html  # nothing to embed: the link stays, visibly broken
