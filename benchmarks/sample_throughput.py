"""Sampling throughput and CLI start-up time.

Glyphs per second of batched generation: the reference generator (``korean-gan sample``), the
conditional model's glyphs (``korean-gan synth``, in float32 and in the default ``auto``
precision), the glyph upsampler (32 -> 128 px, float32) and lines of text (``korean-gan write``,
at its default 128 px per em), and the wall time of ``korean-gan --help``
and ``korean-gan data build --help`` (median of 5)::

    python benchmarks/sample_throughput.py [--model default] [--n 20000] \
        [--json benchmarks/results/sample_throughput.json]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def per_second(fn, n: int, repeats: int = 3) -> float:
    """n / median seconds of fn() after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


def cli_seconds(args: list[str], repeats: int = 5) -> float:
    exe = Path(sys.executable).with_name("korean-gan")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([str(exe), *args], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--json", type=Path, default=None,
                        help="also write the figures here (with their provenance)")
    args = parser.parse_args()
    result = {"model": args.model, "n": args.n,
              "help_seconds": cli_seconds(["--help"]),
              "data_build_help_seconds": cli_seconds(["data", "build", "--help"])}
    print(f"korean-gan --help             {result['help_seconds']:.2f} s")
    print(f"korean-gan data build --help  {result['data_build_help_seconds']:.2f} s")

    from korean_gan.data.charsets import ks2350
    from korean_gan.generate import Handwriting, sample_images
    from korean_gan.models.networks import build_generator

    generator = build_generator()  # speed does not depend on the weights
    rate = result["reference_glyphs_per_s"] = per_second(
        lambda: sample_images(generator, args.n, seed=0), args.n)
    print(f"reference generator (sample)  {rate:,.0f} glyphs/s")
    chars = [ks2350().chars[i % 2350] for i in range(args.n)]
    hw = Handwriting.load(args.model, precision="float32")
    rate = result["conditional_glyphs_per_s_float32"] = per_second(
        lambda: hw.glyphs(chars, style="random"), args.n)
    print(f"conditional glyphs (synth), float32 {rate:,.0f} glyphs/s")
    small = hw.glyphs(chars, style="random")
    rate = result["upsampler_glyphs_per_s_float32"] = per_second(
        lambda: hw.upsample(small), args.n)
    print(f"upsampler 32 -> 128 px, float32 {rate:,.0f} glyphs/s")
    hw = Handwriting.load(args.model)  # the default: auto precision
    rate = result["conditional_glyphs_per_s_auto"] = per_second(
        lambda: hw.glyphs(chars, style="random"), args.n)
    result["auto_precision"] = hw.precision
    print(f"conditional glyphs (synth), {hw.precision} (auto) {rate:,.0f} glyphs/s")
    text = "다람쥐 헌 쳇바퀴에 타고파 " * 20
    n_text = sum(1 for c in text if c != " ")
    rate = result["write_glyphs_per_s"] = per_second(lambda: hw.write(text, style=0), n_text)
    print(f"write (a {n_text}-syllable text at 128 px per em) {rate:,.0f} glyphs/s")
    if args.json:
        from provenance import write_result

        write_result(args.json, result)


if __name__ == "__main__":
    main()
