"""The conditional model against its targets: content accuracy on seen and held-out syllables,
FCD, CAS, sampling speed, and the training curve from a run's snapshots.

The default model trains on ``ks2350-train`` (90% of KS X 1001) in the 18 fonts the evaluators
train on; the evaluators' 3 held-out fonts and the 235 ``ks2350-holdout`` syllables are never
seen::

    korean-gan data build --charset ks2350-train --augment none \\
        --exclude-fonts NanumPenScript-Regular,Dokdo-Regular,BMYeonsung-Regular \\
        --out data/ks2350-train.npz
    korean-gan train --preset hangul --data data/ks2350-train.npz --run-dir runs/hangul \\
        --epochs 80 --snapshot-every 2 --eval-every 0

then (``--curve`` reads the snapshots, ``--cas`` trains two classifiers per seed, 3 seeds: about
50 minutes)::

    python benchmarks/hangul_targets.py --model runs/hangul --curve --cas \\
        --json benchmarks/results/hangul_targets.json --plot media/hangul_curve.png

Content accuracy is the share of generated glyphs that the committed ks2350 evaluator reads as
the syllable asked for, over every training-font style (and over random styles).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np
from provenance import write_result  # this folder is on sys.path when run as a script

HELD_OUT_FONTS = "NanumPenScript-Regular,Dokdo-Regular,BMYeonsung-Regular"


def readings(hw, evaluator, chars, styles, seed: int = 0):
    """Per style (in order): the evaluator's class index for each generated syllable, beside
    the class indices asked for."""
    index = {c: i for i, c in enumerate(evaluator.charset.chars)}
    labels = np.array([index[c] for c in chars])
    for k, style in enumerate(styles):
        _, probs = evaluator.predict(hw.glyphs(chars, style=style, seed=seed + k))
        yield probs.argmax(axis=1), labels


def content_accuracy(hw, evaluator, chars, styles, seed: int = 0) -> float:
    """Share of glyphs read as intended, each syllable once per style."""
    correct = sum(int(np.sum(read == labels))
                  for read, labels in readings(hw, evaluator, chars, styles, seed))
    return correct / (len(chars) * len(styles))


VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"


def content_errors(hw, evaluator, chars, seed: int = 0) -> dict:
    """Where content goes wrong, each syllable once per font style: accuracy per style, the
    share of glyphs whose initial / vowel / final the evaluator reads as another, the vowels
    most often misread and the commonest vowel confusions (asked → read)."""
    from collections import Counter

    from korean_gan.data.charsets import jamo_table

    asked = jamo_table(chars)
    read_table = jamo_table(evaluator.charset.chars)
    per_style, wrong_parts = {}, []
    confusions, misread, vowel_total = Counter(), Counter(), Counter()
    styles = range(len(hw.fonts))
    for font, (read, labels) in zip(hw.fonts, readings(hw, evaluator, chars, styles, seed),
                                    strict=True):
        per_style[font] = float(np.mean(read == labels))
        wrong_parts.append(read_table[read] != asked)
        for a, r in zip(asked[:, 1], read_table[read][:, 1], strict=True):
            vowel_total[VOWELS[a]] += 1
            if a != r:
                misread[VOWELS[a]] += 1
                confusions[f"{VOWELS[a]}→{VOWELS[r]}"] += 1
    wrong = np.concatenate(wrong_parts)
    return {
        "accuracy_per_style": per_style,
        "wrong_initial": float(wrong[:, 0].mean()),
        "wrong_vowel": float(wrong[:, 1].mean()),
        "wrong_final": float(wrong[:, 2].mean()),
        "vowel_error_rate": {v: round(misread[v] / n, 3)
                             for v, n in sorted(vowel_total.items(),
                                                key=lambda kv: -misread[kv[0]] / kv[1])},
        "vowel_confusions": dict(confusions.most_common(12)),
    }


def _moved(glyphs: np.ndarray, dy: int = 1, dx: int = 1) -> np.ndarray:
    """Glyphs moved by (dy, dx) pixels, paper coming in at the edges."""
    out = np.full_like(glyphs, 255)
    h, w = glyphs.shape[1:3]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        glyphs[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def independent_checks(hw, evaluator, real_path: Path, chars, held_chars,
                       seed: int = 0) -> dict:
    """Content checks that a generator fitted to a recogniser (``--content-weight``) cannot
    pass by exploiting one network's blind spots:

    * the evaluator on the same glyphs as they are, moved by one pixel, and blurred (Gaussian,
      σ 0.7 px): perturbations that fool one network rarely survive either;
    * a reader with no network at all: the nearest real glyph (pixel L2) among all 2,350
      syllables of the same font; coarse (it weighs where ink lies, not which small stroke is
      there) but impossible to fool with imperceptible changes.
    """
    from scipy.ndimage import gaussian_filter

    from korean_gan.data.dataset import load_dataset

    real = load_dataset(real_path)
    index = {c: i for i, c in enumerate(evaluator.charset.chars)}
    real_index = {c: i for i, c in enumerate(real.charset.chars)}
    scores: dict[str, list[float]] = {"as_is": [], "moved": [], "blurred": [],
                                      "nearest_real_seen": [],
                                      "nearest_real_held_out": []}
    for k, font in enumerate(hw.fonts):
        glyphs = hw.glyphs(chars, style=k, seed=seed + k)
        want = np.array([index[c] for c in chars])
        blurred = np.stack([gaussian_filter(g.astype(np.float32), 0.7) for g in glyphs])
        for name, x in (("as_is", glyphs), ("moved", _moved(glyphs)),
                        ("blurred", blurred.round().astype(np.uint8))):
            scores[name].append(float(np.mean(evaluator.predict(x)[1].argmax(1) == want)))
        mine = real.font_ids == real.fonts.index(font)
        ref = real.images[mine].reshape(int(mine.sum()), -1).astype(np.float32)
        for name, asked, written in (
                ("nearest_real_seen", chars, glyphs),  # the glyphs read above
                ("nearest_real_held_out", held_chars, hw.glyphs(held_chars, style=k,
                                                                seed=seed + k))):
            gen = written.reshape(len(asked), -1).astype(np.float32)
            dist = (gen ** 2).sum(1)[:, None] - 2 * gen @ ref.T + (ref ** 2).sum(1)[None]
            read = real.labels[mine][dist.argmin(1)]
            scores[name].append(float(np.mean(read == [real_index[c] for c in asked])))
    return {f"content_accuracy_{k}" if not k.startswith("nearest") else k: float(np.mean(v))
            for k, v in scores.items()}


def measure(hw, evaluator, train_chars, held_chars, full: bool) -> dict:
    """Seen/unseen content accuracy over font styles (all syllables if ``full``)."""
    fonts = list(range(len(hw.fonts)))
    # A quick pass for the curve: a quarter of the seen syllables, font styles only.
    seen_chars = list(train_chars) if full else list(train_chars[::4])
    n_random = 4 if full else 0
    result = {
        "seen_content_accuracy": content_accuracy(hw, evaluator, seen_chars, fonts),
        "unseen_content_accuracy": content_accuracy(hw, evaluator, list(held_chars), fonts),
    }
    if n_random:
        # One new random style per pass (random-one with a different seed each time).
        acc_seen, acc_unseen = [], []
        for i in range(n_random):
            acc_seen.append(content_accuracy(hw, evaluator, seen_chars, ["random-one"], 100 + i))
            acc_unseen.append(content_accuracy(hw, evaluator, list(held_chars), ["random-one"],
                                               200 + i))
        result["seen_content_accuracy_random_styles"] = float(np.mean(acc_seen))
        result["unseen_content_accuracy_random_styles"] = float(np.mean(acc_unseen))
    return result


def plain_generator(hw):
    """A new generator of hw's model in the plain form (the one weight files and checkpoints
    hold), float32."""
    from korean_gan.models.networks import build_conditional_generator

    return build_conditional_generator(noise_dim=hw.noise_dim, style_dim=hw.style_dim,
                                       image_size=hw.image_size,
                                       base_filters=int(hw.info["config"].get("g_filters", 128)))


def logged_epochs(run_dir: Path) -> dict[int, float]:
    """Epoch → wall seconds from a run's log.csv (empty if there is none)."""
    path = run_dir / "log.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as fh:
        return {int(r["epoch"]): float(r["seconds"]) for r in csv.DictReader(fh)}


