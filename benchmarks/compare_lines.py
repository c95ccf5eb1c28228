"""One sentence typeset in a style's font, then written by several models in that style: a
picture to look at next to the line-readability figures of ``highres.py``.

Each style gets one row for the font (its own 128 px glyphs in the boxes its metrics give; a
syllable it does not draw stays blank) and one row per model (``write`` at 128 px per em, the
same seed), labelled on the left::

    python benchmarks/compare_lines.py --models hangul-v2 benchmarks/models/hangul-affine \
        default --labels hangul-v2 fine-tune "hangul (default)" \
        --styles NanumBrushScript-Regular Gaegu-Regular --out media/compare_lines.png

The default model is 0.7 x hangul-v2 + 0.3 x the fine-tune (``korean-gan interpolate``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

TEXT = "다람쥐 헌 쳇바퀴에 타고파 곪읊뷁"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["default"])
    parser.add_argument("--labels", nargs="+", default=None,
                        help="one per model (default: the model names)")
    parser.add_argument("--styles", nargs="+", default=["NanumBrushScript-Regular"])
    parser.add_argument("--text", default=TEXT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("media/compare_lines.png"))
    args = parser.parse_args()
    labels = args.labels or args.models
    if len(labels) != len(args.models):
        raise SystemExit(f"give one label per model ({len(args.models)}), not {len(labels)}")

    from highres import set_in_font  # this folder is on sys.path when run as a script
    from PIL import Image, ImageDraw, ImageFont

    from korean_gan.data.fonts import load_faces
    from korean_gan.data.images import save_png
    from korean_gan.data.layout import FontGlyphs
    from korean_gan.generate import Handwriting

    ppem, margin = 128, 330
    label_font = ImageFont.load_default(size=30)
    faces = {face.name: face for face in load_faces(["bundled"])}
    writers = [Handwriting.load(m, precision="float32") for m in args.models]
    rows = []
    for style in args.styles:
        pages = [w.typeset(args.text, style, seed=args.seed, size=ppem) for w in writers]
        typeset = set_in_font(FontGlyphs(faces[style].path, ppem), *pages[0])
        named = [(f"{style.removesuffix('-Regular')} (font)", typeset)]
        named += [(label, page) for label, (page, _) in zip(labels, pages, strict=True)]
        for label, page in named:
            row = Image.new("L", (margin + page.shape[1], page.shape[0]), 255)
            row.paste(Image.fromarray(page), (margin, 0))
            ImageDraw.Draw(row).text((8, page.shape[0] // 2 - 15), label, fill=90,
                                     font=label_font)
            rows.append(np.asarray(row))
    width = max(r.shape[1] for r in rows)
    sheet = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1])), constant_values=255)
                            for r in rows])
    save_png(sheet, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
