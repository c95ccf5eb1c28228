"""Text-line throughput: ``korean-gan lines`` against TextRecognitionDataGenerator (trdg 1.8).

Both make the same 1,000 lines of about ten Hangul syllables each at 64 px height, on this
machine's cores, end to end as a process (wall time includes start-up and, for ours, loading
the model), written to disk:

* **ours**: ``korean-gan lines --text corpus.txt --height 64 --styles fonts --format paddle
  --quiet`` with ``--workers 1`` and ``--workers 2`` in int8 (ONNX Runtime's 8-bit
  convolutions, as a user gets by default) and in float32 (ONNX Runtime), ``--workers 2
  --precision float32 --runtime tensorflow``, and ``--workers 2 --precision auto``
  (TensorFlow, bf16 where a timed matmul shows it faster). Besides the
  process's wall time, the manifest's own ``build.lines_per_second`` (drawing and writing, no
  start-up).
* **trdg**: ``trdg -c 1000 -i corpus.txt -fd FONTDIR -f 64 -t 1`` and ``-t 2`` (processes), in
  its own virtual environment (``pip install --no-deps trdg==1.8.0`` plus what it imports,
  Pillow < 10), with three of the bundled handwriting fonts; its defaults otherwise (Gaussian
  noise background, no skew, no blur, JPEG). trdg renders a font's glyphs; ours draws every
  syllable with the generator and the 128 px upsampler and then lays it out and augments it.

Then both again with two workers/threads on the corpus continued to ``--long`` lines (10,000):
start-up (about 1 s with ONNX Runtime, 7 s with TensorFlow, which each worker imports and
traces) weighs on 1,000 lines and much less on 10,000.

The corpus: KS X 1001 syllables, uniform, in words of 2-4 syllables, exactly 10 syllables per
line, from ``numpy.random.default_rng(seed)``; its sha256 and syllable count are recorded.
Before every timed run the script waits (polling every 20 s, at most ``--max-wait`` s) for the
1-minute load average to fall below ``--quiet-load`` and records the load it started at. Each
process's peak RSS and CPU seconds come from ``os.wait4`` (the largest single process of its
tree, not the sum of workers).

With ``--profile N`` (default 200) it then profiles ``make_lines`` on the first N corpus lines
in this process (model loaded and warmed up beforehand) with cProfile and keeps the top
entries by cumulative and by own time.

Usage (about 20-30 min on 2 cores, much of it waiting for a quiet machine)::

    python benchmarks/lines_speed.py [--lines 1000] [--trdg-python /tmp/trdg-venv/bin/python] \
        [--json benchmarks/results/lines_speed.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import write_result  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TRDG_FONTS = ("Gaegu-Regular.ttf", "NanumPenScript-Regular.ttf", "CuteFont-Regular.ttf")


def make_corpus(n: int, seed: int, per_line: int = 10) -> list[str]:
    """``n`` lines of ``per_line`` KS X 1001 syllables in words of 2-4 syllables."""
    from korean_gan.data.charsets import ks2350

    chars = ks2350().chars
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n):
        words, left = [], per_line
        while left > 0:
            size = int(rng.integers(2, 5))
            if size > left or left - size == 1:  # never leave a lone syllable
                size = left if left <= 4 else left - 2
            words.append("".join(chars[i] for i in rng.integers(0, len(chars), size)))
            left -= size
        lines.append(" ".join(words))
    return lines


def wait_for_quiet(threshold: float, max_wait: float, poll: float = 20.0) -> dict:
    """Waits until the 1-minute load average is below ``threshold`` (or ``max_wait`` passes)."""
    started, first = time.monotonic(), os.getloadavg()[0]
    load = first
    while load >= threshold and time.monotonic() - started < max_wait:
        time.sleep(poll)
        load = os.getloadavg()[0]
    waited = time.monotonic() - started
    print(f"  load {first:.2f} -> {load:.2f} after {waited:.0f} s of waiting", flush=True)
    return {"load_when_asked": round(first, 2), "load_at_start": round(load, 2),
            "waited_seconds": round(waited), "quiet": load < threshold}


def timed_process(argv: list[str], log: Path, env: dict | None = None) -> dict:
    """Runs ``argv`` to completion: wall seconds, peak RSS (MB) and CPU seconds (os.wait4)."""
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}); see {log}:\n"
                           + log.read_text(errors="replace")[-2000:])
    return {"wall_seconds": round(wall, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1)}


def run_ours(corpus: Path, out: Path, workers: int, precision: str, lines: int,
             syllables: int, model: str = "default", runtime: str = "auto") -> dict:
    shutil.rmtree(out, ignore_errors=True)
    exe = str(Path(sys.executable).parent / "korean-gan")
    argv = [exe, "lines", "--text", str(corpus), "--height", "64", "--styles", "fonts",
            "--format", "paddle", "--quiet", "--out", str(out), "--workers", str(workers),
            "--precision", precision, "--runtime", runtime] + (
                ["--model", model] if model != "default" else [])
    row = {"command": " ".join(["korean-gan", *argv[1:]])}
    row.update(timed_process(argv, out.with_suffix(".log")))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    written = manifest["lines"]["written"]
    if written != lines:
        raise RuntimeError(f"ours wrote {written} lines, expected {lines}")
    row.update({
        "lines_written": written,
        "lines_per_second": round(written / row["wall_seconds"], 2),
        "glyphs_per_second": round(syllables / row["wall_seconds"], 1),
        "runtime": manifest["build"].get("runtime", "tensorflow"),
        "build_seconds": manifest["build"]["seconds"],
        "build_lines_per_second": manifest["build"]["lines_per_second"],
        "build_glyphs_per_second": round(syllables / manifest["build"]["seconds"], 1),
        "startup_seconds": round(row["wall_seconds"] - manifest["build"]["seconds"], 2),
    })
    return row


def run_trdg(python: Path, corpus: Path, fontdir: Path, out: Path, threads: int, lines: int,
             syllables: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    argv = [str(python.parent / "trdg"), "-c", str(lines), "-i", str(corpus), "-fd",
            str(fontdir), "-f", "64", "-t", str(threads), "--output_dir", str(out)]
    row = {"command": " ".join(["trdg", *argv[1:]])}
    row.update(timed_process(argv, out.with_suffix(".log")))
    files = [p for p in out.iterdir() if p.suffix == ".jpg"]
    if len(files) != lines:
        raise RuntimeError(f"trdg wrote {len(files)} images, expected {lines}")
    from PIL import Image

    heights = {Image.open(p).height for p in files[:50]}
    row.update({
        "lines_written": len(files), "image_heights": sorted(heights),
        "lines_per_second": round(len(files) / row["wall_seconds"], 2),
        "glyphs_per_second": round(syllables / row["wall_seconds"], 1),
    })
    return row


def trdg_version(python: Path) -> dict:
    done = subprocess.run([str(python), "-c", (
        "import importlib.metadata as m, json\n"
        "print(json.dumps({k: m.version(k) for k in "
        "('trdg', 'pillow', 'numpy', 'opencv-python-headless')}))")],
        capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def resolved_precision() -> str:
    """What ``--precision auto`` resolves to on this machine (in a fresh process)."""
    done = subprocess.run([sys.executable, "-c", (
        "from korean_gan.training.distribute import resolve_precision\n"
        "print(resolve_precision('auto'))")], capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 else "unknown"


def profile(corpus: Path, work: Path, n: int, top: int = 10) -> dict:
    """cProfile of make_lines on ``n`` corpus lines, model loaded and warmed up beforehand."""
    import cProfile
    import pstats

    from korean_gan.generate import Handwriting
    from korean_gan.textlines import make_lines

    writer = Handwriting.load("default", precision="int8", runtime="auto")
    common = dict(text=str(corpus), styles="fonts", height=64, format="paddle",
                  progress=False, writer=writer)
    shutil.rmtree(work / "warm", ignore_errors=True)
    make_lines(out=work / "warm", count=128, **common)  # traces the networks, loads the fonts
    shutil.rmtree(work / "profiled", ignore_errors=True)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    result = profiler.runcall(make_lines, out=work / "profiled", count=n, **common)
    seconds = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    total = stats.total_tt

    def rows(key: str) -> list[dict]:
        ordered = sorted(stats.stats.items(), key=lambda kv: kv[1][3 if key == "cum" else 2],
                         reverse=True)
        out = []
        for (file, line, name), (_, calls, own, cum, _) in ordered[:top]:
            short = file.split("site-packages/")[-1].split("/src/")[-1]
            out.append({"function": f"{short}:{line}({name})", "calls": calls,
                        "own_seconds": round(own, 2), "cumulative_seconds": round(cum, 2),
                        "cumulative_share": round(cum / total, 3)})
        return out

    stats.sort_stats("cumulative").print_stats(25)
    return {"lines": result.lines, "seconds": round(seconds, 2),
            "lines_per_second": round(result.lines / seconds, 2),
            "profiled_seconds": round(total, 2),
            "top_cumulative": rows("cum"), "top_own_time": rows("own")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="/tmp/lines_speed")
    parser.add_argument("--trdg-python", default="/tmp/trdg-venv/bin/python")
    parser.add_argument("--quiet-load", type=float, default=0.6)
    parser.add_argument("--max-wait", type=float, default=900.0, help="seconds")
    parser.add_argument("--profile", type=int, default=200, help="lines to profile (0: none)")
    parser.add_argument("--only", default="otl",
                        help="o(urs) t(rdg) l(ong: both with two workers on --long lines)")
    parser.add_argument("--long", type=int, default=10_000,
                        help="lines of the long runs (the corpus continued)")
    parser.add_argument("--models", default="default",
                        help="comma-separated models for ours (default the default model)")
    parser.add_argument("--json", default="benchmarks/results/lines_speed.json")
    args = parser.parse_args()

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    lines = make_corpus(args.lines, args.seed)
    corpus = work / "corpus.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    syllables = sum(len(line.replace(" ", "")) for line in lines)
    result = {
        "corpus": {"path": str(corpus), "lines": len(lines), "syllables": syllables,
                   "characters_with_spaces": sum(len(line) for line in lines),
                   "sha256": hashlib.sha256(corpus.read_bytes()).hexdigest(),
                   "seed": args.seed, "charset": "ks2350 (KS X 1001), uniform",
                   "words": "2-4 syllables, 10 syllables per line",
                   "first_lines": lines[:3]},
        "height": 64,
        "cpu": {"model": None, "cores": os.cpu_count()},
        "quiet_load_threshold": args.quiet_load,
    }
    try:
        from provenance import _cpu

        result["cpu"] = _cpu()
    except ImportError:
        pass
    print(f"corpus {corpus}: {len(lines)} lines, {syllables} syllables", flush=True)

    runs: dict[str, dict] = {}
    python = Path(args.trdg_python)
    if "t" in args.only:
        fontdir = work / "trdg_fonts"
        shutil.rmtree(fontdir, ignore_errors=True)
        fontdir.mkdir()
        for name in TRDG_FONTS:
            (fontdir / name).symlink_to(REPO / "fonts" / name)
        result["trdg"] = {"versions": trdg_version(python), "fonts": list(TRDG_FONTS),
                          "defaults": "background 0 (Gaussian noise), skew 0, blur 0, "
                                      "no distortion, extension jpg, RGB"}
        for threads in (1, 2):
            label = f"trdg_t{threads}"
            print(f"{label}:", flush=True)
            load = wait_for_quiet(args.quiet_load, args.max_wait)
            runs[label] = {**run_trdg(python, corpus, fontdir, work / label, threads,
                                      len(lines), syllables), **load}
            print(f"  {runs[label]}", flush=True)
    models = args.models.split(",")
    if "o" in args.only:
        for model in models:
            # int8 (the default) and float32 run in ONNX Runtime (--runtime auto) where the
            # model has their exports; "_tensorflow" forces TensorFlow; --precision auto (bf16
            # if faster) is TensorFlow's.
            for workers, precision, runtime in ((1, "int8", "auto"), (2, "int8", "auto"),
                                                (1, "float32", "auto"), (2, "float32", "auto"),
                                                (2, "float32", "tensorflow"),
                                                (2, "auto", "auto")):
                label = f"ours_w{workers}_{precision}" + (
                    "_tensorflow" if runtime == "tensorflow" else "") + (
                    "" if model == "default" else f"_{model}")
                print(f"{label}:", flush=True)
                load = wait_for_quiet(args.quiet_load, args.max_wait)
                runs[label] = {**run_ours(corpus, work / label, workers, precision,
                                          len(lines), syllables, model, runtime), **load}
                print(f"  {runs[label]}", flush=True)
        result["auto_precision_resolves_to"] = resolved_precision()
    if "l" in args.only and args.long:
        # The same corpus continued: start-up weighs less.
        long_lines = make_corpus(args.long, args.seed)
        long_corpus = work / "corpus_long.txt"
        long_corpus.write_text("\n".join(long_lines) + "\n", encoding="utf-8")
        long_syllables = sum(len(line.replace(" ", "")) for line in long_lines)
        result["corpus_long"] = {
            "path": str(long_corpus), "lines": len(long_lines), "syllables": long_syllables,
            "sha256": hashlib.sha256(long_corpus.read_bytes()).hexdigest(),
            "first_lines_equal_the_short_corpus": long_lines[:len(lines)] == lines}
        if "t" in args.only:
            print("trdg_t2_long:", flush=True)
            load = wait_for_quiet(args.quiet_load, args.max_wait)
            runs["trdg_t2_long"] = {**run_trdg(python, long_corpus, fontdir,
                                               work / "trdg_t2_long", 2, len(long_lines),
                                               long_syllables), **load}
            print(f"  {runs['trdg_t2_long']}", flush=True)
        for model in models:
            for precision in ("int8", "float32", "auto"):
                label = f"ours_w2_{precision}_long" + ("" if model == "default"
                                                       else f"_{model}")
                print(f"{label}:", flush=True)
                load = wait_for_quiet(args.quiet_load, args.max_wait)
                runs[label] = {**run_ours(long_corpus, work / label, 2, precision,
                                          len(long_lines), long_syllables, model), **load}
                print(f"  {runs[label]}", flush=True)
    result["runs"] = runs

    print(f"\n{'run':24s} {'wall s':>8s} {'lines/s':>8s} {'glyphs/s':>9s} {'build l/s':>9s} "
          f"{'peak MB':>8s} {'load':>5s}")
    for label, row in runs.items():
        print(f"{label:24s} {row['wall_seconds']:8.1f} {row['lines_per_second']:8.2f} "
              f"{row['glyphs_per_second']:9.1f} {row.get('build_lines_per_second', ''):>9} "
              f"{row['peak_rss_mb']:8d} {row['load_at_start']:5.2f}")
    if "ours_w2_float32" in runs and "trdg_t2" in runs:
        best = max((r for k, r in runs.items()
                    if k.startswith("ours_w2") and "_long" not in k
                    and k.count("_") == 2 + k.endswith("_tensorflow")),
                   key=lambda r: r["lines_per_second"])
        result["goal"] = {
            "ours_at_least_trdg_with_two_workers": best["lines_per_second"]
            >= runs["trdg_t2"]["lines_per_second"],
            "ours_best_two_workers_lines_per_second": best["lines_per_second"],
            "trdg_two_threads_lines_per_second": runs["trdg_t2"]["lines_per_second"],
            "ratio_ours_to_trdg": round(best["lines_per_second"]
                                        / runs["trdg_t2"]["lines_per_second"], 4),
            "issue_reported_trdg_lines_per_second": {"t1": 96, "t2": 164},
        }
        long_runs = {k: r for k, r in runs.items()
                     if k.startswith("ours_w2_") and "_long" in k}
        if long_runs and "trdg_t2_long" in runs:
            result["goal"]["long"] = {
                k: {"lines_per_second": r["lines_per_second"],
                    "ratio_to_trdg": round(r["lines_per_second"]
                                           / runs["trdg_t2_long"]["lines_per_second"], 4)}
                for k, r in long_runs.items()}
            result["goal"]["long"]["trdg_t2_long_lines_per_second"] = \
                runs["trdg_t2_long"]["lines_per_second"]
        print(f"goal: {result['goal']}")

    if args.profile:
        print(f"profile of make_lines on {args.profile} lines:", flush=True)
        load = wait_for_quiet(args.quiet_load, args.max_wait)
        result["profile"] = {**profile(corpus, work, args.profile), **load}
    write_result(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
