"""High resolution: is the 128 px path faithful, legible, in style and readable in lines?

Four measurements (issue #31, items 1-4), written to one result file, and two pictures:

1. **Fidelity** on fonts the upsampler never saw (the evaluators' three held-out fonts) and on
   syllables it never saw (ks2350-holdout) of thin-pen training fonts: a real 32 px render is
   upsampled to 128 px by the upsampler, by bicubic and by Lanczos resampling, and compared
   with the real 128 px render of the same syllable: IoU of the ink (pixels darker than 128)
   and mean absolute error (grey levels / 255).
2. **Content kept**: the evaluator's accuracy on the model's 32 px glyphs, and on the same
   glyphs upsampled to 128 px and area-averaged back to 32 px, on seen (ks2350-train) and
   held-out (ks2350-holdout) syllables, every training font's style in turn.
3. **Style at size**: per style, the median stroke width and ink height in em units of the
   generated ks2350-holdout syllables (never trained on, nor calibrated on) placed as ``write``
   places them, against the font's own glyphs; and the same for the 32 px glyphs as the
   previous ``write`` drew them (each glyph filling its cell).
4. **Line readability**: lines of random KS X 1001 syllables written in each style and typeset
   in the style's own font, at 128 px per em; each character's box (known from the layout)
   is cropped, fitted to 32 px and read by the evaluator.

Usage::

    python benchmarks/highres.py [--n 400] [--json benchmarks/results/highres.json] \
        [--media media]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import write_result  # noqa: E402

HELD_OUT_FONTS = ("NanumPenScript-Regular", "Dokdo-Regular", "BMYeonsung-Regular")
THIN_PENS = ("Gaegu-Regular", "HiMelody-Regular", "NanumBrushScript-Regular", "Stylish-Regular",
             "GamjaFlower-Regular", "CuteFont-Regular")
PPEM = 128


def _faces():
    from korean_gan.data.fonts import load_faces

    return {face.name: face for face in load_faces(["bundled"])}


def _renders(face, chars, size):
    from korean_gan.data.render import GlyphRenderer, RenderConfig

    renderer = GlyphRenderer(face, RenderConfig(size=size))
    images = [renderer.render(c) for c in chars]
    renderer.close()
    return images


def _drawn(face, chars):
    from korean_gan.data.fonts import drawn_syllables

    drawn, _ = drawn_syllables(face, chars)
    drawn = set(drawn)
    return [c for c in chars if c in drawn]


def _iou_mae(pred, real):
    a, b = pred < 128, real < 128
    union = (a | b).sum(axis=(1, 2))
    iou = np.where(union > 0, (a & b).sum(axis=(1, 2)) / np.maximum(union, 1), 1.0)
    mae = np.abs(pred.astype(np.float64) - real.astype(np.float64)).mean(axis=(1, 2)) / 255
    return float(iou.mean()), float(mae.mean())


def _resize(images, size, method):
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(i).resize((size, size), method))
                     for i in images])


def fidelity_pairs(faces, n, rng, size):
    """``(font, kind, 32 px renders, size px renders)`` of up to ``n`` syllables each: the
    evaluators' held-out fonts, and three thin pens on their held-out syllables."""
    from korean_gan.data.charsets import ks2350, ks2350_holdout

    cases = [(name, "held-out font", list(ks2350().chars)) for name in HELD_OUT_FONTS]
    cases += [(name, "held-out syllables", list(ks2350_holdout().chars))
              for name in THIN_PENS[:3]]
    for name, kind, pool in cases:
        chars = _drawn(faces[name], pool)
        chars = [chars[i] for i in sorted(rng.choice(len(chars), min(n, len(chars)),
                                                     replace=False))]
        small, large = _renders(faces[name], chars, 32), _renders(faces[name], chars, size)
        keep = [i for i in range(len(chars)) if small[i] is not None and large[i] is not None]
        yield (name, kind, np.stack([small[i] for i in keep]),
               np.stack([large[i] for i in keep]))