def curve(hw, evaluator, run_dir: Path, train_chars, held_chars, every: int = 1,
          seconds_per_epoch: float | None = None, first: int = 0,
          last: int | None = None) -> list[dict]:
    """Quick content accuracy of every ``every``-th epoch's snapshot from epoch ``first`` to
    ``last`` (and the last one), with its training minutes: the run log's wall time, or
    epochs × ``seconds_per_epoch`` (a run that was paused or shared the machine)."""
    seconds = logged_epochs(run_dir)
    from korean_gan.models.networks import copy_layer_weights

    # Snapshots are weight files of the plain generator; hw samples with the fast form.
    plain = plain_generator(hw)
    rows = []
    snapshots = sorted((run_dir / "snapshots").glob("generator_epoch_*.weights.h5"))
    if last is not None:
        snapshots = [w for w in snapshots if int(w.name.split("_")[-1].split(".")[0]) <= last]
    for weights in snapshots:
        epoch = int(weights.name.split("_")[-1].split(".")[0])
        if epoch < first or (epoch % every and weights != snapshots[-1]):
            continue
        with np.load(run_dir / "snapshots" / f"styles_epoch_{epoch:04d}.npz",
                     allow_pickle=False) as npz:
            hw.styles = np.asarray(npz["styles"], np.float32)
        plain.load_weights(str(weights))
        copy_layer_weights(plain, hw.generator)
        minutes = (epoch * seconds_per_epoch if seconds_per_epoch
                   else sum(s for e, s in seconds.items() if e <= epoch)) / 60
        row = {"epoch": epoch, "minutes": round(minutes, 1),
               **measure(hw, evaluator, train_chars, held_chars, full=False)}
        rows.append(row)
        print(f"epoch {epoch:4d} {minutes:6.1f} min  seen {row['seen_content_accuracy']:.1%}  "
              f"unseen {row['unseen_content_accuracy']:.1%}", flush=True)
    return rows


