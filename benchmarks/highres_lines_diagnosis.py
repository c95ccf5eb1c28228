"""Where a style's written lines lose against its font: the generator or the upsampler?

For one style (default NanumBrushScript-Regular, the one that reads furthest behind its font in
``benchmarks/highres.py`` item 4), random lines of KS X 1001 syllables are laid out by
``Handwriting.typeset`` and drawn three ways into the same boxes: the model's glyphs (generator
and upsampler, as ``write`` does), the font's own 32 px renders through the upsampler, and the
font's 128 px glyphs. Every box is cropped, fitted to 32 px and read by the evaluator, as in
item 4. Prints the three accuracies::

    python benchmarks/highres_lines_diagnosis.py [--style NanumBrushScript-Regular] [--lines 40]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import highres  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--style", default="NanumBrushScript-Regular")
    parser.add_argument("--lines", type=int, default=40)
    args = parser.parse_args()

    from korean_gan.data.charsets import ks2350
    from korean_gan.data.layout import FontGlyphs, paste_ink
    from korean_gan.data.render import GlyphRenderer, RenderConfig, fit_to_box
    from korean_gan.evaluation.evaluator import find_evaluator
    from korean_gan.generate import Handwriting

    hw = Handwriting.load(precision="float32")
    evaluator = find_evaluator(ks2350())
    label_map = evaluator.label_map(ks2350())
    face = highres._faces()[args.style]
    small = GlyphRenderer(face, RenderConfig(size=32))
    font = FontGlyphs(face.path, highres.PPEM)
    pool = highres._drawn(face, list(ks2350().chars))
    rng = np.random.default_rng(0)
    correct = {"model (generator + upsampler)": 0, "font's 32 px renders + upsampler": 0,
               "font": 0}
    total = 0
    for k in range(args.lines):
        chars = [pool[i] for i in rng.choice(len(pool), 12, replace=False)]
        text = " ".join("".join(chars[i:i + 4]) for i in range(0, 12, 4))
        page, placements = hw.typeset(text, args.style, seed=k, size=highres.PPEM)
        upsampled = np.full_like(page, 255)
        typeset = np.full_like(page, 255)
        large = hw.upsample(np.stack([small.render(p.char) for p in placements]),
                            styles=hw.style_vectors(args.style, len(placements)))
        for placement, glyph in zip(placements, large, strict=True):
            paste_ink(upsampled, glyph, placement.box)
            paste_ink(typeset, font.glyph(placement.char)[0], placement.box)
        labels = label_map[[ks2350().chars.index(p.char) for p in placements]]
        pad = highres.PPEM // 16
        for name, image in zip(correct, (page, upsampled, typeset), strict=True):
            crops = [fit_to_box(image[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad],
                                RenderConfig(size=32)) for x0, y0, x1, y1 in
                     (p.box for p in placements)]
            correct[name] += int((evaluator.predict(np.stack(crops))[1].argmax(axis=1)
                                  == labels).sum())
        total += len(placements)
    for name, n in correct.items():
        print(f"{args.style}, {total} characters: {name}: {n / total:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
