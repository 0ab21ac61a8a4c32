#!/usr/bin/env python3
"""Builds the label font: a subset of Noto Sans CJK SC Bold, renamed (docs/labels-rendering.md#fonts).

The source is NotoSansHans-Bold.otf from the npm package @embedpdf/fonts-sc (SIL OFL 1.1); get it with
`npm pack @embedpdf/fonts-sc && tar xzf embedpdf-fonts-sc-*.tgz`. Needs fontTools (`apt-get install
fonttools` or `pip install fonttools`).

    python3 build_label_font.py package/fonts/NotoSansHans-Bold.otf StoreEdgeLabelSansSC-Bold.otf

What the subset keeps, and why:
- Latin: ASCII, Latin-1, Latin Extended-A (European product names), general punctuation,
  currency signs (€ £ ¥ ₩ ₹ …), letterlike symbols (℃ № ™), number forms (½), arrows (HA#258:
  an arrow rendered as a box), mathematical operators (− ≤ ×).
- Chinese: every character of GB2312 — its 682 symbols (rows 1-9: full-width punctuation, Greek,
  Cyrillic, kana, box drawing), level 1 (3 755 common hanzi) and level 2 (3 008 less common
  hanzi) — plus CJK punctuation and the full-width forms block.
The subset is a modified version of a font with the Reserved Font Name "Noto Sans" [OFL 1.1 §3],
so it gets its own name (StoreEdge Label Sans SC) in the name table and in the CFF top dict.
"""
import sys

from fontTools import subset
from fontTools.ttLib import TTFont

FAMILY = "StoreEdge Label Sans SC"
POSTSCRIPT = "StoreEdgeLabelSansSC-Bold"

RANGES = [
    (0x20, 0x7E), (0xA0, 0x17F), (0x2010, 0x205E), (0x20A0, 0x20C0), (0x2100, 0x214F),
    (0x2150, 0x218B), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x3000, 0x303F), (0xFF01, 0xFFEE),
]


def gb2312_code_points():
    """Every character of GB2312: rows 0xA1-0xF7, cells 0xA1-0xFE, decoded (empty cells are skipped)."""
    points = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                char = bytes([row, cell]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            points.add(ord(char))
    return points


def main(source, target):
    points = gb2312_code_points()
    for first, last in RANGES:
        points.update(range(first, last + 1))
    font = TTFont(source)
    options = subset.Options()
    options.layout_features = ["kern", "liga", "locl", "palt", "vert"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.desubroutinize = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=points)
    subsetter.subset(font)
    names = font["name"]
    for record in names.names:
        if record.nameID in (1, 16):
            record.string = FAMILY
        elif record.nameID == 4:
            record.string = f"{FAMILY} Bold"
        elif record.nameID == 6:
            record.string = POSTSCRIPT
        elif record.nameID == 3:
            record.string = f"{POSTSCRIPT};subset of NotoSansHans-Bold (GB2312 + Latin)"
    if "CFF " in font:
        cff = font["CFF "].cff
        top = cff.topDictIndex[0]
        top.FamilyName = FAMILY
        top.FullName = f"{FAMILY} Bold"
        cff.fontNames = [POSTSCRIPT]
    font.save(target)
    print(f"{target}: {len(font.getBestCmap())} code points, {len(font.getGlyphOrder())} glyphs")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
