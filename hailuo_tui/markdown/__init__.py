"""The Markdown renderer of message bodies.

Textual-free (core, checked by the import contracts): `blocks` (the parser, the
block splitter, code blocks for copying) and `selection` (what a selection of
painted lines copies). The drawing part imports Textual: `painter`
(`BlockPainter`, Markdown source to `Strip`s from plain inputs), `code` (code
blocks highlighted on first use) and `lines` (`TextLine`, what a painted line
copies). The widgets that show them live in `hailuo_tui.widgets`.
"""
