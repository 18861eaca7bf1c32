from v1mtl.report.document import Bullets, Document, Figure, Heading, Paragraph, Table, to_html, to_markdown


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