def ema_ablation(hw, evaluator, run_dir: Path, train_chars, held_chars) -> dict:
    """Quick content accuracy of the raw generator (the run's last checkpoint) beside its
    weight average (EMA, what the run exports): the EMA's contribution, at no training cost."""
    import tensorflow as tf

    from korean_gan.generate import Handwriting

    raw = plain_generator(hw)
    latest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    tf.train.Checkpoint(generator=raw).restore(latest).expect_partial()
    raw_hw = Handwriting(raw, hw.styles, hw.fonts, hw.info)
    ema = measure(hw, evaluator, train_chars, held_chars, full=False)
    plain = measure(raw_hw, evaluator, train_chars, held_chars, full=False)
    return {f"ema_{k}": v for k, v in ema.items()} | {f"raw_{k}": v for k, v in plain.items()}


def fcd(hw, evaluator, data_path: Path, n: int = 5000) -> dict:
    """FCD of n glyphs (training syllables in turn, font styles in turn) against real data."""
    from korean_gan.data.dataset import load_dataset
    from korean_gan.evaluation.evaluator import evaluate_samples, real_statistics

    data = load_dataset(data_path)
    chars = [data.charset.chars[i % len(data.charset)] for i in range(n)]
    images = np.concatenate([
        hw.glyphs(chars[i::len(hw.fonts)], style=i, seed=i) for i in range(len(hw.fonts))])
    real = real_statistics(data_path, evaluator)
    result = evaluate_samples(images, evaluator, real, precision_recall=True)
    return {k: result[k] for k in ("fcd", "fcd_floor", "kid", "legibility", "precision",
                                   "recall", "classes_covered")}


def quality(hw, evaluator, seen, held, data_path: Path) -> dict:
    """Content accuracy of the seen and the held-out syllables in the 18 font styles, of the
    seen ones in 6 random styles, and :func:`fcd`: how two models of a comparison are read."""
    fonts = list(range(18))
    return {"seen_content_accuracy": content_accuracy(hw, evaluator, seen, fonts),
            "unseen_content_accuracy": content_accuracy(hw, evaluator, held, fonts),
            "seen_content_accuracy_random_styles": content_accuracy(hw, evaluator, seen,
                                                                    ["random"] * 6),
            **fcd(hw, evaluator, data_path)}