def fidelity(hw, faces, n, rng):
    """Item 1."""
    from PIL import Image

    rows = []
    for name, kind, small, large in fidelity_pairs(faces, n, rng, 128):
        row = {"font": name, "kind": kind, "glyphs": len(small)}
        for method, images in (("upsampler", hw.upsample(small)),
                               ("bicubic", _resize(small, 128, Image.Resampling.BICUBIC)),
                               ("lanczos", _resize(small, 128, Image.Resampling.LANCZOS))):
            iou, mae = _iou_mae(images, large)
            row[method] = {"iou": round(iou, 4), "mae": round(mae, 4)}
        row["iou_margin_over_best_resampling"] = round(
            row["upsampler"]["iou"] - max(row["bicubic"]["iou"], row["lanczos"]["iou"]), 4)
        rows.append(row)
        print(f"fidelity {name:28s} {kind:18s} IoU {row['upsampler']['iou']:.3f} vs bicubic "
              f"{row['bicubic']['iou']:.3f} lanczos {row['lanczos']['iou']:.3f}; MAE "
              f"{row['upsampler']['mae']:.4f} vs {row['bicubic']['mae']:.4f} "
              f"{row['lanczos']['mae']:.4f}", flush=True)
    return rows


def _font_styles(hw, chars):
    """Style vectors of the training fonts in turn over ``chars``."""
    index = np.arange(len(chars)) % len(hw.fonts)
    return hw.styles[index], index


def content_kept(hw, evaluator, n, rng):
    """Item 2."""
    from PIL import Image

    from korean_gan.data.charsets import jamo_table, ks2350, ks2350_holdout, ks2350_train

    out = {}
    for label, charset in (("seen", ks2350_train()), ("held_out", ks2350_holdout())):
        chars = list(charset.chars)
        chars = [chars[i] for i in sorted(rng.choice(len(chars), min(n, len(chars)),
                                                     replace=False))]
        styles, _ = _font_styles(hw, chars)
        small = hw._generate(jamo_table(chars), styles, hw._noise(len(chars), 1))
        back = _resize(hw.upsample(small, styles=styles), 32, Image.Resampling.BOX)
        labels = evaluator.label_map(ks2350())[[ks2350().chars.index(c) for c in chars]]
        acc = {}
        for name, images in (("32px", small), ("128px_to_32px", back)):
            _, probs = evaluator.predict(images)
            acc[name] = float((probs.argmax(axis=1) == labels).mean())
        out[label] = {"glyphs": len(chars), "accuracy_32px": round(acc["32px"], 4),
                      "accuracy_128px_downsampled": round(acc["128px_to_32px"], 4),
                      "ratio": round(acc["128px_to_32px"] / acc["32px"], 4)}
        print(f"content {label}: {out[label]}", flush=True)
    return out


def _em_canvas(glyph, box, ppem):
    """A glyph pasted into its em box on a 2 em canvas (baseline at 1.5 em)."""
    from korean_gan.data.layout import paste_ink

    page = np.full((2 * ppem, 2 * ppem), 255, np.uint8)
    x0, y0, x1, y1 = box
    base_x, base_y = ppem // 2, 3 * ppem // 2
    paste_ink(page, glyph, (round(base_x + x0 * ppem), round(base_y - y1 * ppem),
                            round(base_x + x1 * ppem), round(base_y - y0 * ppem)))
    return page


