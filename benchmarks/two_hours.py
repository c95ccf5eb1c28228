"""The two-hour recipe end to end: train the default model's architecture from scratch, then
measure it against the issue's targets, with every minute taken from the clock.

Stages (the recipe of the README's "Two hours" section; about 2 hours 25 minutes with CAS on an
idle 2-core machine):

1. ``--base-epochs`` (36) epochs of the ``hangul`` preset without the content loss;
2. the content loss's jamo recogniser (30 epochs, about 12 minutes), then ``--content-epochs``
   (17) epochs with the content loss from the stage-1 model, the last ``--decay-epochs`` (7)
   decaying both learning rates linearly towards 0 (pix2pix's schedule, Isola et al. 2017,
   https://arxiv.org/abs/1611.07004);
3. ``hangul_targets.py`` on both runs: the content curve (minutes = the wall time of the
   stage-1 call, then stage 2's recogniser and epochs), the full content pass, FCD, the
   independent checks and, with ``--cas``, the classification accuracy score (``--cas-seeds``,
   CASConfig's 3 by default; about 4.5 minutes per seed with ``--cas-baseline``, the real-font
   classifiers' accuracies from benchmarks/results/cas_protocol.json, twice that without).

The recipe that meets every target within 2 hours on a 2-core CPU with AMX (116.5 minutes of
training, CAS ratio 0.91; benchmarks/results/two_hours_v2.json; on a CPU without AMX bf16 is
slower than float32 and these epochs do not fit)::

    python benchmarks/two_hours.py --precision mixed_bfloat16 --base-epochs 64 \\
        --content-epochs 24 --decay-epochs 7 --recognizer-epochs 12 --recognizer-warmup 1 \\
        --repeat-font NanumBrushScript-Regular=4 --out-dir runs/two-hours-v2 --cas \\
        --cas-seeds 0 1 2 --cas-baseline 0.8976 0.9088 0.9108 \\
        --json benchmarks/results/two_hours_v2.json --plot media/two_hours_v2.png

A finished stage is not trained again when the script is run a second time (its run folder
holds ``generator.weights.h5`` and a log of all its epochs), so an interrupted benchmark goes
on from the stage it was in; a stage interrupted mid-run is resumed from its last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from hangul_targets import logged_epochs  # this folder is on sys.path when run as a script
from provenance import write_result

HERE = Path(__file__).resolve().parent


def run_stage(config, timing: dict, key: str, timing_path: Path) -> None:
    """Trains ``config`` unless its run folder already holds all its epochs; records the wall
    seconds of the stage in ``timing[key]`` and saves ``timing`` to ``timing_path``."""
    from korean_gan._io import write_json_atomic
    from korean_gan.training.trainer import train

    run_dir = Path(config.run_dir)
    done = logged_epochs(run_dir)
    if (run_dir / "generator.weights.h5").is_file() and len(done) >= config.epochs:
        print(f"{key}: {run_dir} already holds {config.epochs} epochs; not trained again",
              flush=True)
        return
    resume = (run_dir / "checkpoints").is_dir() and any((run_dir / "checkpoints").iterdir())
    started = time.perf_counter()
    history = train(config, resume=resume)
    # A resumed stage adds this call's seconds to those of the calls before it.
    timing[key] = (timing.get(key, 0.0) if resume else 0.0) + time.perf_counter() - started
    write_json_atomic(timing_path, timing)
    if history.interrupted:
        raise SystemExit(f"{key}: interrupted; run this script again to go on")


def targets(run_dir: Path, args, extra: list[str]) -> dict:
    """Runs hangul_targets.py on ``run_dir`` and returns its JSON report."""
    out = run_dir / "targets.json"
    command = [sys.executable, str(HERE / "hangul_targets.py"), "--model", str(run_dir),
               "--precision", args.precision, "--train-data", str(args.data),
               "--json", str(out), *extra]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)
    with open(out) as fh:
        return json.load(fh)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/ks2350-train.npz"),
                        help="training glyphs (korean-gan data build --charset ks2350-train ...)")
    parser.add_argument("--out-dir", type=Path, default=Path("runs/two-hours"),
                        help="run folders base/ and content/ go here")
    parser.add_argument("--base-epochs", type=int, default=36)
    parser.add_argument("--content-epochs", type=int, default=17)
    parser.add_argument("--decay-epochs", type=int, default=7)
    parser.add_argument("--recognizer-epochs", type=int, default=30)
    parser.add_argument("--recognizer-warmup", type=float, default=0.0, metavar="EPOCHS",
                        help="the recogniser's learning-rate warm-up (12 epochs after a 1-epoch "
                             "warm-up fit better than 30 without: recognizer_warmup.py)")
    parser.add_argument("--repeat-font", action="append", default=[], metavar="NAME=K",
                        help="show this font's glyphs K times per epoch in the content stage "
                             "(korean-gan train --repeat-font; as hangul-v2's fine-tune); "
                             "repeatable")
    parser.add_argument("--precision", default="float32",
                        help="float32 (default: the faster on a CPU without AMX), mixed_bfloat16")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cas", action="store_true", help="also measure CAS")
    parser.add_argument("--cas-seeds", type=int, nargs="+", default=None,
                        help="CAS classifier seeds (default: CASConfig's)")
    parser.add_argument("--cas-baseline", type=float, nargs="+", default=None, metavar="ACC",
                        help="the real-font classifiers' accuracies, one per CAS seed, with "
                             "today's CASConfig (benchmarks/results/cas_protocol.json)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None, help="PNG of the content curve")
    args = parser.parse_args()
    from korean_gan.data.dataset import DatasetError, parse_repeat_fonts

    try:
        repeats = parse_repeat_fonts(args.repeat_font)
    except DatasetError as err:
        raise SystemExit(str(err)) from None
    if not args.data.is_file():
        raise SystemExit(f"{args.data}: no such file; build it with korean-gan data build "
                         "--charset ks2350-train (see the README's 'Reproduce the default model')")

    from korean_gan.training.config import TrainConfig

    base_dir, content_dir = args.out_dir / "base", args.out_dir / "content"
    timing_path = args.out_dir / "timing.json"
    timing = json.loads(timing_path.read_text()) if timing_path.is_file() else {}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    common = dict(data=str(args.data), precision=args.precision, seed=args.seed,
                  snapshot_every=2, eval_every=0)
    run_stage(TrainConfig.from_preset("hangul", run_dir=str(base_dir), epochs=args.base_epochs,
                                      **common), timing, "base_seconds", timing_path)
    run_stage(TrainConfig.from_preset("hangul", run_dir=str(content_dir),
                                      epochs=args.content_epochs, init_from=str(base_dir),
                                      content_weight=1.0, lr_decay_epochs=args.decay_epochs,
                                      recognizer_epochs=args.recognizer_epochs,
                                      recognizer_warmup_epochs=args.recognizer_warmup,
                                      repeat_fonts=repeats, **common),
              timing, "content_seconds", timing_path)

    # Minutes by the clock: stage 1's whole call, then stage 2's whole call minus its logged
    # epochs (the recogniser and setup), then its epochs as logged.
    base_minutes = timing.get("base_seconds", sum(logged_epochs(base_dir).values())) / 60
    content_minutes = sum(logged_epochs(content_dir).values()) / 60
    recogniser_minutes = max(0.0, timing.get("content_seconds", 0.0) / 60 - content_minutes)
    base = targets(base_dir, args, ["--curve", "--curve-every", "6", "--independent"])
    extra = ["--curve", "--curve-every", "2", "--curve-before", str(base_dir / "targets.json"),
             "--curve-offset-minutes", f"{base_minutes + recogniser_minutes:.2f}", "--errors",
             "--independent"]
    if args.cas:
        extra += ["--cas"] + (["--cas-baseline", *map(str, args.cas_baseline)]
                              if args.cas_baseline else [])
        extra += ["--cas-seeds", *map(str, args.cas_seeds)] if args.cas_seeds else []
    if args.plot:
        extra += ["--plot", str(args.plot)]
    final = targets(content_dir, args, extra)

    total = base_minutes + recogniser_minutes + content_minutes
    met = next((row["minutes"] for row in final["curve"]
                if row["seen_content_accuracy"] >= 0.97
                and row["unseen_content_accuracy"] >= 0.85), None)
    report = {
        "minutes": {"base": round(base_minutes, 1), "recognizer_and_setup":
                    round(recogniser_minutes, 1), "content": round(content_minutes, 1),
                    "total": round(total, 1)},
        "content_targets_met_at_minutes": met,
        "base": base, "final": final,
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    print(f"\ntraining minutes: base {base_minutes:.1f} + recogniser {recogniser_minutes:.1f} "
          f"+ content {content_minutes:.1f} = {total:.1f} (target: within 120)")
    print(f"content: seen {final['seen_content_accuracy']:.1%} (target 97%), held out "
          f"{final['unseen_content_accuracy']:.1%} (target 85%); both met at "
          f"{met if met is not None else '-'} minutes")
    if "cas_ratio" in final:
        print(f"CAS {final['cas']:.1%}, ratio {final['cas_ratio']:.2f} (target 0.9)")
    if args.json:
        write_result(args.json, report)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
