"""Text-line labels and memory: are ``korean-gan lines``' boxes and texts right, does a long run
stay flat in memory, and what do the lines look like?

1. **Labels are right** (``--only a``): ``make_lines(random=N, styles="fonts", height=64)``
   with the default augmentation and again with ``LineAugment.none()`` (the same texts and
   styles: line i depends only on (seed, i)). Every box whose character is a KS X 1001 Hangul
   syllable is cropped from the line image, fitted to 32 px like a training glyph
   (``fit_to_box(crop, RenderConfig(size=32))``) and read by the committed ks2350 evaluator;
   content accuracy is the share read as the label's syllable. The reference is the evaluator
   on lone generated glyphs of the same syllables in the same styles
   (``Handwriting.glyphs(chars, style=font, size=32)``: the model's own 32 px output), and, to
   isolate the upsampler, on a sample of the same syllables drawn at 64 px
   (``glyphs(..., size=64)``: upsampled and placed in the style's frame) and fitted back to
   32 px. Gap = line accuracy - lone accuracy, in points; per style too. As the evaluator
   only saw white paper, the crops are also read from the line with its paper levelled to
   white (the line's median grey mapped to 255), to tell paper tint from boxes and layout,
   and cut along their quads (``crop_quad``: each box as it was turned and slanted with its
   glyph, turned upright; at the quad's own size and at twice it, which fitting to 32 px then
   resamples from a finer grid), to tell upright boxes that take in a slanted neighbour from
   labels.
2. **Memory** (``--only m``): peak RSS (``os.wait4`` of the child) of ``korean-gan lines
   --random N --format webdataset --height 64 --quiet`` for each ``--sizes`` N, and the RSS
   every 2 s of each run (``/proc/PID/status``), to show it stays flat as lines stream to disk.
3. **Sheet** (``--only s``): ``media/lines_sheet.png``, sample lines in several styles (training
   fonts, ``random``, ``mix``), each with its label under it (in a bundled Korean font) and every
   character's box drawn as a thin coloured rectangle.

Nothing here is timed. The lines are drawn as ``korean-gan lines`` draws them by default (ONNX
Runtime, ``--precision int8``); ``--precision float32`` for float32.

Usage (about 10 min for item 1 at N=1000, 5 + 20 min for sizes 1000 and 5000 on 2 cores)::

    python benchmarks/lines_labels.py [--lines 1000] [--sizes 1000 5000 20000] \
        [--json benchmarks/results/lines_labels.json] [--sheet media/lines_sheet.png]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import write_result  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CAPTION_FONT = REPO / "fonts" / "NanumBarunpen-Regular.ttf"


# --- 1. labels ------------------------------------------------------------------------------

def _crops(records):
    """(32 px crops of the boxes, of the boxes with paper levelled, their syllables, their
    styles, empty-crop count, non-syllable count, checks, 32 px crops of the quads cut at
    their own size and at twice it)."""
    import cv2

    from korean_gan.data.charsets import is_hangul_syllable, ks2350
    from korean_gan.data.linesets import crop_quad
    from korean_gan.data.render import RenderConfig, fit_to_box

    ks = set(ks2350().chars)
    config = RenderConfig(size=32)
    crops, levelled, chars, styles, quad_crops, quad_crops_2x = [], [], [], [], [], []
    empty = other = 0
    checks = {"lines": 0, "chars_match_text": 0, "boxes_inside_image": 0,
              "boxes_left_to_right": 0, "neighbour_pairs": 0, "neighbours_overlapping": 0,
              "neighbours_overlapping_over_20pct": 0, "neighbour_quads_overlapping": 0}
    for record in records:
        checks["lines"] += 1
        checks["chars_match_text"] += record.chars == [c for c in record.text if c != " "]
        h, w = record.image.shape
        checks["boxes_inside_image"] += all(0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
                                            for x0, y0, x1, y1 in record.boxes)
        lefts = [b[0] for b in record.boxes]
        checks["boxes_left_to_right"] += lefts == sorted(lefts)
        # Neighbouring boxes that overlap (a crop then holds part of its neighbour's ink).
        for (a0, _, a1, _), (b0, _, b1, _) in zip(record.boxes, record.boxes[1:], strict=False):
            overlap = min(a1, b1) - max(a0, b0)
            checks["neighbour_pairs"] += 1
            checks["neighbours_overlapping"] += overlap > 0
            checks["neighbours_overlapping_over_20pct"] += \
                overlap > 0.2 * min(a1 - a0, b1 - b0)
        for a, b in zip(record.quads, record.quads[1:], strict=False):
            area, _ = cv2.intersectConvexConvex(np.float32(a).reshape(4, 2),
                                                np.float32(b).reshape(4, 2))
            checks["neighbour_quads_overlapping"] += area > 1.0  # more than a pixel's worth
        # The line's paper (its median grey: most of a line is paper) levelled to white.
        paper = max(float(np.median(record.image)), 1.0)
        white = np.clip(record.image.astype(np.float32) * (255 / paper), 0, 255).astype(np.uint8)
        for char, (x0, y0, x1, y1), quad in zip(record.chars, record.boxes, record.quads,
                                                strict=True):
            if not (is_hangul_syllable(char) and char in ks):
                other += 1
                continue
            for scale, found in ((1, quad_crops), (2, quad_crops_2x)):
                fitted = fit_to_box(crop_quad(record.image, quad, scale=scale), config)
                found.append(np.full((32, 32), 255, np.uint8) if fitted is None else fitted)
            fitted = fit_to_box(record.image[y0:y1, x0:x1], config)
            if fitted is None:
                empty += 1
                fitted = np.full((32, 32), 255, np.uint8)
            crops.append(fitted)
            fitted = fit_to_box(white[y0:y1, x0:x1], config)
            levelled.append(np.full((32, 32), 255, np.uint8) if fitted is None else fitted)
            chars.append(char)
            styles.append(record.style)
    return (np.stack(crops), np.stack(levelled), chars, styles, empty, other, checks,
            np.stack(quad_crops), np.stack(quad_crops_2x))


def _read(evaluator, images, chars):
    from korean_gan.data.charsets import ks2350

    ks = ks2350()
    index = {c: i for i, c in enumerate(ks.chars)}
    _, probs = evaluator.predict(images)
    truth = evaluator.label_map(ks)[[index[c] for c in chars]]
    guess = probs.argmax(axis=1)
    return guess == truth, [evaluator.charset.chars[g] for g in guess]


def _by_style(correct, styles):
    groups = defaultdict(list)
    for ok, style in zip(correct, styles, strict=True):
        groups[style].append(bool(ok))
    return {s: {"n": len(v), "accuracy": round(float(np.mean(v)), 4)}
            for s, v in sorted(groups.items())}


def labels(writer, evaluator, n: int, seed: int, work: Path, upsampled_per_style: int) -> dict:
    from korean_gan.data.lineaug import LineAugment
    from korean_gan.data.linesets import read_lineset
    from korean_gan.textlines import make_lines

    out: dict = {"lines": n, "seed": seed, "styles": "fonts", "height": 64}
    runs = {}
    for label, augment in (("augmented", LineAugment()), ("not_augmented", LineAugment.none())):
        target = work / f"labels_{label}"
        shutil.rmtree(target, ignore_errors=True)
        started = time.perf_counter()
        result = make_lines(out=target, random=n, styles="fonts", height=64, seed=seed,
                            augment=augment, format="paddle", progress=False, writer=writer)
        seconds = time.perf_counter() - started
        records = list(read_lineset(result.path))
        crops, levelled, chars, styles, empty, other, checks, quad_crops, quad_crops_2x = \
            _crops(records)
        correct, guesses = _read(evaluator, crops, chars)
        # The same characters cut along their quads (turned and slanted with the glyph),
        # at their own size and at twice it (fitting to 32 px then resamples a finer grid).
        quad_ok, _ = _read(evaluator, quad_crops, chars)
        quad_2x_ok, _ = _read(evaluator, quad_crops_2x, chars)
        # The evaluator has only seen white paper: the same boxes cut from the line with its
        # paper levelled to white, to tell paper tint from wrong boxes.
        levelled_ok, _ = _read(evaluator, levelled, chars)
        errors = [{"style": s, "label": c, "read": g}
                  for s, c, g, ok in zip(styles, chars, guesses, correct, strict=True)
                  if not ok]
        runs[label] = {
            "lines_written": result.lines, "skipped": result.skipped,
            "seconds_untimed": round(seconds, 1),
            "syllable_boxes": len(chars), "other_boxes": other, "empty_crops": empty,
            "accuracy": round(float(correct.mean()), 4),
            "accuracy_paper_levelled": round(float(levelled_ok.mean()), 4),
            "accuracy_quads": round(float(quad_ok.mean()), 4),
            "accuracy_quads_2x": round(float(quad_2x_ok.mean()), 4),
            "per_style": _by_style(correct, styles),
            "per_style_quads": _by_style(quad_ok, styles),
            "per_style_quads_2x": _by_style(quad_2x_ok, styles),
            "checks": checks, "errors_first": errors[:25],
            "texts_first": [r.text for r in records[:5]],
        }
        runs[label]["_chars"], runs[label]["_styles"] = chars, styles
        runs[label]["_crops"] = np.concatenate([crops[:64], crops[~correct][:64]])
        print(f"lines {label}: {correct.mean():.4f} (paper levelled {levelled_ok.mean():.4f}, "
              f"quads {quad_ok.mean():.4f}, at 2x {quad_2x_ok.mean():.4f}) "
              f"on {len(chars)} syllables "
              f"({empty} empty crops), {seconds:.0f} s", flush=True)
    base = runs["augmented"]
    if base["_chars"] != runs["not_augmented"]["_chars"]:
        print("warning: the two runs hold different syllables", flush=True)

    # Lone glyphs: the same syllables in the same styles, 32 px, the model's own output.
    chars, styles = base["_chars"], base["_styles"]
    per_style_chars = defaultdict(list)
    for c, s in zip(chars, styles, strict=True):
        per_style_chars[s].append(c)
    lone_ok, lone_styles, up_ok, up_styles = [], [], [], []
    from korean_gan.data.render import RenderConfig, fit_to_box

    for k, (style, cs) in enumerate(sorted(per_style_chars.items())):
        images = writer.glyphs(cs, style=style, seed=1000 + k, size=32)
        ok, _ = _read(evaluator, images, cs)
        lone_ok += list(ok)
        lone_styles += [style] * len(cs)
        if upsampled_per_style:
            sub = cs[:upsampled_per_style]
            large = writer.glyphs(sub, style=style, seed=2000 + k, size=64)
            fitted = np.stack([fit_to_box(im, RenderConfig(size=32)) for im in large])
            ok, _ = _read(evaluator, fitted, sub)
            up_ok += list(ok)
            up_styles += [style] * len(sub)
    lone = {"n": len(lone_ok), "accuracy": round(float(np.mean(lone_ok)), 4),
            "per_style": _by_style(lone_ok, lone_styles),
            "what": "Handwriting.glyphs(chars, style=font, seed=1000+k, size=32), float32"}
    upsampled = None
    if up_ok:
        upsampled = {"n": len(up_ok), "accuracy": round(float(np.mean(up_ok)), 4),
                     "per_style": _by_style(up_ok, up_styles),
                     "what": f"the first {upsampled_per_style} syllables per style, "
                             "glyphs(..., size=64) (upsampled, placed in the style's frame), "
                             "fit_to_box to 32 px"}
    print(f"lone 32 px: {lone['accuracy']:.4f} on {lone['n']}"
          + (f"; upsampled 64 px refitted: {upsampled['accuracy']:.4f} on {upsampled['n']}"
             if upsampled else ""), flush=True)

    for run in runs.values():
        run["gap_points_vs_lone"] = round(100 * (run["accuracy"] - lone["accuracy"]), 2)
        run["within_2_points"] = abs(run["gap_points_vs_lone"]) <= 2.0
        run["gap_points_vs_lone_quads"] = round(100 * (run["accuracy_quads"]
                                                       - lone["accuracy"]), 2)
        run["within_2_points_quads"] = abs(run["gap_points_vs_lone_quads"]) <= 2.0
        run["gap_points_vs_lone_quads_2x"] = round(100 * (run["accuracy_quads_2x"]
                                                          - lone["accuracy"]), 2)
        run["within_2_points_quads_2x"] = abs(run["gap_points_vs_lone_quads_2x"]) <= 2.0
        for rows in (run["per_style"], run["per_style_quads"], run["per_style_quads_2x"]):
            for style, row in rows.items():
                row["lone_accuracy"] = lone["per_style"][style]["accuracy"]
                row["gap_points"] = round(100 * (row["accuracy"] - row["lone_accuracy"]), 2)
    out.update({"lone_glyphs": lone, "upsampled_lone_glyphs": upsampled,
                "lines_augmented": runs["augmented"], "lines_not_augmented":
                runs["not_augmented"],
                "augmentation_cost_points": round(100 * (runs["augmented"]["accuracy"]
                                                         - runs["not_augmented"]["accuracy"]), 2)})
    crops = (runs["augmented"]["_crops"], runs["not_augmented"]["_crops"])
    for run in runs.values():
        for key in ("_chars", "_styles", "_crops"):
            run.pop(key)
    return out, crops


def ablation(writer, evaluator, n: int, seed: int, work: Path, only=()) -> dict:
    """Accuracy of line crops with the default augmentation and with each of its settings
    turned off in turn (the rest at their defaults): which setting costs the points?"""
    from dataclasses import fields, replace

    from korean_gan.data.lineaug import LineAugment
    from korean_gan.data.linesets import read_lineset
    from korean_gan.textlines import make_lines

    default = LineAugment()
    cases = {"default": default, "none": LineAugment.none()}
    cases.update({f"without_{f.name}": replace(default, **{
        f.name: False if isinstance(getattr(default, f.name), bool) else 0.0})
        for f in fields(LineAugment)})
    # A gentler hand: a third of the slant, a third of the spacing jitter.
    cases["slant_0.04_spacing_jitter_0.01"] = replace(default, slant=0.04, spacing_jitter=0.01)
    if only:
        cases = {name: cases[name] for name in only}
    rows = {}
    for name, augment in cases.items():
        target = work / "ablation"
        shutil.rmtree(target, ignore_errors=True)
        result = make_lines(out=target, random=n, styles="fonts", height=64, seed=seed,
                            augment=augment, format="paddle", progress=False, writer=writer)
        records = list(read_lineset(result.path))
        crops, levelled, chars, _, _, _, checks, quad_crops, quad_crops_2x = _crops(records)
        correct, _ = _read(evaluator, crops, chars)
        levelled_ok, _ = _read(evaluator, levelled, chars)
        quad_ok, _ = _read(evaluator, quad_crops, chars)
        quad_2x_ok, _ = _read(evaluator, quad_crops_2x, chars)
        rows[name] = {"accuracy": round(float(correct.mean()), 4),
                      "accuracy_paper_levelled": round(float(levelled_ok.mean()), 4),
                      "accuracy_quads": round(float(quad_ok.mean()), 4),
                      "accuracy_quads_2x": round(float(quad_2x_ok.mean()), 4),
                      "neighbours_overlapping": round(checks["neighbours_overlapping"]
                                                      / max(checks["neighbour_pairs"], 1), 4)}
        print(f"ablation {name}: {rows[name]}", flush=True)
    for row in rows.values():
        row["points_vs_default"] = round(100 * (row["accuracy"] - rows["default"]["accuracy"]),
                                         2)
    return {"lines": n, "seed": seed, "styles": "fonts", "height": 64, "runs": rows,
            "what": "each LineAugment setting set to 0 with the others at their defaults; "
                    "points_vs_default > 0: that setting costs those points"}


# --- 2. memory ------------------------------------------------------------------------------

def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def memory(n: int, work: Path, workers: int, precision: str) -> dict:
    out = work / f"mem_{n}"
    shutil.rmtree(out, ignore_errors=True)
    exe = str(Path(sys.executable).parent / "korean-gan")
    argv = [exe, "lines", "--random", str(n), "--format", "webdataset", "--height", "64",
            "--quiet", "--out", str(out), "--workers", str(workers), "--precision", precision]
    log = work / f"mem_{n}.log"
    samples = []
    load = round(os.getloadavg()[0], 2)
    with open(log, "wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss = _rss_mb(proc.pid)
            if rss is not None:
                samples.append((round(time.perf_counter() - started, 1), round(rss)))
            time.sleep(2)
        wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"korean-gan lines failed; see {log}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    shards = sorted(out.glob("*.tar"))
    size = sum(p.stat().st_size for p in shards)
    rss = [r for _, r in samples]

    def at(fraction: float):
        return rss[min(len(rss) - 1, int(fraction * len(rss)))] if rss else None

    row = {"lines": n, "workers": workers,
           "command": " ".join(["korean-gan", *argv[1:]]),
           "peak_rss_mb": round(usage.ru_maxrss / 1024),
           "rss_mb_at_fraction_of_run": {f: at(f) for f in (0.1, 0.25, 0.5, 0.75, 0.95)},
           "rss_samples_every_2s": samples[::max(1, len(samples) // 60)],
           "wall_seconds_untimed": round(wall, 1),
           "lines_written": manifest["lines"]["written"], "shards": len(shards),
           "runtime": manifest["build"].get("runtime", "tensorflow"),
           "output_mb": round(size / 2**20, 1), "load_at_start": load}
    print(f"memory N={n}: peak {row['peak_rss_mb']} MB, RSS over the run "
          f"{row['rss_mb_at_fraction_of_run']}, {wall:.0f} s", flush=True)
    shutil.rmtree(out, ignore_errors=True)
    return row


# --- 3. sheet -------------------------------------------------------------------------------

SHEET_STYLES = ("Gaegu-Regular", "NanumBrushScript-Regular", "BMJua-Regular",
                "EastSeaDokdo-Regular", "HiMelody-Regular", "random", "mix", "random")
COLOURS = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (0, 160, 160), (240, 50, 230), (128, 128, 0))


def sheet(writer, path: Path, work: Path, seed: int) -> list[dict]:
    from PIL import Image, ImageDraw, ImageFont

    from korean_gan.data.linesets import read_lineset
    from korean_gan.textlines import make_lines

    scale = 2
    font = ImageFont.truetype(str(CAPTION_FONT), 30)
    small = ImageFont.truetype(str(CAPTION_FONT), 22)
    rows, info = [], []
    for k, style in enumerate(SHEET_STYLES):
        target = work / f"sheet_{k}"
        shutil.rmtree(target, ignore_errors=True)
        result = make_lines(out=target, random=1, styles=style, height=64, seed=seed + k,
                            format="paddle", progress=False, writer=writer)
        record = next(iter(read_lineset(result.path)))
        image = Image.fromarray(record.image).convert("RGB")
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
        draw = ImageDraw.Draw(image)
        for i, quad in enumerate(record.quads):
            corners = [(x * scale, y * scale) for x, y in zip(quad[0::2], quad[1::2],
                                                               strict=True)]
            draw.polygon(corners, outline=COLOURS[i % len(COLOURS)], width=1)
        rows.append((image, record.text, record.style))
        info.append({"style": record.style, "text": record.text, "size": list(
            record.image.shape), "boxes": len(record.boxes)})
    width = max(max(im.width for im, _, _ in rows), 700) + 40
    caption_h, gap = 44, 26
    height = 60 + sum(im.height + 6 + caption_h + gap for im, _, _ in rows)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    draw.text((20, 14), "korean-gan lines: 64 px lines (shown 2x), label under each line, "
              "one coloured box (quad) per character", font=small, fill=(60, 60, 60))
    y = 60
    for image, text, style in rows:
        canvas.paste(image, (20, y))
        draw.rectangle((19, y - 1, 20 + image.width, y + image.height), outline=(200, 200, 200))
        y += image.height + 6
        draw.text((20, y), text, font=font, fill=(0, 0, 0))
        label_w = draw.textlength(text, font=font)
        draw.text((20 + label_w + 24, y + 6), f"[{style}]", font=small, fill=(110, 110, 110))
        y += caption_h + gap
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, optimize=True)
    print(f"wrote {path}", flush=True)
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1000, help="random lines for item 1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--upsampled-per-style", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--workers", type=int, default=1, help="for the memory runs")
    parser.add_argument("--work", default="/tmp/lines_labels")
    parser.add_argument("--only", default="ams",
                        help="a(ccuracy) b(reak-down of augmentation) m(emory) s(heet)")
    parser.add_argument("--ablation-lines", type=int, default=500)
    parser.add_argument("--precision", default="int8", choices=("int8", "float32"))
    parser.add_argument("--json", default="benchmarks/results/lines_labels.json")
    parser.add_argument("--sheet", default="media/lines_sheet.png")
    args = parser.parse_args()

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    previous = {}
    if Path(args.json).is_file():  # keep items not run this time
        previous = json.loads(Path(args.json).read_text(encoding="utf-8"))
        previous.pop("provenance", None)
    result = dict(previous)
    if "a" in args.only or "s" in args.only or "b" in args.only:
        from korean_gan.data.charsets import ks2350
        from korean_gan.evaluation.evaluator import find_evaluator
        from korean_gan.generate import Handwriting

        # As `korean-gan lines` loads it by default (ONNX Runtime, int8).
        writer = Handwriting.load("default", precision=args.precision, runtime="auto")
        result["precision"] = args.precision
    if "s" in args.only:
        result["sheet"] = {"path": args.sheet, "lines": sheet(writer, Path(args.sheet), work,
                                                              args.seed + 100)}
    if "a" in args.only:
        evaluator = find_evaluator(ks2350())
        result["labels"], crops = labels(writer, evaluator, args.lines, args.seed, work,
                                         args.upsampled_per_style)
        result["labels"]["evaluator"] = evaluator.name
        # The first 64 crops, then the first 64 misread ones, of each run (to look at).
        np.savez_compressed(work / "crops.npz", augmented=crops[0], not_augmented=crops[1])
        write_result(args.json, result)
    if "b" in args.only:
        result["augmentation_ablation"] = ablation(writer, find_evaluator(ks2350()),
                                                   args.ablation_lines, args.seed, work)
        write_result(args.json, result)
    if "m" in args.only:
        rows = result.get("memory", {}).get("runs", [])
        rows = [r for r in rows if r["lines"] not in args.sizes]
        for n in args.sizes:
            rows.append(memory(n, work, args.workers, args.precision))
            rows.sort(key=lambda r: r["lines"])
            result["memory"] = {
                "runs": rows,
                "note": "peak RSS by os.wait4 of the CLI process (workers 1: one process "
                        "holds the model and writes); RSS sampled every 2 s through each run "
                        "shows whether it grows with the number of lines."}
            write_result(args.json, result)
    write_result(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