def style_at_size(hw, faces, n, rng):
    """Item 3."""
    from korean_gan.data.charsets import jamo_table, ks2350_holdout
    from korean_gan.data.layout import FontGlyphs
    from korean_gan.evaluation.metrics import ink_extent, stroke_width

    table = hw.font_metrics
    rows = []
    for f, name in enumerate(hw.fonts):
        # Syllables that neither the generator nor the upsampler's calibration saw.
        chars = _drawn(faces[name], list(ks2350_holdout().chars))
        chars = [chars[i] for i in sorted(rng.choice(len(chars), min(n, len(chars)),
                                                     replace=False))]
        metrics = table.font(name)
        boxes = [metrics.boxes[ord(c) - 0xAC00] for c in chars]
        font = FontGlyphs(faces[name].path, PPEM)
        real = np.stack([_em_canvas(font.glyph(c)[0], b, PPEM)
                         for c, b in zip(chars, boxes, strict=True)])
        styles = np.repeat(hw.styles[f][None], len(chars), axis=0)
        small = hw._generate(jamo_table(chars), styles, hw._noise(len(chars), 2))
        gen = np.stack([_em_canvas(g, b, PPEM)
                        for g, b in zip(hw.upsample(small, styles=styles), boxes, strict=True)])
        row = {"style": name}
        for label, images, ppem in (("real", real, PPEM), ("generated", gen, PPEM),
                                    ("previous_write_32px", small, 32)):
            width = np.nanmedian(stroke_width(images)) / ppem
            height = np.nanmedian(ink_extent(images)[:, 0]) * images.shape[1] / ppem
            row[label] = {"stroke_width_em": round(float(width), 4),
                          "ink_height_em": round(float(height), 4)}
        for label in ("generated", "previous_write_32px"):
            row[label]["stroke_width_ratio"] = round(
                row[label]["stroke_width_em"] / row["real"]["stroke_width_em"], 3)
            row[label]["ink_height_ratio"] = round(
                row[label]["ink_height_em"] / row["real"]["ink_height_em"], 3)
        rows.append(row)
        print(f"style {name:28s} stroke {row['generated']['stroke_width_ratio']:.3f} "
              f"(before {row['previous_write_32px']['stroke_width_ratio']:.3f}) height "
              f"{row['generated']['ink_height_ratio']:.3f} "
              f"(before {row['previous_write_32px']['ink_height_ratio']:.3f})", flush=True)
    return rows


def line_crop(image, box):
    """A character's box on a page with a margin of PPEM/16, fitted to 32 px as the evaluator
    reads it (neighbours' ink that reaches in stays)."""
    from korean_gan.data.render import RenderConfig, fit_to_box

    x0, y0, x1, y1 = box
    pad = PPEM // 16
    return fit_to_box(image[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad],
                      RenderConfig(size=32))


def set_in_font(font, page: np.ndarray, placements) -> np.ndarray:
    """The line ``page`` (from ``Handwriting.typeset``) set again in the font's own glyphs, in
    the same boxes: a page of ``page``'s shape (a syllable the font does not draw stays
    blank).

    Args:
        font: A ``korean_gan.data.layout.FontGlyphs`` at the page's pixels per em.
        page: The written line.
        placements: Its placements.
    """
    from korean_gan.data.layout import paste_ink

    typeset = np.full_like(page, 255)
    for p in placements:
        drawn = font.glyph(p.char)
        if drawn is not None:
            paste_ink(typeset, drawn[0], p.box)
    return typeset


def line_readability(hw, evaluator, faces, lines, per_line, rng):
    """Item 4."""
    from korean_gan.data.charsets import ks2350
    from korean_gan.data.layout import FontGlyphs

    label_map = evaluator.label_map(ks2350())
    rows = []
    for name in hw.fonts:
        pool = _drawn(faces[name], list(ks2350().chars))
        font = FontGlyphs(faces[name].path, PPEM)
        correct = {"generated": 0, "font": 0}
        total = 0
        for k in range(lines):
            chars = [pool[i] for i in rng.choice(len(pool), per_line, replace=False)]
            words = [chars[i:i + 4] for i in range(0, per_line, 4)]
            text = " ".join("".join(w) for w in words)
            page, placements = hw.typeset(text, name, seed=k, size=PPEM)
            typeset = set_in_font(font, page, placements)
            labels = label_map[[ks2350().chars.index(p.char) for p in placements]]
            for label, image in (("generated", page), ("font", typeset)):
                crops = [line_crop(image, p.box) for p in placements]
                _, probs = evaluator.predict(np.stack(crops))
                correct[label] += int((probs.argmax(axis=1) == labels).sum())
            total += len(placements)
        row = {"style": name, "characters": total,
               "generated_accuracy": round(correct["generated"] / total, 4),
               "font_accuracy": round(correct["font"] / total, 4)}
        row["points_behind_font"] = round(100 * (row["font_accuracy"]
                                                 - row["generated_accuracy"]), 2)
        rows.append(row)
        print(f"lines {name:28s} generated {row['generated_accuracy']:.3f} font "
              f"{row['font_accuracy']:.3f}", flush=True)
    return rows


