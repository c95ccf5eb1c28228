"""The int8 generator (``--precision int8``) against float32: glyphs, content, FCD and speed.

Both run the default model in ONNX Runtime: ``generator.onnx`` (float32) and
``generator-int8.onnx`` (``korean-gan export-onnx``: 8-bit convolutions, calibrated on 1,024
random glyphs). Measured on the same noise and styles:

* **grey difference**: mean absolute difference of the 32 px glyphs (grey levels of 255), the
  share of pixels more than 8 and 32 levels apart; beside it, for scale, float32 against
  itself with other noise, and against the next font's style;
* **content accuracy**: the share of glyphs the committed ks2350 evaluator reads as the
  syllable asked for, every training syllable and all 235 held-out ones in the 18 font styles,
  and the training syllables in 6 random styles;
* **FCD** (with its real-halves floor), KID, legibility, precision and recall against the
  training renders, as in ``hangul_targets.py``;
* **speed**: glyphs/s of the generator alone (32 px, blocks of 64) on one thread and on all
  cores (blocks side by side), and of ``draw_hangul`` at 64 px (generator and the 64 px
  upsampler, as ``lines --height 64`` draws), median of 9 (3 rounds of 3 after a warm-up),
  the two precisions alternating, once the machine is quiet (1-minute load below 0.6, waiting
  at most 5 min).

Usage (about 5 minutes on 2 cores; builds ``data/ks2350-train.npz`` first if missing)::

    python benchmarks/int8_quality.py [--json benchmarks/results/int8_quality.json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hangul_targets import HELD_OUT_FONTS, quality  # noqa: E402
from lines_speed import wait_for_quiet  # noqa: E402
from provenance import write_result  # noqa: E402

PRECISIONS = ("float32", "int8")


def grey(a: np.ndarray, b: np.ndarray) -> dict:
    """How far two uint8 glyph stacks are apart."""
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return {"mean": round(float(d.mean()), 3), "over_8": round(float((d > 8).mean()), 5),
            "over_32": round(float((d > 32).mean()), 5)}


def rates(call, n: int, repeats: int = 5) -> list[float]:
    call()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        out.append(n / (time.perf_counter() - start))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-data", type=Path, default=Path("data/ks2350-train.npz"))
    parser.add_argument("--n", type=int, default=4096, help="glyphs per timed call")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from korean_gan.data.charsets import jamo_table, ks2350, ks2350_holdout, ks2350_train
    from korean_gan.data.dataset import build_dataset
    from korean_gan.evaluation.evaluator import Evaluator
    from korean_gan.generate import Handwriting
    from korean_gan.models.onnx_io import OnnxNetwork

    if not args.train_data.is_file():
        build_dataset(charset="ks2350-train", augment=("none",), out=str(args.train_data),
                      exclude_fonts=tuple(HELD_OUT_FONTS.split(",")), progress=False)
    models = {p: Handwriting.load("default", precision=p, runtime="onnx") for p in PRECISIONS}
    report: dict = {"model": "default", "files": {
        p: Path(models[p].generator.path).name for p in PRECISIONS}}
    seen, held = list(ks2350_train().chars), list(ks2350_holdout().chars)

    f32, int8 = models["float32"], models["int8"]
    reference = f32.glyphs(seen, style=3, seed=1)
    report["grey_difference"] = {
        "int8_vs_float32": grey(reference, int8.glyphs(seen, style=3, seed=1)),
        "float32_other_noise": grey(reference, f32.glyphs(seen, style=3, seed=2)),
        "float32_next_font": grey(reference, f32.glyphs(seen, style=4, seed=1)),
        "int8_vs_float32_random_styles": grey(f32.glyphs(seen, style="random", seed=5),
                                              int8.glyphs(seen, style="random", seed=5))}
    evaluator = Evaluator.load("ks2350")
    for name, hw in models.items():
        start = time.perf_counter()
        row = quality(hw, evaluator, seen, held, args.train_data)
        row["seconds"] = round(time.perf_counter() - start, 1)
        report[name] = row
        print(name, row, flush=True)

    # Speed: the generator alone, one thread and all cores; draw_hangul at 64 px.
    rng = np.random.default_rng(0)
    chars = [ks2350().chars[i] for i in rng.integers(0, 2350, args.n)]
    # One call of n glyphs: the network runs it in blocks of 64, as many at once as threads.
    inputs = (rng.standard_normal((args.n, f32.noise_dim)).astype(np.float32),
              jamo_table(chars).astype(np.int32),
              f32.styles[rng.integers(0, len(f32.styles), args.n)])
    styles = f32.styles[rng.integers(0, len(f32.styles), args.n)]
    noise = rng.standard_normal((args.n, f32.noise_dim)).astype(np.float32)
    speed: dict = {p: {"generator_1_thread": [], "generator_all_cores": [], "draw_64": []}
                   for p in PRECISIONS}
    nets = {p: {t: OnnxNetwork(models[p].generator.path, threads=t) for t in (1, None)}
            for p in PRECISIONS}
    report["speed_load"] = wait_for_quiet(0.6, 300)
    for _ in range(3):  # alternate, so both see the same machine
        for p in PRECISIONS:
            for key, threads in (("generator_1_thread", 1), ("generator_all_cores", None)):
                net = nets[p][threads]
                speed[p][key] += rates(lambda net=net: net(*inputs), args.n, repeats=3)
            hw = models[p]
            speed[p]["draw_64"] += rates(
                lambda hw=hw: hw.draw_hangul(chars, styles, noise, size=64), args.n, repeats=3)
    for p in PRECISIONS:
        report[p]["glyphs_per_second"] = {k: round(statistics.median(v)) for k, v in
                                          speed[p].items()}
        report[p]["glyphs_per_second_all"] = {k: [round(r) for r in v] for k, v in
                                              speed[p].items()}
    report["speedup"] = {k: round(report["int8"]["glyphs_per_second"][k]
                                  / report["float32"]["glyphs_per_second"][k], 2)
                         for k in speed["int8"]}
    for key, value in report.items():
        print(f"{key}: {value}")
    if args.json:
        write_result(args.json, report)


if __name__ == "__main__":
    main()
