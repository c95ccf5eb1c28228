"""The 64 px upsampler that text lines up to 64 px high draw with, against the 128 px one.

``korean-gan lines --height 64`` (and lower) draws every syllable at 64 px with a smaller
upsampler (``korean_gan/upsampler64``, a quarter of the pixels and of the channels) instead of
drawing it at 128 px and averaging that down. This measures what that costs and gains:

* **fidelity** (as item 1 of ``highres.py``, at 64 px): real 32 px renders redrawn at 64 px,
  against the real 64 px render of the same syllable, IoU of the ink and mean absolute error,
  for the evaluators' three held-out fonts and three thin pens on held-out syllables; by the
  64 px upsampler, by the 128 px one area-averaged to 64 (the path it replaces), and by
  bicubic and Lanczos resampling;
* **speed**: glyphs/s of ``Handwriting.draw_hangul`` (generator and upsampler) at both sizes,
  float32, in this process, best of three.

Usage (about 2 min on 2 cores)::

    python benchmarks/lines_upsampler.py [--n 400] [--json benchmarks/results/lines_upsampler.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from highres import _faces, _iou_mae, _resize, fidelity_pairs  # noqa: E402
from provenance import write_result  # noqa: E402


def fidelity(hw, faces, n: int, rng) -> list[dict]:
    from PIL import Image

    rows = []
    for name, kind, small, real in fidelity_pairs(faces, n, rng, 64):
        large = hw._upsample(small, None, size=128)
        row = {"font": name, "kind": kind, "glyphs": len(small)}
        for method, images in (
                ("upsampler64", hw._upsample(small, None, size=64)),
                ("upsampler128_area", _resize(large, 64, Image.Resampling.BOX)),
                ("bicubic", _resize(small, 64, Image.Resampling.BICUBIC)),
                ("lanczos", _resize(small, 64, Image.Resampling.LANCZOS))):
            iou, mae = _iou_mae(images, real)
            row[method] = {"iou": round(iou, 4), "mae": round(mae, 4)}
        rows.append(row)
        print(f"{name:26s} {kind:18s} IoU/MAE 64: {row['upsampler64']['iou']:.3f}/"
              f"{row['upsampler64']['mae']:.4f}  128->64: {row['upsampler128_area']['iou']:.3f}/"
              f"{row['upsampler128_area']['mae']:.4f}  bicubic: {row['bicubic']['iou']:.3f}/"
              f"{row['bicubic']['mae']:.4f}  lanczos: {row['lanczos']['iou']:.3f}/"
              f"{row['lanczos']['mae']:.4f}", flush=True)
    return rows


def speed(hw, n: int = 4096, repeats: int = 3) -> dict:
    from korean_gan.data.charsets import ks2350

    rng = np.random.default_rng(0)
    chars = [ks2350().chars[i] for i in rng.integers(0, 2350, n)]
    styles = hw.styles[rng.integers(0, len(hw.fonts), n)]
    noise = rng.standard_normal((n, hw.noise_dim)).astype(np.float32)
    out = {}
    for size in (64, 128):
        hw.draw_hangul(chars[:512], styles[:512], noise[:512], size=size)  # trace and warm up
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            hw.draw_hangul(chars, styles, noise, size=size)
            best = min(best, time.perf_counter() - started)
        out[f"draw_hangul_{size}_glyphs_per_second"] = round(n / best, 1)
        print(f"draw_hangul at {size} px: {n / best:,.0f} glyphs/s", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=400, help="glyphs per font")
    parser.add_argument("--json", default="benchmarks/results/lines_upsampler.json")
    args = parser.parse_args()

    from korean_gan.generate import Handwriting

    hw = Handwriting.load("default", precision="float32")
    rows = fidelity(hw, _faces(), args.n, np.random.default_rng(0))
    result = {
        "fidelity": rows,
        "mean": {method: {k: round(float(np.mean([r[method][k] for r in rows])), 4)
                          for k in ("iou", "mae")}
                 for method in ("upsampler64", "upsampler128_area", "bicubic", "lanczos")},
        "speed": speed(hw),
    }
    print("mean", result["mean"])
    write_result(args.json, {**result, "parameters": vars(args)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
