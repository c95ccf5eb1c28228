"""A distilled model against its teacher: sampling speed, content accuracy, FCD, and how far
its glyphs are from the teacher's.

Distils unless ``--student`` names a finished one::

    korean-gan distill --last-filters 16 --out models/hangul-fast          # about 10 minutes
    python benchmarks/distill_quality.py --student models/hangul-fast \\
        --json benchmarks/results/distill_quality.json

Everything samples in float32 (the same bytes on every machine). Content accuracy is the share
of glyphs the committed ks2350 evaluator reads as the syllable asked for: every eighth seen
syllable and all 235 held-out ones, in the 18 font styles, and the seen ones in 6 random
styles (the quick pass of ``hangul_targets.py``). Speed is ``glyphs()`` of 20,480 syllables in
random styles, median of 5 calls after a warm-up, teacher and student alternating so both see
the same machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from hangul_targets import HELD_OUT_FONTS, quality
from provenance import write_result  # this folder is on sys.path when run as a script


def glyph_rate(hw, chars, repeats: int = 5) -> list[float]:
    """Glyphs per second of each of ``repeats`` calls (after a warm-up)."""
    hw.glyphs(chars[:2048], style="random")
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        hw.glyphs(chars, style="random")
        rates.append(len(chars) / (time.perf_counter() - start))
    return rates


def grey_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 image stacks, in grey levels."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teacher", default="default")
    parser.add_argument("--student", default=None, help="a distilled model folder (default: "
                                                        "distil one into --out first)")
    parser.add_argument("--last-filters", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", default="models/hangul-fast")
    parser.add_argument("--train-data", type=Path, default=Path("data/ks2350-train.npz"))
    parser.add_argument("--n", type=int, default=20480, help="glyphs per timed call")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from korean_gan.data.charsets import ks2350, ks2350_holdout, ks2350_train
    from korean_gan.data.dataset import build_dataset
    from korean_gan.evaluation.evaluator import Evaluator
    from korean_gan.generate import Handwriting

    report: dict = {"teacher": args.teacher}
    if args.student is None:
        from korean_gan.training.distill import distill

        result = distill(model=args.teacher, out=args.out, last_filters=args.last_filters,
                         steps=args.steps)
        args.student = str(result.path)
        report["distill_seconds"] = result.seconds
    report["student"] = args.student
    if not args.train_data.is_file():
        build_dataset(charset="ks2350-train", augment=("none",), out=str(args.train_data),
                      exclude_fonts=tuple(HELD_OUT_FONTS.split(",")), progress=False)
    evaluator = Evaluator.load("ks2350")
    seen, held = list(ks2350_train().chars[::8]), list(ks2350_holdout().chars)
    models = {"teacher": Handwriting.load(args.teacher, precision="float32"),
              "student": Handwriting.load(args.student, precision="float32")}
    report["student_config"] = models["student"].info["config"].get("distill")
    teacher = models["teacher"]
    # Scales for the difference: the teacher against itself with other noise, or another font.
    reference = teacher.glyphs(seen, style=3, seed=1)
    report["teacher_other_noise_grey"] = grey_difference(
        reference, teacher.glyphs(seen, style=3, seed=2))
    report["teacher_next_font_grey"] = grey_difference(
        reference, teacher.glyphs(seen, style=4, seed=1))
    report["student_grey"] = grey_difference(
        reference, models["student"].glyphs(seen, style=3, seed=1))
    for name, hw in models.items():
        report[name] = quality(hw, evaluator, seen, held, args.train_data)
    chars = [ks2350().chars[i % 2350] for i in range(args.n)]
    rates: dict[str, list[float]] = {"teacher": [], "student": []}
    for _ in range(3):  # alternate, so both see the same machine
        for name, hw in models.items():
            rates[name] += glyph_rate(hw, chars, repeats=3)
    for name in models:
        report[name]["glyphs_per_second"] = statistics.median(rates[name])
        report[name]["glyphs_per_second_all"] = [round(r) for r in rates[name]]
    for key, value in report.items():
        if isinstance(value, dict) and key in models:
            print(key)
            for k, v in value.items():
                print(f"  {k:38} {v:.4f}" if isinstance(v, float) else f"  {k:38} {v}")
        else:
            print(f"{key:40} {value:.3f}" if isinstance(value, float) else f"{key:40} {value}")
    if args.json:
        write_result(args.json, report)


if __name__ == "__main__":
    main()
