"""`korean-gan evaluator` and `evaluate`: the evaluator network and the metrics it gives."""

from __future__ import annotations

from korean_gan.cli._common import (
    SEED,
    ConfigOptions,
    int_range,
)

CONFIG_OPTIONS = (
    ConfigOptions(
        ("evaluator", "train"), ("korean_gan.evaluation.evaluator.EvaluatorConfig",),
        {name: name for name in ("charset", "fonts", "augment", "copies", "epochs", "seed",
                                 "widths")},
        # The committed evaluators' held-out fonts, batch, learning rate and heads.
        api_only=frozenset({"held_out", "batch_size", "learning_rate", "jamo_heads"}),
        cli_only=frozenset({"out", "quiet"})),
)


def add_parsers(sub) -> None:
    """Adds ``evaluator`` and ``evaluate``."""
    evaluator = sub.add_parser("evaluator", help="train or describe the evaluator network")
    ev_sub = evaluator.add_subparsers(dest="evaluator_command", required=True,
                                      metavar="COMMAND")
    ev_train = ev_sub.add_parser(
        "train", help="train the glyph recogniser that the metrics use, with held-out fonts")
    ev_train.add_argument("--charset", default="seed16")
    ev_train.add_argument("--fonts", nargs="+", default=["bundled"], metavar="PATH")
    ev_train.add_argument("--epochs", type=int_range(1, 10_000), default=None, help="default 30")
    ev_train.add_argument("--augment", default=None,
                          help="training augmentation policies (default reference,affine,elastic,"
                               "stroke)")
    ev_train.add_argument("--copies", type=int_range(0, 1000), default=None,
                          help="variants per random policy (default 2)")
    ev_train.add_argument("--widths", default=None,
                          help="filters of the three convolution blocks (default 32,64,128)")
    ev_train.add_argument("--seed", type=SEED, default=0)
    ev_train.add_argument("--out", default=None,
                          help="weights file (default: the committed korean_gan/evaluators/"
                               "<charset>.weights.h5)")
    ev_train.add_argument("--quiet", action="store_true")
    ev_train.set_defaults(handler=_cmd_evaluator_train)
    ev_info = ev_sub.add_parser("info", help="describe a committed evaluator")
    ev_info.add_argument("name", nargs="?", default="seed16")
    ev_info.set_defaults(handler=_cmd_evaluator_info)
    ev_export = ev_sub.add_parser(
        "export-onnx", help="export a committed evaluator's jamo heads to ONNX (the reader "
                            "that screens random styles without TensorFlow)")
    ev_export.add_argument("name", nargs="?", default="ks2350")
    ev_export.set_defaults(handler=_cmd_evaluator_export)

    evaluate = sub.add_parser(
        "evaluate", help="measure generated glyphs: FCD, KID, legibility, coverage, "
                         "precision/recall, content accuracy, CAS")
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--run-dir", help="a run folder: sample its generator")
    source.add_argument("--samples", help="an .npz with images (and optional labels)")
    evaluate.add_argument("--n", type=int_range(1, 1_000_000), default=5000,
                          help="samples to draw (default 5000)")
    evaluate.add_argument("--data", default=None,
                          help="the real dataset (default: the run's own, or data/seed16.npz)")
    evaluate.add_argument("--evaluator", default="auto",
                          help="seed16, ks2350, a .weights.h5 file, or auto (the committed one "
                               "that reads the dataset's charset)")
    evaluate.add_argument("--cas", action="store_true",
                          help="also the classification accuracy score (needs labels): trains "
                               "two classifiers per seed (about 5 minutes each for ks2350)")
    evaluate.add_argument("--cas-seeds", type=SEED, nargs="+", default=None, metavar="SEED",
                          help="CAS classifier seeds; the scores are means over them "
                               "(default: CASConfig's, 0 1 2)")
    evaluate.add_argument("--seed", type=SEED, default=0)
    evaluate.add_argument("--json", default=None, help="also write the results as JSON")
    evaluate.set_defaults(handler=_cmd_evaluate)


def _int_list(text: str, flag: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"{flag} takes comma-separated integers, got {text!r}") from None
    if any(v < 1 for v in values):
        raise ValueError(f"{flag} values must be positive, got {text!r}")
    return values