def cas(hw, evaluator, real_path: Path, per_class: int, config, work: Path,
        styles: tuple[str, ...] = ("fonts",), real_baseline=None) -> dict:
    """CAS: classifiers trained on `synth` output, tested on the evaluator's held-out fonts."""
    from korean_gan.data.dataset import load_dataset
    from korean_gan.evaluation.evaluator import classification_accuracy_score

    path, manifest = hw.synthesize(charset="ks2350", per_class=per_class, styles=styles,
                                   out=str(work / "synth-ks2350.npz"), preview=False,
                                   progress=False)
    synth = load_dataset(path)
    real = load_dataset(real_path)
    result = classification_accuracy_score(synth.images, synth.labels, evaluator, real,
                                           config=config, progress=True,
                                           real_baseline=real_baseline)
    result["synth_per_class"] = per_class
    result["synth_styles"] = list(styles)
    result["synth_glyphs_per_second"] = manifest["build"]["glyphs_per_second"]
    return result


def sampling_speed(hw, n: int = 20000) -> float:
    """Glyphs per second of batched generation (after a warm-up call)."""
    from korean_gan.data.charsets import ks2350

    chars = [ks2350().chars[i % 2350] for i in range(n)]
    hw.glyphs(chars[:1024], style="random")
    started = time.perf_counter()
    hw.glyphs(chars, style="random")
    return n / (time.perf_counter() - started)