def pictures(hw, faces, media: Path):
    """Item 6: a 128 px sheet (real beside generated, seen and held-out syllables, thin pens
    included) and a written sentence beside the same sentence typeset in its font."""
    from PIL import Image, ImageDraw

    from korean_gan.data.images import save_png
    from korean_gan.data.layout import FontGlyphs, paste_ink

    seen, held = "가나다를늘곪읊뷁", "닭꽃쥐햇"
    styles = ["Gaegu-Regular", "HiMelody-Regular", "NanumBrushScript-Regular",
              "CuteFont-Regular", "BMJua-Regular", "DoHyeon-Regular"]
    from korean_gan.data.charsets import jamo_table

    def cell(glyph, box):  # 100 px per em, pen at x 14, baseline at y 104 of a 128 px cell
        canvas = np.full((128, 128), 255, np.uint8)
        if glyph is not None:
            paste_ink(canvas, glyph, (round(14 + box[0] * 100), round(104 - box[3] * 100),
                                      round(14 + box[2] * 100), round(104 - box[1] * 100)))
        return canvas

    chars = seen + held
    rows = []
    for name in styles:
        real = FontGlyphs(faces[name].path, 100)
        boxes = [hw.font_metrics.font(name).boxes[ord(c) - 0xAC00] for c in chars]
        vectors = np.repeat(hw.styles[hw.fonts.index(name)][None], len(chars), axis=0)
        gen = hw.upsample(hw._generate(jamo_table(list(chars)), vectors,
                                       hw._noise(len(chars), 0)), styles=vectors)
        rows.append(np.concatenate([cell((real.glyph(c) or (None,))[0], b)
                                    for c, b in zip(chars, boxes, strict=True)], axis=1))
        rows.append(np.concatenate([cell(g, b) for g, b in zip(gen, boxes, strict=True)],
                                   axis=1))
    sheet = np.concatenate(rows, axis=0)
    image = Image.fromarray(sheet).convert("RGB")
    draw = ImageDraw.Draw(image)
    for k in range(1, len(rows)):
        if k % 2 == 0:
            draw.line([(0, 128 * k), (image.width, 128 * k)], fill=(200, 60, 60), width=2)
    draw.line([(128 * len(seen), 0), (128 * len(seen), image.height)], fill=(60, 60, 200),
              width=2)
    save_png(image, media / "highres_sheet.png")

    text = "다람쥐 헌 쳇바퀴에 타고파"
    lines = []
    for name in ("Gaegu-Regular", "NanumBrushScript-Regular", "CuteFont-Regular"):
        page, placements = hw.typeset(text, name, seed=0, size=128)
        lines += [set_in_font(FontGlyphs(faces[name].path, 128), page, placements), page]
    width = max(line.shape[1] for line in lines)
    padded = [np.pad(line, ((0, 0), (0, width - line.shape[1])), constant_values=255)
              for line in lines]
    save_png(np.concatenate(padded, axis=0), media / "highres_lines.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--n", type=int, default=400, help="glyphs per font and measure")
    parser.add_argument("--lines", type=int, default=6, help="lines per style (item 4)")
    parser.add_argument("--json", default="benchmarks/results/highres.json")
    parser.add_argument("--media", default="media")
    parser.add_argument("--only", default="1234p", help="which items: 1 2 3 4 p(ictures)")
    args = parser.parse_args()

    from korean_gan.data.charsets import ks2350
    from korean_gan.evaluation.evaluator import find_evaluator
    from korean_gan.generate import Handwriting

    started = time.perf_counter()
    hw = Handwriting.load(args.model, precision="float32")
    faces = _faces()
    evaluator = find_evaluator(ks2350())
    result = {"model": args.model, "precision": "float32", "evaluator": evaluator.name,
              "ppem": PPEM}
    if Path(args.json).is_file():
        import json

        previous = json.loads(Path(args.json).read_text(encoding="utf-8"))
        result.update({k: v for k, v in previous.items() if k != "provenance"})
    rng = np.random.default_rng(0)
    if "1" in args.only:
        result["fidelity"] = fidelity(hw, faces, args.n, rng)
    if "2" in args.only:
        result["content_kept"] = content_kept(hw, evaluator, args.n, rng)
    if "3" in args.only:
        result["style_at_size"] = style_at_size(hw, faces, args.n // 2, rng)
    if "4" in args.only:
        result["line_readability"] = line_readability(hw, evaluator, faces, args.lines, 12, rng)
    if "p" in args.only:
        pictures(hw, faces, Path(args.media))
    result["seconds"] = round(time.perf_counter() - started, 1)
    write_result(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
