"""Where a style's written lines lose against its font: the neighbours, the generator or the
upsampler?

For one style (default NanumBrushScript-Regular, the one that reads furthest behind its font in
``benchmarks/highres.py`` item 4), random lines of KS X 1001 syllables are laid out by
``Handwriting.typeset`` and drawn three ways into the same boxes: the model's glyphs (generator
and upsampler, as ``write`` does), the font's own 32 px renders through the upsampler, and the
font's 128 px glyphs. Every box is cropped, fitted to 32 px and read by the evaluator, as in
item 4, twice: in the line (neighbours reach into the crop) and with the glyph alone on the
page in its box. The 32 px glyphs that went in are read too. Writes the accuracies::

    python benchmarks/highres_lines_diagnosis.py [--style NanumBrushScript-Regular] \
        [--lines 100] [--json benchmarks/results/highres_lines_diagnosis.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import highres  # noqa: E402
from provenance import write_result  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--style", default="NanumBrushScript-Regular")
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--json", default="benchmarks/results/highres_lines_diagnosis.json")
    args = parser.parse_args()

    from korean_gan.data.charsets import ks2350
    from korean_gan.data.layout import FontGlyphs, paste_ink
    from korean_gan.data.render import GlyphRenderer, RenderConfig
    from korean_gan.evaluation.evaluator import find_evaluator
    from korean_gan.generate import Handwriting

    started = time.perf_counter()
    hw = Handwriting.load(precision="float32")
    evaluator = find_evaluator(ks2350())
    label_map = evaluator.label_map(ks2350())
    face = highres._faces()[args.style]
    small = GlyphRenderer(face, RenderConfig(size=32))
    font = FontGlyphs(face.path, highres.PPEM)
    pool = highres._drawn(face, list(ks2350().chars))
    rng = np.random.default_rng(0)
    correct: dict[str, int] = {}
    total = 0

    def read(name, images, labels):
        correct[name] = correct.get(name, 0) + int(
            (evaluator.predict(np.stack(images))[1].argmax(axis=1) == labels).sum())

    for k in range(args.lines):
        chars = [pool[i] for i in rng.choice(len(pool), 12, replace=False)]
        text = " ".join("".join(chars[i:i + 4]) for i in range(0, 12, 4))
        page, placements = hw.typeset(text, args.style, seed=k, size=highres.PPEM)
        labels = label_map[[ks2350().chars.index(p.char) for p in placements]]
        # The model's glyphs as typeset drew them: same styles, noise and upsampling.
        vectors = hw.style_vectors(args.style, len(placements), k)
        model_32 = hw.glyphs([p.char for p in placements], args.style, seed=k)
        font_32 = np.stack([small.render(p.char) for p in placements])
        drawn = {"model (generator + upsampler)": hw.upsample(model_32, styles=vectors),
                 "font's 32 px renders + upsampler": hw.upsample(font_32, styles=vectors),
                 "font": [font.glyph(p.char)[0] for p in placements]}
        read("model's 32 px glyphs", list(model_32), labels)
        read("font's 32 px renders", list(font_32), labels)
        for name, glyphs in drawn.items():
            line = np.full_like(page, 255)
            alone = []
            for placement, glyph in zip(placements, glyphs, strict=True):
                paste_ink(line, glyph, placement.box)
                single = np.full_like(page, 255)
                paste_ink(single, glyph, placement.box)
                alone.append(highres.line_crop(single, placement.box))
            if name.startswith("model"):
                assert np.array_equal(line, page)  # what write draws
            read(f"{name}, in the line", [highres.line_crop(line, p.box) for p in placements],
                 labels)
            read(f"{name}, alone in its box", alone, labels)
        total += len(placements)
    accuracy = {name: round(n / total, 4) for name, n in correct.items()}
    for name, value in accuracy.items():
        print(f"{args.style}, {total} characters: {name}: {value:.4f}")
    write_result(args.json, {"model": "default", "precision": "float32",
                             "evaluator": evaluator.name, "style": args.style,
                             "lines": args.lines, "characters": total, "accuracy": accuracy,
                             "seconds": round(time.perf_counter() - started, 1)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