def sample_sheet(hw, path: Path, seen: str = "가나다라마바사아", n_unseen: int = 8,
                 n_random: int = 2) -> Path:
    """Every font style (rows) × seen syllables, then held-out ones, plus random styles."""
    from PIL import Image, ImageDraw

    from korean_gan.data.charsets import ks2350_holdout
    from korean_gan.data.images import tile

    chars = list(seen) + list(ks2350_holdout().chars[:n_unseen])
    rows = [hw.glyphs(chars, style=i, seed=0) for i in range(len(hw.fonts))]
    rows += [hw.glyphs(chars, style="random-one", seed=100 + i) for i in range(n_random)]
    grid = tile(np.concatenate(rows), cols=len(chars), gap=2, background=200)
    # A dark rule between the seen and the held-out columns.
    x = 2 + len(seen) * 34 - 2
    grid[:, x:x + 2] = 0
    scale = 2
    image = Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale),
                                         Image.Resampling.NEAREST)
    label_width = 150
    page = Image.new("L", (image.width + label_width, image.height + 24), 255)
    page.paste(image, (label_width, 24))
    draw = ImageDraw.Draw(page)
    names = hw.fonts + [f"random style {i + 1}" for i in range(n_random)]
    for r, name in enumerate(names):
        draw.text((4, 24 + (2 + r * 34) * scale + 24), name[:22], fill=0)
    draw.text((label_width + 4, 4), "seen in training", fill=0)
    draw.text((label_width + (x + 6) * scale, 4), "held out: never seen", fill=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="default or a conditional run folder")
    parser.add_argument("--precision", default="auto",
                        help="what the generator samples in (auto: bf16 where a timed matmul "
                             "shows the CPU faster in it)")
    parser.add_argument("--snapshot", type=int, default=None, metavar="EPOCH",
                        help="measure the run's snapshot of this epoch instead of its final "
                             "weights (the curve then stops there too)")
    parser.add_argument("--curve", action="store_true", help="also evaluate the run's snapshots")
    parser.add_argument("--curve-every", type=int, default=1, metavar="N",
                        help="evaluate only every N-th epoch's snapshot (and the last)")
    parser.add_argument("--curve-from", type=int, default=0, metavar="EPOCH",
                        help="curve: start at this epoch (e.g. where a resumed run went on)")
    parser.add_argument("--curve-before", type=Path, default=None, metavar="JSON",
                        help="curve of a fine-tuned run (--init-from): the JSON report of the "
                             "model it started from, whose curve comes first in the plot")
    parser.add_argument("--curve-before-until", type=int, default=None, metavar="EPOCH",
                        help="keep only the --curve-before rows up to this epoch (the earlier "
                             "run's snapshot the fine-tuned run started from)")
    parser.add_argument("--curve-offset-minutes", type=float, default=0.0, metavar="M",
                        help="curve: minutes spent before this run's first epoch (the earlier "
                             "model's training and the content loss's recogniser)")
    parser.add_argument("--seconds-per-epoch", type=float, default=None, metavar="S",
                        help="curve: training time = epochs x S (the idle epoch time) instead of "
                             "the log's wall time")
    parser.add_argument("--ema-ablation", action="store_true",
                        help="also the raw (not weight-averaged) generator of the run's last "
                             "checkpoint")
    parser.add_argument("--errors", action="store_true",
                        help="also where content goes wrong: accuracy per style, per jamo "
                             "part, vowel confusions (an eighth of the seen syllables)")
    parser.add_argument("--independent", action="store_true",
                        help="also content checks a generator fitted to a recogniser cannot "
                             "game: the evaluator on glyphs moved 1 px and blurred, and the "
                             "nearest real glyph of the same font (an eighth of the seen "
                             "syllables, all held-out ones)")
    parser.add_argument("--cas", action="store_true", help="also the classification accuracy "
                                                           "score (2 classifiers per seed)")
    parser.add_argument("--cas-per-class", type=int, default=18,
                        help="synth glyphs per syllable for CAS (18: as many as the real fonts)")
    parser.add_argument("--cas-styles", default="fonts",
                        help="synth --styles for CAS (fonts, random, or both: fonts,random)")
    parser.add_argument("--cas-epochs", type=int, default=None,
                        help="classifier epochs (default: CASConfig's)")
    parser.add_argument("--cas-seeds", type=int, nargs="+", default=None,
                        help="classifier seeds (default: CASConfig's)")
    parser.add_argument("--cas-warmup", type=float, default=None, metavar="EPOCHS",
                        help="CAS classifiers' learning-rate warm-up (default: CASConfig's)")
    parser.add_argument("--cas-no-augment", action="store_true",
                        help="train the CAS classifiers without random affine variants")
    parser.add_argument("--cas-baseline", type=float, nargs="+", default=None, metavar="ACC",
                        help="the real-font classifiers' accuracies, one per classifier seed, "
                             "from an earlier CAS run with the same recipe and seeds (they do "
                             "not depend on the model): not trained again, half the time")
    parser.add_argument("--train-data", type=Path, default=Path("data/ks2350-train.npz"))
    parser.add_argument("--real-data", type=Path, default=Path("data/ks2350.npz"),
                        help="ks2350 originals of all bundled fonts (built if missing)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--plot", type=Path, default=None, help="PNG of the curve")
    parser.add_argument("--sheet", type=Path, default=None,
                        help="PNG sample sheet: every style × seen and held-out syllables")
    args = parser.parse_args()

    from korean_gan.data.charsets import ks2350_holdout, ks2350_train
    from korean_gan.data.dataset import build_dataset
    from korean_gan.evaluation.evaluator import Evaluator
    from korean_gan.generate import Handwriting

    evaluator = Evaluator.load("ks2350")
    model = args.model
    if args.snapshot is not None:  # the snapshot as a model folder of its own
        import tempfile

        from korean_gan.artifacts import export_model

        model = export_model(args.model, Path(tempfile.mkdtemp()) / "snapshot",
                             snapshot=args.snapshot)
    hw = Handwriting.load(model, precision=args.precision)
    train_chars, held_chars = ks2350_train().chars, ks2350_holdout().chars
    builds = [(args.train_data, dict(charset="ks2350-train",
                                     exclude_fonts=tuple(HELD_OUT_FONTS.split(","))))]
    if args.cas or args.independent:  # they need the real glyphs of all syllables
        builds.append((args.real_data, dict(charset="ks2350")))
    for path, kwargs in builds:
        if not path.is_file():
            build_dataset(augment=("none",), out=str(path), progress=False, **kwargs)
    if args.sheet:
        print(f"wrote {sample_sheet(hw, args.sheet)}")
    source = (hw.info["source"] if args.snapshot is None
              else f"{args.model}, snapshot of epoch {args.snapshot}")
    report: dict = {"model": source, "sampling_precision": hw.precision,
                    "evaluator": evaluator.name,
                    "evaluator_held_out_accuracy": evaluator.info["held_out_accuracy"]}
    if args.curve:
        report["curve"] = curve(hw, evaluator, Path(args.model), train_chars, held_chars,
                                 args.curve_every, args.seconds_per_epoch, args.curve_from,
                                 last=args.snapshot)
        for row in report["curve"]:
            row["minutes"] = round(row["minutes"] + args.curve_offset_minutes, 1)
        if args.curve_before:
            before = json.loads(args.curve_before.read_text(encoding="utf-8"))["curve"]
            if args.curve_before_until is not None:
                before = [row for row in before if row["epoch"] <= args.curve_before_until]
            report["curve_before"] = before
        hw = Handwriting.load(model, precision=args.precision)  # the final weights
    if args.ema_ablation:
        report.update(ema_ablation(hw, evaluator, Path(args.model), train_chars, held_chars))
    started = time.perf_counter()
    report.update(measure(hw, evaluator, train_chars, held_chars, full=True))
    report.update(fcd(hw, evaluator, args.train_data))
    report["glyphs_per_second"] = sampling_speed(hw)
    print(f"measured in {time.perf_counter() - started:.0f} s")
    if args.errors:
        report["content_errors"] = content_errors(hw, evaluator, list(train_chars[::8]))
    if args.independent:
        report["independent_checks"] = independent_checks(
            hw, evaluator, args.real_data, list(train_chars[::8]), list(held_chars))
    if args.cas:
        from korean_gan.evaluation.evaluator import CASConfig

        given = {"epochs": args.cas_epochs, "warmup_epochs": args.cas_warmup,
                 "seeds": tuple(args.cas_seeds) if args.cas_seeds else None}
        config = CASConfig(augment=not args.cas_no_augment,
                           **{k: v for k, v in given.items() if v is not None})
        baseline = tuple(args.cas_baseline) if args.cas_baseline else None
        report.update(cas(hw, evaluator, args.real_data, args.cas_per_class, config,
                          args.real_data.parent, tuple(args.cas_styles.split(",")), baseline))
    for key, value in report.items():
        if key not in ("curve", "content_errors", "independent_checks"):
            print(f"{key:40} {value:.4f}" if isinstance(value, float) else f"{key:40} {value}")
    for key, value in report.get("independent_checks", {}).items():
        print(f"{key:40} {value:.4f}")
    if "content_errors" in report:
        errors = report["content_errors"]
        print("accuracy per style: " + ", ".join(
            f"{font.removesuffix('-Regular')} {acc:.0%}"
            for font, acc in errors["accuracy_per_style"].items()))
        print(f"jamo read wrong: initial {errors['wrong_initial']:.1%}, vowel "
              f"{errors['wrong_vowel']:.1%}, final {errors['wrong_final']:.1%}")
        print("vowel error rate: " + ", ".join(
            f"{v} {r:.0%}" for v, r in list(errors["vowel_error_rate"].items())[:10]))
        print("vowel confusions: " + ", ".join(
            f"{pair} {n}" for pair, n in errors["vowel_confusions"].items()))
    if args.json:
        write_result(args.json, report)
    if args.plot and report.get("curve"):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = report["curve"]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        before = report.get("curve_before", [])
        if before:
            for key, marker, colour in (("seen_content_accuracy", "o", "C0"),
                                        ("unseen_content_accuracy", "s", "C1")):
                ax.plot([r["minutes"] for r in before], [r[key] for r in before], marker=marker,
                        color=colour, alpha=0.45, ms=4)
            ax.axvspan(before[-1]["minutes"], args.curve_offset_minutes, color="0.9",
                       label="recogniser training")
        elif args.curve_offset_minutes:  # a run from scratch with the content loss
            ax.axvspan(0, args.curve_offset_minutes, color="0.9", label="recogniser training")
        ax.plot([r["minutes"] for r in rows], [r["seen_content_accuracy"] for r in rows],
                marker="o", color="C0",
                label="seen syllables" + (" (content loss)" if before else ""))
        ax.plot([r["minutes"] for r in rows], [r["unseen_content_accuracy"] for r in rows],
                marker="s", color="C1", label="held-out syllables (never seen)")
        ax.axhline(0.97, ls=":", color="C0", lw=1)
        ax.axhline(0.85, ls=":", color="C1", lw=1)
        ax.set_xlabel("training minutes (2 CPU cores)")
        ax.set_ylabel("content accuracy (ks2350 evaluator)")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