def _cmd_evaluator_train(args) -> int:
    from korean_gan.evaluation.evaluator import EvaluatorConfig, train_evaluator

    overrides = {key: value for key, value in (
        ("epochs", args.epochs), ("copies", args.copies),
        ("augment", tuple(args.augment.split(",")) if args.augment else None),
        ("widths", _int_list(args.widths, "--widths") if args.widths else None),
    ) if value is not None}
    config = EvaluatorConfig(charset=args.charset, fonts=tuple(args.fonts), seed=args.seed,
                             **overrides)
    _, report = train_evaluator(config, args.out, verbose=2 if args.quiet else "auto")
    print(f"evaluator for {report['charset_name']} ({len(report['charset'])} syllables): "
          f"held-out-font accuracy {report['held_out_accuracy']:.2%} on "
          f"{report['held_out_images']:,} glyphs of {', '.join(report['held_out_fonts'])}; "
          f"trained on {len(report['train_fonts'])} fonts in {report['seconds']:.0f} s")
    return 0


def _cmd_evaluator_info(args) -> int:
    from korean_gan.evaluation.evaluator import Evaluator

    info = Evaluator.load(args.name).info
    print(f"{args.name}: {len(info['charset'])} syllables, held-out-font accuracy "
          f"{info['held_out_accuracy']:.2%} ({info['held_out_images']:,} glyphs)")
    print(f"  trained on  {', '.join(info['train_fonts'])}")
    print(f"  held out    {', '.join(info['held_out_fonts'])}")
    return 0


def _cmd_evaluator_export(args) -> int:
    from korean_gan.evaluation.evaluator import export_jamo_reader

    path = export_jamo_reader(args.name)
    print(f"wrote {path} (its sha256 is in {args.name}.json)")
    return 0


def _cmd_evaluate(args) -> int:
    import zipfile
    from pathlib import Path

    import numpy as np

    from korean_gan._io import npz_problem
    from korean_gan.data.dataset import load_dataset
    from korean_gan.evaluation.evaluator import (
        CASConfig,
        Evaluator,
        classification_accuracy_score,
        evaluate_samples,
        find_evaluator,
        format_report,
        real_statistics,
    )

    labels = None
    # What can be checked is checked before any sampling: the output and the evaluator.
    if args.json:
        from korean_gan._io import check_output_path

        check_output_path(args.json)
    chosen = None if args.evaluator == "auto" else Evaluator.load(args.evaluator)
    if args.run_dir:
        from korean_gan.artifacts import load_generator, run_settings
        from korean_gan.generate import sample_images

        data_path = Path(args.data or run_settings(args.run_dir)["data"])
        images = sample_images(load_generator(run_dir=args.run_dir), args.n, seed=args.seed)
        source = f"{args.n} samples of {args.run_dir}"
    else:
        data_path = Path(args.data or "data/seed16.npz")
        path = Path(args.samples)
        if not path.is_file():
            raise ValueError(f"samples file {path} does not exist")
        try:
            with np.load(path, allow_pickle=False) as npz:
                images = npz["images"] if "images" in npz.files else None
                labels = npz["labels"] if "labels" in npz.files else None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"samples file {path} cannot be read ({npz_problem(err)}); give "
                             "an .npz with an 'images' array") from None
        if images is None:
            raise ValueError(f"samples file {path} has no 'images' array; give an .npz with "
                             "one")
        source = f"{len(images)} images of {path}"
    real = load_dataset(data_path)
    evaluator = chosen or find_evaluator(real.charset)
    stats = real_statistics(data_path, evaluator)
    result = evaluate_samples(images, evaluator, stats, labels=labels, seed=args.seed)
    if args.cas:
        if labels is None:
            raise ValueError("--cas needs labelled samples (an .npz with a 'labels' array)")
        result.update(classification_accuracy_score(
            images, labels, evaluator, real,
            CASConfig(seeds=tuple(args.cas_seeds)) if args.cas_seeds else CASConfig(),
            progress=True))
    print(f"{source}, against {data_path} ({stats.n:,} images), evaluator {evaluator.name}:")
    print(format_report(result))
    if args.json:
        from korean_gan._io import write_json_atomic

        write_json_atomic(args.json, {**result, "data": str(data_path), "source": source})
        print(f"wrote {args.json}")
    return 0
